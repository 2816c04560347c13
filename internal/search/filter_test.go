package search

import (
	"strings"
	"testing"
)

// sessions every filter test runs against: a spread of names, properties and players.
var sessions = map[string]*Session{
	"a": {ID: "arn:gs/a", Name: "Matt's Awesome Game 1", Properties: map[string]string{"mode": "brawl", "level": "10"}, MaximumSessions: 10, CreationTimeMillis: 1000, PlayerSessionCount: 3},
	"b": {ID: "arn:gs/b", Name: "quiet room", Properties: map[string]string{"mode": "ranked", "level": "9"}, MaximumSessions: 4, CreationTimeMillis: 2000, PlayerSessionCount: 4},
	"c": {ID: "arn:gs/c", Properties: map[string]string{"mode": "brawl"}, MaximumSessions: 16, CreationTimeMillis: 3000, PlayerSessionCount: 0},
	"d": {ID: "arn:gs/d", Name: `say "hi" \o/`, MaximumSessions: 2, CreationTimeMillis: 4000, PlayerSessionCount: 1},
}

// matching returns the names of the sessions f matches, in name order.
func matching(f *Filter) string {
	var out []string
	for _, n := range []string{"a", "b", "c", "d"} {
		if f.Match(sessions[n]) {
			out = append(out, n)
		}
	}
	return strings.Join(out, "")
}

func TestFilterMatches(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// every operand and comparator
		{"gameSessionId = 'arn:gs/b'", "b"},
		{"gameSessionId <> 'arn:gs/b'", "acd"},
		{`gameSessionName = 'Matt\'s Awesome Game 1'`, "a"},
		{`gameSessionName = "Matt's Awesome Game 1"`, "a"},
		{`gameSessionName = 'say "hi" \\o/'`, "d"},
		{`gameSessionName = "say \"hi\" \\o/"`, "d"},
		{"gameSessionName = 'quiet ROOM'", ""}, // strings are case sensitive
		{"gameSessionName <> 'quiet room'", "acd"},
		{"gameSessionProperties.mode = 'brawl'", "ac"},
		{`gameSessionProperties.mode = "ranked"`, "b"},
		{"gameSessionProperties.mode <> 'brawl'", "bd"}, // d has no mode: it is not brawl
		{"gameSessionProperties.level = '10'", "a"},     // values are strings
		{"gameSessionProperties.missing = ''", ""},
		{"maximumSessions = 4", "b"},
		{"maximumSessions <> 4", "acd"},
		{"maximumSessions < 10", "bd"},
		{"maximumSessions > 10", "c"},
		{"maximumSessions <= 10", "abd"},
		{"maximumSessions >= 10", "ac"},
		{"creationTimeMillis > 1500", "bcd"},
		{"creationTimeMillis >= -1", "abcd"},
		{"playerSessionCount = 0", "c"},
		{"playerSessionCount >= 1", "abd"},
		{"hasAvailablePlayerSessions = true", "acd"},
		{"hasAvailablePlayerSessions = FALSE", "b"},
		{"hasAvailablePlayerSessions <> true", "b"},
		// the documented examples
		{"maximumSessions>=10 AND hasAvailablePlayerSessions=true", "ac"},
		// precedence: NOT over AND over OR; parentheses override
		{"maximumSessions = 4 OR maximumSessions = 2 AND playerSessionCount = 0", "b"},
		{"(maximumSessions = 4 OR maximumSessions = 2) AND playerSessionCount = 1", "d"},
		{"NOT maximumSessions = 4 AND playerSessionCount = 0", "c"},
		{"NOT (maximumSessions = 4 OR playerSessionCount = 0)", "ad"},
		{"NOT NOT maximumSessions = 4", "b"},
		{"maximumSessions = 16 OR NOT gameSessionProperties.mode = 'brawl' AND maximumSessions > 2", "bc"},
		{"gameSessionProperties.mode = 'brawl' AND maximumSessions > 10 OR gameSessionProperties.mode = 'ranked'", "bc"},
		{"((((playerSessionCount = 3))))", "a"},
		// keywords in any case, spacing free where a token ends by itself
		{"maximumSessions=4 or maximumSessions=2", "bd"},
		{"not(maximumSessions=4)And(playerSessionCount>0)", "ad"},
		{"\t maximumSessions\n>=\r16 ", "c"},
		{"gameSessionProperties.mode='brawl'AND playerSessionCount=0", "c"},
	} {
		f, err := ParseFilter(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := matching(f); got != tc.want {
			t.Errorf("%s (read as %s): matched %q, want %q", tc.expr, f, got, tc.want)
		}
	}
}

