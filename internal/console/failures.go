package console

import (
	"container/list"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits on failed sign-ins. A wrong guess counts against the address it came from
// together with the key it named, and against that key; right credentials are refused
// only when that pair failed too often lately, or failed at all while the key fails too
// often from everywhere (guesses spread over many addresses get one each), and never from
// a browser that signed in with the key before (its device cookie).
const (
	// maxFailures is how often one address may fail for one key within failureWindow.
	maxFailures = 5
	// maxKeyFailures is how often a key may fail from all addresses within failureWindow
	// before an address that failed with it once is refused.
	maxKeyFailures = 20
	failureWindow  = time.Minute
	// maxFailureEntries bounds the failure table; the oldest entry goes first.
	maxFailureEntries = 10000
	// deviceCookieTTL is how long a browser that signed in is known as the key's.
	deviceCookieTTL = 30 * 24 * time.Hour
	// DeviceCookieName is the cookie that tells a browser signed in with a key before.
	DeviceCookieName = "hoist_console_device"
)

// failures counts failed sign-ins per name (an address and key, or a key) within a window.
// The table is bounded: when full, the entry whose window began first goes.
type failures struct {
	mu     sync.Mutex
	byName map[string]*list.Element // of *failureCount
	order  *list.List               // oldest window first
	max    int
}

type failureCount struct {
	name  string
	n     int
	since time.Time
}

func newFailures(max int) *failures {
	return &failures{byName: map[string]*list.Element{}, order: list.New(), max: max}
}

// count returns how often name failed in the current window.
func (f *failures) count(name string, now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.byName[name]
	if !ok {
		return 0
	}
	c := e.Value.(*failureCount)
	if now.Sub(c.since) >= failureWindow {
		f.order.Remove(e)
		delete(f.byName, name)
		return 0
	}
	return c.n
}

// fail counts one failure of name.
func (f *failures) fail(name string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.byName[name]
	if ok && now.Sub(e.Value.(*failureCount).since) >= failureWindow {
		f.order.Remove(e)
		delete(f.byName, name)
		ok = false
	}
	if !ok {
		for f.order.Len() >= f.max {
			oldest := f.order.Front()
			f.order.Remove(oldest)
			delete(f.byName, oldest.Value.(*failureCount).name)
		}
		e = f.order.PushBack(&failureCount{name: name, since: now})
		f.byName[name] = e
	}
	e.Value.(*failureCount).n++
}

// Names of the failure table's entries.
func pairName(addr, keyID string) string { return "pair\x00" + addr + "\x00" + keyID }
func keyName(keyID string) string        { return "key\x00" + keyID }

// clientAddr is the address a request came from: its peer's, or, when the peer is a
// trusted proxy, the nearest address in X-Forwarded-For that is not one; proxies append
// the address they were reached from, so entries left of a trusted proxy's own may be
// forged.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		peer = hop.Unmap()
		if !isTrusted(peer, trusted) {
			break
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// deviceToken is what a browser that signed in with keyID, under its current secret, is
// given to show later: an HMAC under the console's own key, so it cannot be made without
// signing in, and it is void once the key is made anew.
func (c *Console) deviceToken(keyID, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	mac := hmac.New(sha256.New, c.deviceKey[:])
	mac.Write([]byte(keyID))
	mac.Write([]byte{0})
	mac.Write(sum[:])
	return keyID + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// knownDevice tells whether the request's browser signed in with keyID, under secret,
// before.
func (c *Console) knownDevice(r *http.Request, keyID, secret string) bool {
	ck, err := r.Cookie(DeviceCookieName)
	return err == nil && hmac.Equal([]byte(ck.Value), []byte(c.deviceToken(keyID, secret)))
}

func (c *Console) deviceCookie(r *http.Request, keyID, secret string) *http.Cookie {
	return &http.Cookie{Name: DeviceCookieName, Value: c.deviceToken(keyID, secret), Path: Path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r), MaxAge: int(deviceCookieTTL.Seconds())}
}
