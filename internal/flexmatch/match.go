package flexmatch

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"
)

// Result is what one matchmaking pass decided.
type Result struct {
	// Matches are the proposed matches, in the order they were formed (oldest anchor
	// ticket first).
	Matches []ProposedMatch
	// Remaining lists the IDs of tickets in no match, in input order. It includes tickets
	// that can never match this rule set (a required attribute missing or of the wrong
	// type, no latency data when latency rules apply, an unknown team, too many players).
	Remaining []string
}

// ProposedMatch is one match: its teams and the tickets they came from.
type ProposedMatch struct {
	TicketIDs []string
	Teams     []MatchedTeam
	// Region is the region the latency rules settled on, or "" when the rule set has no
	// latency rule.
	Region string
}

// MatchedTeam is one team of a proposed match.
type MatchedTeam struct {
	Name    string
	Players []MatchedPlayer
}

// MatchedPlayer is one player of a proposed match. LatencyMs is the player's latency in
// the match's Region (0 without one).
type MatchedPlayer struct {
	PlayerID  string
	TicketID  string
	LatencyMs int
}

// candidateLimit bounds how many waiting tickets are considered for one anchor ticket:
// GameLift also works on batches of the pool rather than the whole of it.
const candidateLimit = 2000

// Match forms matches from waiting tickets under a rule set at time now. It is a pure
// function: the same rule set, tickets and time give the same result, whatever order
// tickets come in. Expansions apply by the waiting time (now minus StartTime) of the
// ticket that expansionAgeSelection picks. Players of one ticket always land in the same
// match, and in the same team unless their requested teams differ.
func Match(rs *RuleSet, tickets []Ticket, now time.Time) Result {
	pool := prepare(rs, tickets, now)
	var matches []ProposedMatch
	if rs.Large {
		matches = matchLarge(rs, pool)
	} else {
		matches = matchSmall(rs, pool)
	}
	matched := map[int]bool{}
	for _, pt := range pool.tickets {
		if pt.used {
			matched[pt.index] = true
		}
	}
	res := Result{Matches: matches}
	for i, t := range tickets {
		if !matched[i] {
			res.Remaining = append(res.Remaining, t.ID)
		}
	}
	return res
}

type ticketPool struct {
	tickets   []*pticket // eligible tickets, oldest first
	latency   bool       // the rule set has latency rules
	firstFree int        // every ticket before it is used
}

type pticket struct {
	t        *Ticket
	index    int // in the input
	age      float64
	players  []*pplayer
	used     bool
	balanced float64 // party average of the balanced attribute
}

type pplayer struct {
	p      *Player
	ticket *pticket
	attrs  []AttributeValue // by attribute index; Type "" when absent with no default
}

func prepare(rs *RuleSet, tickets []Ticket, now time.Time) *ticketPool {
	pool := &ticketPool{}
	for _, r := range rs.Rules {
		if r.Type == RuleLatency {
			pool.latency = true
		}
	}
	for i := range tickets {
		t := &tickets[i]
		pt := &pticket{t: t, index: i, age: math.Max(0, now.Sub(t.StartTime).Seconds())}
		if eligible(rs, pool, pt) {
			pool.tickets = append(pool.tickets, pt)
		}
	}
	sort.SliceStable(pool.tickets, func(a, b int) bool {
		x, y := pool.tickets[a].t, pool.tickets[b].t
		if !x.StartTime.Equal(y.StartTime) {
			return x.StartTime.Before(y.StartTime)
		}
		return x.ID < y.ID
	})
	return pool
}

