package flexmatch

import (
	"cmp"
	"math"
	"slices"
)

// matchSmall builds matches of up to 40 players around anchors: the oldest waiting ticket
// is the anchor, the other tickets are tried in the order the sort rules give (then
// oldest first), each joining the first team that keeps the rules passing. The largest
// match reached with every team at its minimum and every rule passing is proposed.
func matchSmall(rs *RuleSet, pool *ticketPool) []ProposedMatch {
	var out []ProposedMatch
	m := newView(rs)
	for ai, anchor := range pool.tickets {
		if anchor.used {
			continue
		}
		m.rewind(0)
		pr := rs.params.forAge(anchor.age)
		if !m.place(anchor, pr) {
			continue
		}
		newest := anchor.age
		best, bestRegion := 0, ""
		check := func() {
			pr := rs.params.forAge(selectAge(rs, anchor.age, newest))
			if m.complete(pr) {
				best = len(m.placed)
				bestRegion, _ = rs.region(m.tickets(), pr)
			}
		}
		check()
		for _, c := range candidates(rs, pool, ai, pr) {
			pr := rs.params.forAge(selectAge(rs, anchor.age, math.Min(newest, c.age)))
			if m.full(pr) {
				break
			}
			if m.place(c, pr) {
				newest = math.Min(newest, c.age)
				check()
			}
		}
		if best == 0 {
			continue
		}
		m.rewind(best)
		for _, t := range m.tickets() {
			t.used = true
		}
		out = append(out, m.snapshot(best, bestRegion))
	}
	return out
}

// selectAge is the waiting time expansions go by: the oldest ticket's (the anchor's) or,
// with expansionAgeSelection "newest", the newest ticket's in the match.
func selectAge(rs *RuleSet, oldest, newest float64) float64 {
	if rs.Algorithm.ExpansionAgeSelection == "newest" {
		return newest
	}
	return oldest
}

// candidates lists the tickets to try with an anchor: unused, batch-compatible with it,
// at most candidateLimit of them (oldest first), ordered by the sort rules, then by
// sortByAttributes or the balanced attribute, then by age.
func candidates(rs *RuleSet, pool *ticketPool, ai int, pr *params) []*pticket {
	anchor := pool.tickets[ai]
	var cs []*pticket
	for pool.firstFree < len(pool.tickets) && pool.tickets[pool.firstFree].used {
		pool.firstFree++
	}
	for i := pool.firstFree; i < len(pool.tickets); i++ {
		t := pool.tickets[i]
		if i == ai || t.used || (len(rs.batches) > 0 && !rs.batchCompatible(anchor, t, pr)) {
			continue
		}
		cs = append(cs, t)
		if len(cs) == candidateLimit {
			break
		}
	}
	keys := sortKeys(rs, anchor)
	if keys == nil {
		return cs
	}
	type keyed struct {
		t   *pticket
		key []float64
		pos int
	}
	ks := make([]keyed, len(cs))
	for i, t := range cs {
		ks[i] = keyed{t, keys(t), i}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		for i := range a.key {
			if c := cmp.Compare(a.key[i], b.key[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for i := range ks {
		cs[i] = ks[i].t
	}
	return cs
}

// sortKeys returns a function giving a candidate's sort key relative to the anchor (lower
// first), or nil when the rule set orders candidates by age alone.
func sortKeys(rs *RuleSet, anchor *pticket) func(*pticket) []float64 {
	type keyFn func(*pticket) float64
	var fns []keyFn
	for _, i := range rs.sorts {
		r := &rs.Rules[i]
		ai := rs.attrIndex[r.attr]
		sign := 1.0
		if r.descending {
			sign = -1
		}
		switch r.attrType {
		case AttributeNumber:
			av := anchor.numberOf(ai, r.aggregation)
			fns = append(fns, func(t *pticket) float64 {
				v := t.numberOf(ai, r.aggregation)
				if r.Type == RuleDistanceSort {
					v = math.Abs(v - av)
				}
				return sign * v
			})
		case AttributeString:
			as := anchor.players[0].attrs[ai].S
			fns = append(fns, func(t *pticket) float64 {
				if t.players[0].attrs[ai].S == as {
					return sign * 0
				}
				return sign * 1
			})
		case AttributeStringNumberMap:
			key, av, ok := mapKey(anchor.players[0].attrs[ai].SDM, r.mapKey)
			fns = append(fns, func(t *pticket) float64 {
				v, has := mapValue(t, ai, key, r.aggregation)
				if !ok || !has {
					return math.Inf(1)
				}
				if r.Type == RuleDistanceSort {
					v = math.Abs(v - av)
				}
				return sign * v
			})
		}
	}
	if rs.Algorithm.BatchingPreference == "sorted" {
		for _, name := range rs.Algorithm.SortByAttributes {
			ai := rs.attrIndex[name]
			if rs.attrs[name] == AttributeNumber {
				av := anchor.numberOf(ai, "avg")
				fns = append(fns, func(t *pticket) float64 { return math.Abs(t.numberOf(ai, "avg") - av) })
			} else {
				as := anchor.players[0].attrs[ai].S
				fns = append(fns, func(t *pticket) float64 {
					if t.players[0].attrs[ai].S == as {
						return 0
					}
					return 1
				})
			}
		}
	}
	if rs.Algorithm.Strategy == "balanced" {
		av := anchor.balanced
		fns = append(fns, func(t *pticket) float64 { return math.Abs(t.balanced - av) })
	}
	if fns == nil {
		return nil
	}
	return func(t *pticket) []float64 {
		k := make([]float64, len(fns))
		for i, f := range fns {
			k[i] = f(t)
		}
		return k
	}
}

// mapKey picks the anchor's key with the lowest (minValue) or highest (maxValue) value,
// the first by name on ties.
func mapKey(m map[string]float64, which string) (string, float64, bool) {
	best, bv, found := "", 0.0, false
	for k, v := range m {
		better := !found || (which == "maxValue" && v > bv) || (which == "minValue" && v < bv) || (v == bv && k < best)
		if better {
			best, bv, found = k, v, true
		}
	}
	return best, bv, found
}

// mapValue aggregates a map attribute's value for one key over a ticket's players.
func mapValue(t *pticket, ai int, key, agg string) (float64, bool) {
	var vals []float64
	for _, p := range t.players {
		if v, ok := p.attrs[ai].SDM[key]; ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	switch agg {
	case "min":
		return slices.Min(vals), true
	case "max":
		return slices.Max(vals), true
	}
	return sum(vals) / float64(len(vals)), true
}
