package control

import (
	"context"
	"slices"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// told records what the core tells its Matchmaker.
type told struct{ left []string }

func (t *told) StartBackfill(context.Context, string, string, string, []gamelift.Player) (*gamelift.MatchmakingTicket, error) {
	return nil, nil
}

func (t *told) StopBackfill(context.Context, string, string) error { return nil }

func (t *told) PlayerLeft(gs store.GameSession) {
	t.left = append(t.left, gamelift.Value(gs.Model.GameSessionId))
}

// The Matchmaker is told only of matched sessions, and what happened before it was set
// once it is. (Match placements are internal/queues' to tell.)
func TestMatchmakerTold(t *testing.T) {
	s := &Service{}
	matched := func(id string) store.GameSession {
		return store.GameSession{Model: gamelift.GameSession{GameSessionId: &id, MatchmakerData: gamelift.String("{}")}}
	}
	if _, err := s.startBackfill(context.Background(), "c", "gs", "", nil); err == nil {
		t.Error("a backfill request with no matchmaker set was not refused")
	}
	s.playerLeft(matched("gs-early"))
	s.playerLeft(store.GameSession{Model: gamelift.GameSession{GameSessionId: gamelift.String("unmatched")}})
	m := &told{}
	s.SetMatchmaker(m)
	s.playerLeft(matched("gs-late"))
	if want := []string{"gs-early", "gs-late"}; !slices.Equal(m.left, want) {
		t.Errorf("sessions told: %v, want %v", m.left, want)
	}
}