// eligible resolves a ticket's attributes (defaults filled in) and reports whether it can
// take part in any match of this rule set.
func eligible(rs *RuleSet, pool *ticketPool, pt *pticket) bool {
	if len(pt.t.Players) == 0 || len(pt.t.Players) > rs.MaxPlayers {
		return false
	}
	var bsum float64
	for i := range pt.t.Players {
		p := &pt.t.Players[i]
		pp := &pplayer{p: p, ticket: pt, attrs: make([]AttributeValue, len(rs.Attributes))}
		for j, a := range rs.Attributes {
			v, ok := p.Attributes[a.Name]
			switch {
			case ok && v.Type != a.Type:
				return false
			case ok:
				pp.attrs[j] = v
			case a.Default != nil:
				pp.attrs[j] = *a.Default
			case rs.usedAttrs[a.Name]:
				return false
			}
		}
		if pool.latency && len(p.LatencyMs) == 0 {
			return false
		}
		if p.Team != "" {
			if _, ok := rs.teamNames[p.Team]; !ok {
				return false
			}
		}
		if rs.Algorithm.BalancedAttribute != "" {
			bsum += pp.attrs[rs.attrIndex[rs.Algorithm.BalancedAttribute]].N
		}
		pt.players = append(pt.players, pp)
	}
	pt.balanced = bsum / float64(len(pt.players))
	return true
}

// numberOf gives a ticket's number attribute aggregated over its players.
func (pt *pticket) numberOf(attr int, agg string) float64 {
	var v float64
	for i, p := range pt.players {
		x := p.attrs[attr].N
		switch {
		case i == 0:
			v = x
		case agg == "min":
			v = math.Min(v, x)
		case agg == "max":
			v = math.Max(v, x)
		default:
			v += x
		}
	}
	if agg != "min" && agg != "max" {
		v /= float64(len(pt.players))
	}
	return v
}

// latencyIn gives a ticket's latency in a region aggregated over its players; ok is false
// when a player does not report the region.
func (pt *pticket) latencyIn(region, agg string) (float64, bool) {
	var v float64
	for i, p := range pt.players {
		ms, ok := p.p.LatencyMs[region]
		if !ok {
			return 0, false
		}
		x := float64(ms)
		switch {
		case i == 0:
			v = x
		case agg == "min":
			v = math.Min(v, x)
		case agg == "max":
			v = math.Max(v, x)
		default:
			v += x
		}
	}
	if agg != "min" && agg != "max" {
		v /= float64(len(pt.players))
	}
	return v, true
}

// matchView is a match under construction, as property expressions see it.
type matchView struct {
	rs     *RuleSet
	teams  []viewTeam
	agg    string // the partyAggregation of the rule being evaluated
	placed []placement
}

type viewTeam struct {
	name    string
	def     int
	players []*pplayer
}

type placement struct {
	ticket *pticket
	slots  []int // per player of the ticket
}

func newView(rs *RuleSet) *matchView {
	m := &matchView{rs: rs, teams: make([]viewTeam, len(rs.slots))}
	for i, s := range rs.slots {
		m.teams[i] = viewTeam{name: s.name, def: s.def}
	}
	return m
}

func (m *matchView) team(name string) *viewTeam {
	for i := range m.teams {
		if m.teams[i].name == name {
			return &m.teams[i]
		}
	}
	return &viewTeam{}
}

func (m *matchView) players() int {
	n := 0
	for _, t := range m.teams {
		n += len(t.players)
	}
	return n
}

// attr gives a player's attribute as an expression value, with the party aggregation of
// the rule being evaluated applied: numbers take the party's min, max or average, string
// lists the union or intersection of the party's lists.
func (m *matchView) attr(p *pplayer, name string) value {
	i := m.rs.attrIndex[name]
	v := p.attrs[i]
	party := len(p.ticket.players) > 1
	switch v.Type {
	case AttributeNumber:
		if party && m.agg != "" {
			return value{num: p.ticket.numberOf(i, m.agg)}
		}
		return value{num: v.N}
	case AttributeString:
		return value{str: v.S}
	case AttributeStringList:
		list := v.SL
		if party && (m.agg == "union" || m.agg == "intersection") {
			list = partyList(p.ticket, i, m.agg)
		}
		out := make([]value, len(list))
		for k, s := range list {
			out[k] = value{str: s}
		}
		return value{list: out}
	}
	return value{missing: true}
}

