package control

import (
	"context"
	"fmt"
	"math"

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

// computeCounts counts a fleet's active hosts per location: its registered computes, or
// for a container fleet the instances its running pods make up.
func (s *Service) computeCounts(ctx context.Context, fleetID string) (map[string]int32, error) {
	hosts, err := s.hostCounts(ctx, fleetID)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int32, len(hosts))
	for loc, h := range hosts {
		counts[loc] = h.active
	}
	return counts, nil
}

// hosts counts a fleet location's active hosts, and the idle ones among them: those
// hosting no game session (GameLift's IDLE instances).
type hosts struct{ active, idle int32 }

// hostCounts counts a fleet's active and idle hosts per location. A host is its
// registered compute, or for a container fleet the instance its pods run on, which is
// busy when any of them hosts a session.
func (s *Service) hostCounts(ctx context.Context, fleetID string) (map[string]hosts, error) {
	page, err := s.store.Computes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	busy := s.busyComputes(fleetID)
	type host struct{ location, name string }
	seen := map[host]bool{} // host -> busy
	for _, c := range page.Items {
		if gamelift.Value(c.Model.ComputeStatus) != computeActive {
			continue
		}
		h := host{gamelift.Value(c.Model.Location), gamelift.Value(c.Model.ComputeName)}
		if gamelift.Value(c.Model.Type) == ComputeContainer {
			h.name = "instance/" + gamelift.Value(c.Model.InstanceId)
		}
		seen[h] = seen[h] || busy[gamelift.Value(c.Model.ComputeName)]
	}
	counts := map[string]hosts{}
	for h, isBusy := range seen {
		c := counts[h.location]
		c.active++
		if !isBusy {
			c.idle++
		}
		counts[h.location] = c
	}
	return counts, nil
}

// busyComputes names the computes of a fleet that host a game session: an ACTIVE one
// (the session index holds every replica's) or one ACTIVATING on this replica's processes.
func (s *Service) busyComputes(fleetID string) map[string]bool {
	busy := s.searchIndex.Computes(fleetID)
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.gameSessionID != "" {
			busy[p.computeName] = true
		}
	}
	return busy
}

// addContainerCounts adds a container fleet's game server container groups (its pods)
// to its capacity, as GameLift counts them: PENDING until running, ACTIVE when running
// with an ACTIVE game session, IDLE when running without one, TERMINATING once deleted
// and until they are gone.
func (s *Service) addContainerCounts(ctx context.Context, f store.Fleet, c *gamelift.FleetCapacity) error {
	if !isContainer(f) {
		return nil
	}
	id := gamelift.Value(f.Attributes.FleetId)
	page, err := s.store.Computes().List(ctx, store.Query{Parent: id})
	if err != nil {
		return fmt.Errorf("list computes: %w", err)
	}
	busy := s.searchIndex.Computes(id) // pods with an ACTIVE game session, any replica's
	var pending, active, idle, terminating int32
	for _, p := range page.Items {
		if gamelift.Value(p.Model.Location) != gamelift.Value(c.Location) {
			continue
		}
		switch gamelift.Value(p.Model.ComputeStatus) {
		case computeActive:
			if _, ok := busy[gamelift.Value(p.Model.ComputeName)]; ok {
				active++
			} else {
				idle++
			}
		case computeTerminating:
			terminating++
		default:
			pending++
		}
	}
	c.GameServerContainerGroupCounts = &gamelift.GameServerContainerGroupCounts{
		PENDING: &pending, ACTIVE: &active, IDLE: &idle, TERMINATING: &terminating,
	}
	return nil
}

// Capacity settings of a new managed fleet location, as GameLift sets them: one instance
// desired, at least none, at most one.
const (
	defaultDesiredInstances = 1
	defaultMinSize          = 0
	defaultMaxSize          = 1
)

func newManagedLocation(name string) store.FleetLocation {
	return store.FleetLocation{Name: name, Status: locationStatusNew, Desired: defaultDesiredInstances, Min: defaultMinSize, Max: defaultMaxSize}
}