func TestFilterPrecedence(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"playerSessionCount = 1 OR playerSessionCount = 2 AND playerSessionCount = 3",
			"(playerSessionCount = 1 OR (playerSessionCount = 2 AND playerSessionCount = 3))"},
		{"playerSessionCount = 1 AND playerSessionCount = 2 OR playerSessionCount = 3",
			"((playerSessionCount = 1 AND playerSessionCount = 2) OR playerSessionCount = 3)"},
		{"NOT playerSessionCount = 1 AND playerSessionCount = 2",
			"(NOT playerSessionCount = 1 AND playerSessionCount = 2)"},
		{"NOT (playerSessionCount = 1 AND playerSessionCount = 2)",
			"NOT (playerSessionCount = 1 AND playerSessionCount = 2)"},
		{"playerSessionCount = 1 OR playerSessionCount = 2 OR playerSessionCount = 3", // left to right
			"((playerSessionCount = 1 OR playerSessionCount = 2) OR playerSessionCount = 3)"},
		{"gameSessionName = 'x' AND NOT NOT hasAvailablePlayerSessions = true",
			`(gameSessionName = 'x' AND NOT NOT hasAvailablePlayerSessions = true)`},
		{`gameSessionName = "it's \\ \"x\""`, `gameSessionName = 'it\'s \\ "x"'`},
	} {
		f, err := ParseFilter(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := f.String(); got != tc.want {
			t.Errorf("%s: read as %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestFilterSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		column int
		msg    string // a part of the message
	}{
		{"", 1, "expected a condition"},
		{"   ", 4, "found the end of the expression"},
		{"maximumSessions", 16, "expected a comparator"},
		{"maximumSessions 10", 17, "expected a comparator (=, <>, <, >, <=, >=) after maximumSessions, found the number 10"},
		{"maximumSessions == 10", 18, "compares with a number, found '='"},
		{"maximumSessions != 10", 17, "not equal is <>"},
		{"maximumSessions =", 18, "compares with a number, found the end"},
		{"maximumSessions = 'ten'", 19, "compares with a number, found the string 'ten'"},
		{"maximumSessions = 1.5", 19, "malformed number"},
		{"maximumSessions = 10AND playerSessionCount = 1", 19, "malformed number"},
		{"maximumSessions = 99999999999999999999", 19, "out of range"},
		{"maximumSessions = true", 19, "compares with a number, found 'true'"},
		{"maximumSessions = - 1", 19, "unexpected character '-'"},
		{"gameSessionName = Matt", 19, "compares with a quoted string, found 'Matt'"},
		{"gameSessionName = 10", 19, "compares with a quoted string, found the number 10"},
		{"gameSessionName < 'm'", 17, "gameSessionName compares with = or <> only, not <"},
		{"gameSessionId >= 'a'", 15, "compares with = or <> only, not >="},
		{"gameSessionProperties.level > '5'", 29, "gameSessionProperties.level compares with = or <> only, not >"},
		{"gameSessionProperties.level = 5", 31, "compares with a quoted string, found the number 5"},
		{"hasAvailablePlayerSessions = 1", 30, "compares with true or false, found the number 1"},
		{"hasAvailablePlayerSessions = 'true'", 30, "compares with true or false"},
		{"hasAvailablePlayerSessions < true", 28, "compares with = or <> only, not <"},
		{"gameSessionName = 'open", 19, "unterminated string: no closing '"},
		{`gameSessionName = "open\"`, 19, `unterminated string: no closing "`},
		{`gameSessionName = 'x\`, 19, "unterminated string"},
		{"GameSessionName = 'x'", 1, "unknown attribute 'GameSessionName': expected one of gameSessionId"},
		{"players > 1", 1, "unknown attribute 'players'"},
		{"gameSessionProperties = 'x'", 1, "expected gameSessionProperties.<key>"},
		{"gameSessionProperties. = 'x'", 23, "expected a property key"},
		{"gameSessionProperties.a.b = 'x'", 24, "periods cannot be searched"},
		{"gameSessionName.x = 'y'", 16, "unexpected character '.'"},
		{"maximumSessions = 4 AND", 24, "expected a condition (an attribute, NOT or '('), found the end"},
		{"maximumSessions = 4 OR OR maximumSessions = 2", 24, "expected a condition (an attribute, NOT or '('), found 'OR'"},
		{"AND maximumSessions = 4", 1, "found 'AND'"},
		{"maximumSessions = 4 maximumSessions = 2", 21, "expected AND, OR or the end of the expression, found 'maximumSessions'"},
		{"maximumSessions = 4 XOR maximumSessions = 2", 21, "expected AND, OR or the end of the expression, found 'XOR'"},
		{"NOT", 4, "expected a condition"},
		{"(maximumSessions = 4", 21, "expected AND, OR or ')' to close the '(' at column 1, found the end"},
		{"((maximumSessions = 4)", 23, "to close the '(' at column 1"},
		{"maximumSessions = 4)", 20, "')' closes no '('"},
		{"()", 2, "expected a condition"},
		{"maximumSessions = 4 & playerSessionCount = 1", 21, "unexpected character '&'"},
		{"gameSessionName = 'é' OR ü", 26, "unexpected character 'ü'"}, // columns count characters
		{"maximumSessions = 4 AND (playerSessionCount = 1 OR)", 51, "expected a condition"},
	} {
		_, err := ParseFilter(tc.expr)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: got %v, want a syntax error", tc.expr, err)
			continue
		}
		if se.Column != tc.column || !strings.Contains(se.Error(), tc.msg) {
			t.Errorf("%q: got %q (column %d), want column %d and %q", tc.expr, se.Error(), se.Column, tc.column, tc.msg)
		}
		if !strings.HasPrefix(se.Error(), "at column ") {
			t.Errorf("%q: %q does not say where", tc.expr, se.Error())
		}
	}
}

func TestNilFilterMatchesAll(t *testing.T) {
	var f *Filter
	if got := matching(f); got != "abcd" {
		t.Errorf("nil filter matched %q", got)
	}
}
