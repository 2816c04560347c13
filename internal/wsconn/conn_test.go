package wsconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// echo is a server that answers every message with the same message, and tells each
// connection's end on ended.
type echo struct {
	srv   *httptest.Server
	url   string
	ended chan error // Read's last error, one per connection
}

func newEcho(t *testing.T, o Options) *echo {
	t.Helper()
	e := &echo{ended: make(chan error, 16)}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, o)
		if err != nil {
			return
		}
		go func() { // the handler returns: the connection lives on without it
			for {
				typ, msg, err := c.Read()
				if err != nil {
					e.ended <- err
					return
				}
				if s := string(msg); strings.HasPrefix(s, "close ") {
					c.Close(StatusPolicyViolation, strings.TrimPrefix(s, "close "))
					continue
				}
				c.Write(typ, msg)
			}
		}()
	}))
	t.Cleanup(e.srv.Close)
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http")
	return e
}

func (e *echo) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.ended:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the server's reader did not end")
		return nil
	}
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(4 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The RFC's own example (section 1.3).
func TestAcceptKey(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}

func TestEchoSizes(t *testing.T) {
	e := newEcho(t, Options{ReadLimit: 1 << 20})
	c := dial(t, e.url)
	ctx := ctx5s(t)
	// 0, 7-bit, 16-bit and 64-bit lengths; odd sizes exercise the unmasking's tail.
	for _, n := range []int{0, 1, 125, 126, 1000, 65535, 65536, 1<<20 - 3} {
		for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
			msg := make([]byte, n)
			rand.Read(msg)
			if err := c.Write(ctx, typ, msg); err != nil {
				t.Fatal(err)
			}
			gotTyp, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if gotTyp != typ || !bytes.Equal(got, msg) {
				t.Errorf("%d bytes of type %v came back as %d bytes of type %v", n, typ, len(got), gotTyp)
			}
		}
	}
}

func TestFragmentedMessage(t *testing.T) {
	e := newEcho(t, Options{})
	c := dial(t, e.url)
	ctx := ctx5s(t)
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"one ", "two ", "", "three"} { // a frame each
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "one two three" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestClientCloses(t *testing.T) {
	e := newEcho(t, Options{})
	c := dial(t, e.url)
	if err := c.Close(websocket.StatusGoingAway, "done here"); err != nil {
		t.Errorf("the client's close handshake: %v", err)
	}
	var ce *CloseError
	if err := e.end(t); !errors.As(err, &ce) || ce.Code != StatusGoingAway || ce.Reason != "done here" {
		t.Errorf("the server read %v", err)
	}
}

func TestServerCloses(t *testing.T) {
	e := newEcho(t, Options{})
	c := dial(t, e.url)
	ctx := ctx5s(t)
	c.Write(ctx, websocket.MessageText, []byte("close "+strings.Repeat("é", 100))) // cut to fit
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.HasPrefix(ce.Reason, "éé") || len(ce.Reason) > 123 {
		t.Fatalf("the client read %v", err)
	}
	// The client answered the close: the server's reader sees it and ends.
	var sce *CloseError
	if err := e.end(t); !errors.As(err, &sce) {
		t.Errorf("the server read %v", err)
	}
}

func TestCloseWithoutAnswer(t *testing.T) {
	e := newEcho(t, Options{CloseTimeout: 100 * time.Millisecond})
	rc := dialRaw(t, e.url, nil)
	rc.send(opText, true, []byte("close bye"))
	op, p := rc.recv()
	if op != opClose || binary.BigEndian.Uint16(p) != uint16(StatusPolicyViolation) || string(p[2:]) != "bye" {
		t.Fatalf("got opcode %d %q", op, p)
	}
	// The client never answers: the socket is closed after the close timeout.
	rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Errorf("after the close timeout the client read %v, want EOF", err)
	}
}

