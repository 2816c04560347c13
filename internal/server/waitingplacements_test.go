package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/coder/websocket"

	"github.com/hoist-dev/hoist/internal/server"
)

// officialProcess is a game server that treats the SDK endpoint the way the official
// Server SDKs 5 (Go, C++, C#) do: each frame it reads is handled on its own goroutine; it
// marks itself ready only once it has read ProcessReady's answer, drops a game session
// that reaches it before then ("Got a game session on inactive process. Ignoring."), and
// heartbeats as soon as it is ready. It activates every session it takes.
type officialProcess struct {
	t       *testing.T
	conn    *websocket.Conn
	ready   atomic.Bool
	mu      sync.Mutex
	waiters map[string]chan map[string]any
	dropped atomic.Int32 // sessions ignored because they came before the answer
	nextID  atomic.Int64
}

func dialOfficial(t *testing.T, endpoint, fleetID, compute, token, processID string) *officialProcess {
	t.Helper()
	q := url.Values{"pID": {processID}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "ComputeId": {compute},
		"FleetId": {fleetID}, "IdempotencyToken": {processID}, "Authorization": {token}}
	conn, _, err := websocket.Dial(context.Background(), endpoint+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &officialProcess{t: t, conn: conn, waiters: map[string]chan map[string]any{}}
	t.Cleanup(func() { conn.CloseNow() })
	go p.read()
	return p
}

func (p *officialProcess) read() {
	for {
		_, b, err := p.conn.Read(context.Background())
		if err != nil {
			return
		}
		go p.handle(b)
	}
}

func (p *officialProcess) handle(b []byte) {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return
	}
	id, _ := m["RequestId"].(string)
	p.mu.Lock()
	w, isAnswer := p.waiters[id]
	delete(p.waiters, id)
	p.mu.Unlock()
	if isAnswer {
		w <- m
		return
	}
	if m["Action"] == "CreateGameSession" {
		if !p.ready.Load() {
			p.dropped.Add(1)
			return
		}
		gs, _ := m["GameSessionId"].(string)
		p.call("ActivateGameSession", map[string]any{"GameSessionId": gs})
	}
}

// call sends a request and waits for its answer.
func (p *officialProcess) call(action string, fields map[string]any) map[string]any {
	id := fmt.Sprint(action, "-", p.nextID.Add(1))
	ch := make(chan map[string]any, 1)
	p.mu.Lock()
	p.waiters[id] = ch
	p.mu.Unlock()
	frame := map[string]any{"Action": action, "RequestId": id}
	for k, v := range fields {
		frame[k] = v
	}
	b, _ := json.Marshal(frame)
	if err := p.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		return nil
	}
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		return nil
	}
}

// sdkSettle stands for the time an official SDK takes between reading ProcessReady's
// answer and marking itself ready: the answer and a session pushed right after it are
// read on two goroutines, and the session's may check first.
const sdkSettle = 5 * time.Millisecond

// end is the game's end: the SDK's ProcessEnding (its session ends with it), then exit.
func (p *officialProcess) end() {
	p.t.Helper()
	if m := p.call("TerminateServerProcess", nil); m == nil || m["StatusCode"] != 200.0 {
		p.t.Fatalf("ProcessEnding answered %v", m)
	}
	p.conn.CloseNow()
}

// processReady is the SDK's ProcessReady: the answer first, then ready, then a heartbeat.
func (p *officialProcess) processReady(port int) {
	p.t.Helper()
	if m := p.call("ActivateServerProcess", map[string]any{"SdkVersion": "5.6.0", "SdkLanguage": "Go", "Port": port, "LogPaths": []string{}}); m == nil || m["StatusCode"] != 200.0 {
		p.t.Fatalf("ProcessReady answered %v", m)
	}
	time.Sleep(sdkSettle) // the SDK's own work between reading the answer and marking itself ready
	p.ready.Store(true)
	go p.call("HeartbeatServerProcess", map[string]any{"HealthStatus": true})
}

