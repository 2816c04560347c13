package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/webhook"
)

// queueWorld is w's fleet (custom-sdk-1) and two more Anywhere fleets, in custom-b and
// custom-c, each with a compute: three destinations in three locations.
type queueWorld struct {
	*sdkWorld
	b, c *sdkWorld
}

func newQueueWorld(t *testing.T, edit func(*server.Config)) queueWorld {
	t.Helper()
	w := newSDKWorldWith(t, func(c *server.Config) {
		c.HeartbeatTimeout = 24 * time.Hour // the tests move the clock by minutes; the processes send no heartbeats
		edit(c)
	})
	return queueWorld{sdkWorld: w, b: w.otherFleet(t, "custom-b"), c: w.otherFleet(t, "custom-c")}
}

func (q queueWorld) fleetARN(w *sdkWorld) string {
	return "arn:aws:gamelift:us-west-2:123456789012:fleet/" + w.fleetID
}

// queue makes a queue over the three fleets, in that order.
func (q queueWorld) queue(t *testing.T, name string, edit func(*gl.CreateGameSessionQueueInput)) *types.GameSessionQueue {
	t.Helper()
	in := &gl.CreateGameSessionQueueInput{Name: aws.String(name), Destinations: []types.GameSessionQueueDestination{
		{DestinationArn: aws.String(q.fleetARN(q.sdkWorld))}, {DestinationArn: aws.String(q.fleetARN(q.b))}, {DestinationArn: aws.String(q.fleetARN(q.c))},
	}}
	if edit != nil {
		edit(in)
	}
	return must(q.api.CreateGameSessionQueue(context.Background(), in))(t).GameSessionQueue
}

func (q queueWorld) place(t *testing.T, queue, id string, edit func(*gl.StartGameSessionPlacementInput)) *types.GameSessionPlacement {
	t.Helper()
	in := &gl.StartGameSessionPlacementInput{PlacementId: aws.String(id), GameSessionQueueName: aws.String(queue), MaximumPlayerSessionCount: aws.Int32(4)}
	if edit != nil {
		edit(in)
	}
	pl := must(q.api.StartGameSessionPlacement(context.Background(), in))(t).GameSessionPlacement
	if pl.Status != types.GameSessionPlacementStatePending {
		t.Fatalf("a new placement is %s, want PENDING", pl.Status)
	}
	return pl
}

func (q queueWorld) placement(t *testing.T, id string) types.GameSessionPlacement {
	t.Helper()
	return *must(q.api.DescribeGameSessionPlacement(context.Background(), &gl.DescribeGameSessionPlacementInput{PlacementId: aws.String(id)}))(t).GameSessionPlacement
}

