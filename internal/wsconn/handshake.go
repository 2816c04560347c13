package wsconn

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// acceptGUID is the GUID RFC 6455 (section 1.3) appends to a client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept value answering the client's Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// HandshakeError is a refused handshake: Upgrade has answered the client with Status.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("websocket handshake refused (%d): %s", e.Status, e.Reason)
}

// check validates r as a WebSocket opening handshake (RFC 6455 section 4.2.1) and returns
// the client's key. On a refusal it has set the headers the answer should carry.
func check(w http.ResponseWriter, r *http.Request) (string, *HandshakeError) {
	refuse := func(status int, format string, args ...any) (string, *HandshakeError) {
		return "", &HandshakeError{Status: status, Reason: fmt.Sprintf(format, args...)}
	}
	if !r.ProtoAtLeast(1, 1) {
		return refuse(http.StatusUpgradeRequired, "the handshake must be HTTP/1.1 or later, not %s", r.Proto)
	}
	if !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return refuse(http.StatusUpgradeRequired, "the Connection header must hold Upgrade and the Upgrade header websocket")
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return refuse(http.StatusMethodNotAllowed, "the handshake must be a GET, not %s", r.Method)
	}
	if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return refuse(http.StatusBadRequest, "Sec-WebSocket-Version %q is not 13", v)
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return refuse(http.StatusBadRequest, "one Sec-WebSocket-Key header is required, not %d", len(keys))
	}
	key := strings.TrimSpace(keys[0])
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return refuse(http.StatusBadRequest, "Sec-WebSocket-Key %q is not 16 bytes in base64", key)
	}
	// A browser page of another site may not open a socket here (a client that is not a
	// browser sends no Origin).
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, r.Host) {
			return refuse(http.StatusForbidden, "Origin %q is not this host (%s)", o, r.Host)
		}
	}
	return key, nil
}

// hasToken tells whether a comma-separated header holds token, case aside.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Upgrade answers the WebSocket handshake of r and takes its connection over: on success
// the handler must not use w again, and may return while the Conn lives on. A refused
// handshake is answered with an HTTP error and returned as a *HandshakeError. The
// connection keeps no buffer of net/http's: bytes the client sent past the handshake are
// kept until read, and net/http's reader and writer are dropped.
func Upgrade(w http.ResponseWriter, r *http.Request, o Options) (*Conn, error) {
	key, herr := check(w, r)
	if herr != nil {
		http.Error(w, herr.Reason, herr.Status)
		return nil, herr
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "the connection cannot be taken over", http.StatusInternalServerError)
		return nil, fmt.Errorf("websocket: hijack: %w", err)
	}
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		early = make([]byte, n)
		if _, err := brw.Reader.Read(early); err != nil {
			nc.Close()
			return nil, fmt.Errorf("websocket: buffered bytes: %w", err)
		}
	}
	brw = nil // net/http's 4 kB reader and writer go with it
	c := newConn(nc, early, o)
	answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		AcceptKey(key) + "\r\n\r\n"
	nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if _, err := nc.Write([]byte(answer)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket: write the handshake answer: %w", err)
	}
	nc.SetWriteDeadline(time.Time{})
	return c, nil
}
