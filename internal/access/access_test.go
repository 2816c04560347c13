package access

import (
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

func TestCheckPatterns(t *testing.T) {
	ops := []string{"CreateGameSession", "DescribeFleetAttributes", "hoist:ListAccessKeys"}
	for _, ok := range [][]string{{"*"}, {"CreateGameSession"}, {"Describe*", "Create*"}, {"hoist:*"}} {
		if err := checkPatterns(ok, ops); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{nil, {"CreateGameSessoin"}, {"*Fleet"}, {"Describe**"}, {"Delete*"}, {"Create Game"}, {""}} {
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
