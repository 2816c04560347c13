package connlimit

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Pool is a kind of connection, counted against its own cap.
type Pool int

const (
	// HTTP is every connection as it arrives: requests and answers.
	HTTP Pool = iota
	// Upgraded is a connection handed to a long-lived protocol (the SDK's WebSocket).
	Upgraded
)

// Listener wraps a net.Listener so that at most a fixed number of connections of each
// pool are open at once. A connection arrives in the HTTP pool. When that pool is full, the
// connection that has waited longest without a request under way (one that sent nothing
// yet, or an idle keep-alive) is closed to make room; when every connection has a request
// under way, the new one is refused (closed at once). Serve the listener with an
// http.Server whose ConnState and ConnContext are the Listener's, so it knows which
// connections are idle and a handler can move its connection to the Upgraded pool. For
// TLS, wrap the Listener (tls.NewListener): the hooks find a Conn inside a *tls.Conn.
type Listener struct {
	net.Listener
	max [2]int

	mu       sync.Mutex
	open     [2]int
	idle     map[*Conn]struct{} // HTTP connections without a request under way
	onRefuse func()             // called for each refused connection
}

// NewListener caps the connections accepted from inner: maxHTTP in the HTTP pool,
// maxUpgraded in the Upgraded pool.
func NewListener(inner net.Listener, maxHTTP, maxUpgraded int) *Listener {
	return &Listener{Listener: inner, max: [2]int{maxHTTP, maxUpgraded}, idle: map[*Conn]struct{}{}}
}

// OnRefuse sets f to be called for each connection refused because every HTTP connection
// is busy.
func (l *Listener) OnRefuse(f func()) { l.onRefuse = f }

// Accept returns the next connection the HTTP pool has room for.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.admit(c); tc != nil {
			return tc, nil
		}
		c.Close()
		if l.onRefuse != nil {
			l.onRefuse()
		}
	}
}

func (l *Listener) admit(c net.Conn) *Conn {
	l.mu.Lock()
	var victim *Conn
	if l.open[HTTP] >= l.max[HTTP] {
		for v := range l.idle {
			if victim == nil || v.since.Before(victim.since) {
				victim = v
			}
		}
		if victim == nil {
			l.mu.Unlock()
			return nil
		}
		l.releaseLocked(victim) // its slot is the new connection's
	}
	tc := &Conn{Conn: c, l: l, pool: HTTP, since: time.Now()}
	l.open[HTTP]++
	l.idle[tc] = struct{}{}
	l.mu.Unlock()
	if victim != nil {
		victim.Conn.Close()
	}
	return tc
}

// releaseLocked gives c's slot back; l.mu is held.
func (l *Listener) releaseLocked(c *Conn) {
	if c.released {
		return
	}
	c.released = true
	l.open[c.pool]--
	delete(l.idle, c)
}

// Open tells how many connections of pool are open.
func (l *Listener) Open(pool Pool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[pool]
}

// ConnState is the http.Server's ConnState hook: it tells which connections are idle.
func (l *Listener) ConnState(c net.Conn, state http.ConnState) {
	tc, ok := own(c)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tc.released || tc.pool != HTTP {
		return
	}
	tc.since = time.Now()
	switch state {
	case http.StateNew, http.StateIdle:
		l.idle[tc] = struct{}{}
	default:
		delete(l.idle, tc)
	}
}

// own finds the Conn that c is or wraps: a *tls.Conn served over the Listener wraps one.
func own(c net.Conn) (*Conn, bool) {
	for {
		switch v := c.(type) {
		case *Conn:
			return v, true
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil, false
		}
	}
}

type connKey struct{}

// ConnContext is the http.Server's ConnContext hook: it lets a handler find its connection.
func (l *Listener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := own(c); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// Upgrade moves the connection of the request whose context is ctx from the HTTP pool to
// the Upgraded pool, before the handler hijacks it. It returns false, leaving the
// connection where it is, when the Upgraded pool is full. A connection that is not this
// Listener's is let through.
func (l *Listener) Upgrade(ctx context.Context) bool {
	tc, ok := ctx.Value(connKey{}).(*Conn)
	if !ok || tc.l != l {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tc.released || tc.pool == Upgraded {
		return true
	}
	if l.open[Upgraded] >= l.max[Upgraded] {
		return false
	}
	delete(l.idle, tc)
	l.open[HTTP]--
	l.open[Upgraded]++
	tc.pool = Upgraded
	return true
}

// Conn is a connection counted by a Listener until it is closed.
type Conn struct {
	net.Conn
	l *Listener

	// Guarded by l.mu.
	pool     Pool
	since    time.Time // of the last change of state
	released bool
}

// Close closes the connection and gives its slot back.
func (c *Conn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
