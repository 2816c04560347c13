package connlimit

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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

// DefaultGrace is how long the server waits on a new connection for its first request
// before the connection counts as idle.
const DefaultGrace = time.Second

// phase is where an HTTP connection is in its life, as far as the cap is concerned.
type phase int

const (
	// unread: accepted, and the server has not begun to read it. It is never closed to
	// make room: whatever it sent is waiting for the server, not the other way round, as
	// when many connect at once (game servers after a restart).
	unread phase = iota
	// waiting: the server is reading its first request, which has not all come. Within
	// the grace it is a client on its way; after it, a client that sends nothing, or
	// headers a byte at a time.
	waiting
	// busy: a request under way, or the connection taken over by a handler.
	busy
	// idle: a keep-alive connection between requests.
	idle
)

// Listener wraps a net.Listener so that at most a fixed number of connections of each
// pool are open at once. A connection arrives in the HTTP pool. When that pool is full,
// the connection idle longest makes room: a keep-alive one between requests, or one the
// server has waited on for its first request longer than the grace (one that sent
// nothing, or sends its headers slowly). When none is idle but some have not been read
// yet, or are within their grace, Accept waits for them, leaving the connections behind
// in the kernel's queue; when every connection has a request under way for the grace, the
// new one is refused (closed at once), and so are those after it while that lasts.
// Serve the listener with an http.Server whose ConnState and ConnContext are the
// Listener's, so it knows which connections are idle and a handler can move its
// connection to the Upgraded pool. For TLS, wrap the Listener (tls.NewListener): the
// hooks find a Conn inside a *tls.Conn, and a TLS handshake reads the Conn as a request
// does.
type Listener struct {
	net.Listener
	max   [2]int
	grace time.Duration

	mu       sync.Mutex
	open     [2]int
	http     map[*Conn]struct{} // the HTTP pool's connections
	onRefuse func()             // called for each refused connection
	refusing bool               // every connection was busy at the last refusal, and still is

	changed chan struct{} // receives when a connection leaves the HTTP pool or changes phase
	closed  chan struct{}
	close   sync.Once
}

// NewListener caps the connections accepted from inner: maxHTTP in the HTTP pool,
// maxUpgraded in the Upgraded pool.
func NewListener(inner net.Listener, maxHTTP, maxUpgraded int) *Listener {
	return &Listener{
		Listener: inner, max: [2]int{maxHTTP, maxUpgraded}, grace: DefaultGrace,
		http: map[*Conn]struct{}{}, changed: make(chan struct{}, 1), closed: make(chan struct{}),
	}
}

// OnRefuse sets f to be called for each connection refused because every HTTP connection
// is busy.
func (l *Listener) OnRefuse(f func()) { l.onRefuse = f }

// SetGrace sets how long the server waits on a new connection for its first request
// before the connection may be closed to make room (DefaultGrace unless set). Call it
// before Accept.
func (l *Listener) SetGrace(d time.Duration) { l.grace = d }

// Close stops Accept, one waiting for room included, and closes the inner listener.
func (l *Listener) Close() error {
	l.close.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// Accept returns the next connection the HTTP pool has room for.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, err := l.admit(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		if tc != nil {
			return tc, nil
		}
		if l.onRefuse != nil {
			l.onRefuse()
		}
		c.Close()
	}
}

// admit counts c in the HTTP pool, closing the idle connection that makes room for it, or
// waiting until one does. When every connection has a request under way, it waits the
// grace for one to end, then returns nil; while they stay busy, later connections are
// refused at once. It returns an error when the listener is closed meanwhile.
func (l *Listener) admit(c net.Conn) (*Conn, error) {
	busyUntil := time.Now().Add(l.grace)
	for {
		now := time.Now()
		l.mu.Lock()
		ok, victim, wake := l.roomLocked(now)
		switch {
		case ok:
			tc := &Conn{Conn: c, l: l, pool: HTTP, phase: unread}
			l.open[HTTP]++
			l.http[tc] = struct{}{}
			l.refusing = false
			l.mu.Unlock()
			if victim != nil {
				victim.Conn.Close()
			}
			return tc, nil
		case wake.IsZero() && (l.refusing || !now.Before(busyUntil)):
			l.refusing = true
			l.mu.Unlock()
			return nil, nil
		case wake.IsZero():
			wake = busyUntil
		}
		l.mu.Unlock()
		if err := l.await(wake); err != nil {
			return nil, err
		}
	}
}

// roomLocked tells whether the HTTP pool has room for one more connection, releasing the
// idle connection that makes it (the caller closes the victim). Without room, wake is when
// a connection within its grace becomes idle, or, for connections not yet read, a moment
// ahead; it is zero when every connection has a request under way. l.mu is held.
func (l *Listener) roomLocked(now time.Time) (ok bool, victim *Conn, wake time.Time) {
	if l.open[HTTP] < l.max[HTTP] {
		return true, nil, time.Time{}
	}
	var since time.Time
	for c := range l.http {
		switch c.phase {
		case idle:
		case waiting:
			if idleAt := c.since.Add(l.grace); idleAt.After(now) {
				wake = earliest(wake, idleAt)
				continue
			}
		case unread:
			wake = earliest(wake, now.Add(l.grace))
			continue
		default:
			continue
		}
		if victim == nil || c.since.Before(since) {
			victim, since = c, c.since
		}
	}
	if victim == nil {
		return false, nil, wake
	}
	l.releaseLocked(victim) // its slot is the new connection's
	return true, victim, time.Time{}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// await waits until a connection changes, or until wake.
func (l *Listener) await(wake time.Time) error {
	t := time.NewTimer(time.Until(wake))
	defer t.Stop()
	select {
	case <-l.changed:
	case <-t.C:
	case <-l.closed:
		return net.ErrClosed
	}
	return nil
}

// notifyLocked wakes an Accept waiting for room; l.mu is held.
func (l *Listener) notifyLocked() {
	l.refusing = false
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// releaseLocked gives c's slot back; l.mu is held.
func (l *Listener) releaseLocked(c *Conn) {
	if c.released {
		return
	}
	c.released = true
	l.open[c.pool]--
	delete(l.http, c)
	l.notifyLocked()
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
	switch state {
	case http.StateNew:
		return // unread until the server reads it
	case http.StateIdle:
		tc.phase, tc.since = idle, time.Now()
	default:
		tc.phase = busy
	}
	l.notifyLocked()
}

// reading marks c as waiting for its first request, from now: the server has begun to
// read it.
func (l *Listener) reading(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released || c.pool != HTTP || c.phase != unread {
		return
	}
	c.phase, c.since = waiting, time.Now()
	l.notifyLocked()
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
	delete(l.http, tc)
	l.open[HTTP]--
	l.open[Upgraded]++
	tc.pool = Upgraded
	l.notifyLocked()
	return true
}

// Conn is a connection counted by a Listener until it is closed.
type Conn struct {
	net.Conn
	l *Listener

	// read is set at the server's first read.
	read atomic.Bool

	// Guarded by l.mu.
	pool     Pool
	phase    phase
	since    time.Time // when it began to wait for its first request, or became idle
	released bool
}

// Read reads from the connection; the first read starts its wait for a request.
func (c *Conn) Read(b []byte) (int, error) {
	if !c.read.Load() {
		c.read.Store(true)
		c.l.reading(c)
	}
	return c.Conn.Read(b)
}

// Close closes the connection and gives its slot back.
func (c *Conn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
