package placement

import (
	"cmp"
	"slices"
	"time"
)

// The priority types of a queue (PriorityConfiguration.PriorityOrder).
const (
	ByLatency     = "LATENCY"
	ByCost        = "COST"
	ByDestination = "DESTINATION"
	ByLocation    = "LOCATION"
)

// Candidate is one fleet location a queue may place a game session in.
type Candidate struct {
	Fleet    string
	Location string
	// Destination is the position of the candidate's fleet (or alias) in the queue.
	Destination int
}

// Priorities say how a queue orders its candidates for one placement, at one moment.
type Priorities struct {
	// Order lists the priority types to sort by, first to last; types it does not name
	// follow in GameLift's default order.
	Order []string
	// LocationOrder is the LOCATION priority: listed locations first, in this order;
	// the others after, alphabetically.
	LocationOrder []string
	// OnlyListed keeps only LocationOrder's locations (a placement's override with the
	// NONE fallback strategy).
	OnlyListed bool
	// Latencies holds, per player, per location, the player's latency in ms; nil when the
	// request has no latency data.
	Latencies map[string]map[string]float64
	// MaxLatency is the cap of the latency policy in force: a location where any player
	// would have more, or where a player's latency is unknown, is not a candidate. 0 for
	// no cap.
	MaxLatency float64
}

// completeOrder appends the priority types order does not name, in GameLift's default
// order: latency, cost, destination, location. (Without latency data the first two
// separate nothing, which leaves GameLift's default for such requests: destination order,
// then location.)
func completeOrder(order []string) []string {
	out := slices.Clone(order)
	for _, t := range []string{ByLatency, ByCost, ByDestination, ByLocation} {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Rank returns the candidates a placement may use now, best first. Hoist's destinations
// all cost the same, so COST never separates two candidates.
func Rank(cands []Candidate, p Priorities) []Candidate {
	type ranked struct {
		Candidate
		avg      float64
		complete bool
	}
	var rs []ranked
	for _, c := range cands {
		if p.OnlyListed && !slices.Contains(p.LocationOrder, c.Location) {
			continue
		}
		r := ranked{Candidate: c, complete: len(p.Latencies) > 0}
		sum, over := 0.0, false
		for _, byLocation := range p.Latencies {
			ms, ok := byLocation[c.Location]
			if !ok {
				r.complete = false
				continue
			}
			sum += ms
			over = over || (p.MaxLatency > 0 && ms > p.MaxLatency)
		}
		if p.MaxLatency > 0 && (over || !r.complete) {
			continue
		}
		if r.complete {
			r.avg = sum / float64(len(p.Latencies))
		}
		rs = append(rs, r)
	}
	order := completeOrder(p.Order)
	locationRank := func(l string) int {
		if i := slices.Index(p.LocationOrder, l); i >= 0 {
			return i
		}
		return len(p.LocationOrder)
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		for _, t := range order {
			var c int
			switch t {
			case ByLatency:
				// Locations with every player's latency come first, lowest average first.
				if a.complete != b.complete {
					if a.complete {
						return -1
					}
					return 1
				}
				c = cmp.Compare(a.avg, b.avg)
			case ByDestination:
				c = cmp.Compare(a.Destination, b.Destination)
			case ByLocation:
				c = cmp.Or(cmp.Compare(locationRank(a.Location), locationRank(b.Location)), cmp.Compare(a.Location, b.Location))
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]Candidate, len(rs))
	for i, r := range rs {
		out[i] = r.Candidate
	}
	return out
}

// LatencyPolicy caps every player's latency for a while (PlayerLatencyPolicy).
type LatencyPolicy struct {
	MaxLatency float64
	// Duration is how long the policy holds; 0 means until the placement times out.
	Duration time.Duration
}

// LatencyCap returns the cap in force a time elapsed into a placement: the policies apply
// in order of their caps, lowest (strictest) first, each for its duration; once all have
// run out there is no cap (0).
func LatencyCap(policies []LatencyPolicy, elapsed time.Duration) float64 {
	sorted := slices.SortedStableFunc(slices.Values(policies), func(a, b LatencyPolicy) int { return cmp.Compare(a.MaxLatency, b.MaxLatency) })
	var until time.Duration
	for _, p := range sorted {
		if p.Duration <= 0 {
			return p.MaxLatency
		}
		until += p.Duration
		if elapsed < until {
			return p.MaxLatency
		}
	}
	return 0
}
