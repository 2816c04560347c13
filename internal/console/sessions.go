package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
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

// sessions is the server-side table of signed-in browsers, bounded in size and per key: a
// key at its bound gives up its own oldest session for a new one, so no key can sign
// another out; when the whole table is full, expired sessions go first, then the oldest
// session of the key holding the most.
type sessions struct {
	mu     sync.Mutex
	byID   map[string]*session
	byKey  map[string][]*session // each key's sessions, oldest first
	max    int
	perKey int
}

func newSessions(max, perKey int) *sessions {
	return &sessions{byID: map[string]*session{}, byKey: map[string][]*session{}, max: max, perKey: perKey}
}

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
	if own := t.byKey[keyID]; len(own) >= t.perKey {
		t.drop(own[0])
	} else if len(t.byID) >= t.max {
		t.dropExpired(now)
		if len(t.byID) >= t.max {
			t.drop(t.heaviest()[0])
		}
	}
	t.byID[s.id] = s
	t.byKey[keyID] = append(t.byKey[keyID], s)
	return s
}

// drop removes a session. The caller holds t.mu.
func (t *sessions) drop(s *session) {
	delete(t.byID, s.id)
	own := slices.DeleteFunc(t.byKey[s.keyID], func(o *session) bool { return o == s })
	if len(own) == 0 {
		delete(t.byKey, s.keyID)
	} else {
		t.byKey[s.keyID] = own
	}
}

func (t *sessions) dropExpired(now time.Time) {
	for _, s := range t.byID {
		if !now.Before(s.expires) {
			t.drop(s)
		}
	}
}

// heaviest returns the sessions of the key holding the most; of keys holding as many, the
// one whose oldest session ends first.
func (t *sessions) heaviest() []*session {
	var most []*session
	for _, own := range t.byKey {
		if len(own) > len(most) || len(own) == len(most) && own[0].expires.Before(most[0].expires) {
			most = own
		}
	}
	return most
}

// get returns the session of a cookie's value while it lasts.
func (t *sessions) get(id string, now time.Time) (*session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	if ok && !now.Before(s.expires) {
		t.drop(s)
		return nil, false
	}
	return s, ok
}

func (t *sessions) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.byID[id]; ok {
		t.drop(s)
	}
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

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// subtleEqual compares two tokens in constant time.
func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