func TestPingPong(t *testing.T) {
	e := newEcho(t, Options{})
	rc := dialRaw(t, e.url, nil)
	rc.send(opPing, true, []byte("are you there"))
	if op, p := rc.recv(); op != opPong || string(p) != "are you there" {
		t.Errorf("got opcode %d %q, want a pong", op, p)
	}
	// A ping between two fragments of a message is answered, and the message arrives whole.
	rc.send(opText, false, []byte("a"))
	rc.send(opPing, true, nil)
	rc.send(opContinuation, true, []byte("b"))
	if op, p := rc.recv(); op != opPong || len(p) != 0 {
		t.Errorf("got opcode %d %q, want an empty pong", op, p)
	}
	if op, p := rc.recv(); op != opText || string(p) != "ab" {
		t.Errorf("got opcode %d %q, want the text ab", op, p)
	}
}

func TestEarlyBytes(t *testing.T) {
	e := newEcho(t, Options{})
	// The frame goes out with the handshake, before its answer: net/http has it buffered.
	rc := dialRaw(t, e.url, frameBytes(opText, true, []byte("early"), true))
	if op, p := rc.recv(); op != opText || string(p) != "early" {
		t.Errorf("got opcode %d %q", op, p)
	}
}

func TestOversize(t *testing.T) {
	e := newEcho(t, Options{ReadLimit: 1000})
	c := dial(t, e.url)
	ctx := ctx5s(t)
	c.Write(ctx, websocket.MessageBinary, make([]byte, 1001))
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("a message over the limit: the client read %v", err)
	}
	if err := e.end(t); !errors.Is(err, ErrTooBig) {
		t.Errorf("the server read %v", err)
	}

	// Fragments under the limit each, over it together.
	rc := dialRaw(t, e.url, nil)
	rc.send(opBinary, false, make([]byte, 600))
	rc.send(opContinuation, true, make([]byte, 600))
	if op, p := rc.recv(); op != opClose || binary.BigEndian.Uint16(p) != uint16(StatusMessageTooBig) {
		t.Errorf("got opcode %d %q", op, p)
	}
	if err := e.end(t); !errors.Is(err, ErrTooBig) {
		t.Errorf("the server read %v", err)
	}

	// A length of 2^63-1 is refused from the header, before anything is allocated.
	rc = dialRaw(t, e.url, nil)
	rc.nc.Write([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	if op, p := rc.recv(); op != opClose || binary.BigEndian.Uint16(p) != uint16(StatusMessageTooBig) {
		t.Errorf("got opcode %d %q", op, p)
	}
	e.end(t)
}

func TestBadFrames(t *testing.T) {
	e := newEcho(t, Options{})
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"unmasked", frameBytes(opText, true, []byte("hi"), false)},
		{"reserved bit", append([]byte{0xc1}, frameBytes(opText, true, []byte("hi"), true)[1:]...)},
		{"unknown opcode", frameBytes(3, true, nil, true)},
		{"continuation first", frameBytes(opContinuation, true, []byte("x"), true)},
		{"message inside a message", append(frameBytes(opText, false, []byte("x"), true), frameBytes(opText, true, []byte("y"), true)...)},
		{"fragmented ping", frameBytes(opPing, false, nil, true)},
		{"ping over 125 bytes", frameBytes(opPing, true, make([]byte, 126), true)},
		{"close with a 1-byte payload", frameBytes(opClose, true, []byte{3}, true)},
		{"close with a reserved status", frameBytes(opClose, true, []byte{0x03, 0xed}, true)}, // 1005
		{"length with the top bit set", []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, e.url, nil)
			rc.nc.Write(tc.bytes)
			if op, p := rc.recv(); op != opClose || binary.BigEndian.Uint16(p) != uint16(StatusProtocolError) {
				t.Errorf("got opcode %d %q, want a close with status 1002", op, p)
			}
			var pe *ProtocolError
			if err := e.end(t); !errors.As(err, &pe) {
				t.Errorf("the server read %v", err)
			}
		})
	}
}

