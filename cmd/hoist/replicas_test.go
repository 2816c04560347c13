package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/store/postgres/pgtest"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// replicaProc is a `hoist server` replica running as a process of its own.
type replicaProc struct {
	cmd      *exec.Cmd
	endpoint string
	api      *gl.Client
}

var servingAt = regexp.MustCompile(`serving the GameLift API at (http://\S+)`)

func startReplicaProc(t *testing.T, db string) *replicaProc {
	t.Helper()
	cmd := exec.Command(self(t), "server", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--store", db, "--no-local-agent")
	cmd.Env = append(os.Environ(), "HOIST_TEST_MAIN=1", "HOIST_ACCESS_KEY_ID=AKREPLICA", "HOIST_SECRET_ACCESS_KEY=replica-secret")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := servingAt.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return &replicaProc{cmd: cmd, endpoint: m[1], api: gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(m[1]), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKREPLICA", "replica-secret", "")})}
		}
	}
	t.Fatal("the replica did not start")
	return nil
}

// roundRobin is a TCP load balancer in front of the replicas' SDK endpoints: each new
// connection goes to the next replica that accepts it, as a load balancer with health
// checks would send it.
type roundRobin struct {
	ln    net.Listener
	addrs []string
	next  atomic.Int64
}

func newRoundRobin(t *testing.T, addrs []string) *roundRobin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rr := &roundRobin{ln: ln, addrs: addrs}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rr.forward(c)
		}
	}()
	return rr
}

func (rr *roundRobin) forward(c net.Conn) {
	defer c.Close()
	for range rr.addrs {
		addr := rr.addrs[int(rr.next.Add(1))%len(rr.addrs)]
		up, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		return
	}
}