// capacity reports a fleet location's hosts: ACTIVE counts its registered hosts, IDLE
// those of them hosting no game session. A managed fleet reports its capacity settings as
// set; an Anywhere fleet has none, so its desired and maximum follow the hosts registered.
func (s *Service) capacity(f store.Fleet, l store.FleetLocation, h hosts) gamelift.FleetCapacity {
	active := h.active
	desired, maxSize := l.Desired, l.Max
	if gamelift.Value(f.Attributes.ComputeType) == ComputeAnywhere {
		desired, maxSize = max(desired, active), max(maxSize, desired, active)
	}
	zero := int32(0)
	return gamelift.FleetCapacity{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, InstanceType: f.Attributes.InstanceType,
		Location: gamelift.String(l.Name), ManagedCapacityConfiguration: l.ManagedCapacity,
		InstanceCounts: &gamelift.EC2InstanceCounts{
			DESIRED: &desired, MINIMUM: gamelift.Int32(l.Min), MAXIMUM: &maxSize,
			PENDING: &zero, ACTIVE: &active, IDLE: gamelift.Int32(h.idle), TERMINATING: &zero,
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
		counts, err := s.hostCounts(ctx, gamelift.Value(f.Attributes.FleetId))
		if err != nil {
			return nil, err
		}
		home := f.Locations[0]
		c := s.capacity(f, home, counts[home.Name])
		if err := s.addContainerCounts(ctx, f, &c); err != nil {
			return nil, err
		}
		out.FleetCapacity = append(out.FleetCapacity, c)
	}
	return out, nil
}

// DescribeFleetLocationCapacity reports the hosts of one fleet location.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *gamelift.DescribeFleetLocationCapacityInput) (*gamelift.DescribeFleetLocationCapacityOutput, error) {
	f, l, err := s.fleetLocation(ctx, in.FleetId, gamelift.Value(in.Location))
	if err != nil {
		return nil, err
	}
	counts, err := s.hostCounts(ctx, gamelift.Value(f.Attributes.FleetId))
	if err != nil {
		return nil, err
	}
	c := s.capacity(f, l, counts[l.Name])
	if err := s.addContainerCounts(ctx, f, &c); err != nil {
		return nil, err
	}
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
	u := s.usage(ctx, gamelift.Value(f.Attributes.FleetId), location)
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
			u := s.usage(ctx, gamelift.Value(f.Attributes.FleetId), l.Name)
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

// UpdateFleetCapacity records a managed fleet location's capacity settings (the home
// Region when Location is not given). Hoist does not start or stop hosts: the settings
// are reported by DescribeFleetCapacity and DescribeFleetLocationCapacity, and the hosts
// that run are those whose agents register.
func (s *Service) UpdateFleetCapacity(ctx context.Context, in *gamelift.UpdateFleetCapacityInput) (*gamelift.UpdateFleetCapacityOutput, error) {
	if mc := in.ManagedCapacityConfiguration; mc != nil && gamelift.Value(mc.ZeroCapacityStrategy) == "SCALE_TO_AND_FROM_ZERO" && in.MinSize != nil {
		return nil, gamelift.InvalidRequest("MinSize cannot be set with the SCALE_TO_AND_FROM_ZERO ZeroCapacityStrategy, which manages it")
	}
	if d := gamelift.Value(in.DesiredInstances); int(d) > s.maxComputes {
		return nil, gamelift.LimitExceeded("DesiredInstances %d is above the instance limit of %d (DescribeEC2InstanceLimits)", d, s.maxComputes)
	}
	var name string
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		id := gamelift.Value(f.Attributes.FleetId)
		if !managed(*f) {
			return gamelift.InvalidRequest("Fleet %s is an Anywhere fleet: its capacity is the computes you register (RegisterCompute)", id)
		}
		l := &f.Locations[0]
		if in.Location != nil {
			if l = locationOf(f, *in.Location); l == nil {
				return gamelift.InvalidRequest("Location %s is not a location of fleet %s", *in.Location, id)
			}
		}
		if l == &f.Locations[0] {
			if st := gamelift.Value(f.Attributes.Status); st != FleetActive {
				return gamelift.InvalidFleetStatus("Fleet %s is %s, not ACTIVE", id, st)
			}
		} else if l.Status != locationStatusActive {
			return gamelift.InvalidFleetStatus("Location %s of fleet %s is %s, not ACTIVE", l.Name, id, l.Status)
		}
		desired, minSize, maxSize := l.Desired, l.Min, l.Max
		if in.DesiredInstances != nil {
			desired = *in.DesiredInstances
		}
		if in.MinSize != nil {
			minSize = *in.MinSize
		}
		if in.MaxSize != nil {
			maxSize = *in.MaxSize
		}
		if minSize > maxSize {
			return gamelift.InvalidRequest("MinSize %d is above MaxSize %d", minSize, maxSize)
		}
		if desired < minSize || desired > maxSize {
			return gamelift.InvalidRequest("DesiredInstances %d must be between MinSize %d and MaxSize %d", desired, minSize, maxSize)
		}
		if n := instancesInRange(*f); desired > n {
			return gamelift.InvalidRequest("DesiredInstances %d is more than container fleet %s's connection port range holds: %d instances (widen InstanceConnectionPortRange)", desired, id, n)
		}
		l.Desired, l.Min, l.Max = desired, minSize, maxSize
		if in.ManagedCapacityConfiguration != nil {
			l.ManagedCapacity = in.ManagedCapacityConfiguration
		}
		name = l.Name
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &gamelift.UpdateFleetCapacityOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, Location: gamelift.String(name)}
	if l := locationOf(&f, name); l != nil {
		out.ManagedCapacityConfiguration = l.ManagedCapacity
		if isContainer(f) {
			s.capacityChanged(f)
		} else {
			s.reportMissingHosts(ctx, f, *l)
		}
	}
	return out, nil
}

// reportMissingHosts says in a fleet event when a location's desired instances exceed the
// hosts registered there: host agents run on hosts someone starts, and Hoist starts none, so
// the shortfall is reported rather than faked.
func (s *Service) reportMissingHosts(ctx context.Context, f store.Fleet, l store.FleetLocation) {
	id := gamelift.Value(f.Attributes.FleetId)
	counts, err := s.computeCounts(ctx, id)
	if err != nil {
		s.log.Warn("count hosts", "fleet", id, "error", err)
		return
	}
	if hosts := counts[l.Name]; l.Desired > hosts {
		s.event(ctx, id, "FLEET_SCALING_EVENT", fmt.Sprintf("Desired instances in %s are %d; %d host(s) are registered there: start %d more (hoist agent). Hoist does not start hosts.",
			l.Name, l.Desired, hosts, l.Desired-hosts))
	}
}

// instancesInRange is how many instances a container fleet's connection port range
// holds (each pod has host ports of its own); any number for another fleet.
func instancesInRange(f store.Fleet) int32 {
	if !isContainer(f) || f.Container.PortsPerInstance == 0 {
		return math.MaxInt32
	}
	r := f.Container.Model.InstanceConnectionPortRange
	return (gamelift.Value(r.ToPort) - gamelift.Value(r.FromPort) + 1) / f.Container.PortsPerInstance
}

// capacityChanged tells the FleetListener a fleet's desired instances changed.
func (s *Service) capacityChanged(f store.Fleet) {
	if l := s.fleetListener(); l != nil {
		l.CapacityChanged(f)
	}
}
