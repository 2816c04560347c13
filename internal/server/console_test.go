package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/console"
	"github.com/hoist-dev/hoist/internal/server"
)

// browser is a plain HTTP client that keeps cookies and does not follow redirects, so
// each answer is seen as sent.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func consoleGet(t *testing.T, c *http.Client, srv *server.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// signIn posts the sign-in form with a key pair and returns the answer.
func signIn(t *testing.T, c *http.Client, srv *server.Server, id, secret string) *http.Response {
	t.Helper()
	return signInFrom(t, c, srv, "", id, secret)
}

// signInFrom signs in as a proxy would pass it on for the client at xff (none when "").
func signInFrom(t *testing.T, c *http.Client, srv *server.Server, xff, id, secret string) *http.Response {
	t.Helper()
	form := url.Values{"access_key_id": {id}, "secret_access_key": {secret}, "next": {"/console/fleets"}}
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.Endpoint)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func sessionCookie(res *http.Response) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == console.CookieName {
			return ck
		}
	}
	return nil
}

// Every console answer, signed in or not, carries the security headers; a page asks to
// sign in first, and a polled fragment gets 401.
func TestConsoleNeedsSignIn(t *testing.T) {
	srv, _ := start(t, t.TempDir())
	c := browser(t)
	for _, path := range []string{"/console", "/console/", "/console/fleets", "/console/session?id=x", "/console/queues", "/console/session/logs?id=x"} {
		res, _ := consoleGet(t, c, srv, path)
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s: %d, want 303", path, res.StatusCode)
			continue
		}
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/console/signin") && loc != "/console/fleets" {
			t.Errorf("GET %s goes to %s", path, loc)
		}
	}
	res, _ := consoleGet(t, c, srv, "/console/fleets")
	if loc := res.Header.Get("Location"); loc != "/console/signin?next=%2Fconsole%2Ffleets" {
		t.Errorf("redirect = %s", loc)
	}
	if res, _ := consoleGet(t, c, srv, "/console/fleets", "X-Hoist-Fragment", "1"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("fragment unsigned: %d, want 401", res.StatusCode)
	}
	res, body := consoleGet(t, c, srv, "/console/signin")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="secret_access_key"`) {
		t.Fatalf("sign-in page: %d %s", res.StatusCode, body)
	}
	h := res.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers = %v", h)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
		t.Error("the page has inline script or style, which the CSP refuses")
	}
	if res, body := consoleGet(t, c, srv, "/console/static/console.js"); res.StatusCode != http.StatusOK || !strings.Contains(body, "X-Hoist-Fragment") {
		t.Errorf("console.js: %d", res.StatusCode)
	}
}

// The session cookie's flags; a wrong secret, an unknown key and a cross-site form get no
// cookie; sign-out ends the session on the server.
func TestConsoleSignInCookie(t *testing.T) {
	srv, gc := start(t, t.TempDir())
	fleet := anywhereFleet(t, gc, "custom-console-1")
	c := browser(t)

	began := time.Now()
	res := signIn(t, c, srv, testCreds.AccessKeyID, "not-the-secret")
	if res.StatusCode != http.StatusUnauthorized || sessionCookie(res) != nil {
		t.Errorf("wrong secret: %d, cookie %v", res.StatusCode, sessionCookie(res))
	}
	if took := time.Since(began); took < 900*time.Millisecond {
		t.Errorf("a refused sign-in answered in %v; it should be slowed", took)
	}
	if res := signIn(t, c, srv, "AKNOSUCHKEY", testCreds.SecretAccessKey); res.StatusCode != http.StatusUnauthorized || sessionCookie(res) != nil {
		t.Errorf("unknown key: %d", res.StatusCode)
	}
	form := url.Values{"access_key_id": {testCreds.AccessKeyID}, "secret_access_key": {testCreds.SecretAccessKey}}
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil {
		t.Errorf("cross-site sign-in: %v %v", res.StatusCode, err)
	}

	res = signIn(t, c, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey)
	ck := sessionCookie(res)
	if res.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("sign-in: %d, cookie %v", res.StatusCode, ck)
	}
	if res.Header.Get("Location") != "/console/fleets" {
		t.Errorf("after sign-in: %s", res.Header.Get("Location"))
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
		t.Errorf("cookie = %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure on plain HTTP", ck)
	}
	if ttl := time.Until(ck.Expires); ttl < 11*time.Hour || ttl > 13*time.Hour || ck.MaxAge < 11*3600 {
		t.Errorf("cookie expires in %v (Max-Age %d), want 12 h", ttl, ck.MaxAge)
	}
	if len(ck.Value) < 40 {
		t.Errorf("session token %q is short", ck.Value)
	}
	res, body := consoleGet(t, c, srv, "/console/fleets")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, aws.ToString(fleet.FleetId)) || !strings.Contains(body, testCreds.AccessKeyID) {
		t.Fatalf("fleets page: %d %s", res.StatusCode, body)
	}
	res, body = consoleGet(t, c, srv, "/console/fleets", "X-Hoist-Fragment", "1")
	if res.StatusCode != http.StatusOK || strings.Contains(body, "<html") || !strings.Contains(body, aws.ToString(fleet.FleetId)) {
		t.Errorf("fragment: %d %s", res.StatusCode, body)
	}

	// Sign-out needs the page's form token, then ends the session server-side: the old
	// cookie no longer works even if a browser kept it.
	post := func(values url.Values) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/console/signout", strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post(url.Values{"csrf": {"wrong"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the form token: %d", res.StatusCode)
	}
	_, page := consoleGet(t, c, srv, "/console/fleets")
	csrf := between(page, `name="csrf" value="`, `"`)
	res = post(url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther || sessionCookie(res) == nil || sessionCookie(res).MaxAge >= 0 {
		t.Errorf("sign-out: %d, cookie %v", res.StatusCode, sessionCookie(res))
	}
	stale := browser(t)
	u, _ := url.Parse(srv.Endpoint + "/console/")
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: console.CookieName, Value: ck.Value, Path: "/console"}})
	if res, _ := consoleGet(t, stale, srv, "/console/fleets"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a signed-out session's cookie still works: %d", res.StatusCode)
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

// A sign-in expires; the cookie is Secure when the server is told it is behind TLS.
func TestConsoleSessionExpires(t *testing.T) {
	srv, _ := startWith(t, server.Config{ConsoleSessionTTL: time.Second, ConsoleSecureCookies: true})
	c := browser(t)
	res := signIn(t, c, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey)
	ck := sessionCookie(res)
	if ck == nil || !ck.Secure || ck.MaxAge > 1 {
		t.Fatalf("cookie = %+v, want Secure and 1 s", ck)
	}
	// The jar keeps no Secure cookie for http://, so send it by hand.
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/console/fleets", nil)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("fresh session: %d", code)
	}
	time.Sleep(1100 * time.Millisecond)
	if code := get(); code != http.StatusSeeOther {
		t.Errorf("expired session: %d, want 303 to sign in", code)
	}
}

// Each page shows what the key's allow list lets it describe, and says what it may not;
// a session ends when its key is deleted.
func TestConsoleScopedByAllowList(t *testing.T) {
	ctx := context.Background()
	srv, gc := start(t, t.TempDir())
	fleet := anywhereFleet(t, gc, "custom-console-2")
	id := aws.ToString(fleet.FleetId)
	viewer := createKey(t, srv, testCreds, "viewer", "DescribeGameSessions")
	c := browser(t)
	if res := signIn(t, c, srv, viewer.AccessKeyID, viewer.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	_, body := consoleGet(t, c, srv, "/console/fleets")
	if !strings.Contains(body, "This key may not DescribeFleetAttributes") || strings.Contains(body, id) {
		t.Errorf("fleets page for a key without DescribeFleetAttributes: %s", body)
	}
	_, body = consoleGet(t, c, srv, "/console/fleets/"+id)
	if !strings.Contains(body, "This key may not DescribeFleetAttributes") || strings.Contains(body, "custom-console-2") {
		t.Errorf("fleet page: %s", body)
	}
	_, body = consoleGet(t, c, srv, "/console/queues")
	if !strings.Contains(body, "This key may not DescribeGameSessionQueues") || !strings.Contains(body, "This key may not DescribeGameSessionPlacement") {
		t.Errorf("queues page: %s", body)
	}
	res, body := consoleGet(t, c, srv, "/console/sessions?fleet="+id)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "No game sessions match") {
		t.Errorf("sessions page of an allowed key: %d %s", res.StatusCode, body)
	}
	_, body = consoleGet(t, c, srv, "/console/sessions?fleet="+id+"&filter=playerSessionCount%3D0")
	if !strings.Contains(body, "This key may not SearchGameSessions") {
		t.Errorf("a search without SearchGameSessions: %s", body)
	}

	// An admin key sees it all, and a bad filter is told as SearchGameSessions tells it.
	admin := browser(t)
	signIn(t, admin, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey)
	_, body = consoleGet(t, admin, srv, "/console/fleets/"+id)
	if strings.Contains(body, "may not") || !strings.Contains(body, "custom-console-2") || !strings.Contains(body, "FLEET_CREATED") {
		t.Errorf("admin's fleet page: %s", body)
	}
	res, body = consoleGet(t, admin, srv, "/console/sessions?fleet="+id+"&filter=nonsense%3D%3D")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "FilterExpression") {
		t.Errorf("bad filter: %d %s", res.StatusCode, body)
	}

	must(gc.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("console-queue"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: fleet.FleetArn}}}))(t)
	res, body = consoleGet(t, admin, srv, "/console/queues")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "console-queue") || !strings.Contains(body, aws.ToString(fleet.FleetArn)) ||
		!strings.Contains(body, "No placement is waiting") {
		t.Errorf("queues page: %d %s", res.StatusCode, body)
	}
	status, out := callJSONAs(t, srv.Endpoint, testCreds, "Hoist.DeleteAccessKey", map[string]any{"Name": "viewer"})
	if status != http.StatusOK {
		t.Fatalf("delete key: %d %v", status, out)
	}
	if res, _ := consoleGet(t, c, srv, "/console/sessions?fleet="+id); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a deleted key's session still works: %d", res.StatusCode)
	}
}

// Failed sign-ins from one address are slowed, then refused for a while, right secret or
// not; one browser's requests under way are bounded.
func TestConsoleLimits(t *testing.T) {
	srv, _ := start(t, t.TempDir())
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { signIn(t, browser(t), srv, testCreds.AccessKeyID, "wrong") })
	}
	wg.Wait()
	if res := signIn(t, browser(t), srv, testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusTooManyRequests || sessionCookie(res) != nil {
		t.Errorf("after 5 failures: %d, want 429", res.StatusCode)
	}
}

// TestConsoleSignInsPerKey: a key allowed only hoist:GetMetrics signing in more times than
// the console keeps sign-ins signs out only its own oldest; the admin stays signed in.
func TestConsoleSignInsPerKey(t *testing.T) {
	srv, _ := start(t, t.TempDir())
	admin := browser(t)
	if res := signIn(t, admin, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", res.StatusCode)
	}
	metrics := createKey(t, srv, testCreds, "metrics", "hoist:GetMetrics")
	first := browser(t)
	signIn(t, first, srv, metrics.AccessKeyID, metrics.SecretAccessKey)
	for i := range console.DefaultMaxSessions {
		if res := signIn(t, browser(t), srv, metrics.AccessKeyID, metrics.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in %d: %d", i, res.StatusCode)
		}
	}
	if res, _ := consoleGet(t, admin, srv, "/console/fleets"); res.StatusCode != http.StatusOK {
		t.Errorf("the admin's page after %d sign-ins of another key: %d, want 200", console.DefaultMaxSessions+1, res.StatusCode)
	}
	if res, _ := consoleGet(t, first, srv, "/console/fleets"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the key's own oldest sign-in: %d, want 303 (signed out for its newer ones)", res.StatusCode)
	}
}

// guess signs in with a wrong secret n times at once, each from the address xffs gives.
func guess(t *testing.T, srv *server.Server, id string, n int, xff func(i int) string) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if res := signInFrom(t, browser(t), srv, xff(i), id, "wrong"); res.StatusCode == http.StatusSeeOther {
				t.Error("a wrong secret signed in")
			}
		})
	}
	wg.Wait()
}

// TestConsoleFailuresCostTheGuesser: a stranger's wrong guesses do not refuse the right
// secret of another key from the same address (everyone behind one proxy), nor the right
// secret from a browser that signed in with the key before, nor from an address that never
// failed while the key is guessed from everywhere; forged X-Forwarded-For is ignored unless
// the peer is a trusted proxy, whose clients are then counted apart.
func TestConsoleFailuresCostTheGuesser(t *testing.T) {
	t.Run("shared address", func(t *testing.T) {
		srv, _ := start(t, t.TempDir())
		ops := createKey(t, srv, testCreds, "ops", "Describe*")
		owner := browser(t)
		if res := signIn(t, owner, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first sign-in: %d", res.StatusCode)
		}
		guess(t, srv, testCreds.AccessKeyID, 5, func(int) string { return "" })
		guess(t, srv, "AKNOSUCHKEY", 5, func(int) string { return "" })
		if res := signIn(t, browser(t), srv, ops.AccessKeyID, ops.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Errorf("another key's right secret from the same address: %d, want 303", res.StatusCode)
		}
		if res := signIn(t, owner, srv, testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the right secret from a browser that signed in with the key before: %d, want 303", res.StatusCode)
		}
		if res := signInFrom(t, browser(t), srv, "198.51.100.1", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a new browser at the guessing address, forging X-Forwarded-For: %d, want 429", res.StatusCode)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		srv, _ := startWith(t, server.Config{ConsoleTrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		guess(t, srv, testCreds.AccessKeyID, 5, func(int) string { return "203.0.113.7" })
		if res := signInFrom(t, browser(t), srv, "198.51.100.9", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the owner at another address behind the proxy: %d, want 303", res.StatusCode)
		}
		if res := signInFrom(t, browser(t), srv, "203.0.113.7", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the guesser's address: %d, want 429", res.StatusCode)
		}
	})
	t.Run("key under attack", func(t *testing.T) {
		srv, _ := startWith(t, server.Config{ConsoleTrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		owner := browser(t)
		signInFrom(t, owner, srv, "198.51.100.9", testCreds.AccessKeyID, testCreds.SecretAccessKey)
		guess(t, srv, testCreds.AccessKeyID, 20, func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) })
		if res := signInFrom(t, browser(t), srv, "192.0.2.50", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Errorf("a browser that never signed in, at an address that never failed, while the key is guessed from everywhere: %d, want 303", res.StatusCode)
		}
		if res := signInFrom(t, browser(t), srv, "203.0.113.3", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the right secret from an address that guessed once while the key is guessed from everywhere: %d, want 429", res.StatusCode)
		}
		if res := signInFrom(t, owner, srv, "203.0.113.3", testCreds.AccessKeyID, testCreds.SecretAccessKey); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the browser that signed in with the key before: %d, want 303", res.StatusCode)
		}
	})
}
