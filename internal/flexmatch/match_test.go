package flexmatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func solo(id string, waited time.Duration, attrs map[string]AttributeValue, lat map[string]int) Ticket {
	return Ticket{ID: id, StartTime: t0.Add(-waited), Players: []Player{{ID: "p-" + id, Attributes: attrs, LatencyMs: lat}}}
}

func skill(n float64) map[string]AttributeValue { return map[string]AttributeValue{"skill": Number(n)} }

func teamSizes(m ProposedMatch) []int {
	var out []int
	for _, t := range m.Teams {
		out = append(out, len(t.Players))
	}
	return out
}

func TestMatchEvenTeams(t *testing.T) {
	rs := load(t, "even_teams.json")
	var ts []Ticket
	for i := range 9 {
		ts = append(ts, solo(fmt.Sprint("t", i), time.Duration(10-i)*time.Millisecond, skill(100+float64(i)), nil))
	}
	ts = append(ts, solo("outlier", 0, skill(900), nil))
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 {
		t.Fatalf("matches %+v", res)
	}
	m := res.Matches[0]
	if got := teamSizes(m); got[0] != got[1] || got[0] != 4 {
		t.Errorf("sizes %v, want 4 and 4 (nine fit, equal sizes need eight)", got)
	}
	if !slices.Contains(res.Remaining, "outlier") || len(res.Remaining) != 2 {
		t.Errorf("remaining %v", res.Remaining)
	}
	// After 15 seconds maxDistance is 100: the outlier's team averages (101+103+105+107+
	// 900)/5 = 263.2, within 100 of the match average 182.2, so it joins.
	late := Match(rs, ts, t0.Add(15*time.Second))
	if len(late.Matches) != 1 || len(late.Remaining) != 0 {
		t.Errorf("late %+v", late)
	}
	// At 5 seconds (maxDistance 50) it still does not fit.
	if mid := Match(rs, ts, t0.Add(5*time.Second)); !slices.Contains(mid.Remaining, "outlier") {
		t.Errorf("outlier matched at 5s")
	}
}

func TestMatchHuntersAndMonster(t *testing.T) {
	rs := load(t, "hunters_monster.json")
	monster := func(id string, s float64) Ticket {
		return solo(id, 0, map[string]AttributeValue{"skill": Number(s), "wantsToBeMonster": Number(1)}, nil)
	}
	hunter := func(id string, desired float64) Ticket {
		return solo(id, time.Second, map[string]AttributeValue{"desiredSkillOfMonster": Number(desired)}, nil)
	}
	ts := []Ticket{hunter("h1", 20), hunter("h2", 30), hunter("h3", 10), hunter("h4", 10), monster("weak", 25), hunter("h5", 10), monster("strong", 40)}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 {
		t.Fatalf("%+v", res)
	}
	m := res.Matches[0]
	if m.Teams[1].Name != "monster" || len(m.Teams[1].Players) != 1 || m.Teams[1].Players[0].TicketID != "strong" {
		t.Errorf("monster team %+v", m.Teams[1])
	}
	if len(m.Teams[0].Players) != 5 {
		t.Errorf("hunters %+v", m.Teams[0])
	}
	// Three hunters only match once the team minimum drops to 3 (after 60 seconds).
	few := []Ticket{hunter("h1", 10), hunter("h2", 10), hunter("h3", 10), monster("m", 40)}
	if res := Match(rs, few, t0.Add(58*time.Second)); len(res.Matches) != 0 {
		t.Errorf("matched too early: %+v", res.Matches)
	}
	if res := Match(rs, few, t0.Add(60*time.Second)); len(res.Matches) != 1 {
		t.Errorf("not matched after 60s: %+v", res)
	}
}

