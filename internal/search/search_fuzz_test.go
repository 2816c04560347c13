package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary expressions to both parsers: they never panic, an error always
// says a column inside the expression (or just past its end), and what parses evaluates
// and sorts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"maximumSessions>=10 AND hasAvailablePlayerSessions=true",
		`gameSessionName = 'Matt\'s Awesome Game 1'`,
		`NOT (gameSessionProperties.mode = "brawl" OR playerSessionCount < 2)`,
		"creationTimeMillis DESC", "gameSessionProperties.level asc", "(((", "'", `"\`, "-", "é=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		check := func(err error) {
			if err == nil {
				return
			}
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("%q: %T %v", expr, err, err)
			}
			if se.Offset < 0 || se.Offset > len(expr) || se.Column < 1 || se.Column > utf8.RuneCountInString(expr)+1 {
				t.Fatalf("%q: error out of the expression: %+v", expr, se)
			}
			if !strings.HasPrefix(se.Error(), "at column ") {
				t.Fatalf("%q: %q", expr, se.Error())
			}
		}
		fl, err := ParseFilter(expr)
		check(err)
		if err == nil {
			for _, s := range sessions {
				fl.Match(s)
			}
			// the normal form parses back to the same filter
			if again, err := ParseFilter(fl.String()); err != nil || again.String() != fl.String() {
				t.Fatalf("%q: normal form %q reads back as %v, %v", expr, fl.String(), again, err)
			}
		}
		o, err := ParseSort(expr)
		check(err)
		if err == nil {
			for _, s := range sessions {
				o.Compare(s, o.CursorOf(sessions["a"]))
			}
		}
	})
}
