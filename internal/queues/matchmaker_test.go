package queues

import (
	"slices"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// ended records the placements matchmaking is told ended.
type ended []string

func (e *ended) PlacementEnded(pl store.Placement) {
	*e = append(*e, gamelift.Value(pl.Model.PlacementId))
}

// The Matchmaker is told only of match placements, and of those that ended before it was
// set (placements restored at start) once it is.
func TestMatchmakerTold(t *testing.T) {
	s := &Service{}
	match := func(id string) store.Placement {
		return store.Placement{Model: gamelift.GameSessionPlacement{PlacementId: &id}, MatchTickets: []string{"t-" + id}}
	}
	s.matchPlacementEnded(match("early"))
	s.matchPlacementEnded(store.Placement{Model: gamelift.GameSessionPlacement{PlacementId: gamelift.String("queue")}})
	m := &ended{}
	s.SetMatchmaker(m)
	s.matchPlacementEnded(match("late"))
	if want := []string{"early", "late"}; !slices.Equal(*m, want) {
		t.Errorf("placements told: %v, want %v", *m, want)
	}
}
