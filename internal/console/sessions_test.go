package console

import (
	"testing"
	"time"
)

// The session table holds at most its bound: expired sessions go first, then those
// nearest their end; an expired session is not returned.
func TestSessionsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tab := newSessions(3, 3)
	old := tab.add("K1", "s", now.Add(time.Minute), now, 1)
	mid := tab.add("K2", "s", now.Add(2*time.Minute), now, 1)
	tab.add("K3", "s", now.Add(3*time.Minute), now, 1)
	tab.add("K4", "s", now.Add(4*time.Minute), now, 1)
	if n := tab.len(); n != 3 {
		t.Fatalf("%d sessions kept, want 3", n)
	}
	if _, ok := tab.get(old.id, now); ok {
		t.Error("the session nearest its end was kept when the table was full")
	}
	if _, ok := tab.get(mid.id, now.Add(2*time.Minute)); ok {
		t.Error("an expired session was returned")
	}
	if n := tab.len(); n != 2 {
		t.Errorf("%d sessions after one expired, want 2", n)
	}
	if !sameSecret(sha256Of("s"), "s") || sameSecret(sha256Of("s"), "t") {
		t.Error("sameSecret")
	}
}

// A key at its bound gives up its own oldest session, never another key's; a full table
// gives up the oldest session of the key holding the most.
func TestSessionsPerKey(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tab := newSessions(6, 3)
	admin := tab.add("ADMIN", "s", now.Add(time.Minute), now, 1)
	var mine []*session
	for i := range 10 {
		mine = append(mine, tab.add("K", "s", now.Add(time.Duration(2+i)*time.Minute), now, 1))
	}
	if _, ok := tab.get(admin.id, now); !ok {
		t.Error("a key at its bound signed another key out")
	}
	for i, s := range mine {
		if _, ok := tab.get(s.id, now); ok != (i >= 7) {
			t.Errorf("session %d of K kept = %v", i, ok)
		}
	}
	tab.add("L", "s", now.Add(time.Hour), now, 1)
	tab.add("L", "s", now.Add(time.Hour), now, 1)
	tab.add("M", "s", now.Add(time.Hour), now, 1) // full: K holds the most
	if _, ok := tab.get(mine[7].id, now); ok || tab.len() != 6 {
		t.Errorf("a full table kept K's oldest (%v) or holds %d", ok, tab.len())
	}
	if _, ok := tab.get(admin.id, now); !ok {
		t.Error("a full table signed out the key holding one session")
	}
}

// Failed sign-ins block an address after maxFailures, until the window passes.
func TestFailuresBlockThenForget(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFailures(10)
	for range maxFailures - 1 {
		f.fail("10.0.0.1", now)
	}
	if f.blocked("10.0.0.1", now) {
		t.Error("blocked before maxFailures")
	}
	f.fail("10.0.0.1", now)
	if !f.blocked("10.0.0.1", now) || f.blocked("10.0.0.2", now) {
		t.Error("want 10.0.0.1 blocked, 10.0.0.2 not")
	}
	if f.blocked("10.0.0.1", now.Add(failureWindow)) {
		t.Error("still blocked after the window")
	}
}
