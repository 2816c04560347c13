package matchmaking_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/matchmaking"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
	"github.com/hoist-dev/hoist/internal/tags"
)

const duel = `{
  "name": "duel",
  "ruleLanguageVersion": "1.0",
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]
}`

// events counts the events published.
type events struct {
	mu    sync.Mutex
	count int
}

func (e *events) Publish(string, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
}

// Matchmaking runs over the core alone: a STANDALONE match completes its tickets, and its
// rule set is tagged through internal/tags' TagResource.
func TestStandaloneMatchOverTheCore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	core, err := control.New(ctx, control.Config{Store: st, Region: "us-west-2", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ev := &events{}
	mm := matchmaking.New(matchmaking.Config{Core: core, Store: st, Events: ev, Region: "us-west-2", Interval: 10 * time.Millisecond, Logger: log})
	defer mm.Close()
	core.SetMatchmaker(mm)
	tagger := tags.New(tags.Config{Region: "us-west-2", Account: control.AccountID})
	for kind, tt := range mm.Tagged() {
		tagger.Add(kind, tt)
	}

	rs, err := mm.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: gamelift.String("duel"), RuleSetBody: gamelift.String(duel)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: gamelift.String("solo"),
		RuleSetName: gamelift.String("duel"), RequestTimeoutSeconds: gamelift.Int32(60), AcceptanceRequired: gamelift.Bool(false),
		FlexMatchMode: gamelift.String("STANDALONE")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := mm.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: gamelift.String(id), ConfigurationName: gamelift.String("solo"),
			Players: []gamelift.Player{{PlayerId: gamelift.String("p-" + id)}}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := mm.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, tk := range out.TicketList {
			if gamelift.Value(tk.Status) == matchmaking.TicketCompleted {
				done++
			}
		}
		if done == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tickets not COMPLETED: %+v", out.TicketList)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ev.mu.Lock()
	if ev.count == 0 {
		t.Error("no matchmaking events were published")
	}
	ev.mu.Unlock()

	arn := rs.RuleSet.RuleSetArn
	if _, err := tagger.TagResource(ctx, &gamelift.TagResourceRequest{ResourceARN: arn,
		Tags: []gamelift.Tag{{Key: gamelift.String("team"), Value: gamelift.String("core")}}}); err != nil {
		t.Fatal(err)
	}
	listed, err := tagger.ListTagsForResource(ctx, &gamelift.ListTagsForResourceRequest{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.Tags) != 1 || gamelift.Value(listed.Tags[0].Key) != "team" {
		t.Errorf("tags of the rule set: %+v", listed.Tags)
	}
}
