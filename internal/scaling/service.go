package scaling

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hoist-dev/hoist/internal/background"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/store"
)

// Core is what scaling uses of the core service (internal/control's Service).
type Core interface {
	Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error)
	Fleets(ctx context.Context) ([]store.Fleet, error)
	// UpdateFleet edits a live fleet; UpdateAnyFleet one in any status.
	UpdateFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error)
	UpdateAnyFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error)
	HostCounts(ctx context.Context, fleetID string) (map[string]int32, error)
	Metrics(ctx context.Context, fleetID, location string, hosts int32) control.FleetMetrics
	RecordEvent(ctx context.Context, fleetID, code, msg string)
	// Leads tells whether this server evaluates the policies (one replica does).
	Leads(ctx context.Context) bool
	// CapacityChanged is told a fleet's desired instances changed.
	CapacityChanged(f store.Fleet)
	// Now is the core's clock, which tests move a minute at a time.
	Now() time.Time
}

// Service answers the scaling policy operations and runs the auto scaler.
type Service struct {
	core Core
	log  *slog.Logger

	// The auto scaler's state, touched only by its goroutine: when it last evaluated, and
	// how many consecutive minutes each rule-based policy's rule has held in each fleet
	// location (fleet/location/policy). After a restart the counts start from zero.
	last     time.Time
	breaches map[string]int32
	runs     atomic.Int64 // evaluations done

	bg *background.Group
}

// New returns a Service whose auto scaler looks every interval of real time whether a
// minute of clock time has passed, until Close.
func New(core Core, log *slog.Logger, interval time.Duration) *Service {
	s := &Service{core: core, log: log, breaches: map[string]int32{}, bg: background.New(context.Background())}
	s.bg.Loop(interval, nil, func() { s.evaluate(s.bg.Context()) })
	return s
}

// Close stops the auto scaler and waits for it.
func (s *Service) Close() { s.bg.Close() }

// Evaluations tells how many times the scaling policies have been evaluated: tests that
// move the clock a minute wait for the next one.
func (s *Service) Evaluations() int64 { return s.runs.Load() }

func (s *Service) now() time.Time { return s.core.Now().UTC() }
