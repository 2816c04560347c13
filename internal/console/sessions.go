package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser: the key it signed in with, until when.
type session struct {
	id      string // the cookie's value: 32 random bytes, base64url
	keyID   string
	secret  [32]byte // SHA-256 of the secret signed in with: a key made anew under its ID does not inherit the session
	csrf    string   // sign-out's form token
	expires time.Time
	// busy bounds the requests one session has under way at once (its open tabs polling).
	busy chan struct{}
}

// sessions is the server-side table of signed-in browsers, bounded in size: when full, a
// new sign-in pushes out the session nearest its end.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	max  int
}

func newSessions(max int) *sessions { return &sessions{byID: map[string]*session{}, max: max} }

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand panics instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// add starts a session for keyID, signed in with secret, until expires.
func (t *sessions) add(keyID, secret string, expires time.Time, now time.Time, perSession int) *session {
	s := &session{id: randomToken(), keyID: keyID, secret: sha256.Sum256([]byte(secret)), csrf: randomToken(),
		expires: expires, busy: make(chan struct{}, perSession)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byID) >= t.max {
		for id, old := range t.byID {
			if !now.Before(old.expires) {
				delete(t.byID, id)
			}
		}
	}
	for len(t.byID) >= t.max {
		var oldest *session
		for _, old := range t.byID {
			if oldest == nil || old.expires.Before(oldest.expires) {
				oldest = old
			}
		}
		delete(t.byID, oldest.id)
	}
	t.byID[s.id] = s
	return s
}

// get returns the session of a cookie's value while it lasts.
func (t *sessions) get(id string, now time.Time) (*session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	if ok && !now.Before(s.expires) {
		delete(t.byID, id)
		return nil, false
	}
	return s, ok
}

func (t *sessions) remove(id string) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

func (t *sessions) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// sameSecret compares two secrets in time that depends on neither.
func sameSecret(a [32]byte, secret string) bool {
	b := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// failures counts failed sign-ins per client address, to slow guessing: after
// maxFailures within failureWindow, that address may not try again until the window
// passes. The table is bounded; when full, it starts afresh.
type failures struct {
	mu     sync.Mutex
	byAddr map[string]*failureCount
	max    int
}

type failureCount struct {
	n     int
	since time.Time
}

const (
	maxFailures   = 5
	failureWindow = time.Minute
)

func newFailures(max int) *failures { return &failures{byAddr: map[string]*failureCount{}, max: max} }

// blocked tells whether addr has failed too often lately.
func (f *failures) blocked(addr string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byAddr[addr]
	if ok && now.Sub(c.since) >= failureWindow {
		delete(f.byAddr, addr)
		return false
	}
	return ok && c.n >= maxFailures
}

func (f *failures) fail(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byAddr[addr]
	if !ok || now.Sub(c.since) >= failureWindow {
		if len(f.byAddr) >= f.max {
			clear(f.byAddr)
		}
		c = &failureCount{since: now}
		f.byAddr[addr] = c
	}
	c.n++
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// subtleEqual compares two tokens in constant time.
func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