func TestMatchLatencyAndTeamLevelRules(t *testing.T) {
	rs := load(t, "three_teams_latency.json")
	var ts []Ticket
	for i := range 10 {
		lat := map[string]int{"us-east-1": 40 + i, "eu-west-1": 90}
		ch := "peasant"
		if i < 6 {
			ch = "medic"
		}
		ts = append(ts, solo(fmt.Sprint("t", i), 0, map[string]AttributeValue{"character": StringList(ch)}, lat))
	}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 {
		t.Fatalf("%+v", res)
	}
	m := res.Matches[0]
	if m.Region != "us-east-1" {
		t.Errorf("region %q", m.Region)
	}
	medics := 0
	for _, tm := range m.Teams {
		for _, p := range tm.Players {
			if p.LatencyMs < 40 || p.LatencyMs > 50 {
				t.Errorf("latency %d", p.LatencyMs)
			}
			var n int
			fmt.Sscan(p.TicketID[1:], &n)
			if n < 6 {
				medics++
			}
		}
	}
	if medics > 5 || len(res.Remaining) != 1 {
		t.Errorf("medics %d remaining %v", medics, res.Remaining)
	}
	// Only 90 ms reachable: no match until the 10 second expansion raises maxLatency.
	var slow []Ticket
	for i := range 9 {
		slow = append(slow, solo(fmt.Sprint("s", i), 0, nil, map[string]int{"eu-west-1": 90}))
	}
	if res := Match(rs, slow, t0.Add(9*time.Second)); len(res.Matches) != 0 {
		t.Errorf("matched at 9s")
	}
	res = Match(rs, slow, t0.Add(10*time.Second))
	if len(res.Matches) != 1 || res.Matches[0].Region != "eu-west-1" || !reflect.DeepEqual(teamSizes(res.Matches[0]), []int{3, 3, 3}) {
		t.Errorf("at 10s: %+v", res)
	}
	// A player without latency data is never matched by a rule set with latency rules.
	res = Match(rs, append(slow, solo("nolat", time.Hour, nil, nil)), t0.Add(10*time.Second))
	if !slices.Contains(res.Remaining, "nolat") {
		t.Errorf("ticket without latency matched")
	}
}

func TestMatchExplicitSortAndIntersection(t *testing.T) {
	rs := load(t, "explicit_sort.json")
	mk := func(id string, exp float64, fav string, modes ...string) Ticket {
		return solo(id, 0, map[string]AttributeValue{
			"experience":    Number(exp),
			"gameMode":      StringList(modes...),
			"mapPreference": StringNumberMap(map[string]float64{fav: 100, "other": 10}),
		}, nil)
	}
	ts := []Ticket{mk("anchor", 50, "castle", "coop")}
	ts[0].StartTime = t0.Add(-time.Minute)
	// Six more share the mode; the sort puts castle fans first, then closest experience.
	ts = append(ts,
		mk("far-castle", 90, "castle", "coop"), mk("near-castle", 51, "castle", "coop"),
		mk("near-desert", 50, "desert", "coop"), mk("mid-castle", 60, "castle", "coop"),
		mk("castle-4", 70, "castle", "coop"), mk("castle-5", 80, "castle", "coop"),
		mk("no-mode", 50, "castle", "deathmatch"),
	)
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 {
		t.Fatalf("%+v", res)
	}
	got := res.Matches[0].TicketIDs
	want := []string{"anchor", "near-castle", "mid-castle", "castle-4", "castle-5", "far-castle"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tickets %v, want %v", got, want)
	}
}

func TestMatchOpponentIntersection(t *testing.T) {
	rs := load(t, "opponent_intersection.json")
	mk := func(id, me string, opp ...string) Ticket {
		return solo(id, 0, map[string]AttributeValue{"myCharacter": StringList(me), "preferredOpponents": StringList(opp...)}, nil)
	}
	ts := []Ticket{
		mk("a", "orc", "orc", "elf", "dwarf"), mk("b", "elf", "orc", "elf", "dwarf"),
		mk("c", "troll", "orc", "elf", "dwarf"), mk("d", "dwarf", "orc", "elf", "dwarf"),
		mk("e", "orc", "orc", "elf", "dwarf", "troll"), mk("f", "elf", "elf", "orc", "dwarf"),
	}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 || !reflect.DeepEqual(res.Remaining, []string{"c"}) {
		t.Fatalf("%+v", res)
	}
	// After 15 seconds minCount drops to 0 and the troll gets in.
	if res := Match(rs, ts[:5], t0.Add(15*time.Second)); len(res.Matches) != 1 {
		t.Errorf("after expansion %+v", res)
	}
}

