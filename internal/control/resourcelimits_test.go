package control

import (
	"maps"
	"testing"
)

func TestParseResourceLimits(t *testing.T) {
	for spec, want := range map[string]map[string]int{
		"":                      {},
		"500":                   {"*": 500},
		"fleets=2000, builds=5": {KindFleets: 2000, KindBuilds: 5},
		"*=10,queues=3":         {"*": 10, KindQueues: 3},
	} {
		got, err := ParseResourceLimits(spec)
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("ParseResourceLimits(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"0", "fleets=-1", "fleets=many", "widgets=3", "=4"} {
		if _, err := ParseResourceLimits(bad); err == nil {
			t.Errorf("ParseResourceLimits(%q) accepted", bad)
		}
	}
	l := newResourceLimits(map[string]int{"*": 10, KindQueues: 3})
	if l.max[KindFleets] != 10 || l.max[KindQueues] != 3 {
		t.Errorf("limits %v: want 10 for fleets, 3 for queues", l.max)
	}
	if l := newResourceLimits(nil); l.max[KindBuilds] != DefaultMaxResources {
		t.Errorf("default limit %d", l.max[KindBuilds])
	}
}