// Three replicas as real processes on one PostgreSQL, game server processes spread over
// them through a load balancer, creates through all three in parallel; one replica is
// killed with -9 in the middle of the burst. Every create answered 200 is still there, the
// killed replica's processes come back through the others and their sessions stay ACTIVE,
// and no process ever hosts two sessions.
func TestReplicaKilledMidBurst(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t)
	var replicas []*replicaProc
	var addrs []string
	for range 3 {
		r := startReplicaProc(t, db)
		replicas = append(replicas, r)
		addrs = append(addrs, r.endpoint[len("http://"):])
	}
	lb := newRoundRobin(t, addrs)
	api := replicas[0].api
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-ha-1")})
	must(err)
	fleet, err := api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("ha"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-ha-1")}}})
	must(err)
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	_, err = api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: &fleetID, ComputeName: aws.String("box"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-ha-1")})
	must(err)
	tok, err := api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: aws.String("box")})
	must(err)

	// Game server processes; each records the sessions it is given.
	const nProcs = 30
	var mu sync.Mutex
	hosted := map[string][]string{} // process ID -> game session IDs given to it
	for i := range nProcs {
		id := fmt.Sprintf("proc-%02d", i)
		var c *gameserver.Client
		c, err := gameserver.Connect(ctx, gameserver.ServerParameters{WebSocketURL: "ws://" + lb.ln.Addr().String(), ProcessID: id,
			HostID: "box", FleetID: fleetID, AuthToken: aws.ToString(tok.AuthToken)}, gameserver.Options{Logger: slog.New(slog.DiscardHandler)})
		must(err)
		t.Cleanup(func() { c.Destroy() })
		must(c.ProcessReady(ctx, gameserver.ProcessParameters{Port: 9000 + i, OnStartGameSession: func(gs gameserver.GameSession) {
			mu.Lock()
			hosted[id] = append(hosted[id], gs.GameSessionID)
			mu.Unlock()
			c.ActivateGameSession(context.Background())
		}}))
	}

	// A placement waits on replica 2 for a fleet with no process yet.
	_, err = api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-ha-2")})
	must(err)
	empty, err := api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("later"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-ha-2")}}})
	must(err)
	_, err = api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("later"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: empty.FleetAttributes.FleetArn}}})
	must(err)
	_, err = replicas[2].api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("orphan"),
		GameSessionQueueName: aws.String("later"), MaximumPlayerSessionCount: aws.Int32(2)})
	must(err)

	// The burst: three workers per replica, creating until each has made its share.
	var created sync.Map // game session ID -> true, for every create answered 200
	var calls atomic.Int64
	var wg sync.WaitGroup
	for w := range 9 {
		r := replicas[w%3]
		wg.Go(func() {
			for k := range 4 {
				calls.Add(1)
				out, err := r.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, Location: aws.String("custom-ha-1"),
					MaximumPlayerSessionCount: aws.Int32(2), IdempotencyToken: aws.String(fmt.Sprintf("w%d-%d", w, k))})
				if err == nil {
					created.Store(aws.ToString(out.GameSession.GameSessionId), true)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	for calls.Load() < 12 {
		time.Sleep(time.Millisecond)
	}
	killed := replicas[2]
	killed.cmd.Process.Kill() // -9
	wg.Wait()

	var ids []string
	created.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	if len(ids) < 12 {
		t.Fatalf("only %d creates answered 200", len(ids))
	}
	survivor := replicas[0].api
	deadline := time.Now().Add(30 * time.Second)
	active := 0
	for _, id := range ids {
		for {
			out, err := survivor.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: aws.String(id)})
			if err != nil || len(out.GameSessions) != 1 {
				t.Fatalf("session %s, answered 200, is gone: %v", id, err)
			}
			st := out.GameSessions[0].Status
			if st == types.GameSessionStatusActive {
				active++
				break
			}
			if st != types.GameSessionStatusActivating {
				t.Fatalf("session %s is %s (%s)", id, st, out.GameSessions[0].StatusReason)
			}
			if time.Now().After(deadline) {
				// Made by the killed replica as it died: its process may never have been
				// told, and GameLift's activation timeout will end it.
				t.Logf("session %s is still ACTIVATING", id)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		deadline = time.Now().Add(3 * time.Second)
	}
	if active < len(ids)-3 {
		t.Errorf("%d of %d sessions answered 200 are ACTIVE", active, len(ids))
	}
	// Every process is connected to a surviving replica again.
	deadline = time.Now().Add(30 * time.Second)
	for {
		// Any replica reports the processes of all of them.
		u, err := replicas[1].api.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
		must(err)
		n := aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
		if n == nProcs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d processes are back on the surviving replicas", n, nProcs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The placement replica 2 was making is taken over by a live replica and placed when a
	// process for its fleet arrives.
	emptyID := aws.ToString(empty.FleetAttributes.FleetId)
	_, err = api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: &emptyID, ComputeName: aws.String("box-2"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-ha-2")})
	must(err)
	tok2, err := api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: &emptyID, ComputeName: aws.String("box-2")})
	must(err)
	late, err := gameserver.Connect(ctx, gameserver.ServerParameters{WebSocketURL: "ws://" + lb.ln.Addr().String(), ProcessID: "late",
		HostID: "box-2", FleetID: emptyID, AuthToken: aws.ToString(tok2.AuthToken)}, gameserver.Options{Logger: slog.New(slog.DiscardHandler)})
	must(err)
	t.Cleanup(func() { late.Destroy() })
	must(late.ProcessReady(ctx, gameserver.ProcessParameters{Port: 9100, OnStartGameSession: func(gameserver.GameSession) {
		late.ActivateGameSession(context.Background())
	}}))
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, err := survivor.DescribeGameSessionPlacement(ctx, &gl.DescribeGameSessionPlacementInput{PlacementId: aws.String("orphan")})
		must(err)
		if out.GameSessionPlacement.Status == types.GameSessionPlacementStateFulfilled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed replica's placement is %s", out.GameSessionPlacement.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	mu.Lock()
	defer mu.Unlock()
	for id, sessions := range hosted {
		if len(sessions) > 1 {
			t.Errorf("process %s was given %d sessions: %v", id, len(sessions), sessions)
		}
	}
}

// A managed fleet made through one replica, its host's agent on another: the fleet becomes
// ACTIVE when a process there is ready, and a session asked of the first replica lands on
// that process.
func TestAgentOnAnotherReplica(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t)
	a, b := startReplicaProc(t, db), startReplicaProc(t, db)
	fleet, err := a.api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("managed"),
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{
			LaunchPath: aws.String(self(t)), Parameters: aws.String(exampleGameServer + " -port 0"), ConcurrentExecutions: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	agent := exec.Command(self(t), "agent", "--server", b.endpoint, "--fleet-id", fleetID, "--compute-name", "box-b", "--ip", "127.0.0.1", "--log-dir", t.TempDir())
	agent.Dir = t.TempDir()
	agent.Env = append(os.Environ(), "HOIST_TEST_MAIN=1", "HOIST_ACCESS_KEY_ID=AKREPLICA", "HOIST_SECRET_ACCESS_KEY=replica-secret")
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { agent.Process.Kill(); agent.Wait() }()
	waitFor(t, "the fleet is ACTIVE, seen through the replica that made it", func() bool {
		d, err := a.api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{fleetID}})
		return err == nil && d.FleetAttributes[0].Status == types.FleetStatusActive
	})
	gs, err := a.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, MaximumPlayerSessionCount: aws.Int32(2)})
	if err != nil {
		t.Fatalf("a session through the other replica: %v", err)
	}
	waitFor(t, "the session is ACTIVE", func() bool {
		d, err := a.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
		return err == nil && d.GameSessions[0].Status == types.GameSessionStatusActive
	})
}
