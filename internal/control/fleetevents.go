package control

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// A fleet keeps its newest maxFleetEvents events. Trimming lists all of a fleet's events,
// so it runs after every fleetEventTrimEvery events recorded for that fleet, in the
// background: a fleet holds at most maxFleetEvents+fleetEventTrimEvery events, however
// long it lives (variables for tests).
var (
	maxFleetEvents      = 10000
	fleetEventTrimEvery = 1000
)

// eventTrims counts the events recorded per fleet since its last trim.
type eventTrims struct {
	mu       sync.Mutex
	recorded map[string]int
	running  map[string]bool
}

// recorded counts one event of fleetID and tells whether to trim the fleet's events now.
func (t *eventTrims) record(fleetID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.recorded == nil {
		t.recorded, t.running = map[string]int{}, map[string]bool{}
	}
	t.recorded[fleetID]++
	if t.recorded[fleetID] < fleetEventTrimEvery || t.running[fleetID] {
		return false
	}
	t.recorded[fleetID], t.running[fleetID] = 0, true
	return true
}

// forget drops a purged fleet's count.
func (t *eventTrims) forget(fleetID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.recorded, fleetID)
}

// again tells whether the fleet recorded enough events during its trim for another; if
// not, the trim is over.
func (t *eventTrims) again(fleetID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.recorded[fleetID] >= fleetEventTrimEvery {
		t.recorded[fleetID] = 0
		return true
	}
	delete(t.running, fleetID)
	return false
}

// trimFleetEvents deletes a fleet's oldest events beyond maxFleetEvents, again while
// events come faster than it trims.
func (s *Service) trimFleetEvents(ctx context.Context, fleetID string) {
	for {
		s.trimFleetEventsOnce(ctx, fleetID)
		if !s.eventTrims.again(fleetID) {
			return
		}
	}
}

func (s *Service) trimFleetEventsOnce(ctx context.Context, fleetID string) {
	page, err := s.store.FleetEvents().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		s.log.Error("list fleet events to trim", "fleet", fleetID, "error", err)
		return
	}
	extra := len(page.Items) - maxFleetEvents
	if extra <= 0 {
		return
	}
	events := page.Items
	slices.SortStableFunc(events, func(a, b gamelift.Event) int { return a.EventTime.Time.Compare(b.EventTime.Time) })
	for _, e := range events[:extra] {
		if err := s.store.FleetEvents().Delete(ctx, gamelift.Value(e.EventId)); err != nil {
			s.log.Error("trim fleet event", "fleet", fleetID, "error", err)
			return
		}
	}
	s.log.Debug("fleet events trimmed", "fleet", fleetID, "deleted", extra)
}

// protectionPolicyChanged records, as GameLift does, that a fleet's
// NewGameSessionProtectionPolicy is no longer was.
func (s *Service) protectionPolicyChanged(ctx context.Context, f store.Fleet, was string) {
	id, now := gamelift.Value(f.Attributes.FleetId), gamelift.Value(f.Attributes.NewGameSessionProtectionPolicy)
	if now == was {
		return
	}
	s.event(ctx, id, "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED", fmt.Sprintf("Fleet %s's NewGameSessionProtectionPolicy changed from %s to %s", id, was, now))
}
