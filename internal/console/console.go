package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Path is where the console is served.
const Path = "/console"

// CookieName is the session cookie's name.
const CookieName = "hoist_console"

// Defaults of Config.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultMaxSessions = 1000
	// DefaultSessionsPerKey bounds the signed-in browsers of one key.
	DefaultSessionsPerKey = 32
	// DefaultPerSession bounds the requests one signed-in browser has under way at once.
	DefaultPerSession = 4
)

// failedSignInDelay is how long a refused sign-in waits before its answer.
const failedSignInDelay = time.Second

// Keys tells a key's secret and what it may call: access.Keyring.
type Keys interface {
	Secret(accessKeyID string) (string, bool)
	Authorize(ctx context.Context, accessKeyID, op string) error
}

// Queues answers the queues page: internal/queues' Service.
type Queues interface {
	DescribeGameSessionQueues(ctx context.Context, in *gamelift.DescribeGameSessionQueuesInput) (*gamelift.DescribeGameSessionQueuesOutput, error)
	DescribeGameSessionPlacement(ctx context.Context, in *gamelift.DescribeGameSessionPlacementInput) (*gamelift.DescribeGameSessionPlacementOutput, error)
	// PendingPlacements returns up to limit of the placements waiting, oldest first.
	PendingPlacements(limit int) []gamelift.GameSessionPlacement
}

// Config is what the console needs.
type Config struct {
	Service *control.Service
	Queues  Queues
	Keys    Keys
	// SecureCookies marks the session cookie Secure even on plain HTTP: for a console
	// behind a proxy that terminates TLS. Over TLS it is always Secure.
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts (DefaultSessionTTL); MaxSessions bounds the
	// signed-in browsers kept (DefaultMaxSessions), SessionsPerKey those of one key
	// (DefaultSessionsPerKey); PerSession bounds one browser's requests under way
	// (DefaultPerSession).
	SessionTTL     time.Duration
	MaxSessions    int
	SessionsPerKey int
	PerSession     int
	// TrustedProxies are the proxies whose X-Forwarded-For tells a sign-in's address;
	// from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	Now            func() time.Time
	Logger         *slog.Logger
}

// Console serves the web console under Path.
type Console struct {
	cfg      Config
	svc      *control.Service
	queueSvc Queues
	sessions *sessions
	failures *failures
	// deviceKey signs the device cookies of browsers that signed in (deviceToken).
	deviceKey [32]byte
	pages     map[string]*template.Template
	mux       *http.ServeMux
}

//go:embed templates
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// New returns the console.
func New(cfg Config) *Console {
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, DefaultSessionTTL)
	cfg.MaxSessions = cmp.Or(cfg.MaxSessions, DefaultMaxSessions)
	cfg.SessionsPerKey = cmp.Or(cfg.SessionsPerKey, DefaultSessionsPerKey)
	cfg.PerSession = cmp.Or(cfg.PerSession, DefaultPerSession)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Console{cfg: cfg, svc: cfg.Service, queueSvc: cfg.Queues, sessions: newSessions(cfg.MaxSessions, cfg.SessionsPerKey), failures: newFailures(maxFailureEntries),
		pages: parsePages(), mux: http.NewServeMux()}
	rand.Read(c.deviceKey[:]) // never fails: crypto/rand panics instead
	static, _ := fs.Sub(staticFiles, "static")
	c.mux.Handle("GET "+Path+"/static/", http.StripPrefix(Path+"/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET "+Path+"/signin", c.signInPage)
	c.mux.HandleFunc("POST "+Path+"/signin", c.signIn)
	c.mux.HandleFunc("POST "+Path+"/signout", c.signOut)
	c.mux.HandleFunc("GET "+Path+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path+"/fleets", http.StatusSeeOther)
	})
	c.mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path+"/fleets", http.StatusSeeOther)
	})
	c.mux.Handle("GET "+Path+"/fleets", c.page("fleets", c.fleets))
	c.mux.Handle("GET "+Path+"/fleets/{id}", c.page("fleet", c.fleet))
	c.mux.Handle("GET "+Path+"/sessions", c.page("sessions", c.gameSessions))
	c.mux.Handle("GET "+Path+"/session", c.page("session", c.gameSession)) // ?id=: game session IDs are ARNs, with slashes
	c.mux.Handle("GET "+Path+"/session/logs", c.signedIn(c.sessionLogs))
	c.mux.Handle("GET "+Path+"/queues", c.page("queues", c.queues))
	return c
}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"v": deref, "statuses": func() []string { return sessionStatuses }}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "fleets", "fleet", "sessions", "session", "queues"} {
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

// ServeHTTP serves the console; every answer carries the security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // with no-referrer, browsers post forms with Origin: null
	if strings.HasPrefix(r.URL.Path, Path+"/static/") {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "no-store")
	}
	if r.Method == http.MethodPost && !sameOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin refuses a form posted from another site (the session cookie is SameSite=Strict
// too; this also covers the sign-in form, which has no cookie yet).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == "" // a browser sends Origin with every POST; other clients may not
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.cfg.SecureCookies }

