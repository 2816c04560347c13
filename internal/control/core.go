package control

import (
	"context"
	"time"

	"github.com/hoist-dev/hoist/internal/store"
)

// What the packages above the core (internal/scaling, ...) use of it. Each declares the
// part it needs as an interface of its own; these are the methods behind them.

// LocationActive is the status of a fleet location that hosts game sessions.
const LocationActive = locationStatusActive

// FleetActionAutoScaling is the fleet action StopFleetActions suspends auto scaling with.
const FleetActionAutoScaling = "AUTO_SCALING"

// Fleet loads a fleet by ID or ARN; an unknown one is NotFoundException.
func (s *Service) Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error) {
	return s.getFleet(ctx, idOrARN)
}

// Fleets lists every fleet, TERMINATED ones included.
func (s *Service) Fleets(ctx context.Context) ([]store.Fleet, error) {
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, err
	}
	return page.Items, nil
}

// UpdateFleet applies fn to a fleet that is not being deleted, in ERROR or TERMINATED
// (InvalidFleetStatusException).
func (s *Service) UpdateFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error) {
	return s.updateFleet(ctx, idOrARN, fn)
}

// UpdateAnyFleet applies fn to a fleet whatever its status.
func (s *Service) UpdateAnyFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error) {
	id := idOf(idOrARN)
	f, err := s.fleets.Update(ctx, id, fn)
	if err != nil {
		return f, notFound(err, "Fleet %s not found", id)
	}
	return f, nil
}

// HostCounts counts a fleet's active hosts per location.
func (s *Service) HostCounts(ctx context.Context, fleetID string) (map[string]int32, error) {
	return s.computeCounts(ctx, fleetID)
}

// Metrics measures a fleet location now, across replicas, with hosts as its host count.
func (s *Service) Metrics(ctx context.Context, fleetID, location string, hosts int32) FleetMetrics {
	return s.fleetMetrics(ctx, fleetID, location, hosts)
}

// RecordEvent records a fleet event.
func (s *Service) RecordEvent(ctx context.Context, fleetID, code, msg string) {
	s.event(ctx, fleetID, code, msg)
}

// Leads tells whether this server does the work one server of a store does for all of
// them (auto scaling): alone on its store it does; among replicas, the live one with the
// lowest ID does.
func (s *Service) Leads(ctx context.Context) bool { return s.leads(ctx) }

// CapacityChanged tells whoever runs the fleet's instances that its desired capacity
// changed: a container fleet's engine, which starts or stops pods. Host agents are
// started by people, so for other fleets there is no one to tell.
func (s *Service) CapacityChanged(f store.Fleet) { s.containersChanged(f) }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Managed tells whether Hoist decides how many instances a fleet has (EC2 and container
// fleets), so that scaling policies apply to it.
func Managed(f store.Fleet) bool { return managed(f) }

// IsContainer tells whether f is a container fleet.
func IsContainer(f store.Fleet) bool { return isContainer(f) }

// LocationOf is the fleet's location named, or nil.
func LocationOf(f *store.Fleet, name string) *store.FleetLocation { return locationOf(f, name) }