func TestBadHandshakes(t *testing.T) {
	e := newEcho(t, Options{})
	good := func() http.Header {
		return http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	}
	for _, tc := range []struct {
		name   string
		method string
		change func(h http.Header)
		status int
	}{
		{"good", "GET", func(http.Header) {}, http.StatusSwitchingProtocols},
		{"POST", "POST", func(http.Header) {}, http.StatusMethodNotAllowed},
		{"no Upgrade", "GET", func(h http.Header) { h.Del("Upgrade") }, http.StatusUpgradeRequired},
		{"no Connection: Upgrade", "GET", func(h http.Header) { h.Set("Connection", "keep-alive") }, http.StatusUpgradeRequired},
		{"version 8", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, http.StatusBadRequest},
		{"no key", "GET", func(h http.Header) { h.Del("Sec-Websocket-Key") }, http.StatusBadRequest},
		{"short key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, http.StatusBadRequest},
		{"two keys", "GET", func(h http.Header) { h.Add("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, http.StatusBadRequest},
		{"another site's page", "GET", func(h http.Header) { h.Set("Origin", "https://evil.example") }, http.StatusForbidden},
		{"this host's page", "GET", func(h http.Header) { h.Set("Origin", e.srv.URL) }, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL, nil)
			req.Header = good()
			tc.change(req.Header)
			nc, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			req.Write(nc)
			resp, err := http.ReadResponse(bufio.NewReader(nc), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusSwitchingProtocols && resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Errorf("Sec-WebSocket-Accept %q", resp.Header.Get("Sec-Websocket-Accept"))
			}
			if tc.name == "version 8" && resp.Header.Get("Sec-Websocket-Version") != "13" {
				t.Error("a refused version is not answered with the version spoken")
			}
		})
	}
}

// rawClient speaks frames by hand, for what a well-behaved client library will not send.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialRaw opens a WebSocket by hand; early goes out in the same write as the handshake.
func dialRaw(t *testing.T, url string, early []byte) *rawClient {
	t.Helper()
	host := strings.TrimPrefix(url, "ws://")
	nc, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	hs := "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write(append([]byte(hs), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawClient{t: t, nc: nc, br: br}
}

func (rc *rawClient) send(op byte, fin bool, p []byte) {
	rc.t.Helper()
	if _, err := rc.nc.Write(frameBytes(op, fin, p, true)); err != nil {
		rc.t.Fatal(err)
	}
}

// recv reads one frame from the server, which must be unmasked and final.
func (rc *rawClient) recv() (byte, []byte) {
	rc.t.Helper()
	rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(rc.br, h[:]); err != nil {
		rc.t.Fatalf("read a frame: %v", err)
	}
	if h[0]&0xf0 != 0x80 || h[1]&0x80 != 0 {
		rc.t.Fatalf("the server's frame starts %x: not final, or masked", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(rc.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(rc.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(rc.br, p); err != nil {
		rc.t.Fatalf("read a payload: %v", err)
	}
	return h[0] & 0x0f, p
}

// frameBytes encodes a client's frame, masked with a random key unless told otherwise.
func frameBytes(op byte, fin bool, p []byte, masked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(p); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, m|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, m|127), uint64(n))
	}
	if !masked {
		return append(b, p...)
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range p {
		b = append(b, c^key[i%4])
	}
	return b
}

// Wait then Next: a control frame on its own is answered and gives no message; a message
// in fragments with a ping between them comes whole.
func TestWaitThenNext(t *testing.T) {
	type got struct {
		typ MessageType
		msg string
		err error
	}
	events := make(chan got, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, Options{})
		if err != nil {
			return
		}
		for {
			if err := c.Wait(); err != nil {
				events <- got{err: err}
				return
			}
			typ, msg, err := c.Next()
			events <- got{typ, string(msg), err}
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	rc := dialRaw(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	next := func() got {
		select {
		case g := <-events:
			return g
		case <-time.After(5 * time.Second):
			t.Fatal("Next did not return")
			return got{}
		}
	}
	rc.send(opPing, true, []byte("x"))
	if g := next(); g.typ != 0 || g.msg != "" || g.err != nil {
		t.Errorf("a ping: Next gave %+v, want nothing", g)
	}
	if op, p := rc.recv(); op != opPong || string(p) != "x" {
		t.Errorf("got opcode %d %q, want a pong", op, p)
	}
	rc.send(opBinary, false, []byte("a"))
	rc.send(opPing, true, nil)
	rc.send(opContinuation, true, []byte("b"))
	if g := next(); g.typ != Binary || g.msg != "ab" || g.err != nil {
		t.Errorf("a fragmented message: Next gave %+v", g)
	}
	rc.nc.Close()
	if g := next(); g.err == nil {
		t.Errorf("after the client went: %+v", g)
	}
}
