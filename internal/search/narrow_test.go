package search

import (
	"fmt"
	"testing"
)

func TestNarrow(t *testing.T) {
	// how many sessions satisfy each term, as an index would say
	sizes := map[Term]int{
		{Kind: TermProperty, Key: "mode", Value: "brawl"}: 50,
		{Kind: TermProperty, Key: "map", Value: "dunes"}:  20,
		{Kind: TermName, Value: "x"}:                      1,
		{Kind: TermAvailable, Value: "true"}:              900,
		{Kind: TermAvailable, Value: "false"}:             100,
	}
	size := func(t Term) int { return sizes[t] }
	for _, tc := range []struct {
		expr string
		want string // the terms, or "all" when every session must be read
	}{
		{"gameSessionProperties.mode = 'brawl'", "[{2 mode brawl}]"},
		{"gameSessionProperties.mode = 'brawl' AND gameSessionProperties.map = 'dunes'", "[{2 map dunes}]"},
		{"gameSessionProperties.map = 'dunes' AND gameSessionProperties.mode = 'brawl'", "[{2 map dunes}]"},
		{"gameSessionProperties.mode = 'brawl' OR gameSessionName = 'x'", "[{2 mode brawl} {1  x}]"},
		{"gameSessionProperties.mode = 'brawl' OR maximumSessions > 2", "all"},
		{"(gameSessionProperties.mode = 'brawl' OR maximumSessions > 2) AND hasAvailablePlayerSessions = false", "[{3  false}]"},
		{"hasAvailablePlayerSessions <> false", "[{3  true}]"},
		{"hasAvailablePlayerSessions = true AND gameSessionId = 'arn:1'", "[{0  arn:1}]"},
		{"gameSessionProperties.mode <> 'brawl'", "all"},
		{"NOT gameSessionProperties.mode = 'brawl'", "all"},
		{"maximumSessions = 4", "all"},
	} {
		f, err := ParseFilter(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		terms, ok := f.Narrow(size)
		got := fmt.Sprint(terms)
		if !ok {
			got = "all"
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.expr, got, tc.want)
		}
	}
	if _, ok := (*Filter)(nil).Narrow(size); ok {
		t.Error("a nil filter narrows")
	}
	// Whatever the filter narrows to holds every session it matches.
	for _, expr := range []string{"gameSessionProperties.mode = 'brawl' OR gameSessionName = 'quiet room'", "hasAvailablePlayerSessions = false AND maximumSessions > 1"} {
		f, _ := ParseFilter(expr)
		terms, _ := f.Narrow(func(Term) int { return 1 })
		for _, s := range sessions {
			if !f.Match(s) {
				continue
			}
			covered := false
			for _, have := range TermsOf(s) {
				for _, t := range terms {
					covered = covered || have == t
				}
			}
			if !covered {
				t.Errorf("%s: %s matches but is in none of %v", expr, s.ID, terms)
			}
		}
	}
}
