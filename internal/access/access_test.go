package access

import (
	"strings"
	"testing"
	"time"
)

func TestAllows(t *testing.T) {
	allow := []string{"CreateGameSession", "CreatePlayerSession*", "Describe*"}
	for op, want := range map[string]bool{
		"CreateGameSession": true, "CreateGameSessionQueue": false, "CreatePlayerSession": true,
		"CreatePlayerSessions": true, "DescribeFleetAttributes": true, "DeleteFleet": false,
		"hoist:CreateAccessKey": false, "": false,
	} {
		if got := Allows(allow, op); got != want {
			t.Errorf("Allows(%s) = %v, want %v", op, got, want)
		}
	}
	if !Allows([]string{"*"}, "hoist:DeleteAccessKey") || !IsAdmin([]string{"Describe*", "*"}) || IsAdmin(allow) {
		t.Error("* is not everything")
	}
}

// Hoist's own operations are reached only by * or a prefix naming their namespace.
func TestAllowsHoistNamespace(t *testing.T) {
	for _, c := range []struct {
		pattern, op string
		want        bool
	}{
		{"*", "hoist:CreateAccessKey", true}, {"hoist:*", "hoist:CreateAccessKey", true},
		{"hoist:Create*", "hoist:CreateAccessKey", true}, {"hoist:CreateAccessKey", "hoist:CreateAccessKey", true},
		{"h*", "hoist:CreateAccessKey", false}, {"hoist*", "hoist:ListAccessKeys", false},
		{"Create*", "hoist:CreateAccessKey", false}, {"hoist:*", "CreateFleet", false},
		{"Create*", "CreateFleet", true},
	} {
		if got := Allows([]string{c.pattern}, c.op); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.pattern, c.op, got, c.want)
		}
	}
}

// Covers is sound: whatever a covered pattern reaches, the covering one reaches too, for
// every name up to a length over a small alphabet (so for operations a later version may
// add); and it is exact for one pattern against one: a pattern not covered reaches some
// name the other does not.
func TestCoversIsSound(t *testing.T) {
	names := words("ab:", 4)
	patterns := []string{"*"}
	for _, n := range words("ab:", 3) {
		patterns = append(patterns, n, n+"*")
	}
	for _, c := range patterns {
		for _, q := range patterns {
			escapes, found := "", false
			for _, op := range names {
				if matches(q, op) && !matches(c, op) {
					escapes, found = op, true
					break
				}
			}
			if got := Covers([]string{c}, []string{q}); got && found {
				t.Errorf("Covers(%q, %q), but %q reaches %q", c, q, q, escapes)
			} else if !got && !found && !(strings.HasSuffix(q, "*") && len(q) > 3) {
				t.Errorf("Covers(%q, %q) = false, but no name up to 4 long tells them apart", c, q)
			}
		}
	}
	for _, c := range []struct {
		have, want []string
		ok         bool
	}{
		{[]string{"*"}, []string{"*", "hoist:*"}, true},
		{[]string{"hoist:*"}, []string{"*"}, false},
		{[]string{"hoist:CreateAccessKey"}, []string{"hoist:*"}, false},
		{[]string{"hoist:Create*"}, []string{"hoist:CreateAccessKey", "hoist:Create*"}, true},
		{[]string{"Create*"}, []string{"hoist:CreateAccessKey"}, false},
		{[]string{"Describe*", "Create*"}, []string{"DescribeFleetAttributes", "CreateGameSession*"}, true},
		{[]string{"DescribeFleetAttributes"}, []string{"DescribeFleet*"}, false},
		{[]string{"Describe*"}, []string{"DescribeFleet*", "Create*"}, false},
	} {
		if got := Covers(c.have, c.want); got != c.ok {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.have, c.want, got, c.ok)
		}
	}
}

// words returns every string of 1 to n letters of alphabet.
func words(alphabet string, n int) []string {
	var out []string
	level := []string{""}
	for range n {
		var next []string
		for _, w := range level {
			for _, r := range alphabet {
				next = append(next, w+string(r))
			}
		}
		out, level = append(out, next...), next
	}
	return out
}

func TestCheckPatterns(t *testing.T) {
	ops := []string{"CreateGameSession", "DescribeFleetAttributes", "hoist:ListAccessKeys"}
	for _, ok := range [][]string{{"*"}, {"CreateGameSession"}, {"Describe*", "Create*"}, {"hoist:*"}} {
		if err := checkPatterns(ok, ops); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{nil, {"CreateGameSessoin"}, {"*Fleet"}, {"Describe**"}, {"Delete*"}, {"h*"}, {"hoist*"}, {"Create Game"}, {""}} {
		if err := checkPatterns(bad, ops); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits(" 100, CreateGameSession=2.5 ,Describe*=10")
	if err != nil || len(l.rules) != 3 || l.rules[0] != (rule{"*", 100}) || l.rules[1] != (rule{"CreateGameSession", 2.5}) {
		t.Errorf("ParseLimits = %+v, %v", l, err)
	}
	if l, err := ParseLimits(""); err != nil || len(l.rules) != 0 {
		t.Errorf("empty = %+v, %v", l, err)
	}
	for _, bad := range []string{"x", "CreateGameSession=0", "A=-1", "*Fleet=3", "=", "A=1e12"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLimiter(t *testing.T) {
	l, _ := ParseLimits("CreateGameSession=2,*=3")
	lim := newLimiter(l)
	at := time.Unix(1000, 0)
	// A second's worth at once: two creates, then the overall bucket has one call left.
	if !lim.allow("k1", "CreateGameSession", at) || !lim.allow("k1", "CreateGameSession", at) {
		t.Fatal("burst refused")
	}
	if lim.allow("k1", "CreateGameSession", at) {
		t.Error("third create in the same instant allowed")
	}
	if !lim.allow("k1", "DescribeFleetAttributes", at) {
		t.Error("the refused create took a token from the overall bucket")
	}
	if lim.allow("k1", "DescribeFleetAttributes", at) {
		t.Error("fourth call in the same instant allowed")
	}
	if !lim.allow("k2", "CreateGameSession", at) {
		t.Error("another key shares k1's buckets")
	}
	// Half a second refills one create token and 1.5 overall.
	at = at.Add(500 * time.Millisecond)
	if !lim.allow("k1", "CreateGameSession", at) || lim.allow("k1", "CreateGameSession", at) {
		t.Error("refill is not at the rate")
	}
	lim.forget("k1")
	if !lim.allow("k1", "CreateGameSession", at) {
		t.Error("a forgotten key starts with a full bucket")
	}
	if none := newLimiter(Limits{}); !none.allow("k", "x", at) {
		t.Error("no limits refused a call")
	}
}
