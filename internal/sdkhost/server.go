package sdkhost

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/wsconn"
)

// Hello is who a connecting process says it is: the query parameters the SDK sends.
type Hello struct {
	ProcessID        string // pID
	ComputeName      string // ComputeId
	FleetID          string // FleetId
	AuthToken        string // Authorization
	SDKVersion       string // sdkVersion
	SDKLanguage      string // sdkLanguage
	IdempotencyToken string // IdempotencyToken
	RemoteAddr       string
}

// Peer is the service's handle on one connected process.
type Peer interface {
	// Push sends the process a frame with the action and the members of body.
	Push(ctx context.Context, action string, body any) error
	// Close ends the connection with a reason the process sees, without waiting.
	Close(reason string)
}

// Backend gives meaning to the SDK's actions; the control plane implements it.
type Backend interface {
	// Authenticate checks a connecting process's token before its WebSocket is accepted;
	// an error refuses the handshake (401 for an Unauthorized gamelift.Error). What it
	// learned (the records it read) goes to Attach, which need not read it again.
	Authenticate(ctx context.Context, h Hello) (Admission, error)
	// Attach registers the accepted connection and returns the process's handle; a
	// process ID seen before resumes that process. a is what Authenticate returned for
	// the same Hello.
	Attach(ctx context.Context, h Hello, a Admission, p Peer) (Process, error)
}

// Admission is what a Backend's Authenticate hands its Attach; the endpoint only carries
// it from one to the other.
type Admission any

// Process is one attached process, as the Backend tracks it.
type Process interface {
	// Handle answers one request; the result's members go into the answer frame.
	Handle(ctx context.Context, action string, frame []byte) (any, error)
	// Detach tells that the connection is gone.
	Detach(ctx context.Context)
}

// Limits protect the endpoint from a process gone wrong.
const (
	// MaxFrameBytes bounds one frame; the largest honest frame (a backfill request with
	// many players) is far smaller.
	MaxFrameBytes = 1 << 20
	// framesPerSecond and frameBurst bound how fast a process may send; the SDK sends a
	// heartbeat a minute and a request per game event.
	framesPerSecond = 200
	frameBurst      = 400
	writeTimeout    = 10 * time.Second
)

// Server accepts SDK WebSocket connections.
type Server struct {
	backend Backend
	log     *slog.Logger
}

// New returns a Server handing connections to b.
func New(b Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{backend: b, log: log}
}

// IsUpgrade tells whether r asks for a WebSocket, which is how SDK connections arrive.
func IsUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// ServeHTTP admits one process, then returns: the connection lives on in goroutines of
// its own (wait) until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, he := parseHello(r)
	if he != nil {
		s.log.Info("sdk: handshake refused", "status", he.status, "reason", he.msg, "remote", r.RemoteAddr)
		http.Error(w, he.msg, he.status)
		return
	}
	// The values are cut from the query string, which holds the token: the connection
	// keeps copies of the three it logs, not the query; the fleet's and compute's are
	// the same for many processes, and kept in one copy for all.
	h.ProcessID = strings.Clone(h.ProcessID)
	h.FleetID, h.ComputeName = unique.Make(h.FleetID).Value(), unique.Make(h.ComputeName).Value()
	c := &conn{s: s, processID: h.ProcessID, fleetID: h.FleetID, computeName: h.ComputeName}
	ctx := context.WithoutCancel(r.Context())
	adm, err := s.backend.Authenticate(ctx, h)
	if err != nil {
		status, msg := statusOf(err)
		c.log().Info("sdk: process refused", "status", status, "reason", msg)
		http.Error(w, msg, status)
		return
	}
	ws, err := wsconn.Upgrade(w, r, wsconn.Options{ReadLimit: MaxFrameBytes, WriteTimeout: writeTimeout})
	if err != nil {
		return // Upgrade has answered the client
	}
	c.ws = ws
	proc, err := s.backend.Attach(ctx, h, adm, c)
	if err != nil {
		_, msg := statusOf(err)
		c.log().Info("sdk: process refused", "reason", msg)
		c.closed.Do(func() { ws.Close(wsconn.StatusPolicyViolation, msg) })
		c.drain()
		return
	}
	c.log().Debug("sdk: process connected", "sdk", h.SDKLanguage+" "+h.SDKVersion)
	c.proc, c.tokens, c.last = proc, frameBurst, time.Since(epoch)
	go c.wait()
}

