package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// Failures count per name until the window passes.
func TestFailuresForget(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFailures(10)
	for range maxFailures {
		f.fail("a", now)
	}
	if f.count("a", now) != maxFailures || f.count("b", now) != 0 {
		t.Error("want a counted, b not")
	}
	if f.count("a", now.Add(failureWindow)) != 0 {
		t.Error("still counted after the window")
	}
}

// A full failure table lets its oldest entry go, never all of them: many new addresses
// do not reset the count of one that is guessing.
func TestFailuresEvictOldest(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFailures(10)
	for i := range 9 {
		f.fail(fmt.Sprint("other", i), now)
	}
	for range maxFailures {
		f.fail("guesser", now.Add(time.Second))
	}
	for i := range 5 {
		f.fail(fmt.Sprint("new", i), now.Add(2*time.Second))
	}
	if n := f.count("guesser", now.Add(3*time.Second)); n != maxFailures {
		t.Errorf("the guesser's count after the table filled = %d, want %d", n, maxFailures)
	}
	if f.count("other0", now) != 0 || f.order.Len() != 10 || len(f.byName) != 10 {
		t.Errorf("the oldest entry was kept, or the table holds %d", f.order.Len())
	}
}

// X-Forwarded-For tells the address only when the peer is a trusted proxy, and then the
// nearest hop that is not one.
func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, c := range []struct {
		peer, xff string
		trusted   []netip.Prefix
		want      string
	}{
		{"192.0.2.1:5000", "198.51.100.7", nil, "192.0.2.1"},
		{"192.0.2.1:5000", "198.51.100.7", proxies, "192.0.2.1"},
		{"10.0.0.5:5000", "198.51.100.7", proxies, "198.51.100.7"},
		{"10.0.0.5:5000", "203.0.113.9, 198.51.100.7, 10.0.0.6", proxies, "198.51.100.7"},
		{"10.0.0.5:5000", "", proxies, "10.0.0.5"},
		{"10.0.0.5:5000", "not-an-address", proxies, "10.0.0.5"},
		{"[::1]:5000", "198.51.100.7", proxies, "::1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/console/signin", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r, c.trusted); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
