package wsconn

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// FuzzRead: whatever bytes a client sends, Read returns messages within the read limit or
// an error, never panics, and allocates nothing beyond what the bytes hold.
func FuzzRead(f *testing.F) {
	for _, seed := range [][]byte{
		frameBytes(opText, true, []byte(`{"Action":"HeartbeatServerProcess"}`), true),
		append(frameBytes(opBinary, false, []byte("a"), true), append(frameBytes(opPing, true, []byte("p"), true), frameBytes(opContinuation, true, []byte("b"), true)...)...),
		frameBytes(opClose, true, []byte{0x03, 0xe8, 'b', 'y', 'e'}, true),
		frameBytes(opText, true, make([]byte, 300), true),
		frameBytes(opText, true, []byte("hi"), false),
		{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4},
	} {
		f.Add(seed)
	}
	const limit = 1024
	f.Fuzz(func(t *testing.T, in []byte) {
		c := newConn(&fakeConn{r: bytes.NewReader(in)}, nil, Options{ReadLimit: limit})
		total := 0
		for {
			_, msg, err := c.Read()
			if err != nil {
				return
			}
			if len(msg) > limit {
				t.Fatalf("a message of %d bytes, over the limit of %d", len(msg), limit)
			}
			if total += len(msg); total > len(in) {
				t.Fatalf("%d bytes of messages from %d bytes of input", total, len(in))
			}
		}
	})
}

// fakeConn reads from r and swallows writes.
type fakeConn struct {
	r *bytes.Reader
	net.Conn
}

func (f *fakeConn) Read(p []byte) (int, error)         { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)        { return len(p), nil }
func (f *fakeConn) Close() error                       { return nil }
func (f *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
