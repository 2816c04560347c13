package control

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Usage is what runs in one fleet location right now.
type Usage struct {
	ActiveServerProcesses int32
	ActiveGameSessions    int32
	CurrentPlayerSessions int32
	MaximumPlayerSessions int32
}

// computeCounts counts a fleet's registered computes per location.
func (s *Service) computeCounts(ctx context.Context, fleetID string) (map[string]int32, error) {
	page, err := s.store.Computes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	counts := map[string]int32{}
	for _, c := range page.Items {
		if gamelift.Value(c.Model.ComputeStatus) == computeActive {
			counts[gamelift.Value(c.Model.Location)]++
		}
	}
	return counts, nil
}

func (s *Service) capacity(f store.Fleet, l store.FleetLocation, active int32) gamelift.FleetCapacity {
	desired, maxSize := l.Desired, l.Max
	if active > desired {
		desired = active
	}
	if desired > maxSize {
		maxSize = desired
	}
	zero := int32(0)
	return gamelift.FleetCapacity{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, InstanceType: f.Attributes.InstanceType,
		Location: gamelift.String(l.Name),
		InstanceCounts: &gamelift.EC2InstanceCounts{
			DESIRED: &desired, MINIMUM: gamelift.Int32(l.Min), MAXIMUM: &maxSize,
			PENDING: &zero, ACTIVE: &active, IDLE: &active, TERMINATING: &zero,
		},
	}
}

// DescribeFleetCapacity reports, per fleet, the hosts (instances or Anywhere computes)
// in its home location, or its first location for Anywhere fleets.
func (s *Service) DescribeFleetCapacity(ctx context.Context, in *gamelift.DescribeFleetCapacityInput) (*gamelift.DescribeFleetCapacityOutput, error) {
	fleets, token, err := s.fleetsFor(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetCapacityOutput{FleetCapacity: []gamelift.FleetCapacity{}, NextToken: token}
	for _, f := range fleets {
		if len(f.Locations) == 0 {
			continue
		}
		counts, err := s.computeCounts(ctx, gamelift.Value(f.Attributes.FleetId))
		if err != nil {
			return nil, err
		}
		home := f.Locations[0]
		out.FleetCapacity = append(out.FleetCapacity, s.capacity(f, home, counts[home.Name]))
	}
	return out, nil
}

// DescribeFleetLocationCapacity reports the hosts of one fleet location.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *gamelift.DescribeFleetLocationCapacityInput) (*gamelift.DescribeFleetLocationCapacityOutput, error) {
	f, l, err := s.fleetLocation(ctx, in.FleetId, gamelift.Value(in.Location))
	if err != nil {
		return nil, err
	}
	counts, err := s.computeCounts(ctx, gamelift.Value(f.Attributes.FleetId))
	if err != nil {
		return nil, err
	}
	c := s.capacity(f, l, counts[l.Name])
	return &gamelift.DescribeFleetLocationCapacityOutput{FleetCapacity: &c}, nil
}

func (s *Service) fleetLocation(ctx context.Context, fleetID *string, location string) (store.Fleet, store.FleetLocation, error) {
	f, err := s.getFleet(ctx, fleetID)
	if err != nil {
		return f, store.FleetLocation{}, err
	}
	l := locationOf(&f, location)
	if l == nil {
		return f, store.FleetLocation{}, gamelift.NotFound("Location %s not found in fleet %s", location, gamelift.Value(f.Attributes.FleetId))
	}
	return f, *l, nil
}

func (s *Service) utilization(ctx context.Context, f store.Fleet, location string) gamelift.FleetUtilization {
	u := s.processUsage(gamelift.Value(f.Attributes.FleetId), location)
	return gamelift.FleetUtilization{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, Location: gamelift.String(location),
		ActiveServerProcessCount:  gamelift.Int32(u.ActiveServerProcesses),
		ActiveGameSessionCount:    gamelift.Int32(u.ActiveGameSessions),
		CurrentPlayerSessionCount: gamelift.Int32(u.CurrentPlayerSessions),
		MaximumPlayerSessionCount: gamelift.Int32(u.MaximumPlayerSessions),
	}
}

// DescribeFleetUtilization reports live processes, sessions and players per fleet, summed
// over all its locations.
func (s *Service) DescribeFleetUtilization(ctx context.Context, in *gamelift.DescribeFleetUtilizationInput) (*gamelift.DescribeFleetUtilizationOutput, error) {
	fleets, token, err := s.fleetsFor(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetUtilizationOutput{FleetUtilization: []gamelift.FleetUtilization{}, NextToken: token}
	for _, f := range fleets {
		var sum Usage
		for _, l := range f.Locations {
			u := s.processUsage(gamelift.Value(f.Attributes.FleetId), l.Name)
			sum.ActiveServerProcesses += u.ActiveServerProcesses
			sum.ActiveGameSessions += u.ActiveGameSessions
			sum.CurrentPlayerSessions += u.CurrentPlayerSessions
			sum.MaximumPlayerSessions += u.MaximumPlayerSessions
		}
		out.FleetUtilization = append(out.FleetUtilization, gamelift.FleetUtilization{
			FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn,
			ActiveServerProcessCount:  gamelift.Int32(sum.ActiveServerProcesses),
			ActiveGameSessionCount:    gamelift.Int32(sum.ActiveGameSessions),
			CurrentPlayerSessionCount: gamelift.Int32(sum.CurrentPlayerSessions),
			MaximumPlayerSessionCount: gamelift.Int32(sum.MaximumPlayerSessions),
		})
	}
	return out, nil
}

// DescribeFleetLocationUtilization reports live usage of one fleet location.
func (s *Service) DescribeFleetLocationUtilization(ctx context.Context, in *gamelift.DescribeFleetLocationUtilizationInput) (*gamelift.DescribeFleetLocationUtilizationOutput, error) {
	f, l, err := s.fleetLocation(ctx, in.FleetId, gamelift.Value(in.Location))
	if err != nil {
		return nil, err
	}
	u := s.utilization(ctx, f, l.Name)
	return &gamelift.DescribeFleetLocationUtilizationOutput{FleetUtilization: &u}, nil
}