// cookie is the session cookie carrying value until expires; an empty value removes it.
func (c *Console) cookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{Name: CookieName, Value: value, Path: Path, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure(r)}
	if value == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
		ck.MaxAge = int(expires.Sub(c.cfg.Now()).Seconds())
	}
	return ck
}

// current returns the request's session while it lasts and its key exists with the secret
// signed in with; a session whose key was deleted ends here.
func (c *Console) current(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, false
	}
	s, ok := c.sessions.get(ck.Value, c.cfg.Now())
	if !ok {
		return nil, false
	}
	if secret, ok := c.cfg.Keys.Secret(s.keyID); !ok || !sameSecret(s.secret, secret) {
		c.sessions.remove(s.id)
		return nil, false
	}
	return s, true
}

type sessionKey struct{}

// signedIn runs h for a signed-in browser, within its session's bound on requests under
// way; others go to the sign-in page (a page) or get 401 (a fragment a page polls).
func (c *Console) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.current(r)
		if !ok {
			if isFragment(r) {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, Path+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		select {
		case s.busy <- struct{}{}:
			defer func() { <-s.busy }()
		default:
			w.Header().Set("Retry-After", "2")
			http.Error(w, "too many requests under way for this sign-in", http.StatusTooManyRequests)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

func sessionOf(r *http.Request) *session { return r.Context().Value(sessionKey{}).(*session) }

// isFragment tells a poll of a page's live part (console.js) from a page load.
func isFragment(r *http.Request) bool { return r.Header.Get("X-Hoist-Fragment") == "1" }

// view is what a page's template gets.
type view struct {
	Title   string
	Nav     string
	KeyID   string
	CSRF    string
	Error   string
	Denied  []string // what this key may not see here
	Data    any
	Refresh bool // the page updates itself (console.js polls its live part)
}

// page serves a signed-in page: load fills the view, and the page's template renders it,
// whole or only its live part.
func (c *Console) page(name string, load func(r *http.Request, v *view) error) http.Handler {
	return c.signedIn(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		v := &view{Nav: name, KeyID: s.keyID, CSRF: s.csrf, Refresh: true}
		if err := load(r, v); err != nil {
			var ge *gamelift.Error
			if !errors.As(err, &ge) {
				c.cfg.Logger.Warn("console: page failed", "page", name, "error", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if ge.Code == "UnrecognizedClientException" { // the key is gone
				c.sessions.remove(s.id)
				http.Redirect(w, r, Path+"/signin", http.StatusSeeOther)
				return
			}
			v.Error = ge.Message
			w.WriteHeader(http.StatusBadRequest)
		}
		c.render(w, name, v, isFragment(r))
	})
}

func (c *Console) render(w http.ResponseWriter, name string, v *view, fragment bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	tmpl := "layout"
	if fragment {
		tmpl = "live"
	}
	if err := c.pages[name].ExecuteTemplate(w, tmpl, v); err != nil {
		c.cfg.Logger.Warn("console: render failed", "page", name, "error", err)
	}
}

// may asks whether the signed-in key may call op; when not, it notes why in v and returns
// false. A throttled key is told so; a deleted key's error is returned.
func (c *Console) may(r *http.Request, v *view, op, what string) (bool, error) {
	err := c.cfg.Keys.Authorize(r.Context(), sessionOf(r).keyID, op)
	if err == nil {
		return true, nil
	}
	var ge *gamelift.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case "AccessDeniedException":
			v.Denied = append(v.Denied, "This key may not "+op+", so "+what+" are not shown.")
			return false, nil
		case "ThrottlingException":
			v.Denied = append(v.Denied, "This key is over its rate limit for "+op+", so "+what+" are not shown now.")
			return false, nil
		}
	}
	return false, err
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.current(r); ok {
		http.Redirect(w, r, nextPage(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, "signin", &view{Title: "Sign in", Data: signInData{Next: r.URL.Query().Get("next")}}, false)
}

type signInData struct {
	Next, KeyID string
}

// nextPage is where to go after signing in: a console page, never another site.
func nextPage(next string) string {
	if strings.HasPrefix(next, Path+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Path + "/fleets"
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	keyID, secret, next := r.PostFormValue("access_key_id"), r.PostFormValue("secret_access_key"), r.PostFormValue("next")
	addr, now := clientAddr(r, c.cfg.TrustedProxies), c.cfg.Now()
	v := &view{Title: "Sign in", Data: signInData{Next: next, KeyID: keyID}}
	have, known := c.cfg.Keys.Secret(keyID)
	if !known {
		have = "\x00" // compare anyway, so an unknown key takes as long as a wrong secret
	}
	if !(known && c.knownDevice(r, keyID, have)) && c.tooManyFailures(addr, keyID, now) {
		v.Error = "Too many failed sign-ins with this key lately: wait a minute and try again, or sign in from a browser that signed in with it before."
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
		c.render(w, "signin", v, false)
		return
	}
	if ok := sameSecret(sha256Of(have), secret); !ok || !known {
		c.failures.fail(pairName(addr, keyID), now)
		c.failures.fail(keyName(keyID), now)
		c.cfg.Logger.Info("console: sign-in refused", "access_key_id", keyID, "addr", addr)
		select { // slow guessing down
		case <-time.After(failedSignInDelay):
		case <-r.Context().Done():
			return
		}
		v.Error = "The access key ID or secret access key is wrong."
		w.WriteHeader(http.StatusUnauthorized)
		c.render(w, "signin", v, false)
		return
	}
	expires := now.Add(c.cfg.SessionTTL)
	s := c.sessions.add(keyID, secret, expires, now, c.cfg.PerSession)
	http.SetCookie(w, c.cookie(r, s.id, expires))
	http.SetCookie(w, c.deviceCookie(r, keyID, secret))
	http.Redirect(w, r, nextPage(next), http.StatusSeeOther)
}

// tooManyFailures tells whether sign-ins with keyID from addr are refused for now: that
// address failed with that key too often, or it failed with it at all while the key fails
// too often from everywhere. An address that has not failed is never refused: strangers'
// guesses do not lock out the key's owner at an address of their own.
func (c *Console) tooManyFailures(addr, keyID string, now time.Time) bool {
	pair := c.failures.count(pairName(addr, keyID), now)
	return pair >= maxFailures || pair > 0 && c.failures.count(keyName(keyID), now) >= maxKeyFailures
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if s, ok := c.current(r); ok {
		if subtleEqual(r.PostFormValue("csrf"), s.csrf) {
			c.sessions.remove(s.id)
		} else {
			http.Error(w, "bad form token", http.StatusForbidden)
			return
		}
	}
	http.SetCookie(w, c.cookie(r, "", time.Time{}))
	http.Redirect(w, r, Path+"/signin", http.StatusSeeOther)
}

// Sessions tells how many browsers are signed in, for tests.
func (c *Console) Sessions() int { return c.sessions.len() }
