package flexmatch

import (
	"math"
	"slices"
	"sort"
)

// index records what the matcher looks up often: which attributes rules read and where
// the latency, batch and sort rules are.
func (rs *RuleSet) index() {
	rs.usedAttrs = map[string]bool{}
	var walk func(e *expr)
	walk = func(e *expr) {
		if e == nil {
			return
		}
		if e.field == fieldAttr {
			rs.usedAttrs[e.attr] = true
		}
		walk(e.arg)
	}
	for i, r := range rs.Rules {
		for _, m := range r.measurements {
			walk(m)
		}
		walk(r.ref.expr)
		if r.attr != "" {
			rs.usedAttrs[r.attr] = true
		}
		switch r.Type {
		case RuleLatency:
			rs.latency = append(rs.latency, i)
		case RuleBatchDistance:
			rs.batches = append(rs.batches, i)
		case RuleAbsoluteSort, RuleDistanceSort:
			rs.sorts = append(rs.sorts, i)
		}
	}
	for _, a := range rs.Algorithm.SortByAttributes {
		rs.usedAttrs[a] = true
	}
	if a := rs.Algorithm.BalancedAttribute; a != "" {
		rs.usedAttrs[a] = true
	}
}

// rulesHold evaluates the rules on a match under construction. With final false the
// deferred rules (those more players could still satisfy, such as team-size equality)
// are skipped, so only rules that prune are checked.
func (rs *RuleSet) rulesHold(m *matchView, pr *params, final bool) bool {
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if r.inCompound || (!final && r.deferred) {
			continue
		}
		switch r.Type {
		case RuleComparison, RuleDistance, RuleCollection, RuleCompound:
			if !rs.ruleHolds(i, m, pr) {
				return false
			}
		}
	}
	if len(rs.batches) > 0 && !rs.batchesHold(m.tickets(), pr) {
		return false
	}
	if len(rs.latency) > 0 {
		if _, ok := rs.region(m.tickets(), pr); !ok {
			return false
		}
	}
	return true
}

func (rs *RuleSet) ruleHolds(i int, m *matchView, pr *params) bool {
	r := &rs.Rules[i]
	nums := &pr.rules[i]
	m.agg = r.aggregation
	defer func() { m.agg = "" }()
	switch r.Type {
	case RuleComparison:
		return comparisonHolds(r, nums, m)
	case RuleDistance:
		return distanceHolds(r, nums, m)
	case RuleCollection:
		return collectionHolds(r, nums, m)
	case RuleCompound:
		return r.statement.eval(func(name string) bool { return rs.ruleHolds(rs.ruleIndex[name], m, pr) })
	}
	return true
}

func measure(r *Rule, m *matchView) []value {
	var out []value
	for _, e := range r.measurements {
		out = e.eval(m).scalars(out)
	}
	return out
}

// referenceScalar gives a rule's single reference value; ok is false when it has none
// yet (an expression over empty teams), which lets the rule pass for now.
func referenceScalar(r *Rule, nums *[numProps]bound, m *matchView) (value, bool) {
	switch r.ref.kind {
	case refNumber:
		return value{num: nums[propReferenceValue].v}, true
	case refString:
		return value{str: r.ref.str}, true
	case refExpr:
		v := r.ref.expr.eval(m)
		return v, !v.missing && v.list == nil
	}
	return value{}, false
}

