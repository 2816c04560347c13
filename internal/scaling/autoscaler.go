package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// scalingPeriod is how often GameLift evaluates scaling policies: once a minute, and a
// rule-based policy's EvaluationPeriods count these minutes.
const scalingPeriod = time.Minute

// metricValue is the metric named as PutScalingPolicy's MetricName. QueueDepth and WaitTime are
// 0: Hoist does not yet track pending placements per top-priority fleet.
func metricValue(m control.FleetMetrics, name string) float64 {
	percent := func(part, whole int32) float64 {
		if whole == 0 {
			return 0
		}
		return 100 * float64(part) / float64(whole)
	}
	switch name {
	case "ActivatingGameSessions":
		return float64(m.Activating)
	case "ActiveGameSessions":
		return float64(m.Sessions)
	case "ActiveInstances":
		return float64(m.BusyHosts)
	case "AvailableGameSessions", "ConcurrentActivatableGameSessions":
		return float64(m.Available)
	case "AvailablePlayerSessions":
		return float64(m.Slots - m.Players)
	case "CurrentPlayerSessions":
		return float64(m.Players)
	case "IdleInstances":
		return float64(m.Hosts - m.BusyHosts)
	case metricPercentAvailable:
		return percent(m.Available, m.Available+m.Activating+m.Sessions)
	case "PercentIdleInstances":
		return percent(m.Hosts-m.BusyHosts, m.Hosts)
	}
	return 0
}

// evaluate runs the scaling policies once a minute of the service's clock.
func (s *Service) evaluate(ctx context.Context) {
	now := s.now()
	if s.last.IsZero() {
		s.last = now
		return
	}
	if now.Sub(s.last) < scalingPeriod {
		return
	}
	s.last = now
	if !s.core.Leads(ctx) {
		s.runs.Add(1)
		return
	}
	fleets, err := s.core.Fleets(ctx)
	if err != nil {
		s.log.Error("auto scaling: list fleets", "error", err)
		s.runs.Add(1)
		return
	}
	seen := map[string]bool{}
	for _, f := range fleets {
		if len(f.ScalingPolicies) == 0 || !control.Managed(f) ||
			gamelift.Value(f.Attributes.Status) != control.FleetActive {
			continue
		}
		s.scaleFleet(ctx, f, seen)
	}
	for k := range s.breaches {
		if !seen[k] {
			delete(s.breaches, k)
		}
	}
	s.runs.Add(1)
}

// scaleFleet evaluates a fleet's policies in each of its locations where auto scaling is
// not stopped, and sets the desired instances they decide on.
func (s *Service) scaleFleet(ctx context.Context, f store.Fleet, seen map[string]bool) {
	id := gamelift.Value(f.Attributes.FleetId)
	counts, err := s.core.HostCounts(ctx, id)
	if err != nil {
		s.log.Error("auto scaling: count hosts", "fleet", id, "error", err)
		return
	}
	for i, l := range f.Locations {
		if slices.Contains(l.StoppedActions, control.FleetActionAutoScaling) || (i > 0 && l.Status != control.LocationActive) {
			continue
		}
		m := s.core.Metrics(ctx, id, l.Name, counts[l.Name])
		desired, why := l.Desired, []string{}
		for _, p := range f.ScalingPolicies {
			key := id + "/" + l.Name + "/" + policyKey(p)
			seen[key] = true
			next, ok := s.applyPolicy(p, m, desired, key)
			if ok && next != desired {
				desired = next
				why = append(why, gamelift.Value(p.Name))
			}
		}
		desired = min(max(desired, l.Min), l.Max)
		if desired != l.Desired {
			s.setDesired(ctx, f, l.Name, desired, counts[l.Name], why)
		}
	}
}

// policyKey names a policy with its settings, so a policy put anew counts its minutes
// from zero.
func policyKey(p gamelift.ScalingPolicy) string {
	return fmt.Sprintf("%s|%s|%s|%g|%d|%d|%s", gamelift.Value(p.Name), gamelift.Value(p.MetricName),
		gamelift.Value(p.ComparisonOperator), gamelift.Value(p.Threshold), gamelift.Value(p.EvaluationPeriods),
		gamelift.Value(p.ScalingAdjustment), gamelift.Value(p.ScalingAdjustmentType))
}

