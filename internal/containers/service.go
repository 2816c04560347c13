package containers

import (
	"context"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Core is what the containers package uses of the core service (internal/control's
// Service).
type Core interface {
	// Fleet loads a fleet by ID or ARN (NotFoundException); Fleets lists them all.
	Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error)
	Fleets(ctx context.Context) ([]store.Fleet, error)
	// AdmitFleet lets one more fleet be created, until release.
	AdmitFleet(ctx context.Context) (release func(), err error)
	// AddFleet stores a new fleet, with its ID, ARN and GameLift's defaults, and records
	// its creation.
	AddFleet(ctx context.Context, f store.Fleet) (store.Fleet, error)
	// UpdateFleet edits a live fleet; UpdateAnyFleet one in any status.
	UpdateFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error)
	UpdateAnyFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error)
	DeleteFleet(ctx context.Context, in *gamelift.DeleteFleetInput) (*gamelift.DeleteFleetOutput, error)
	// ProtectionPolicyChanged records the fleet event of a changed protection policy.
	ProtectionPolicyChanged(ctx context.Context, f store.Fleet, was string)
	// AwaitReady makes fleet locations wait for their first ProcessReady.
	AwaitReady(fleetID string, locations ...string)
	RecordEvent(ctx context.Context, fleetID, code, msg string)

	// The computes of a fleet: a container fleet's are its pods.
	ComputeRecord(ctx context.Context, fleetID string, nameOrARN *string) (store.Compute, error)
	FleetComputes(ctx context.Context, fleetID string) ([]store.Compute, error)
	PutCompute(ctx context.Context, rec store.Compute) error
	IssueAuthToken(ctx context.Context, fleetID, compute string, ttl time.Duration) (string, error)
	CloseCompute(ctx context.Context, fleetID, compute string) error
	ComputeGone(ctx context.Context, fleetID, compute string) error
	ComputeUses(ctx context.Context, fleetID string) (map[string]control.ComputeUse, error)
	DrainCompute(fleetID, compute string)

	// Admit lets one more resource of a kind be created, until release.
	Admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error)
	ARN(kind, id string) string
	Region() string
	SDKEndpoint() string
	// Leads tells whether this server runs the engine (one replica does).
	Leads(ctx context.Context) bool
	Now() time.Time
}

// Engine runs container fleets' game servers. Hoist's Kubernetes engine (internal/kube)
// is the one there is.
type Engine interface {
	// FleetChanged says a container fleet's plan (ContainerPlan) changed: its definitions,
	// desired instances, or status (deleted).
	FleetChanged(fleetID string)
}

// Config holds what a Service needs.
type Config struct {
	Core Core
	// Definitions is the store's table of container group definitions.
	Definitions store.Table[store.ContainerGroupDefinition]
	// Engine runs container fleets; CreateContainerFleet and UpdateContainerFleet are
	// refused without one.
	Engine Engine
}

// Service answers the container operations and what the engine asks.
type Service struct {
	core   Core
	defs   store.Table[store.ContainerGroupDefinition]
	engine Engine
}

// New returns a Service.
func New(c Config) *Service {
	return &Service{core: c.Core, defs: c.Definitions, engine: c.Engine}
}

// CapacityChanged implements control.FleetListener: a container fleet's desired
// instances changed, so its engine starts or stops pods.
func (s *Service) CapacityChanged(f store.Fleet) {
	if control.IsContainer(f) {
		s.fleetChanged(gamelift.Value(f.Attributes.FleetId))
	}
}

// FleetChanged implements control.FleetListener: another replica changed a fleet, and
// the engine's leader follows.
func (s *Service) FleetChanged(fleetID string) { s.fleetChanged(fleetID) }

// fleetChanged tells the engine, if there is one, that a fleet's plan changed.
func (s *Service) fleetChanged(fleetID string) {
	if s.engine != nil {
		s.engine.FleetChanged(fleetID)
	}
}

func (s *Service) now() time.Time { return s.core.Now().UTC() }

// isNotFound tells an error the core gives for a fleet that is not there.
func isNotFound(err error) bool { return gamelift.IsCode(err, "NotFoundException") }

func set[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func orDefault(p *string, def string) *string {
	if p == nil {
		return &def
	}
	return p
}
