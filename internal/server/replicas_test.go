package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/store/postgres/pgtest"
)

// startReplicas starts n servers on one PostgreSQL database.
func startReplicas(t *testing.T, n int) []*server.Server {
	t.Helper()
	db := pgtest.Database(t)
	var out []*server.Server
	for range n {
		srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: db,
			Credentials: testCreds, Logger: quietLogger(), NoLocalAgent: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close(context.Background()) })
		out = append(out, srv)
	}
	return out
}

// Three replicas on one PostgreSQL, each with game server processes connected to it:
// creates through every replica, in parallel, reach processes on the others, and no
// process is given two sessions; placements through a queue do too.
func TestReplicasPlaceOnEachOthersProcesses(t *testing.T) {
	ctx := context.Background()
	replicas := startReplicas(t, 3)
	admin := client(replicas[0].Endpoint, testCreds.SecretAccessKey)
	fa := anywhereFleet(t, admin, "custom-sdk-1")
	fleetID := aws.ToString(fa.FleetId)

	// Three computes, each connecting its processes to one replica.
	const perReplica = 4
	var procs []*gameProcess
	for i, r := range replicas {
		name := fmt.Sprintf("host-%d", i)
		must(admin.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String(name),
			IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
		tok := aws.ToString(must(admin.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String(name)}))(t).AuthToken)
		w := &sdkWorld{srv: r, api: client(r.Endpoint, testCreds.SecretAccessKey), fleetID: fleetID, compute: name, tok: tok}
		for j := range perReplica {
			procs = append(procs, startProcess(t, w, fmt.Sprintf("proc-%d-%d", i, j), 7600+i*10+j, true))
		}
	}

	// Twelve creates, four through each replica, at once: all twelve processes get one.
	var wg sync.WaitGroup
	ids := make([]string, len(procs))
	errs := make([]error, len(procs))
	for i := range procs {
		c := client(replicas[i%3].Endpoint, testCreds.SecretAccessKey)
		wg.Go(func() {
			out, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(fleetID), Location: aws.String("custom-sdk-1"),
				MaximumPlayerSessionCount: aws.Int32(2), IdempotencyToken: aws.String(fmt.Sprint("t-", i))})
			errs[i] = err
			if err == nil {
				ids[i] = aws.ToString(out.GameSession.GameSessionId)
			}
		})
	}
	wg.Wait()
	ports := map[int32]string{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d through replica %d: %v", i, i%3, err)
		}
	}
	for _, id := range ids {
		var gs types.GameSession
		eventually(t, "session "+id+" is ACTIVE", func() bool {
			out := must(admin.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: aws.String(id)}))(t).GameSessions
			gs = out[0]
			return gs.Status == types.GameSessionStatusActive
		})
		if other, ok := ports[aws.ToInt32(gs.Port)]; ok {
			t.Errorf("sessions %s and %s share the process on port %d", id, other, aws.ToInt32(gs.Port))
		}
		ports[aws.ToInt32(gs.Port)] = id
	}
	_, err := client(replicas[1].Endpoint, testCreds.SecretAccessKey).CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(fleetID),
		Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "FleetCapacityExceededException")

	// A token replayed through another replica answers the same session.
	again := must(client(replicas[2].Endpoint, testCreds.SecretAccessKey).CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(fleetID),
		Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2), IdempotencyToken: aws.String("t-0")}))(t).GameSession
	if aws.ToString(again.GameSessionId) != ids[0] {
		t.Errorf("t-0 through replica 2 = %s, want %s", aws.ToString(again.GameSessionId), ids[0])
	}

	// Any replica reports the processes and sessions of all of them.
	for i, r := range replicas {
		u := must(client(r.Endpoint, testCreds.SecretAccessKey).DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}}))(t).FleetUtilization[0]
		if aws.ToInt32(u.ActiveServerProcessCount) != 12 || aws.ToInt32(u.ActiveGameSessionCount) != 12 {
			t.Errorf("replica %d: %d processes, %d sessions; want 12 and 12", i, aws.ToInt32(u.ActiveServerProcessCount), aws.ToInt32(u.ActiveGameSessionCount))
		}
	}
	// TerminateGameSession through replica 0 reaches a process on replica 2.
	last := procs[len(procs)-1]
	lastID := ports[7600+2*10+perReplica-1]
	must(admin.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(lastID), TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
	select {
	case <-last.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the process on replica 2 was not told to end")
	}

	// Every replica's SearchGameSessions sees the sessions the others made and activated.
	for i, r := range replicas {
		c := client(r.Endpoint, testCreds.SecretAccessKey)
		eventually(t, fmt.Sprint("replica ", i, " finds the 11 sessions still ACTIVE"), func() bool {
			out, err := c.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: aws.String(fleetID), FilterExpression: aws.String("maximumSessions = 2"), Limit: aws.Int32(20)})
			return err == nil && len(out.GameSessions) == 11
		})
	}
	// A change made through one replica is seen by the others' caches: an alias made
	// TERMINAL through replica 0 refuses creates through replica 1.
	alias := must(admin.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("live"), RoutingStrategy: &types.RoutingStrategy{
		Type: types.RoutingStrategyTypeSimple, FleetId: aws.String(fleetID)}}))(t).Alias
	c1 := client(replicas[1].Endpoint, testCreds.SecretAccessKey)
	_, err = c1.CreateGameSession(ctx, &gl.CreateGameSessionInput{AliasId: alias.AliasId, Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "FleetCapacityExceededException") // resolved, and cached by replica 1
	must(admin.UpdateAlias(ctx, &gl.UpdateAliasInput{AliasId: alias.AliasId, RoutingStrategy: &types.RoutingStrategy{
		Type: types.RoutingStrategyTypeTerminal, Message: aws.String("closed")}}))(t)
	eventually(t, "replica 1 sees the alias TERMINAL", func() bool {
		_, err := c1.CreateGameSession(ctx, &gl.CreateGameSessionInput{AliasId: alias.AliasId, Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)})
		return errorCode(err) == "TerminalRoutingStrategyException"
	})

	// A placement made through replica 0 waits, then lands on a process that connects to
	// replica 2.
	must(admin.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("lobby"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: fa.FleetArn}}}))(t)
	must(admin.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("across"),
		GameSessionQueueName: aws.String("lobby"), MaximumPlayerSessionCount: aws.Int32(2)}))(t)
	tok := aws.ToString(must(admin.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-2")}))(t).AuthToken)
	startProcess(t, &sdkWorld{srv: replicas[2], fleetID: fleetID, compute: "host-2", tok: tok}, "proc-late", 7699, true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pl := must(admin.DescribeGameSessionPlacement(ctx, &gl.DescribeGameSessionPlacementInput{PlacementId: aws.String("across")}))(t).GameSessionPlacement
		if pl.Status == types.GameSessionPlacementStateFulfilled {
			if aws.ToInt32(pl.Port) != 7699 {
				t.Errorf("placed on port %d, want the late process's", aws.ToInt32(pl.Port))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("placement through replica 0 onto replica 2's process: %s", pl.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A CreatorId's limit is counted across replicas.
	must(admin.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: aws.String(fleetID),
		ResourceCreationLimitPolicy: &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: aws.Int32(1), PolicyPeriodInMinutes: aws.Int32(5)}}))(t)
	tok1 := aws.ToString(must(admin.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)
	startProcess(t, &sdkWorld{srv: replicas[1], fleetID: fleetID, compute: "host-1", tok: tok1}, "proc-late-1", 7698, true)
	startProcess(t, &sdkWorld{srv: replicas[1], fleetID: fleetID, compute: "host-1", tok: tok1}, "proc-late-2", 7697, true)
	byCreator := func(r *server.Server) error {
		_, err := client(r.Endpoint, testCreds.SecretAccessKey).CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(fleetID),
			Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2), CreatorId: aws.String("carol")})
		return err
	}
	eventually(t, "replica 0 sees the policy and creates for carol", func() bool { return byCreator(replicas[0]) == nil })
	if err := byCreator(replicas[2]); errorCode(err) != "LimitExceededException" {
		t.Errorf("carol's second session, through replica 2: %v, want LimitExceededException", err)
	}
}