func partyList(pt *pticket, attr int, agg string) []string {
	var out []string
	for k, p := range pt.players {
		l := p.attrs[attr].SL
		switch {
		case k == 0:
			out = slices.Clone(l)
		case agg == "union":
			for _, s := range l {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		default:
			out = slices.DeleteFunc(out, func(s string) bool { return !slices.Contains(l, s) })
		}
	}
	return out
}

// place puts a ticket's players into teams: players asking for a team go there, the rest
// together into the first team, in order of preference, that has room and keeps every
// prunable rule passing. It reports false, changing nothing, when no choice works.
func (m *matchView) place(pt *pticket, pr *params) bool {
	groups := map[string][]int{}
	var order []string
	for i, p := range pt.players {
		if _, ok := groups[p.p.Team]; !ok {
			order = append(order, p.p.Team)
		}
		groups[p.p.Team] = append(groups[p.p.Team], i)
	}
	slots := make([]int, len(pt.players))
	var done []int // slots filled so far, to undo
	undo := func() {
		for _, s := range done {
			m.teams[s].players = m.teams[s].players[:len(m.teams[s].players)-1]
		}
	}
	for _, team := range order {
		members := groups[team]
		placed := false
		for _, s := range m.preference(pr, team) {
			t := &m.teams[s]
			if len(t.players)+len(members) > pr.teamMax[t.def] {
				continue
			}
			for _, i := range members {
				t.players = append(t.players, pt.players[i])
				slots[i] = s
			}
			if m.rs.rulesHold(m, pr, false) {
				for range members {
					done = append(done, s)
				}
				placed = true
				break
			}
			t.players = t.players[:len(t.players)-len(members)]
		}
		if !placed {
			undo()
			return false
		}
	}
	m.placed = append(m.placed, placement{ticket: pt, slots: slots})
	return true
}

// preference orders the teams a group may join: teams short of minPlayers first, then the
// most open places, then definition order (the order FlexMatch documents for filling).
func (m *matchView) preference(pr *params, requested string) []int {
	var allowed []string
	if requested != "" {
		allowed = m.rs.teamNames[requested]
	}
	idx := make([]int, 0, len(m.teams))
	for i, t := range m.teams {
		if allowed == nil || slices.Contains(allowed, t.name) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ta, tb := &m.teams[a], &m.teams[b]
		sa, sb := len(ta.players) < pr.teamMin[ta.def], len(tb.players) < pr.teamMin[tb.def]
		if sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return cmp.Compare(pr.teamMax[tb.def]-len(tb.players), pr.teamMax[ta.def]-len(ta.players))
	})
	return idx
}

func (m *matchView) full(pr *params) bool {
	for _, t := range m.teams {
		if len(t.players) < pr.teamMax[t.def] {
			return false
		}
	}
	return true
}

// complete reports whether the match may start: every team at its minimum and every rule,
// the deferred ones too, passing.
func (m *matchView) complete(pr *params) bool {
	if m.players() == 0 {
		return false
	}
	for _, t := range m.teams {
		if len(t.players) < pr.teamMin[t.def] {
			return false
		}
	}
	return m.rs.rulesHold(m, pr, true)
}

// snapshot turns the first n placements into a proposed match.
func (m *matchView) snapshot(n int, region string) ProposedMatch {
	pm := ProposedMatch{Region: region, Teams: make([]MatchedTeam, len(m.teams))}
	for i, t := range m.teams {
		pm.Teams[i].Name = t.name
		pm.Teams[i].Players = []MatchedPlayer{}
	}
	for _, pl := range m.placed[:n] {
		pm.TicketIDs = append(pm.TicketIDs, pl.ticket.t.ID)
		for i, p := range pl.ticket.players {
			mp := MatchedPlayer{PlayerID: p.p.ID, TicketID: pl.ticket.t.ID}
			if region != "" {
				mp.LatencyMs = p.p.LatencyMs[region]
			}
			pm.Teams[pl.slots[i]].Players = append(pm.Teams[pl.slots[i]].Players, mp)
		}
	}
	return pm
}

// rewind removes placements after the first n.
func (m *matchView) rewind(n int) {
	for len(m.placed) > n {
		pl := m.placed[len(m.placed)-1]
		for i := len(pl.slots) - 1; i >= 0; i-- {
			t := &m.teams[pl.slots[i]]
			t.players = t.players[:len(t.players)-1]
		}
		m.placed = m.placed[:len(m.placed)-1]
	}
}

func (m *matchView) tickets() []*pticket {
	out := make([]*pticket, len(m.placed))
	for i, pl := range m.placed {
		out[i] = pl.ticket
	}
	return out
}
