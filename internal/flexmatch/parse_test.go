package flexmatch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t testing.TB, name string) *RuleSet {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rs
}

// The rule sets in testdata follow GameLift's documented examples; each parses, and what
// it declares is read right.
func TestParseDocumentedExamples(t *testing.T) {
	tests := []struct {
		file       string
		maxPlayers int
		large      bool
		teams      int // teams in a match
		strategy   string
		batching   string
	}{
		{"even_teams.json", 16, false, 2, "exhaustiveSearch", "random"},
		{"hunters_monster.json", 6, false, 2, "exhaustiveSearch", "random"},
		{"three_teams_latency.json", 15, false, 3, "exhaustiveSearch", "random"},
		{"explicit_sort.json", 6, false, 2, "exhaustiveSearch", "random"},
		{"opponent_intersection.json", 5, false, 1, "exhaustiveSearch", "random"},
		{"same_choices.json", 2, false, 2, "exhaustiveSearch", "random"},
		{"large_free_for_all.json", 200, true, 1, "balanced", "largestPopulation"},
		{"large_multi_team.json", 155, true, 11, "balanced", "fastestRegion"},
		{"large_batch_distance.json", 200, true, 2, "balanced", "fastestRegion"},
		{"compound.json", 40, false, 2, "balanced", "fastestRegion"},
		{"block_list.json", 10, false, 2, "exhaustiveSearch", "random"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rs := load(t, tt.file)
			if rs.MaxPlayers != tt.maxPlayers || rs.Large != tt.large || len(rs.slots) != tt.teams {
				t.Errorf("max %d large %v teams %d; want %d %v %d", rs.MaxPlayers, rs.Large, len(rs.slots), tt.maxPlayers, tt.large, tt.teams)
			}
			if rs.Algorithm.Strategy != tt.strategy || rs.Algorithm.BatchingPreference != tt.batching {
				t.Errorf("algorithm %+v", rs.Algorithm)
			}
		})
	}
	rs := load(t, "three_teams_latency.json")
	if got := rs.slots; got[0].name != "trio_1" || got[2].name != "trio_3" {
		t.Errorf("numbered teams %+v", got)
	}
	if !rs.Rules[1].deferred || rs.Rules[0].deferred || rs.Rules[2].deferred {
		// CloseTeamSizes counts players: checked on complete matches only. The medic
		// limit is a maxCount on contains: it prunes.
		t.Errorf("deferred flags: %v %v %v", rs.Rules[0].deferred, rs.Rules[1].deferred, rs.Rules[2].deferred)
	}
	c := load(t, "compound.json")
	if !c.Rules[0].inCompound || c.Rules[4].inCompound || c.Rules[4].deferred {
		t.Errorf("compound: %+v", c.Rules)
	}
}

const base = `"ruleLanguageVersion": "1.0", "playerAttributes": [{"name": "skill", "type": "number"}, {"name": "mode", "type": "string"}, {"name": "maps", "type": "string_list"}, {"name": "prefs", "type": "string_number_map"}]`
const twoTeams = `"teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}, {"name": "blue", "minPlayers": 1, "maxPlayers": 2}]`