// A host agent's report that a process exited may reach a replica other than the one the
// process is connected to: that replica has the holder forget it, and the session ends at
// once, INTERRUPTED, on both.
func TestReplicasEndAnExitedProcessHeldElsewhere(t *testing.T) {
	ctx := context.Background()
	replicas := startReplicas(t, 2)
	admin := client(replicas[0].Endpoint, testCreds.SecretAccessKey)
	fa := anywhereFleet(t, admin, "custom-sdk-1")
	must(admin.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-0"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	tok := aws.ToString(must(admin.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-0")}))(t).AuthToken)
	w := &sdkWorld{srv: replicas[0], api: admin, fleetID: aws.ToString(fa.FleetId), compute: "host-0", tok: tok}
	_, gs := activeSession(t, w, "proc-gone", 7700, "gone", 2)

	other := *w
	other.srv = replicas[1]
	if status, out := other.agentCall(t, map[string]any{"Action": "ProcessExited", "ProcessId": "proc-gone"}); status != 200 {
		t.Fatalf("ProcessExited through the other replica: %d %v", status, out)
	}
	for i, r := range replicas {
		got := must(client(r.Endpoint, testCreds.SecretAccessKey).DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0]
		if got.Status != types.GameSessionStatusTerminated || got.StatusReason != types.GameSessionStatusReasonInterrupted {
			t.Errorf("replica %d: the session is %s, reason %q", i, got.Status, got.StatusReason)
		}
	}
	if n := w.activeProcesses(t); n != 0 {
		t.Errorf("%d active processes after the exit", n)
	}
}