// epoch is where conn.last counts from (on the monotonic clock).
var epoch = time.Now()

// conn is one process's WebSocket. While the process is idle, this, the socket and one
// goroutine blocked in wait with a small stack are all it holds.
type conn struct {
	s                               *Server
	ws                              *wsconn.Conn
	proc                            Process
	processID, fleetID, computeName string
	closed                          sync.Once

	// The rate limit: tokens left, and when they were counted (since epoch).
	tokens float64
	last   time.Duration
}

// log is the server's logger with the process's names (made when something is logged,
// not kept).
func (c *conn) log() *slog.Logger {
	return c.s.log.With("process", c.processID, "fleet", c.fleetID, "compute", c.computeName)
}

// wait is the connection's idle state: a goroutine blocked until a frame begins to
// arrive. What arrives is read and answered on the same goroutine, which then starts a
// new one to wait, and ends: a goroutine keeps the largest stack it grew to, and reading
// and answering (the store, JSON) grow it far past what waiting needs, so the goroutine
// that waits is always a fresh one, at the smallest stack.
func (c *conn) wait() {
	if err := c.ws.Wait(); err != nil {
		c.end(err)
		return
	}
	if c.next() {
		go c.wait()
	}
}

// next reads and answers what arrived; false when the connection is over.
func (c *conn) next() bool {
	_, frame, err := c.ws.Next()
	switch {
	case err != nil:
		c.end(err)
		return false
	case frame == nil: // a control frame, answered
		return true
	}
	now := time.Since(epoch)
	c.tokens = min(frameBurst, c.tokens+(now-c.last).Seconds()*framesPerSecond)
	c.last = now
	if c.tokens < 1 {
		c.log().Warn("sdk: process sends too fast; closing its connection")
		c.closed.Do(func() { c.ws.Close(wsconn.StatusNormalClosure, "too many frames") })
		return true // Next drops what comes until the process answers the close
	}
	c.tokens--
	c.answer(context.Background(), frame)
	return true
}

// end tells the backend the connection is gone.
func (c *conn) end(err error) {
	c.log().Debug("sdk: connection closed", "error", err)
	c.proc.Detach(context.Background())
}

// drain reads until the closing handshake ends.
func (c *conn) drain() {
	for {
		if _, _, err := c.ws.Read(); err != nil {
			return
		}
	}
}

// answer handles one request frame and writes its answer.
func (c *conn) answer(ctx context.Context, frame []byte) {
	env, err := decodeEnvelope(frame)
	if err != nil {
		c.write(ctx, Envelope{Action: env.Action, RequestID: env.RequestID}, http.StatusBadRequest, err.Error(), nil)
		return
	}
	result, err := c.proc.Handle(ctx, env.Action, frame)
	if err != nil {
		status, msg := statusOf(err)
		if status >= 500 {
			c.log().Error("sdk: request failed", "action", env.Action, "error", err)
		}
		c.write(ctx, env, status, msg, nil)
		return
	}
	c.write(ctx, env, http.StatusOK, "", result)
}

// write sends one frame, within writeTimeout.
func (c *conn) write(ctx context.Context, env Envelope, status int, msg string, body any) error {
	b, err := encodeFrame(env, status, msg, body)
	if err != nil {
		c.log().Error("sdk: encode frame", "action", env.Action, "error", err)
		b, _ = encodeFrame(env, http.StatusInternalServerError, "internal error", nil)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s frame: %w", env.Action, err)
	}
	if err := c.ws.Write(wsconn.Text, b); err != nil {
		return fmt.Errorf("write %s frame: %w", env.Action, err)
	}
	return nil
}

// Push implements Peer. A push carries StatusCode 200: the SDK drops frames with a
// RequestId and any other status as failed answers.
func (c *conn) Push(ctx context.Context, action string, body any) error {
	return c.write(ctx, Envelope{Action: action, RequestID: uuid.NewString()}, http.StatusOK, "", body)
}

// Close implements Peer. It returns at once: the close frame is sent on a goroutine of its
// own, and the connection's reader ends the closing handshake.
func (c *conn) Close(reason string) {
	c.closed.Do(func() { go c.ws.Close(wsconn.StatusNormalClosure, truncate(reason, 120)) })
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ErrUnknownAction answers an action the protocol does not have.
func ErrUnknownAction(action string) error {
	return gamelift.InvalidRequest("unknown action %q", action)
}