func comparisonHolds(r *Rule, nums *[numProps]bound, m *matchView) bool {
	vals := measure(r, m)
	isNum := r.measurements[0].typ.kind == kindNumber
	if r.ref.kind == refNone {
		for i := range vals {
			for j := i + 1; j < len(vals); j++ {
				eq := isNum && vals[i].num == vals[j].num || !isNum && vals[i].str == vals[j].str
				if r.operation == "=" && !eq || r.operation == "!=" && eq {
					return false
				}
			}
		}
		return true
	}
	ref, ok := referenceScalar(r, nums, m)
	if !ok {
		return true
	}
	for _, v := range vals {
		var c int
		if isNum {
			c = cmpFloat(v.num, ref.num)
		} else if v.str != ref.str {
			c = 1
		}
		var pass bool
		switch r.operation {
		case "=":
			pass = c == 0
		case "!=":
			pass = c != 0
		case "<":
			pass = c < 0
		case "<=":
			pass = c <= 0
		case ">":
			pass = c > 0
		case ">=":
			pass = c >= 0
		}
		if !pass {
			return false
		}
	}
	return true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func within(d float64, lo, hi bound) bool {
	const eps = 1e-9
	return (!lo.set || d >= lo.v-eps) && (!hi.set || d <= hi.v+eps)
}

func distanceHolds(r *Rule, nums *[numProps]bound, m *matchView) bool {
	vals := measure(r, m)
	lo, hi := nums[propMinDistance], nums[propMaxDistance]
	if r.ref.kind == refNone {
		if len(vals) < 2 {
			return true
		}
		mn, mx := math.Inf(1), math.Inf(-1)
		for _, v := range vals {
			mn, mx = math.Min(mn, v.num), math.Max(mx, v.num)
		}
		return within(mx-mn, lo, hi)
	}
	ref, ok := referenceScalar(r, nums, m)
	if !ok {
		return true
	}
	for _, v := range vals {
		if !within(math.Abs(v.num-ref.num), lo, hi) {
			return false
		}
	}
	return true
}

// stringSets turns collection measurements into the string lists they compare: a list of
// lists as it is, a list of strings as one-string lists (one per player), deeper nesting
// flattened to lists of lists.
func stringSets(r *Rule, m *matchView) [][]string {
	var sets [][]string
	var walk func(v value, depth int)
	walk = func(v value, depth int) {
		switch {
		case depth == 1:
			for _, s := range v.list {
				sets = append(sets, []string{s.str})
			}
		case depth == 2:
			for _, l := range v.list {
				set := make([]string, len(l.list))
				for i, s := range l.list {
					set[i] = s.str
				}
				sets = append(sets, set)
			}
		default:
			for _, sub := range v.list {
				walk(sub, depth-1)
			}
		}
	}
	for _, e := range r.measurements {
		walk(e.eval(m), e.typ.depth)
	}
	return sets
}

func collectionHolds(r *Rule, nums *[numProps]bound, m *matchView) bool {
	sets := stringSets(r, m)
	lo, hi := nums[propMinCount], nums[propMaxCount]
	switch r.operation {
	case "intersection":
		if len(sets) == 0 {
			return true
		}
		common := slices.Clone(sets[0])
		slices.Sort(common)
		common = slices.Compact(common)
		for _, s := range sets[1:] {
			common = slices.DeleteFunc(common, func(x string) bool { return !slices.Contains(s, x) })
		}
		return within(float64(len(common)), lo, hi)
	case "contains":
		ref, ok := referenceScalar(r, nums, m)
		if !ok {
			return true
		}
		n := 0
		for _, s := range sets {
			if slices.Contains(s, ref.str) {
				n++
			}
		}
		return within(float64(n), lo, hi)
	default: // reference_intersection_count
		var ref []string
		switch r.ref.kind {
		case refString:
			ref = []string{r.ref.str}
		case refStrings:
			ref = r.ref.strs
		case refExpr:
			v := r.ref.expr.eval(m)
			if r.ref.expr.typ.depth == 0 {
				ref = []string{v.str}
			} else {
				for _, s := range v.list {
					ref = append(ref, s.str)
				}
			}
		}
		for _, s := range sets {
			n := 0
			for _, x := range dedup(s) {
				if slices.Contains(ref, x) {
					n++
				}
			}
			if !within(float64(n), lo, hi) {
				return false
			}
		}
		return true
	}
}

func dedup(s []string) []string {
	if len(s) < 2 {
		return s
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// batchesHold checks the batchDistance rules over a match's tickets: number attributes
// within maxDistance of each other, string attributes all equal.
func (rs *RuleSet) batchesHold(ts []*pticket, pr *params) bool {
	for _, i := range rs.batches {
		if !rs.batchHolds(i, ts, pr) {
			return false
		}
	}
	return true
}

func (rs *RuleSet) batchHolds(i int, ts []*pticket, pr *params) bool {
	r := &rs.Rules[i]
	ai := rs.attrIndex[r.attr]
	if r.attrType == AttributeString {
		for _, t := range ts {
			for _, p := range t.players {
				if p.attrs[ai].S != ts[0].players[0].attrs[ai].S {
					return false
				}
			}
		}
		return true
	}
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, t := range ts {
		v := t.numberOf(ai, r.aggregation)
		mn, mx = math.Min(mn, v), math.Max(mx, v)
	}
	return len(ts) < 2 || within(mx-mn, bound{}, pr.rules[i][propMaxDistance])
}

// batchCompatible is the pairwise form of batchesHold, used to pre-filter candidates.
func (rs *RuleSet) batchCompatible(a, b *pticket, pr *params) bool {
	return rs.batchesHold([]*pticket{a, b}, pr)
}

// region picks the region the latency rules allow for these tickets: every rule's
// maxLatency met by each ticket (its players' latencies aggregated as the rule says), and
// each ticket within maxDistance of the rule's distanceReference (the minimum or average
// over the tickets). Of the allowed regions the one with the lowest average latency wins,
// then the first by name.
func (rs *RuleSet) region(ts []*pticket, pr *params) (string, bool) {
	if len(ts) == 0 {
		return "", true
	}
	var regions []string
	for r := range ts[0].players[0].p.LatencyMs {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	best, bestAvg := "", math.Inf(1)
	for _, reg := range regions {
		avg, ok := rs.regionAllows(reg, ts, pr)
		if ok && avg < bestAvg {
			best, bestAvg = reg, avg
		}
	}
	return best, best != ""
}

// regionAllows reports whether the latency rules allow a region for these tickets, and the
// tickets' average latency there.
func (rs *RuleSet) regionAllows(reg string, ts []*pticket, pr *params) (float64, bool) {
	var total float64
	for k, i := range rs.latency {
		r := &rs.Rules[i]
		nums := &pr.rules[i]
		lats := make([]float64, len(ts))
		for j, t := range ts {
			l, ok := t.latencyIn(reg, r.aggregation)
			if !ok {
				return 0, false
			}
			if nums[propMaxLatency].set && l > nums[propMaxLatency].v {
				return 0, false
			}
			lats[j] = l
		}
		if nums[propMaxDistance].set {
			ref := slices.Min(lats)
			if r.distanceRef == "avg" {
				ref = sum(lats) / float64(len(lats))
			}
			for _, l := range lats {
				if l-ref > nums[propMaxDistance].v {
					return 0, false
				}
			}
		}
		if k == 0 {
			total = sum(lats) / float64(len(lats))
		}
	}
	return total, true
}