// applyPolicy returns the desired instances one policy asks for, and whether it acts now.
func (s *Service) applyPolicy(p gamelift.ScalingPolicy, m control.FleetMetrics, desired int32, key string) (int32, bool) {
	if gamelift.Value(p.PolicyType) == policyTargetBased {
		return targetCapacity(m, gamelift.Value(p.TargetConfiguration.TargetValue))
	}
	if !breached(metricValue(m, gamelift.Value(p.MetricName)), gamelift.Value(p.ComparisonOperator), gamelift.Value(p.Threshold)) {
		s.breaches[key] = 0
		return desired, false
	}
	s.breaches[key]++
	if s.breaches[key] < gamelift.Value(p.EvaluationPeriods) {
		return desired, false
	}
	s.breaches[key] = 0
	return adjust(desired, gamelift.Value(p.ScalingAdjustmentType), gamelift.Value(p.ScalingAdjustment)), true
}

func breached(v float64, op string, threshold float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "GreaterThanThreshold":
		return v > threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

// adjust applies a rule-based policy's adjustment to the desired instances. A percentage
// change moves by at least one instance, as a change of less than one would never act.
func adjust(desired int32, kind string, by int32) int32 {
	switch kind {
	case adjustExact:
		return by
	case adjustPercent:
		d := int32(math.Round(float64(desired) * float64(by) / 100))
		if d == 0 && by != 0 {
			d = 1
			if by < 0 {
				d = -1
			}
		}
		return max(desired+d, 0)
	default: // ChangeInCapacity
		return max(desired+by, 0)
	}
}

// targetCapacity is the instances that keep target percent of a location's game session
// capacity available, given its sessions now and the processes each host runs. With no
// host or process to measure capacity per instance, it does not act.
func targetCapacity(m control.FleetMetrics, target float64) (int32, bool) {
	if m.Hosts == 0 || m.Processes == 0 {
		return 0, false
	}
	perHost := float64(m.Processes) / float64(m.Hosts)
	needed := float64(m.Sessions+m.Activating) / (1 - target/100)
	return int32(math.Ceil(needed/perHost - 1e-9)), true
}

// setDesired records the desired instances auto scaling decided on, as UpdateFleetCapacity
// would, and says so with a FLEET_SCALING_EVENT; when it is more than the hosts registered
// there, the event says that hosts are to be started, which Hoist's host agents do not do.
func (s *Service) setDesired(ctx context.Context, f store.Fleet, location string, desired, hosts int32, why []string) {
	id := gamelift.Value(f.Attributes.FleetId)
	var from int32
	_, err := s.core.UpdateFleet(ctx, f.Attributes.FleetId, func(f *store.Fleet) error {
		l := control.LocationOf(f, location)
		if l == nil || slices.Contains(l.StoppedActions, control.FleetActionAutoScaling) {
			return errSkip
		}
		from, l.Desired = l.Desired, min(max(desired, l.Min), l.Max)
		desired = l.Desired
		return nil
	})
	if err != nil {
		if err != errSkip {
			s.log.Error("auto scaling: set desired instances", "fleet", id, "location", location, "error", err)
		}
		return
	}
	msg := fmt.Sprintf("Auto scaling changed desired instances in %s from %d to %d (scaling policies: %s).", location, from, desired, strings.Join(why, ", "))
	if control.IsContainer(f) {
		s.core.CapacityChanged(f)
	} else if desired > hosts {
		msg += fmt.Sprintf(" %d host(s) are registered there: start %d more (hoist agent); Hoist does not start hosts.", hosts, desired-hosts)
	}
	s.log.Info("auto scaling", "fleet", id, "location", location, "from", from, "desired", desired, "hosts", hosts)
	s.core.RecordEvent(ctx, id, "FLEET_SCALING_EVENT", msg)
}

var errSkip = fmt.Errorf("auto scaling: location changed")
