package control

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/background"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// A fleet's event log stays bounded however many events it records: the oldest go, the
// newest stay, and other fleets' events are untouched.
func TestFleetEventsAreTrimmed(t *testing.T) {
	defer func(max, every int) { maxFleetEvents, fleetEventTrimEvery = max, every }(maxFleetEvents, fleetEventTrimEvery)
	maxFleetEvents, fleetEventTrimEvery = 20, 5
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &steppingClock{now: time.Now()}
	s := &Service{store: st, clock: clock, log: slog.New(slog.DiscardHandler), bg: background.New(ctx)}
	s.event(ctx, "fleet-other", "FLEET_CREATED", "kept")
	for i := range 200 {
		s.event(ctx, "fleet-1", "GENERIC_EVENT", fmt.Sprint(i))
	}
	s.bg.Wait()
	page, err := st.FleetEvents().List(ctx, store.Query{Parent: "fleet-1"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(page.Items); n < maxFleetEvents || n > maxFleetEvents+fleetEventTrimEvery {
		t.Errorf("fleet-1 keeps %d events, want %d to %d", n, maxFleetEvents, maxFleetEvents+fleetEventTrimEvery)
	}
	kept := map[string]bool{}
	for _, e := range page.Items {
		kept[gamelift.Value(e.Message)] = true
	}
	for i := 200 - maxFleetEvents; i < 200; i++ {
		if !kept[fmt.Sprint(i)] {
			t.Errorf("event %d, among the newest %d, is gone", i, maxFleetEvents)
		}
	}
	if other, _ := st.FleetEvents().List(ctx, store.Query{Parent: "fleet-other"}); len(other.Items) != 1 {
		t.Errorf("another fleet's events: %d, want 1", len(other.Items))
	}
}

// steppingClock moves a millisecond on at every reading, so events have distinct times.
type steppingClock struct{ now time.Time }

func (c *steppingClock) Now() time.Time {
	c.now = c.now.Add(time.Millisecond)
	return c.now
}
