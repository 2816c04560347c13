package control

import (
	"context"
	"slices"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// StopFleetActions records fleet actions (AUTO_SCALING) as stopped in one location of a
// managed fleet, its home Region when Location is not given: the fleet's scaling policies
// are not evaluated there until StartFleetActions. The setting is reported by
// DescribeFleetAttributes (home Region) and DescribeFleetLocationAttributes; it takes
// effect at once, never PENDING_UPDATE.
func (s *Service) StopFleetActions(ctx context.Context, in *gamelift.StopFleetActionsInput) (*gamelift.StopFleetActionsOutput, error) {
	f, err := s.setFleetActions(ctx, in.FleetId, in.Location, func(stopped []string) []string {
		for _, a := range in.Actions {
			if !slices.Contains(stopped, a) {
				stopped = append(stopped, a)
			}
		}
		return stopped
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.StopFleetActionsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn}, nil
}

// StartFleetActions resumes fleet actions StopFleetActions stopped; resuming one never
// stopped changes nothing.
func (s *Service) StartFleetActions(ctx context.Context, in *gamelift.StartFleetActionsInput) (*gamelift.StartFleetActionsOutput, error) {
	f, err := s.setFleetActions(ctx, in.FleetId, in.Location, func(stopped []string) []string {
		return slices.DeleteFunc(stopped, func(a string) bool { return slices.Contains(in.Actions, a) })
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.StartFleetActionsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn}, nil
}

func (s *Service) setFleetActions(ctx context.Context, fleetID, location *string, change func([]string) []string) (store.Fleet, error) {
	return s.updateFleet(ctx, fleetID, func(f *store.Fleet) error {
		id := gamelift.Value(f.Attributes.FleetId)
		if !managed(*f) {
			return gamelift.InvalidRequest("Fleet %s is an Anywhere fleet: fleet actions apply to managed fleets", id)
		}
		l := &f.Locations[0]
		if location != nil {
			if l = locationOf(f, *location); l == nil {
				return gamelift.InvalidRequest("Location %s is not a location of fleet %s", *location, id)
			}
		}
		l.StoppedActions = change(slices.Clone(l.StoppedActions))
		if len(l.StoppedActions) == 0 {
			l.StoppedActions = nil
		}
		f.Attributes.StoppedActions = f.Locations[0].StoppedActions
		return nil
	})
}
