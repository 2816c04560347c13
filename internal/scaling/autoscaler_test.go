package scaling

import (
	"testing"

	"github.com/hoist-dev/hoist/internal/control"
)

// A rule-based policy's adjustment: an exact count, a change, or a percentage that moves at
// least one instance; never below zero.
func TestAdjust(t *testing.T) {
	for _, c := range []struct {
		desired, by int32
		kind        string
		want        int32
	}{
		{4, 2, adjustExact, 2},
		{4, 3, adjustChange, 7},
		{1, -3, adjustChange, 0},
		{10, 50, adjustPercent, 15},
		{2, 10, adjustPercent, 3},  // 0.2 of an instance rounds to none: one at least
		{2, -10, adjustPercent, 1}, // and one at least the other way
		{1, -100, adjustPercent, 0},
	} {
		if got := adjust(c.desired, c.kind, c.by); got != c.want {
			t.Errorf("adjust(%d, %s, %d) = %d, want %d", c.desired, c.kind, c.by, got, c.want)
		}
	}
}

// Target tracking asks for the instances that keep the target share of sessions available,
// at the processes per host measured, and does not act without a host or a process.
func TestTargetCapacity(t *testing.T) {
	for _, c := range []struct {
		m      control.FleetMetrics
		target float64
		want   int32
		acts   bool
	}{
		{control.FleetMetrics{Hosts: 1, Processes: 2, Sessions: 2}, 50, 2, true},   // 2 busy: 4 slots, 2 hosts
		{control.FleetMetrics{Hosts: 2, Processes: 4, Sessions: 1}, 50, 1, true},   // 1 busy: 2 slots, 1 host
		{control.FleetMetrics{Hosts: 1, Processes: 1, Activating: 3}, 25, 4, true}, // 3 / 0.75 = 4 slots
		{control.FleetMetrics{Hosts: 2, Processes: 10, Sessions: 10}, 0, 2, true},  // nothing spare wanted
		{control.FleetMetrics{Hosts: 0, Processes: 0, Sessions: 3}, 50, 0, false},  // nothing to measure
		{control.FleetMetrics{Hosts: 3, Processes: 0}, 50, 0, false},
	} {
		got, acts := targetCapacity(c.m, c.target)
		if got != c.want || acts != c.acts {
			t.Errorf("targetCapacity(%+v, %g) = %d, %v; want %d, %v", c.m, c.target, got, acts, c.want, c.acts)
		}
	}
}

// The comparison operators and the metrics a rule-based policy may name.
func TestBreachedAndMetrics(t *testing.T) {
	m := control.FleetMetrics{Hosts: 4, BusyHosts: 1, Processes: 8, Available: 5, Activating: 1, Sessions: 2, Players: 6, Slots: 16}
	for name, want := range map[string]float64{
		"ActiveGameSessions": 2, "ActivatingGameSessions": 1, "AvailableGameSessions": 5, "ActiveInstances": 1,
		"IdleInstances": 3, "CurrentPlayerSessions": 6, "AvailablePlayerSessions": 10,
		"PercentAvailableGameSessions": 62.5, "PercentIdleInstances": 75, "QueueDepth": 0,
	} {
		if got := metricValue(m, name); got != want {
			t.Errorf("%s = %g, want %g", name, got, want)
		}
	}
	if metricValue(control.FleetMetrics{}, "PercentIdleInstances") != 0 {
		t.Error("a percentage of nothing is not 0")
	}
	for _, c := range []struct {
		v, threshold float64
		op           string
		want         bool
	}{
		{5, 5, "GreaterThanOrEqualToThreshold", true}, {5, 5, "GreaterThanThreshold", false},
		{4, 5, "LessThanThreshold", true}, {5, 5, "LessThanOrEqualToThreshold", true},
		{6, 5, "LessThanOrEqualToThreshold", false}, {6, 5, "NoSuchOperator", false},
	} {
		if got := breached(c.v, c.op, c.threshold); got != c.want {
			t.Errorf("breached(%g, %s, %g) = %v, want %v", c.v, c.op, c.threshold, got, c.want)
		}
	}
}
