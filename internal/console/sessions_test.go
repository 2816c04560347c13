package console

import (
	"testing"
	"time"
)

// The session table holds at most its bound: expired sessions go first, then those
// nearest their end; an expired session is not returned.
func TestSessionsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tab := newSessions(3)
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
