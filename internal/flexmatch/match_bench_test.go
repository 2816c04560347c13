package flexmatch

import (
	"math/rand/v2"
	"testing"
)

const twoVsTwoSkill = `{"ruleLanguageVersion": "1.0",
	"playerAttributes": [{"name": "skill", "type": "number"}],
	"teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}],
	"rules": [{"name": "FairTeams", "type": "distance",
		"measurements": ["avg(teams[*].players.attributes[skill])"],
		"referenceValue": "avg(flatten(teams[*].players.attributes[skill]))",
		"maxDistance": 50}]}`

// benchMatch runs Match on n waiting tickets and reports matched tickets per second.
func benchMatch(b *testing.B, body string, n int) {
	rs, err := Parse([]byte(body))
	if err != nil {
		b.Fatal(err)
	}
	ts := largePool(n, rand.New(rand.NewPCG(11, 12)))
	b.ResetTimer()
	matched := 0
	for b.Loop() {
		res := Match(rs, ts, t0)
		matched += n - len(res.Remaining)
	}
	b.ReportMetric(float64(matched)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(matched)/float64(b.N), "matched/op")
}

func BenchmarkMatch2v2Skill10k(b *testing.B)           { benchMatch(b, twoVsTwoSkill, 10000) }
func BenchmarkMatchLarge50v50Balanced10k(b *testing.B) { benchMatch(b, largeTwoTeams, 10000) }
