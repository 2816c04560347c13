package placement

import (
	"slices"
	"testing"
	"time"
)

func locations(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Fleet + "/" + c.Location
	}
	return out
}

func TestRank(t *testing.T) {
	cands := []Candidate{
		{"f1", "us-west-2", 0}, {"f1", "eu-west-1", 0}, {"f1", "custom-b", 0},
		{"f2", "ap-south-1", 1}, {"f2", "eu-west-1", 1},
	}
	lat := map[string]map[string]float64{
		"p1": {"us-west-2": 80, "eu-west-1": 30, "ap-south-1": 200},
		"p2": {"us-west-2": 60, "eu-west-1": 50, "ap-south-1": 10},
	}
	cases := []struct {
		name string
		p    Priorities
		want []string
	}{
		{"default without latency: destination, then location alphabetically", Priorities{},
			[]string{"f1/custom-b", "f1/eu-west-1", "f1/us-west-2", "f2/ap-south-1", "f2/eu-west-1"}},
		{"default with latency: lowest average first, locations lacking data last", Priorities{Latencies: lat},
			[]string{"f1/eu-west-1", "f2/eu-west-1", "f1/us-west-2", "f2/ap-south-1", "f1/custom-b"}},
		{"a cap drops locations over it and those without data", Priorities{Latencies: lat, MaxLatency: 75},
			[]string{"f1/eu-west-1", "f2/eu-west-1"}},
		{"a cap no location meets", Priorities{Latencies: lat, MaxLatency: 20}, []string{}},
		{"LOCATION first with an order", Priorities{Order: []string{ByLocation}, LocationOrder: []string{"eu-west-1", "ap-south-1"}},
			[]string{"f1/eu-west-1", "f2/eu-west-1", "f2/ap-south-1", "f1/custom-b", "f1/us-west-2"}},
		{"DESTINATION then LOCATION order", Priorities{Order: []string{ByDestination, ByLocation}, LocationOrder: []string{"us-west-2"}},
			[]string{"f1/us-west-2", "f1/custom-b", "f1/eu-west-1", "f2/ap-south-1", "f2/eu-west-1"}},
		{"only listed locations (fallback NONE)", Priorities{Order: []string{ByLocation}, LocationOrder: []string{"ap-south-1", "custom-b"}, OnlyListed: true},
			[]string{"f2/ap-south-1", "f1/custom-b"}},
		{"destination before latency", Priorities{Order: []string{ByDestination, ByLatency}, Latencies: lat},
			[]string{"f1/eu-west-1", "f1/us-west-2", "f1/custom-b", "f2/eu-west-1", "f2/ap-south-1"}},
	}
	for _, c := range cases {
		if got := locations(Rank(cands, c.p)); !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
	}
}

func TestLatencyCap(t *testing.T) {
	policies := []LatencyPolicy{{MaxLatency: 200}, {MaxLatency: 50, Duration: 120 * time.Second}, {MaxLatency: 100, Duration: 120 * time.Second}}
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{0, 50}, {119 * time.Second, 50}, {120 * time.Second, 100}, {239 * time.Second, 100}, {240 * time.Second, 200}, {time.Hour, 200}} {
		if got := LatencyCap(policies, c.at); got != c.want {
			t.Errorf("at %s: cap %v, want %v", c.at, got, c.want)
		}
	}
	// When every policy has a duration, the cap lifts after the last.
	timed := []LatencyPolicy{{MaxLatency: 50, Duration: time.Minute}}
	if LatencyCap(timed, 30*time.Second) != 50 || LatencyCap(timed, time.Minute) != 0 || LatencyCap(nil, 0) != 0 {
		t.Error("timed policies")
	}
}