func TestMatchCompareAcrossPlayers(t *testing.T) {
	rs := load(t, "same_choices.json")
	mk := func(id, mode string, char float64) Ticket {
		return solo(id, 0, map[string]AttributeValue{"gameMode": String(mode), "character": Number(char)}, nil)
	}
	ts := []Ticket{mk("a", "turn-based", 1), mk("b", "turn-based", 1), mk("c", "real-time", 2), mk("d", "turn-based", 3), {ID: "nochar", StartTime: t0, Players: []Player{{ID: "x"}}}}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 || !reflect.DeepEqual(res.Matches[0].TicketIDs, []string{"a", "d"}) {
		t.Fatalf("%+v", res)
	}
	if got := res.Matches[0].Teams; got[0].Name != "player_1" || got[1].Name != "player_2" {
		t.Errorf("team names %v %v", got[0].Name, got[1].Name)
	}
	if !slices.Contains(res.Remaining, "nochar") {
		t.Errorf("a ticket without the required attribute matched")
	}
}

func TestMatchCompound(t *testing.T) {
	rs := load(t, "compound.json")
	mk := func(id string, league, sk float64, mp, mode string) Ticket {
		return solo(id, 0, map[string]AttributeValue{"league": Number(league), "skill": Number(sk), "map": String(mp), "mode": String(mode)}, nil)
	}
	var same, similar []Ticket
	for i := range 20 {
		// Same map and mode, skills all over: the first branch of the or holds.
		same = append(same, mk(fmt.Sprint("s", i), float64(i%5), float64(i*50), "castle", "ctf"))
		// Different maps, close skill and league: the second branch holds.
		similar = append(similar, mk(fmt.Sprint("m", i), 3, 100+float64(i%5), fmt.Sprint("map", i), "ctf"))
	}
	for name, ts := range map[string][]Ticket{"same choices": same, "similar players": similar} {
		res := Match(rs, ts, t0)
		if len(res.Matches) != 1 || len(res.Remaining) != 0 {
			t.Errorf("%s: %d matches, remaining %v", name, len(res.Matches), res.Remaining)
		}
	}
	// Neither: different maps and spread skills.
	var neither []Ticket
	for i := range 20 {
		neither = append(neither, mk(fmt.Sprint("n", i), 3, float64(i*50), fmt.Sprint("map", i), "ctf"))
	}
	if res := Match(rs, neither, t0); len(res.Matches) != 0 {
		t.Errorf("neither branch holds but matched: %+v", res.Matches[0].TicketIDs)
	}
}

func TestMatchBlockList(t *testing.T) {
	rs := load(t, "block_list.json")
	var ts []Ticket
	for i := range 11 {
		ts = append(ts, solo(fmt.Sprint(i), time.Duration(20-i)*time.Second, nil, nil))
	}
	// The oldest player blocks player 3; player 3 must sit out, player 10 takes the place.
	ts[0].Players[0].Attributes = map[string]AttributeValue{"BlockList": StringList("p-3")}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 || !reflect.DeepEqual(res.Remaining, []string{"3"}) {
		t.Fatalf("%+v", res)
	}
	// Blocking works both ways: when player 5 blocks the oldest, 5 is left out.
	ts[0].Players[0].Attributes = nil
	ts[5].Players[0].Attributes = map[string]AttributeValue{"BlockList": StringList("p-0")}
	res = Match(rs, ts, t0)
	if len(res.Matches) != 1 || !reflect.DeepEqual(res.Remaining, []string{"5"}) {
		t.Fatalf("%+v", res)
	}
}

func TestMatchPartiesStayTogether(t *testing.T) {
	rs := load(t, "even_teams.json")
	party := Ticket{ID: "party", StartTime: t0.Add(-time.Minute), Players: []Player{
		{ID: "x", Attributes: skill(100)}, {ID: "y", Attributes: skill(100)}, {ID: "z", Attributes: skill(100)},
	}}
	ts := []Ticket{party}
	for i := range 5 {
		ts = append(ts, solo(fmt.Sprint(i), 0, skill(100), nil))
	}
	res := Match(rs, ts, t0)
	if len(res.Matches) != 1 {
		t.Fatalf("%+v", res)
	}
	for _, tm := range res.Matches[0].Teams {
		n := 0
		for _, p := range tm.Players {
			if p.TicketID == "party" {
				n++
			}
		}
		if n != 0 && n != 3 {
			t.Errorf("party split: %d in %s", n, tm.Name)
		}
	}
	// A requested team is honoured.
	ts[1].Players[0].Team = "aliens"
	res = Match(rs, ts, t0)
	for _, tm := range res.Matches[0].Teams {
		for _, p := range tm.Players {
			if p.TicketID == ts[1].ID && tm.Name != "aliens" {
				t.Errorf("requested team ignored: %s", tm.Name)
			}
		}
	}
}

