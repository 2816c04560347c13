package sdkhost

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// idleBackend admits every process and answers every request with nothing.
type idleBackend struct{}

func (idleBackend) Authenticate(context.Context, Hello) (Admission, error) { return nil, nil }
func (idleBackend) Attach(context.Context, Hello, Admission, Peer) (Process, error) {
	return idleProcess{}, nil
}

type idleProcess struct{}

func (idleProcess) Handle(context.Context, string, []byte) (any, error) { return nil, nil }
func (idleProcess) Detach(context.Context)                              {}

// An idle connected process costs the endpoint one goroutine at the smallest stack and
// little heap: no buffers, no HTTP request, no goroutine grown by answering its frames.
// The numbers include the test's own end of each socket (a net.Conn, no goroutine).
func TestIdleConnectionsHoldLittle(t *testing.T) {
	srv := httptest.NewServer(New(idleBackend{}, nil))
	defer srv.Close()
	const n = 1000
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	measure := func() (stack, heap uint64, goroutines int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.StackInuse, m.HeapAlloc, runtime.NumGoroutine()
	}
	stack0, heap0, g0 := measure()
	heartbeat := []byte(`{"Action":"HeartbeatServerProcess","RequestId":"r","HealthStatus":true}`)
	for range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.Write([]byte("GET /?pID=p-1&Authorization=tok HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))
		br := bufio.NewReader(c)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		// One request and its answer: the frame is read and answered on the goroutine that
		// waited for it, which hands the wait to a fresh one.
		c.Write(append([]byte{0x81, 0x80 | byte(len(heartbeat)), 0, 0, 0, 0}, heartbeat...)) // masked with zeros
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			t.Fatal(err)
		}
		io.ReadFull(br, make([]byte, h[1]&0x7f))
	}
	time.Sleep(50 * time.Millisecond) // for the last answers' goroutines to end
	stack1, heap1, g1 := measure()
	stack, heap, goroutines := (stack1-stack0)/n, (heap1-heap0)/n, float64(g1-g0)/n
	t.Logf("per idle connection: %d B of stack, %d B of heap, %.2f goroutines", stack, heap, goroutines)
	if goroutines > 1.01 {
		t.Errorf("%.2f goroutines per idle connection, want 1", goroutines)
	}
	if heap > 2048 {
		t.Errorf("%d B of heap per idle connection, want 2 KiB at most", heap)
	}
	if !raceEnabled && stack > 3072 { // the race detector's bookkeeping deepens every stack
		t.Errorf("%d B of stack per idle connection, want 3 KiB at most (a 2 KiB stack each, and some spare)", stack)
	}
}