func (q queueWorld) waitPlacement(t *testing.T, id string, want types.GameSessionPlacementState) types.GameSessionPlacement {
	t.Helper()
	var pl types.GameSessionPlacement
	deadline := time.Now().Add(10 * time.Second)
	for pl = q.placement(t, id); pl.Status != want; pl = q.placement(t, id) {
		if time.Now().After(deadline) {
			for _, other := range []string{"first", "second", "third"} {
				o, err := q.api.DescribeGameSessionPlacement(context.Background(), &gl.DescribeGameSessionPlacementInput{PlacementId: aws.String(other)})
				if err == nil {
					t.Logf("%s: %s %s", other, o.GameSessionPlacement.Status, aws.ToString(o.GameSessionPlacement.GameSessionArn))
				}
			}
			t.Logf("active processes: %d", q.activeProcesses(t))
			t.Fatalf("placement %s is %s (game session %s), not %s", id, pl.Status, aws.ToString(pl.GameSessionArn), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return pl
}

func latencies(player string, ms map[string]float32) []types.PlayerLatency {
	var out []types.PlayerLatency
	for loc, v := range ms {
		out = append(out, types.PlayerLatency{PlayerId: aws.String(player), RegionIdentifier: aws.String(loc), LatencyInMilliseconds: aws.Float32(v)})
	}
	return out
}

func TestQueueCRUD(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	alias := must(q.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("b"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: aws.String(q.b.fleetID)}}))(t).Alias
	made := q.queue(t, "lobby", func(in *gl.CreateGameSessionQueueInput) {
		in.Destinations = append(in.Destinations[:1], types.GameSessionQueueDestination{DestinationArn: alias.AliasArn})
		in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}
	})
	if aws.ToString(made.GameSessionQueueArn) != "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/lobby" || aws.ToInt32(made.TimeoutInSeconds) != 600 || len(made.Destinations) != 2 {
		t.Errorf("queue = %+v", made)
	}
	tags := must(q.api.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: made.GameSessionQueueArn}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
		t.Errorf("queue tags = %+v", tags)
	}
	for name, in := range map[string]*gl.CreateGameSessionQueueInput{
		"the same name":        {Name: aws.String("lobby")},
		"a timeout under 10":   {Name: aws.String("x1"), TimeoutInSeconds: aws.Int32(5)},
		"a timeout over 600":   {Name: aws.String("x2"), TimeoutInSeconds: aws.Int32(601)},
		"not an ARN":           {Name: aws.String("x3"), Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String(q.fleetID)}}},
		"a policy with no cap": {Name: aws.String("x4"), PlayerLatencyPolicies: []types.PlayerLatencyPolicy{{PolicyDurationSeconds: aws.Int32(5)}}},
		"a priority twice": {Name: aws.String("x5"), PriorityConfiguration: &types.PriorityConfiguration{
			PriorityOrder: []types.PriorityType{types.PriorityTypeLatency, types.PriorityTypeLatency}}},
	} {
		if _, err := q.api.CreateGameSessionQueue(ctx, in); errorCode(err) != "InvalidRequestException" {
			t.Errorf("%s: %v, want InvalidRequestException", name, err)
		}
	}
	_, err := q.api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("x6"), Destinations: []types.GameSessionQueueDestination{
		{DestinationArn: aws.String("arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-00000000-0000-0000-0000-000000000000")}}})
	apiError(t, err, "NotFoundException")

	up := must(q.api.UpdateGameSessionQueue(ctx, &gl.UpdateGameSessionQueueInput{Name: made.GameSessionQueueArn, TimeoutInSeconds: aws.Int32(30),
		FilterConfiguration: &types.FilterConfiguration{AllowedLocations: []string{"custom-b"}}}))(t).GameSessionQueue
	if aws.ToInt32(up.TimeoutInSeconds) != 30 || len(up.Destinations) != 2 || up.FilterConfiguration.AllowedLocations[0] != "custom-b" {
		t.Errorf("updated = %+v", up)
	}
	q.queue(t, "second", nil)
	all := must(q.api.DescribeGameSessionQueues(ctx, &gl.DescribeGameSessionQueuesInput{}))(t).GameSessionQueues
	named := must(q.api.DescribeGameSessionQueues(ctx, &gl.DescribeGameSessionQueuesInput{Names: []string{"second"}}))(t).GameSessionQueues
	if len(all) != 2 || len(named) != 1 || aws.ToString(named[0].Name) != "second" {
		t.Errorf("describe: all %d, named %+v", len(all), named)
	}
	must(q.api.DeleteGameSessionQueue(ctx, &gl.DeleteGameSessionQueueInput{Name: aws.String("second")}))(t)
	if gone := must(q.api.DescribeGameSessionQueues(ctx, &gl.DescribeGameSessionQueuesInput{Names: []string{"second"}}))(t).GameSessionQueues; len(gone) != 0 {
		t.Errorf("the deleted queue is still described: %+v", gone)
	}
	_, err = q.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("p"), GameSessionQueueName: aws.String("second"), MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "NotFoundException")
}

