package queues_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/queues"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
	"github.com/hoist-dev/hoist/internal/tags"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// told records what placements tell: events by type, waits observed by status, and the
// match placements that ended.
type told struct {
	mu      sync.Mutex
	events  []string
	waits   []string
	matches []string
}

func (t *told) Publish(_ string, event []byte) {
	var e struct{ Detail struct{ Type string } }
	json.Unmarshal(event, &e)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e.Detail.Type)
}

func (t *told) PlacementEnded(queue, status string, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waits = append(t.waits, queue+" "+status+" "+wait.String())
}

// matches is told of the match placements that ended.
type matches struct{ *told }

func (m matches) PlacementEnded(pl store.Placement) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.matches = append(m.matches, gamelift.Value(pl.Model.PlacementId))
}

// Queues and placements run over the core alone: a placement with no free process waits
// until its queue's timeout on the core's clock, then ends TIMED_OUT with its event, its
// wait observed and, for a match, matchmaking told; a stopped one is CANCELLED with its
// event; and the queue is tagged through internal/tags' TagResource.
func TestPlacementsOverTheCore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	core, err := control.New(ctx, control.Config{Store: st, Region: "us-west-2", Clock: clk, Logger: log, SweepInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	tl := &told{}
	q, err := queues.New(ctx, queues.Config{Core: core, Store: st, Events: tl, Observer: tl, Region: "us-west-2", Interval: 10 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	core.SetPlacer(q)
	q.SetMatchmaker(matches{tl})
	tagger := tags.New(tags.Config{Region: "us-west-2", Account: control.AccountID})
	for kind, tt := range q.Tagged() {
		tagger.Add(kind, tt)
	}

	if _, err := core.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: gamelift.String("custom-here")}); err != nil {
		t.Fatal(err)
	}
	f, err := core.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: gamelift.String("empty"), ComputeType: gamelift.String(control.ComputeAnywhere),
		Locations: []gamelift.LocationConfiguration{{Location: gamelift.String("custom-here")}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := q.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: gamelift.String("waits"), TimeoutInSeconds: gamelift.Int32(10),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: f.FleetAttributes.FleetArn}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: gamelift.String("stopped"),
		GameSessionQueueName: gamelift.String("waits"), MaximumPlayerSessionCount: gamelift.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.StopGameSessionPlacement(ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: gamelift.String("stopped")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: gamelift.String("alone"),
		GameSessionQueueName: gamelift.String("waits"), MaximumPlayerSessionCount: gamelift.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	match := store.Placement{Model: gamelift.GameSessionPlacement{PlacementId: gamelift.String("match"), GameSessionQueueName: gamelift.String("waits"),
		Status: gamelift.String(queues.PlacementPending), MaximumPlayerSessionCount: gamelift.Int32(2), StartTime: gamelift.At(clk.Now())},
		QueueArn: gamelift.Value(out.GameSessionQueue.GameSessionQueueArn), MatchTickets: []string{"ticket"}}
	if err := q.StartPlacement(ctx, match); err != nil {
		t.Fatal(err)
	}
	if n := len(q.PendingPlacements(10)); n != 2 {
		t.Fatalf("%d placements pending, want 2", n)
	}

	clk.add(10 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		tl.mu.Lock()
		n, m := len(tl.events), len(tl.matches)
		tl.mu.Unlock()
		if n == 3 && m == 1 { // the match's is told last
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d placement events sent, want 3; matchmaking told of %d match placements, want 1", n, m)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, id := range []string{"alone", "match"} {
		pl, err := q.DescribeGameSessionPlacement(ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: gamelift.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if st := gamelift.Value(pl.GameSessionPlacement.Status); st != queues.PlacementTimedOut {
			t.Errorf("placement %s is %s, not TIMED_OUT", id, st)
		}
	}
	tl.mu.Lock()
	slices.Sort(tl.waits)
	if want := []string{"PlacementCancelled", "PlacementTimedOut", "PlacementTimedOut"}; !slices.Equal(tl.events, want) {
		t.Errorf("events %v, want %v", tl.events, want)
	}
	if want := []string{"waits TIMED_OUT 10s", "waits TIMED_OUT 10s"}; !slices.Equal(tl.waits, want) {
		t.Errorf("waits observed %v, want %v", tl.waits, want)
	}
	if want := []string{"match"}; !slices.Equal(tl.matches, want) {
		t.Errorf("matchmaking told of %v, want %v", tl.matches, want)
	}
	tl.mu.Unlock()
	if n := len(q.PendingPlacements(10)); n != 0 {
		t.Errorf("%d placements pending after they timed out", n)
	}

	arn := out.GameSessionQueue.GameSessionQueueArn
	if _, err := tagger.TagResource(ctx, &gamelift.TagResourceRequest{ResourceARN: arn,
		Tags: []gamelift.Tag{{Key: gamelift.String("team"), Value: gamelift.String("core")}}}); err != nil {
		t.Fatal(err)
	}
	listed, err := tagger.ListTagsForResource(ctx, &gamelift.ListTagsForResourceRequest{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.Tags) != 1 || gamelift.Value(listed.Tags[0].Key) != "team" {
		t.Errorf("tags of the queue: %+v", listed.Tags)
	}
}