func withRules(rules string) string {
	return `{` + base + `, ` + twoTeams + `, "rules": [` + rules + `]}`
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, body, path, message string
	}{
		{"not json", `{"ruleLanguageVersion": `, "", "invalid JSON"},
		{"not an object", `[1]`, "", "a rule set is a JSON object"},
		{"trailing", `{"ruleLanguageVersion": "1.0", ` + twoTeams + `} {}`, "", "after the rule set"},
		{"duplicate key", `{"ruleLanguageVersion": "1.0", "ruleLanguageVersion": "1.0"}`, "ruleLanguageVersion", "duplicate key"},
		{"no version", `{` + twoTeams + `}`, "ruleLanguageVersion", "is required"},
		{"bad version", `{"ruleLanguageVersion": "2.0", ` + twoTeams + `}`, "ruleLanguageVersion", `must be "1.0"`},
		{"unknown top", `{"ruleLanguageVersion": "1.0", "team": [], ` + twoTeams + `}`, "team", "unknown property"},
		{"no teams", `{"ruleLanguageVersion": "1.0"}`, "teams", "is required"},
		{"empty teams", `{"ruleLanguageVersion": "1.0", "teams": []}`, "teams", "at least one team"},
		{"team without max", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1}]}`, "teams[0].maxPlayers", "is required"},
		{"team min over max", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 3, "maxPlayers": 2}]}`, "teams[0].minPlayers", "more than maxPlayers"},
		{"team fraction", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2.5}]}`, "teams[0].maxPlayers", "whole number"},
		{"team zero max", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 0, "maxPlayers": 0}]}`, "teams[0].maxPlayers", "at least 1"},
		{"duplicate team", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2}, {"name": "a", "minPlayers": 1, "maxPlayers": 2}]}`, "teams[1].name", "defined twice"},
		{"numbered clash", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a_1", "minPlayers": 1, "maxPlayers": 2}, {"name": "a", "minPlayers": 1, "maxPlayers": 2, "quantity": 2}]}`, "teams[1].name", "clashes"},
		{"over 200", `{"ruleLanguageVersion": "1.0", "algorithm": {"strategy": "balanced", "balancedAttribute": "s"}, "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 101, "quantity": 2}]}`, "teams", "200"},
		{"large without algorithm", `{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 41}]}`, "algorithm", "is required"},
		{"large exhaustive", `{"ruleLanguageVersion": "1.0", "algorithm": {"strategy": "exhaustiveSearch"}, "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 41}]}`, "algorithm.strategy", `must be "balanced"`},
		{"balanced without attribute", `{` + base + `, "algorithm": {"strategy": "balanced"}, ` + twoTeams + `}`, "algorithm.balancedAttribute", "is required"},
		{"balanced on a string", `{` + base + `, "algorithm": {"strategy": "balanced", "balancedAttribute": "mode"}, ` + twoTeams + `}`, "algorithm.balancedAttribute", "must be a number"},
		{"balanced with random", `{` + base + `, "algorithm": {"strategy": "balanced", "balancedAttribute": "skill", "batchingPreference": "random"}, ` + twoTeams + `}`, "algorithm.batchingPreference", "largestPopulation or fastestRegion"},
		{"sorted without attributes", `{` + base + `, "algorithm": {"batchingPreference": "sorted"}, ` + twoTeams + `}`, "algorithm.sortByAttributes", "is required"},
		{"sort by undeclared", `{` + base + `, "algorithm": {"batchingPreference": "sorted", "sortByAttributes": ["rank"]}, ` + twoTeams + `}`, "algorithm.sortByAttributes[0]", `"rank" is not declared`},
		{"bad age selection", `{` + base + `, "algorithm": {"expansionAgeSelection": "middle"}, ` + twoTeams + `}`, "algorithm.expansionAgeSelection", `"middle" is not one of`},
		{"bad attribute type", `{"ruleLanguageVersion": "1.0", "playerAttributes": [{"name": "x", "type": "bool"}], ` + twoTeams + `}`, "playerAttributes[0].type", `"bool" is not one of`},
		{"bad default", `{"ruleLanguageVersion": "1.0", "playerAttributes": [{"name": "x", "type": "string_list", "default": "a"}], ` + twoTeams + `}`, "playerAttributes[0].default", "must be a string_list value"},
		{"duplicate attribute", `{"ruleLanguageVersion": "1.0", "playerAttributes": [{"name": "x", "type": "number"}, {"name": "x", "type": "string"}], ` + twoTeams + `}`, "playerAttributes[1].name", "declared twice"},
		{"rule without name", withRules(`{"type": "comparison"}`), "rules[0].name", "is required"},
		{"unknown rule type", withRules(`{"name": "a", "type": "similarity"}`), "rules[0].type", "unknown rule type"},
		{"duplicate rule", withRules(`{"name": "a", "type": "latency", "maxLatency": 50}, {"name": "a", "type": "latency", "maxLatency": 50}`), "rules[1].name", "defined twice"},
		{"property of another type", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[skill]"], "operation": "=", "maxDistance": 3}`), "rules[0].maxDistance", "unknown property"},
		{"no measurements", withRules(`{"name": "a", "type": "distance", "maxDistance": 3}`), "rules[0].measurements", "is required"},
		{"unknown team", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[green].players.attributes[skill]"], "maxDistance": 3}`), "rules[0].measurements[0]", `unknown team "green"`},
		{"undeclared attribute", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[red].players.attributes[rank]"], "maxDistance": 3}`), "rules[0].measurements[0]", `"rank" is not declared`},
		{"unknown function", withRules(`{"name": "a", "type": "distance", "measurements": ["mean(teams[red].players.attributes[skill])"], "maxDistance": 3}`), "rules[0].measurements[0]", "unknown function"},
		{"avg of strings", withRules(`{"name": "a", "type": "comparison", "measurements": ["avg(teams[red].players.attributes[mode])"], "operation": "="}`), "rules[0].measurements[0]", "avg needs a list of numbers"},
		{"flatten too shallow", withRules(`{"name": "a", "type": "distance", "measurements": ["flatten(teams[red].players.attributes[skill])"], "maxDistance": 3}`), "rules[0].measurements[0]", "flatten needs a list of lists"},
		{"unclosed call", withRules(`{"name": "a", "type": "distance", "measurements": ["avg(teams[red].players.attributes[skill]"], "maxDistance": 3}`), "rules[0].measurements[0]", `expected ")"`},
		{"distance on strings", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[red].players.attributes[mode]"], "maxDistance": 3}`), "rules[0].measurements[0]", "a distance measures numbers"},
		{"distance without bounds", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[red].players.attributes[skill]"], "referenceValue": 3}`), "rules[0]", "minDistance, maxDistance or both"},
		{"distance min over max", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[red].players.attributes[skill]"], "minDistance": 5, "maxDistance": 3}`), "rules[0].minDistance", "more than maxDistance"},
		{"distance reference list", withRules(`{"name": "a", "type": "distance", "measurements": ["teams[red].players.attributes[skill]"], "referenceValue": "teams[blue].players.attributes[skill]", "maxDistance": 3}`), "rules[0].referenceValue", "must give one number"},
		{"comparison without operation", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[skill]"], "referenceValue": 3}`), "rules[0].operation", "is required"},
		{"comparison bad operation", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[skill]"], "referenceValue": 3, "operation": "=="}`), "rules[0].operation", `"==" is not one of`},
		{"ordering without reference", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[skill]"], "operation": "<"}`), "rules[0].operation", "needs a referenceValue"},
		{"string against number", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[mode]"], "referenceValue": 3, "operation": "="}`), "rules[0].referenceValue", "is a number but the measurements are strings"},
		{"strings ordered", withRules(`{"name": "a", "type": "comparison", "measurements": ["teams[red].players.attributes[mode]"], "referenceValue": "x", "operation": ">"}`), "rules[0].operation", "strings take = and !="},
		{"collection on numbers", withRules(`{"name": "a", "type": "collection", "measurements": ["teams[red].players.attributes[skill]"], "operation": "intersection", "minCount": 1}`), "rules[0].measurements[0]", "a collection measures string lists"},
		{"contains without reference", withRules(`{"name": "a", "type": "collection", "measurements": ["teams[red].players.attributes[maps]"], "operation": "contains", "maxCount": 1}`), "rules[0].referenceValue", "is required"},
		{"intersection with reference", withRules(`{"name": "a", "type": "collection", "measurements": ["teams[red].players.attributes[maps]"], "operation": "intersection", "referenceValue": "x", "minCount": 1}`), "rules[0].referenceValue", "takes no referenceValue"},
		{"collection without counts", withRules(`{"name": "a", "type": "collection", "measurements": ["teams[red].players.attributes[maps]"], "operation": "intersection"}`), "rules[0]", "minCount, maxCount or both"},
		{"collection bad aggregation", withRules(`{"name": "a", "type": "collection", "measurements": ["teams[red].players.attributes[maps]"], "operation": "intersection", "minCount": 1, "partyAggregation": "avg"}`), "rules[0].partyAggregation", `"avg" is not one of union, intersection`},
		{"latency without limits", withRules(`{"name": "a", "type": "latency"}`), "rules[0]", "maxLatency, maxDistance or both"},
		{"latency distance without reference", withRules(`{"name": "a", "type": "latency", "maxDistance": 20}`), "rules[0].distanceReference", "is required with maxDistance"},
		{"latency negative", withRules(`{"name": "a", "type": "latency", "maxLatency": -1}`), "rules[0].maxLatency", "must not be negative"},
		{"batch on list", withRules(`{"name": "a", "type": "batchDistance", "batchAttribute": "maps"}`), "rules[0].batchAttribute", "takes number or string"},
		{"batch number without distance", withRules(`{"name": "a", "type": "batchDistance", "batchAttribute": "skill"}`), "rules[0].maxDistance", "is required"},
		{"batch string with distance", withRules(`{"name": "a", "type": "batchDistance", "batchAttribute": "mode", "maxDistance": 1}`), "rules[0].maxDistance", "does not apply"},
		{"batch string distance", withRules(`{"name": "a", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": "far"}`), "rules[0].maxDistance", "must be a number"},
		{"sort without direction", withRules(`{"name": "a", "type": "distanceSort", "sortAttribute": "skill"}`), "rules[0].sortDirection", "is required"},
		{"sort map without key", withRules(`{"name": "a", "type": "absoluteSort", "sortDirection": "ascending", "sortAttribute": "prefs"}`), "rules[0].mapKey", "is required"},
		{"distance sort on string", withRules(`{"name": "a", "type": "distanceSort", "sortDirection": "ascending", "sortAttribute": "mode"}`), "rules[0].sortAttribute", "takes number or string_number_map"},
		{"compound unknown rule", withRules(`{"name": "a", "type": "compound", "statement": "and(b, c)"}`), "rules[0].statement", `rule "b", which is not defined`},
		{"compound bad syntax", withRules(`{"name": "a", "type": "compound", "statement": "and(b, c"}`), "rules[0].statement", "missing ')'"},
		{"compound not arity", withRules(`{"name": "b", "type": "latency", "maxLatency": 5}, {"name": "a", "type": "compound", "statement": "not(b, b)"}`), "rules[1].statement", "not takes one operand"},
		{"compound of latency", withRules(`{"name": "b", "type": "latency", "maxLatency": 5}, {"name": "a", "type": "compound", "statement": "not(b)"}`), "rules[1].statement", "names latency rule"},
		{"compound cycle", withRules(`{"name": "a", "type": "compound", "statement": "not(b)"}, {"name": "b", "type": "compound", "statement": "not(a)"}`), "rules[0].statement", "cycle"},
		{"large with distance rule", `{` + base + `, "algorithm": {"strategy": "balanced", "balancedAttribute": "skill"}, "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 50}], "rules": [{"name": "d", "type": "distance", "measurements": ["teams[a].players.attributes[skill]"], "maxDistance": 1}]}`, "rules[0].type", "not available for large matches"},
		{"large latency distance", `{` + base + `, "algorithm": {"strategy": "balanced", "balancedAttribute": "skill"}, "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 50}], "rules": [{"name": "l", "type": "latency", "maxLatency": 100, "maxDistance": 10, "distanceReference": "min"}]}`, "rules[0].maxDistance", "maxLatency only"},
		{"expansion unknown rule", `{` + base + `, ` + twoTeams + `, "expansions": [{"target": "rules[x].maxDistance", "steps": [{"waitTimeSeconds": 1, "value": 2}]}]}`, "expansions[0].target", `rule "x" is not defined`},
		{"expansion bad target", `{` + base + `, ` + twoTeams + `, "expansions": [{"target": "algorithm.strategy", "steps": [{"waitTimeSeconds": 1, "value": 2}]}]}`, "expansions[0].target", "is not rules[name].property"},
		{"expansion bad property", withRulesAndExpansion(`{"name": "l", "type": "latency", "maxLatency": 50}`, `"rules[l].minCount"`, `[{"waitTimeSeconds": 1, "value": 2}]`), "expansions[0].target", `"minCount" is not a property an expansion can change`},
		{"expansion of compound", withRulesAndExpansion(`{"name": "l", "type": "latency", "maxLatency": 50}, {"name": "c", "type": "compound", "statement": "and(l, l)"}`, `"rules[c].maxDistance"`, `[]`), "rules[1].statement", "names latency rule"},
		{"expansion no steps", withRulesAndExpansion(`{"name": "l", "type": "latency", "maxLatency": 50}`, `"rules[l].maxLatency"`, `[]`), "expansions[0].steps", "at least one step"},
		{"expansion steps out of order", withRulesAndExpansion(`{"name": "l", "type": "latency", "maxLatency": 50}`, `"rules[l].maxLatency"`, `[{"waitTimeSeconds": 10, "value": 100}, {"waitTimeSeconds": 5, "value": 150}]`), "expansions[0].steps[1].waitTimeSeconds", "must increase"},
		{"expansion step without value", withRulesAndExpansion(`{"name": "l", "type": "latency", "maxLatency": 50}`, `"rules[l].maxLatency"`, `[{"waitTimeSeconds": 10}]`), "expansions[0].steps[0].value", "is required"},
		{"expansion team min over max", `{` + base + `, ` + twoTeams + `, "expansions": [{"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 1, "value": 3}]}]}`, "expansions[0].steps[0].value", "more than team"},
		{"expansion unknown team", `{` + base + `, ` + twoTeams + `, "expansions": [{"target": "teams[green].minPlayers", "steps": [{"waitTimeSeconds": 1, "value": 1}]}]}`, "expansions[0].target", `team "green" is not defined`},
		{"expansion twice", `{` + base + `, ` + twoTeams + `, "expansions": [{"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 1, "value": 1}]}, {"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 2, "value": 0}]}]}`, "expansions[1].target", "expanded twice"},
		{"expansion string reference", withRulesAndExpansion(`{"name": "m", "type": "comparison", "measurements": ["teams[red].players.attributes[mode]"], "referenceValue": "x", "operation": "="}`, `"rules[m].referenceValue"`, `[{"waitTimeSeconds": 1, "value": 1}]`), "expansions[0].target", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Path != tt.path || !strings.Contains(e.Message, tt.message) {
				t.Errorf("got %q at %q; want %q at %q", e.Message, e.Path, tt.message, tt.path)
			}
		})
	}
}

func withRulesAndExpansion(rules, target, steps string) string {
	return `{` + base + `, ` + twoTeams + `, "rules": [` + rules + `], "expansions": [{"target": ` + target + `, "steps": ` + steps + `}]}`
}

func TestParseExpressionTypes(t *testing.T) {
	attrs := map[string]AttributeType{"skill": AttributeNumber, "mode": AttributeString, "maps": AttributeStringList}
	teams := map[string][]string{"red": {"red"}, "blue": {"blue"}, "h": {"h_1", "h_2"}}
	tests := []struct{ src, typ string }{
		{"teams[red]", "team"},
		{"teams[*]", "List<team>"},
		{"team[red].players", "List<player>"},
		{"teams[red].players[playerId]", "List<string>"},
		{"teams[red,blue].players.attributes[skill]", "List<List<number>>"},
		{"teams[h].players.attributes[skill]", "List<List<number>>"},
		{"avg(teams[*].players.attributes[skill])", "List<number>"},
		{"max(avg(teams[*].players.attributes[skill]))", "number"},
		{"avg(flatten(teams[*].players.attributes[skill]))", "number"},
		{"count (teams[*].players)", "List<number>"},
		{"count(teams[red].players)", "number"},
		{"flatten(teams[*].players.attributes[maps])", "List<List<string>>"},
		{"set_intersection(flatten(teams[*].players.attributes[maps]))", "List<string>"},
		{"count(set_intersection(teams[*].players.attributes[mode]))", "number"},
		{"stddev(teams[red].players.attributes[skill])", "number"},
		{"median(teams[red].players.attributes[skill])", "number"},
		{"sum(teams[red].players.attributes[skill])", "number"},
	}
	for _, tt := range tests {
		e, err := parseExpr(tt.src, attrs, teams)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if e.typ.String() != tt.typ {
			t.Errorf("%s: %s, want %s", tt.src, e.typ, tt.typ)
		}
	}
}
