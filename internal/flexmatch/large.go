package flexmatch

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// matchLarge builds matches of more than 40 players with the balanced strategy: around the
// oldest waiting ticket it gathers the tickets closest in the balanced attribute (within
// the batchDistance rules, and allowed in one region by the latency rules), up to the
// teams' capacity, then deals them to teams so that the teams' averages of the balanced
// attribute come out close.
func matchLarge(rs *RuleSet, pool *ticketPool) []ProposedMatch {
	n := len(pool.tickets)
	byValue := make([]int, n)
	for i := range byValue {
		byValue[i] = i
	}
	sort.SliceStable(byValue, func(a, b int) bool {
		return pool.tickets[byValue[a]].balanced < pool.tickets[byValue[b]].balanced
	})
	pos := make([]int, n)
	for p, i := range byValue {
		pos[i] = p
	}
	remaining := 0
	for _, t := range pool.tickets {
		remaining += len(t.players)
	}
	leastNeeded := math.MaxInt
	for _, pr := range rs.params.at {
		leastNeeded = min(leastNeeded, rs.minPlayers(pr))
	}

	var out []ProposedMatch
	for ai, anchor := range pool.tickets {
		if remaining < leastNeeded {
			break
		}
		if anchor.used {
			continue
		}
		pr := rs.params.forAge(anchor.age)
		region := ""
		if len(rs.latency) > 0 {
			var ok bool
			if region, ok = rs.pickRegion(pool, anchor, pr); !ok {
				continue
			}
		}
		capacity := rs.capacity(pr)
		chosen := []*pticket{anchor}
		players := len(anchor.players)
		take := func(pass int) {
			lo, hi := pos[ai]-1, pos[ai]+1
			av := anchor.balanced
			for players < capacity && (lo >= 0 || hi < n) {
				var i int
				switch {
				case lo < 0:
					i, hi = byValue[hi], hi+1
				case hi >= n:
					i, lo = byValue[lo], lo-1
				case av-pool.tickets[byValue[lo]].balanced <= pool.tickets[byValue[hi]].balanced-av:
					i, lo = byValue[lo], lo-1
				default:
					i, hi = byValue[hi], hi+1
				}
				t := pool.tickets[i]
				if t.used || t == anchor || players+len(t.players) > capacity || slices.Contains(chosen, t) {
					continue
				}
				if region != "" {
					if _, ok := rs.regionAllows(region, []*pticket{t}, pr); !ok {
						continue
					}
					if pass == 0 && rs.Algorithm.BatchingPreference == "fastestRegion" && fastest(rs, t, pr) != region {
						continue
					}
				}
				if len(rs.batches) > 0 && !rs.batchesHold(append(chosen, t), pr) {
					continue
				}
				chosen = append(chosen, t)
				players += len(t.players)
			}
		}
		take(0)
		if rs.Algorithm.BatchingPreference == "fastestRegion" {
			take(1)
		}
		if rs.Algorithm.ExpansionAgeSelection == "newest" {
			youngest := anchor.age
			for _, t := range chosen {
				youngest = math.Min(youngest, t.age)
			}
			pr = rs.params.forAge(youngest)
		}
		if players < rs.minPlayers(pr) {
			continue
		}
		m, ok := rs.balance(chosen, players, pr)
		if !ok {
			continue
		}
		for _, t := range chosen {
			t.used = true
			remaining -= len(t.players)
		}
		out = append(out, m.snapshot(len(m.placed), region))
	}
	return out
}

func (rs *RuleSet) capacity(pr *params) int {
	n := 0
	for _, s := range rs.slots {
		n += pr.teamMax[s.def]
	}
	return n
}

func (rs *RuleSet) minPlayers(pr *params) int {
	n := 0
	for _, s := range rs.slots {
		n += pr.teamMin[s.def]
	}
	return max(n, 1)
}