// A placement goes where its players' average latency is lowest, among locations the
// queue allows; its players get player sessions once the session is ACTIVE.
func TestPlacementByLatency(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	startProcess(t, q.sdkWorld, "proc-a", 7201, true)
	startProcess(t, q.b, "proc-b", 7202, true)
	startProcess(t, q.c, "proc-c", 7203, true)
	q.queue(t, "lobby", nil)

	lat := append(latencies("p1", map[string]float32{"custom-sdk-1": 90, "custom-b": 20, "custom-c": 50}),
		latencies("p2", map[string]float32{"custom-sdk-1": 80, "custom-b": 40, "custom-c": 10})...)
	q.place(t, "lobby", "pl-1", func(in *gl.StartGameSessionPlacementInput) {
		in.PlayerLatencies = lat
		in.GameSessionName = aws.String("by latency")
		in.DesiredPlayerSessions = []types.DesiredPlayerSession{{PlayerId: aws.String("p1"), PlayerData: aws.String("red")}, {PlayerId: aws.String("p2")}}
	})
	// custom-b and custom-c both average 30 ms: the destination order breaks the tie.
	pl := q.waitPlacement(t, "pl-1", types.GameSessionPlacementStateFulfilled)
	if aws.ToString(pl.GameSessionRegion) != "custom-b" || aws.ToInt32(pl.Port) != 7202 || aws.ToString(pl.IpAddress) != "127.0.0.1" ||
		!strings.Contains(aws.ToString(pl.GameSessionArn), q.b.fleetID) || pl.EndTime == nil || len(pl.PlacedPlayerSessions) != 2 {
		t.Fatalf("fulfilled placement = %+v", pl)
	}
	gs := q.session(t, pl.GameSessionArn)
	if gs.Status != types.GameSessionStatusActive || aws.ToString(gs.Name) != "by latency" || aws.ToInt32(gs.CurrentPlayerSessionCount) != 2 {
		t.Errorf("its game session = %+v", gs)
	}
	ps := must(q.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{PlayerSessionId: pl.PlacedPlayerSessions[0].PlayerSessionId}))(t).PlayerSessions
	if len(ps) != 1 || ps[0].Status != types.PlayerSessionStatusReserved || aws.ToString(ps[0].PlayerData) != "red" {
		t.Errorf("placed player session = %+v", ps)
	}

	// Without latency data: the first destination with a free process.
	q.place(t, "lobby", "pl-2", nil)
	if pl := q.waitPlacement(t, "pl-2", types.GameSessionPlacementStateFulfilled); aws.ToString(pl.GameSessionRegion) != "custom-sdk-1" {
		t.Errorf("without latencies: placed in %s", aws.ToString(pl.GameSessionRegion))
	}
	// The filter leaves only custom-c (custom-b's process is taken anyway).
	must(q.api.UpdateGameSessionQueue(ctx, &gl.UpdateGameSessionQueueInput{Name: aws.String("lobby"),
		FilterConfiguration: &types.FilterConfiguration{AllowedLocations: []string{"custom-c"}}}))(t)
	q.place(t, "lobby", "pl-3", func(in *gl.StartGameSessionPlacementInput) { in.PlayerLatencies = lat })
	if pl := q.waitPlacement(t, "pl-3", types.GameSessionPlacementStateFulfilled); aws.ToString(pl.GameSessionRegion) != "custom-c" {
		t.Errorf("with a filter: placed in %s", aws.ToString(pl.GameSessionRegion))
	}

	// Request rules.
	_, err := q.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("pl-1"), GameSessionQueueName: aws.String("lobby"), MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "InvalidRequestException") // IDs are not reused
	_, err = q.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("pl-x"), GameSessionQueueName: aws.String("lobby"), MaximumPlayerSessionCount: aws.Int32(2),
		PriorityConfigurationOverride: &types.PriorityConfigurationOverride{LocationOrder: []string{"custom-b"}}})
	apiError(t, err, "InvalidRequestException") // the queue does not prioritize LOCATION
	_, err = q.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("pl-y"), GameSessionQueueName: aws.String("lobby"), MaximumPlayerSessionCount: aws.Int32(1),
		DesiredPlayerSessions: []types.DesiredPlayerSession{{PlayerId: aws.String("a")}, {PlayerId: aws.String("b")}}})
	apiError(t, err, "InvalidRequestException") // more players than slots
}

