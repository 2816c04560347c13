package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestHandshakeFieldsAreBounded sends the SDK's handshake with each query parameter one byte
// over its bound (and a 400 KB pID, as the probe did): each is refused with 400 before the
// token is checked or anything kept, and values at their bounds are let through.
func TestHandshakeFieldsAreBounded(t *testing.T) {
	w := newSDKWorld(t)
	hello := func(edit func(url.Values)) url.Values {
		q := url.Values{"pID": {"p-bounded"}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "ComputeId": {w.compute},
			"FleetId": {w.fleetID}, "IdempotencyToken": {"idem-1"}, "Authorization": {w.tok}}
		edit(q)
		return q
	}
	dial := func(q url.Values) (*websocket.Conn, int) {
		t.Helper()
		conn, resp, err := websocket.Dial(context.Background(), w.srv.SDKEndpoint+"/?"+q.Encode(), nil)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn, http.StatusSwitchingProtocols
	}
	bounds := map[string]int{"pID": 1024, "ComputeId": 1024, "FleetId": 512, "Authorization": 1024,
		"sdkVersion": 128, "sdkLanguage": 128, "IdempotencyToken": 1024}
	for field, max := range bounds {
		_, status := dial(hello(func(q url.Values) { q.Set(field, strings.Repeat("a", max+1)) }))
		if status != http.StatusBadRequest {
			t.Errorf("%s of %d bytes: HTTP %d, want 400", field, max+1, status)
		}
	}
	if _, status := dial(hello(func(q url.Values) { q.Set("pID", strings.Repeat("p", 400<<10)) })); status != http.StatusBadRequest {
		t.Errorf("a 400 KB pID: HTTP %d, want 400", status)
	}
	if n := w.activeProcesses(t); n != 0 {
		t.Errorf("%d processes after refused handshakes, want 0", n)
	}

	long := "p-" + strings.Repeat("x", 1022)
	conn, status := dial(hello(func(q url.Values) {
		q.Set("pID", long)
		q.Set("sdkVersion", strings.Repeat("5", 128))
		q.Set("IdempotencyToken", strings.Repeat("i", 1024))
	}))
	if conn == nil {
		t.Fatalf("values at their bounds: HTTP %d, want the WebSocket", status)
	}
	p := &rawProcess{t: t, conn: conn}
	p.send(`{"Action":"ActivateServerProcess","RequestId":"r1","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":7777,"LogPaths":[]}`)
	if got := p.recv(); got["StatusCode"] != float64(200) {
		t.Fatalf("ProcessReady with a 1024-byte pID: %v", got)
	}
	eventually(t, "the process with a 1024-byte pID is active", func() bool { return w.activeProcesses(t) == 1 })
}