// pickRegion chooses the anchor's region: its fastest allowed one with fastestRegion, or
// with largestPopulation the allowed one where the most waiting tickets are allowed too.
func (rs *RuleSet) pickRegion(pool *ticketPool, anchor *pticket, pr *params) (string, bool) {
	if rs.Algorithm.BatchingPreference == "fastestRegion" {
		r := fastest(rs, anchor, pr)
		return r, r != ""
	}
	var regions []string
	for r := range anchor.players[0].p.LatencyMs {
		if _, ok := rs.regionAllows(r, []*pticket{anchor}, pr); ok {
			regions = append(regions, r)
		}
	}
	if len(regions) == 0 {
		return "", false
	}
	sort.Strings(regions)
	if len(regions) == 1 {
		return regions[0], true
	}
	best, bestN := "", -1
	for _, r := range regions {
		n := 0
		for _, t := range pool.tickets {
			if !t.used {
				if _, ok := rs.regionAllows(r, []*pticket{t}, pr); ok {
					n += len(t.players)
				}
			}
		}
		if n > bestN {
			best, bestN = r, n
		}
	}
	return best, true
}

// fastest is the allowed region where the ticket's latency is lowest ("" if none).
func fastest(rs *RuleSet, t *pticket, pr *params) string {
	best, bestL := "", math.Inf(1)
	for r := range t.players[0].p.LatencyMs {
		l, ok := rs.regionAllows(r, []*pticket{t}, pr)
		if ok && (l < bestL || l == bestL && r < best) {
			best, bestL = r, l
		}
	}
	return best
}

// balance deals tickets to teams. Team sizes follow FlexMatch's documented filling order
// (teams short of their minimum first, then the most open places); tickets go, strongest
// first, to the team with room whose balanced-attribute total is lowest for its size.
func (rs *RuleSet) balance(ts []*pticket, players int, pr *params) (*matchView, bool) {
	m := newView(rs)
	target := make([]int, len(m.teams))
	for k := 0; k < players; k++ {
		best := -1
		for i, t := range m.teams {
			if target[i] >= pr.teamMax[t.def] {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			bt := m.teams[best]
			short, bshort := target[i] < pr.teamMin[t.def], target[best] < pr.teamMin[bt.def]
			if short != bshort {
				if short {
					best = i
				}
				continue
			}
			if pr.teamMax[t.def]-target[i] > pr.teamMax[bt.def]-target[best] {
				best = i
			}
		}
		if best < 0 {
			return nil, false
		}
		target[best]++
	}
	order := slices.Clone(ts)
	slices.SortStableFunc(order, func(a, b *pticket) int {
		if c := cmp.Compare(b.balanced, a.balanced); c != 0 {
			return c
		}
		return cmp.Compare(b.age, a.age)
	})
	sums := make([]float64, len(m.teams))
	for _, t := range order {
		slots := make([]int, len(t.players))
		for i, p := range t.players {
			slots[i] = -1
			if p.p.Team != "" {
				slots[i] = rs.pickSlot(m, target, sums, p.p.Team, 1, pr)
				if slots[i] < 0 {
					return nil, false
				}
				m.teams[slots[i]].players = append(m.teams[slots[i]].players, p)
				sums[slots[i]] += p.attrs[rs.attrIndex[rs.Algorithm.BalancedAttribute]].N
			}
		}
		free := 0
		for _, s := range slots {
			if s < 0 {
				free++
			}
		}
		if free > 0 {
			s := rs.pickSlot(m, target, sums, "", free, pr)
			if s < 0 {
				return nil, false
			}
			for i, p := range t.players {
				if slots[i] < 0 {
					slots[i] = s
					m.teams[s].players = append(m.teams[s].players, p)
					sums[s] += p.attrs[rs.attrIndex[rs.Algorithm.BalancedAttribute]].N
				}
			}
		}
		m.placed = append(m.placed, placement{ticket: t, slots: slots})
	}
	for _, t := range m.teams {
		if len(t.players) < pr.teamMin[t.def] {
			return nil, false
		}
	}
	return m, true
}

// pickSlot chooses the team for size players: within the target sizes if one has room
// (else within maxPlayers), the lowest total per target place.
func (rs *RuleSet) pickSlot(m *matchView, target []int, sums []float64, requested string, size int, pr *params) int {
	var allowed []string
	if requested != "" {
		allowed = rs.teamNames[requested]
	}
	for _, limit := range []func(i int) int{
		func(i int) int { return target[i] },
		func(i int) int { return pr.teamMax[m.teams[i].def] },
	} {
		best, bestScore := -1, math.Inf(1)
		for i, t := range m.teams {
			if allowed != nil && !slices.Contains(allowed, t.name) {
				continue
			}
			if len(t.players)+size > limit(i) {
				continue
			}
			score := sums[i] / float64(max(target[i], 1))
			if score < bestScore {
				best, bestScore = i, score
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}