// Latency policies cap player latency, strictest first, and relax as the placement waits.
func TestPlacementLatencyPoliciesRelax(t *testing.T) {
	q := newQueueWorld(t, func(*server.Config) {})
	startProcess(t, q.b, "proc-b", 7302, true)
	startProcess(t, q.c, "proc-c", 7303, true)
	q.queue(t, "lobby", func(in *gl.CreateGameSessionQueueInput) {
		in.PlayerLatencyPolicies = []types.PlayerLatencyPolicy{
			{MaximumIndividualPlayerLatencyMilliseconds: aws.Int32(200)},
			{MaximumIndividualPlayerLatencyMilliseconds: aws.Int32(50), PolicyDurationSeconds: aws.Int32(60)},
			{MaximumIndividualPlayerLatencyMilliseconds: aws.Int32(100), PolicyDurationSeconds: aws.Int32(60)},
		}
	})
	q.place(t, "lobby", "slow", func(in *gl.StartGameSessionPlacementInput) {
		in.PlayerLatencies = latencies("p1", map[string]float32{"custom-b": 80, "custom-c": 150})
	})
	time.Sleep(100 * time.Millisecond) // many passes
	if pl := q.placement(t, "slow"); pl.Status != types.GameSessionPlacementStatePending || pl.GameSessionArn != nil {
		t.Fatalf("under the 50 ms policy: %s %s", pl.Status, aws.ToString(pl.GameSessionArn))
	}
	q.clock.Advance(60 * time.Second) // the 100 ms policy: custom-b
	if pl := q.waitPlacement(t, "slow", types.GameSessionPlacementStateFulfilled); aws.ToString(pl.GameSessionRegion) != "custom-b" {
		t.Errorf("under the 100 ms policy: placed in %s", aws.ToString(pl.GameSessionRegion))
	}
	q.place(t, "lobby", "slower", func(in *gl.StartGameSessionPlacementInput) {
		in.PlayerLatencies = latencies("p1", map[string]float32{"custom-c": 150})
	})
	q.clock.Advance(60 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if pl := q.placement(t, "slower"); pl.Status != types.GameSessionPlacementStatePending {
		t.Fatalf("150 ms under the 100 ms policy: %s", pl.Status)
	}
	q.clock.Advance(60 * time.Second) // past both timed policies: 200 ms until the timeout
	if pl := q.waitPlacement(t, "slower", types.GameSessionPlacementStateFulfilled); aws.ToString(pl.GameSessionRegion) != "custom-c" {
		t.Errorf("under the 200 ms policy: placed in %s", aws.ToString(pl.GameSessionRegion))
	}
}

// A placement waits for capacity, oldest first, and is served as soon as a process is
// ready; one that finds none in time TIMES_OUT; Stop cancels a pending one. Events go to
// the webhook, retried when it first fails.
func TestPlacementWaitsTimesOutAndStops(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var events []map[string]any
	failures := 1
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var e map[string]any
		json.Unmarshal(b, &e)
		events = append(events, e)
	}))
	defer receiver.Close()
	q := newQueueWorld(t, func(c *server.Config) {
		c.EventWebhooks = []webhook.Target{{Queue: "lobby", URL: receiver.URL}}
	})
	q.queue(t, "lobby", func(in *gl.CreateGameSessionQueueInput) {
		in.TimeoutInSeconds = aws.Int32(30)
		in.CustomEventData = aws.String("season-3")
	})
	q.place(t, "lobby", "first", nil)
	q.clock.Advance(time.Second)
	q.place(t, "lobby", "second", nil)
	q.clock.Advance(time.Second)
	q.place(t, "lobby", "third", nil)
	time.Sleep(50 * time.Millisecond)
	if pl := q.placement(t, "first"); pl.Status != types.GameSessionPlacementStatePending {
		t.Fatalf("with no process: %s", pl.Status)
	}
	startProcess(t, q.c, "proc-c", 7403, true)
	q.waitPlacement(t, "first", types.GameSessionPlacementStateFulfilled)
	if st := q.placement(t, "second").Status; st != types.GameSessionPlacementStatePending {
		t.Errorf("second took the one process: %s", st)
	}
	stopped := must(q.api.StopGameSessionPlacement(ctx, &gl.StopGameSessionPlacementInput{PlacementId: aws.String("third")}))(t).GameSessionPlacement
	if stopped.Status != types.GameSessionPlacementStateCancelled || stopped.EndTime == nil {
		t.Errorf("stopped = %+v", stopped)
	}
	_, err := q.api.StopGameSessionPlacement(ctx, &gl.StopGameSessionPlacementInput{PlacementId: aws.String("first")})
	apiError(t, err, "InvalidRequestException")
	q.clock.Advance(30 * time.Second)
	q.waitPlacement(t, "second", types.GameSessionPlacementStateTimedOut)

	var byType map[string]map[string]any
	eventually(t, "three events delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		byType = map[string]map[string]any{}
		for _, e := range events {
			d := e["detail"].(map[string]any)
			byType[d["type"].(string)] = e
		}
		return len(events) == 3
	})
	f := byType["PlacementFulfilled"]
	d := f["detail"].(map[string]any)
	if f["detail-type"] != "GameLift Queue Placement Event" || f["source"] != "aws.gamelift" || d["placementId"] != "first" || d["port"] != "7403" ||
		d["gameSessionRegion"] != "custom-c" || d["customEventData"] != "season-3" || f["resources"].([]any)[0] != "arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/lobby" {
		t.Errorf("PlacementFulfilled = %v", f)
	}
	if byType["PlacementCancelled"]["detail"].(map[string]any)["placementId"] != "third" || byType["PlacementTimedOut"]["detail"].(map[string]any)["placementId"] != "second" {
		t.Errorf("events = %v", byType)
	}
}