func largePool(n int, rng *rand.Rand) []Ticket {
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	var ts []Ticket
	for i := range n {
		lat := map[string]int{}
		for j, r := range regions {
			lat[r] = 20 + rng.IntN(100) + 30*j
		}
		ts = append(ts, solo(fmt.Sprint("t", i), time.Duration(rng.IntN(30000))*time.Millisecond, map[string]AttributeValue{"skill": Number(float64(rng.IntN(3000)))}, lat))
	}
	return ts
}

const largeTwoTeams = `{"ruleLanguageVersion": "1.0",
	"playerAttributes": [{"name": "skill", "type": "number"}],
	"algorithm": {"strategy": "balanced", "balancedAttribute": "skill"},
	"teams": [{"name": "red", "minPlayers": 50, "maxPlayers": 50}, {"name": "blue", "minPlayers": 50, "maxPlayers": 50}],
	"rules": [{"name": "ping", "type": "latency", "maxLatency": 150}]}`

func TestMatchLargeBalanced(t *testing.T) {
	rs, err := Parse([]byte(largeTwoTeams))
	if err != nil {
		t.Fatal(err)
	}
	ts := largePool(450, rand.New(rand.NewPCG(1, 2)))
	res := Match(rs, ts, t0)
	if len(res.Matches) != 4 || len(res.Remaining) != 50 {
		t.Fatalf("%d matches, %d remaining", len(res.Matches), len(res.Remaining))
	}
	byID := map[string]Ticket{}
	for _, tk := range ts {
		byID[tk.ID] = tk
	}
	for _, m := range res.Matches {
		var avg [2]float64
		for i, tm := range m.Teams {
			if len(tm.Players) != 50 {
				t.Fatalf("team size %d", len(tm.Players))
			}
			for _, p := range tm.Players {
				avg[i] += byID[p.TicketID].Players[0].Attributes["skill"].N / 50
				if p.LatencyMs > 150 {
					t.Errorf("latency %d in %s", p.LatencyMs, m.Region)
				}
			}
		}
		if math.Abs(avg[0]-avg[1]) > 10 {
			t.Errorf("team averages %v apart", avg)
		}
	}
	// The documented multi-team example: ten hunter teams and a monster team.
	multi := load(t, "large_multi_team.json")
	res = Match(multi, largePool(155, rand.New(rand.NewPCG(3, 4))), t0)
	if len(res.Matches) != 1 {
		t.Fatalf("multi-team: %+v", res.Remaining)
	}
	if sizes := teamSizes(res.Matches[0]); sizes[0] != 5 || slices.Min(sizes[1:]) < 12 {
		t.Errorf("multi-team sizes %v", sizes)
	}
	// Expansions on team size: 120 players fill the free-for-all only once minPlayers
	// has dropped to 100 (15 seconds).
	ffa := load(t, "large_free_for_all.json")
	pool := largePool(120, rand.New(rand.NewPCG(5, 6)))
	for i := range pool {
		pool[i].StartTime = t0
	}
	if res := Match(ffa, pool, t0.Add(14*time.Second)); len(res.Matches) != 0 {
		t.Errorf("matched before the expansion")
	}
	if res := Match(ffa, pool, t0.Add(15*time.Second)); len(res.Matches) != 1 {
		t.Errorf("not matched after the expansion")
	}
}

func TestMatchDeterministic(t *testing.T) {
	for _, file := range []string{"even_teams.json", "block_list.json", "explicit_sort.json"} {
		rs := load(t, file)
		rng := rand.New(rand.NewPCG(7, 8))
		var ts []Ticket
		for i := range 60 {
			ts = append(ts, solo(fmt.Sprint("t", i), time.Duration(rng.IntN(60))*time.Second, map[string]AttributeValue{"skill": Number(float64(rng.IntN(200)))}, nil))
		}
		first := Match(rs, ts, t0)
		shuffled := slices.Clone(ts)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again := Match(rs, shuffled, t0)
		if !reflect.DeepEqual(first.Matches, again.Matches) {
			t.Errorf("%s: shuffled input gave other matches", file)
		}
		if len(first.Matches) == 0 {
			t.Errorf("%s: no matches", file)
		}
	}
}