// A placement waiting beside no free process is served as soon as a process becomes ready
// for it, also when the game server's SDK drops sessions that overtake ProcessReady's
// answer, as the official SDKs do. The sequence of the report: an Anywhere fleet in two
// custom locations, five processes all hosting sessions, a placement waiting, a sixth
// process ready; then a session ends, its process ends, a fresh one is ready and a new
// placement starts at once. Many rounds in a row.
func TestWaitingPlacementTakesANewProcessAtOnce(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorldWith(t, func(c *server.Config) { c.HeartbeatTimeout = 24 * time.Hour })
	for _, loc := range []string{"custom-east", "custom-west"} {
		must(w.api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(loc)}))(t)
	}
	fleet := must(w.api.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("two-places"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-east")}, {Location: aws.String("custom-west")}},
	}))(t).FleetAttributes
	fleetID := aws.ToString(fleet.FleetId)
	tokens := map[string]string{}
	for _, loc := range []string{"custom-east", "custom-west"} {
		host := "host-" + loc
		must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: &fleetID, ComputeName: aws.String(host),
			IpAddress: aws.String("127.0.0.1"), Location: aws.String(loc)}))(t)
		tokens[loc] = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: aws.String(host)}))(t).AuthToken)
	}
	must(w.api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("lobby"), TimeoutInSeconds: aws.Int32(600),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: fleet.FleetArn}}}))(t)

	started := 0
	start := func(loc string) *officialProcess {
		started++
		p := dialOfficial(t, w.srv.SDKEndpoint, fleetID, "host-"+loc, tokens[loc], fmt.Sprint("proc-", started))
		p.processReady(7000 + started)
		return p
	}
	placements := 0
	place := func() string {
		placements++
		id := fmt.Sprint("placement-", placements)
		must(w.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: &id,
			GameSessionQueueName: aws.String("lobby"), MaximumPlayerSessionCount: aws.Int32(4)}))(t)
		return id
	}
	waitFulfilled := func(id, what string) types.GameSessionPlacement {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			pl := *must(w.api.DescribeGameSessionPlacement(ctx, &gl.DescribeGameSessionPlacementInput{PlacementId: &id}))(t).GameSessionPlacement
			if pl.Status == types.GameSessionPlacementStateFulfilled {
				return pl
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: placement %s is %s (game session %s) 5 s later", what, id, pl.Status, aws.ToString(pl.GameSessionArn))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}

	var procs []*officialProcess
	for i := range 5 {
		procs = append(procs, start([]string{"custom-east", "custom-west"}[i%2]))
		waitFulfilled(place(), "a placement beside a free process")
	}
	const rounds = 25
	for round := range rounds {
		loc := []string{"custom-east", "custom-west"}[round%2]
		// Every process hosts a session: the placement waits.
		waiting := place()
		time.Sleep(20 * time.Millisecond)
		if st := must(w.api.DescribeGameSessionPlacement(ctx, &gl.DescribeGameSessionPlacementInput{PlacementId: &waiting}))(t).GameSessionPlacement.Status; st != types.GameSessionPlacementStatePending {
			t.Fatalf("round %d: with no free process the placement is %s", round, st)
		}
		procs = append(procs, start(loc))
		waitFulfilled(waiting, fmt.Sprintf("round %d, a sixth process ready in %s", round, loc))

		// A session ends and its process with it; a fresh process is ready, and a
		// placement starts right then.
		old := procs[0]
		procs = procs[1:]
		old.end()
		procs = append(procs, start(loc))
		waitFulfilled(place(), fmt.Sprintf("round %d, a placement started as a fresh process became ready", round))
		// Keep five processes, all hosting sessions.
		gone := procs[0]
		procs = procs[1:]
		gone.end()
	}
	for _, p := range procs {
		if n := p.dropped.Load(); n > 0 {
			t.Errorf("a game server was sent %d sessions before it knew it was ready", n)
		}
	}
}