// A placement whose session never activates FAILS; placements survive a restart.
func TestPlacementFailsAndSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	q.queue(t, "lobby", nil)
	idle := startProcess(t, q.sdkWorld, "proc-idle", 7501, false) // never activates
	q.place(t, "lobby", "dud", nil)
	eventually(t, "the placement has a session", func() bool { return q.placement(t, "dud").GameSessionArn != nil })
	q.clock.Advance(11 * time.Minute) // past the activation timeout
	q.waitPlacement(t, "dud", types.GameSessionPlacementStateFailed)
	idle.sdk.Destroy()

	// A placement waiting when the server stops waits again after it starts.
	q.place(t, "lobby", "later", nil)
	cfg := server.Config{Addr: strings.TrimPrefix(q.srv.Endpoint, "http://"), DataDir: q.dataDir, Credentials: testCreds, Clock: q.clock,
		Logger: quietLogger(), SweepInterval: 5 * time.Millisecond, HeartbeatTimeout: 24 * time.Hour}
	if err := q.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	q.srv = srv
	if pl := q.placement(t, "later"); pl.Status != types.GameSessionPlacementStatePending {
		t.Fatalf("after restart: %s", pl.Status)
	}
	startProcess(t, q.b, "proc-b", 7502, true)
	if pl := q.waitPlacement(t, "later", types.GameSessionPlacementStateFulfilled); aws.ToString(pl.GameSessionRegion) != "custom-b" {
		t.Errorf("after restart: placed in %s", aws.ToString(pl.GameSessionRegion))
	}
}
