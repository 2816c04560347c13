package connlimit_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/connlimit"
)

// grace is the tests' wait for a first request, short to keep them fast.
const grace = 100 * time.Millisecond

// serve serves l with a handler that answers "ok", after unblock is closed for /block.
func serve(t *testing.T, maxHTTP, maxUpgraded int) (*connlimit.Listener, string, *atomic.Int32) {
	l, addr, refused, _ := serveBlocking(t, maxHTTP, maxUpgraded, grace)
	return l, addr, refused
}

// serveBlocking also returns a channel that receives as each /block request starts.
func serveBlocking(t *testing.T, maxHTTP, maxUpgraded int, grace time.Duration) (*connlimit.Listener, string, *atomic.Int32, <-chan struct{}) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.NewListener(inner, maxHTTP, maxUpgraded)
	l.SetGrace(grace)
	var refused atomic.Int32
	l.OnRefuse(func() { refused.Add(1) })
	unblock, started := make(chan struct{}), make(chan struct{}, 16)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/block" {
				started <- struct{}{}
				<-unblock
			}
			io.WriteString(w, "ok")
		}),
		ConnState: l.ConnState, ConnContext: l.ConnContext,
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		close(unblock)
		srv.Close()
	})
	return l, inner.Addr().String(), &refused, started
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closed tells whether the server closed c: a read ends at once with EOF (or a reset).
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second)) // a failsafe
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func waitOpen(t *testing.T, l *connlimit.Listener, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Open(connlimit.HTTP) != n {
		if time.Now().After(deadline) {
			t.Fatalf("open HTTP connections: %d, want %d", l.Open(connlimit.HTTP), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// When the pool is full, the connection idle longest makes room for a new one.
func TestIdleConnectionMakesRoom(t *testing.T) {
	l, addr, refused := serve(t, 2, 1)
	first := dial(t, addr)
	waitOpen(t, l, 1)
	dial(t, addr)
	waitOpen(t, l, 2)
	dial(t, addr)
	if !closed(first) {
		t.Error("the oldest idle connection was not closed to make room")
	}
	waitOpen(t, l, 2)
	if refused.Load() != 0 {
		t.Errorf("%d refused, with idle connections to close", refused.Load())
	}
}

// A connection still sending its request's headers after the grace is not busy: it
// makes room too (a slowloris holds a slot for the grace, not for the header timeout).
func TestHalfSentHeadersMakeRoom(t *testing.T) {
	l, addr, _ := serve(t, 1, 1)
	slow := dial(t, addr)
	io.WriteString(slow, "GET / HTTP/1.1\r\nHost: x\r\n")
	waitOpen(t, l, 1)
	dial(t, addr)
	if !closed(slow) {
		t.Error("a connection sending headers slowly kept its slot")
	}
}

// When every connection has a request under way, a new one is refused.
func TestBusyPoolRefuses(t *testing.T) {
	l, addr, refused, started := serveBlocking(t, 2, 1, grace)
	for range 2 {
		io.WriteString(dial(t, addr), "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
		<-started
	}
	waitOpen(t, l, 2)
	extra := dial(t, addr)
	if !closed(extra) {
		t.Error("a connection beyond the cap was kept while the others are busy")
	}
	if refused.Load() == 0 {
		t.Error("no refusal reported")
	}
	if n := l.Open(connlimit.HTTP); n != 2 {
		t.Errorf("open = %d", n)
	}
}

// A connection whose headers are on their way, within the grace, keeps its slot: the new
// connection waits for room rather than closing it, and gets in once the first one's
// request is answered and it idles.
func TestHeadersOnTheirWayKeepTheirSlot(t *testing.T) {
	l, addr, refused, _ := serveBlocking(t, 1, 1, 10*time.Second)
	first := dial(t, addr)
	io.WriteString(first, "GET / HTTP/1.1\r\nHost: x\r\n")
	waitOpen(t, l, 1)
	second := dial(t, addr)
	io.WriteString(second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // the second is in the listen queue meanwhile
	io.WriteString(first, "\r\n")
	for i, c := range []net.Conn{first, second} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		resp.Body.Close()
	}
	if refused.Load() != 0 {
		t.Errorf("%d refused", refused.Load())
	}
}

// A connection the server has not read yet is not idle, however long it has waited: a
// new one waits for room rather than close it. (Connections pile up unread when many
// arrive at once, as game servers do after a restart.)
func TestUnreadConnectionKeepsItsSlot(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.NewListener(inner, 1, 1)
	l.SetGrace(time.Millisecond)
	defer l.Close()
	addr := inner.Addr().String()
	client := dial(t, addr)
	unread, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	dial(t, addr)
	next := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		next <- c
	}()
	select {
	case <-next:
		t.Fatal("an unread connection was closed to make room")
	case <-time.After(300 * time.Millisecond):
	}
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := client.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("the unread connection was closed: %v", err)
	}
	unread.Close()
	select {
	case c := <-next:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a slot given back was not taken by the connection waiting")
	}
}

// Closing the listener ends an Accept waiting for room.
func TestCloseEndsAWaitingAccept(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.NewListener(inner, 1, 1)
	addr := inner.Addr().String()
	dial(t, addr)
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	dial(t, addr)
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
}

// Over TLS (the Listener wrapped by tls.NewListener) a connection with a request under
// way is busy too: the hooks find the Listener's connection inside the *tls.Conn, so a
// new connection is refused rather than one in use closed for it.
func TestBusyTLSConnectionsAreSeen(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.NewListener(inner, 1, 1)
	l.SetGrace(time.Millisecond) // the busy one is busy past its grace at once
	var refused atomic.Int32
	l.OnRefuse(func() { refused.Add(1) })
	cert, err := certs.LoadOrCreate(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	unblock, started := make(chan struct{}), make(chan struct{}, 1)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			<-unblock
			io.WriteString(w, "ok")
		}),
		ConnState: l.ConnState, ConnContext: l.ConnContext,
	}
	go srv.Serve(tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert.Certificate}}))
	t.Cleanup(func() {
		close(unblock)
		srv.Close()
	})

	busy, err := tls.Dial("tcp", inner.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	extra := dial(t, inner.Addr().String())
	if !closed(extra) {
		t.Error("a connection beyond the cap was kept while the TLS one is busy")
	}
	if refused.Load() == 0 {
		t.Error("the busy TLS connection was closed to make room, instead of refusing the new one")
	}
}
