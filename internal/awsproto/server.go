package awsproto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// MaxBodyBytes bounds a request body. The largest member, GameSessionData, is 262,144
// characters: up to a few MiB once UTF-8 and JSON escapes are counted.
const MaxBodyBytes = 8 << 20

// Handler runs one operation: decode fills the operation's input shape.
type Handler func(ctx context.Context, decode func(any) error) (any, error)

// Op adapts a typed operation to a Handler: the input is decoded, then validated against
// the model before fn runs.
func Op[In any, Out any, P interface {
	*In
	gamelift.Input
}](fn func(context.Context, P) (*Out, error)) Handler {
	return func(ctx context.Context, decode func(any) error) (any, error) {
		in := P(new(In))
		if err := decode(in); err != nil {
			return nil, err
		}
		if err := gamelift.Validate(in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}
}

// Defaults of Options.
const (
	DefaultBodyTimeout = 30 * time.Second
)

// Server answers the GameLift API over HTTP.
type Server struct {
	ops         map[string]Handler
	verifier    *verifier
	log         *slog.Logger
	budget      *Budget
	bodyTimeout time.Duration
	observe     func(op, code string, elapsed time.Duration)
}

// Options tune a Server; the zero value is usable.
type Options struct {
	// Now is the clock used to check signing times; time.Now when nil.
	Now func() time.Time
	// Logger receives a line per request: at debug level when it succeeds, at info when
	// it fails (4xx), at error for the server's own failures (5xx); slog.Default when nil.
	Logger *slog.Logger
	// Observe, when set, is told of every request once answered: the operation ("" for
	// one the Server does not answer, so a caller cannot invent label values), the
	// exception's name ("" for success), and the time taken. It must not block.
	Observe func(op, code string, elapsed time.Duration)
	// Budget bounds the bodies read at once, across requests; when nil, a budget of
	// DefaultBudget bytes of this Server's own.
	Budget *Budget
	// BodyTimeout bounds the time a body takes to arrive, from when its request is
	// admitted; DefaultBodyTimeout when zero.
	BodyTimeout time.Duration
}

// New returns a Server for the operations given, accepting requests signed by keys.
func New(ops map[string]Handler, keys Keys, o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Budget == nil {
		o.Budget = NewBudget(DefaultBudget, DefaultBudgetWait)
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	return &Server{ops: ops, verifier: newVerifier(keys, o.Now), log: o.Logger, budget: o.Budget, bodyTimeout: o.BodyTimeout, observe: o.Observe}
}

// HoistOperation names an operation of Hoist's own (managing access keys, say), which
// clients call in AWS JSON with X-Amz-Target: Hoist.<name>.
func HoistOperation(name string) string { return "hoist:" + name }

const (
	hoistTargetPrefix = "Hoist."
	jsonTargetPrefix  = "GameLift."
	cborPathPrefix    = "/service/GameLift/operation/"
)

type requestIDKey struct{}

// RequestID returns the ID of the API request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type callerKey struct{}

// Caller returns the access key ID that signed the API request ctx belongs to, or "".
func Caller(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set("X-Amzn-Requestid", id)
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	start := time.Now()

	c, op := protocolOf(r)
	var caller string
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "api: panic", "op", op, "request_id", id, "panic", p)
			e := gamelift.InternalFailure("internal failure")
			s.done(ctx, id, op, caller, e, start)
			c.encodeError(w, e)
		}
	}()
	out, err := s.serve(ctx, w, r, c, op, &caller)
	s.done(ctx, id, op, caller, err, start)
	if err != nil {
		c.encodeError(w, gamelift.AsError(err))
		return
	}
	c.encode(w, http.StatusOK, out)
}

// maxLoggedOp bounds how much of an operation name a caller sent is logged.
const maxLoggedOp = 128

// done logs an answered request and tells the observer: the request's ID, operation, the
// access key ID it names once the key is known (its signature may yet have failed), its
// HTTP status and how long it took. Successes are logged at debug level, failures at
// info, the server's own (5xx) at error.
func (s *Server) done(ctx context.Context, id, op, caller string, err error, start time.Time) {
	elapsed := time.Since(start)
	status, code, level := http.StatusOK, "", slog.LevelDebug
	if err != nil {
		e := gamelift.AsError(err)
		status, code, level = e.Status, e.Code, slog.LevelInfo
		if e.Status >= 500 || e.Code == "InternalServiceException" {
			level = slog.LevelError
		}
	}
	if s.observe != nil {
		known := op
		if _, ok := s.ops[op]; !ok {
			known = ""
		}
		s.observe(known, code, elapsed)
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	if len(op) > maxLoggedOp {
		op = op[:maxLoggedOp]
	}
	attrs := []slog.Attr{slog.String("request_id", id), slog.String("op", op), slog.String("access_key_id", caller),
		slog.Int("status", status), slog.Duration("elapsed", elapsed)}
	if err != nil {
		attrs = append(attrs, slog.String("code", code), slog.Any("error", err))
	}
	s.log.LogAttrs(ctx, level, "api request", attrs...)
}

func (s *Server) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, c codec, op string, caller *string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, gamelift.UnknownOperation("the GameLift API takes POST requests")
	}
	// Everything the headers tell is checked before a byte of the body is read. The
	// operation must be signed: for AWS JSON it is in X-Amz-Target, for RPC v2 CBOR in the
	// path, which is always signed.
	required := []string{"content-type"}
	if _, ok := c.(awsJSON); ok {
		required = append(required, "x-amz-target")
	}
	sr, err := s.verifier.checkHeaders(r, required...)
	if err != nil {
		return nil, err
	}
	*caller = sr.auth.accessKey
	body, release, err := ReadBody(ctx, w, r, s.budget, MaxBodyBytes, s.bodyTimeout)
	if err != nil {
		return nil, err
	}
	defer release()
	sum := sha256.Sum256(body)
	if err := s.verifier.checkSignature(ctx, r, sr, hex.EncodeToString(sum[:])); err != nil {
		return nil, err
	}
	h, ok := s.ops[op]
	if op == "" || !ok {
		return nil, gamelift.UnknownOperation("operation %q is not one Hoist answers", op)
	}
	if err := s.verifier.keys.Authorize(ctx, sr.auth.accessKey, op); err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, callerKey{}, sr.auth.accessKey)
	return h(ctx, func(v any) error { return c.decode(body, v) })
}

// ReadBody reads r's body of at most limit bytes under budget: the bytes it declares
// (limit when it declares none) are reserved before reading, and the body must arrive
// within timeout. A request over limit is refused unread, one the budget has no room for
// gets a ThrottlingException. release gives the reservation back once the body is no
// longer used.
func ReadBody(ctx context.Context, w http.ResponseWriter, r *http.Request, budget *Budget, limit int64, timeout time.Duration) (body []byte, release func(), err error) {
	n := r.ContentLength
	if n > limit {
		return nil, nil, gamelift.Serialization("request body is over %d bytes", limit)
	}
	reserve := n
	if n < 0 {
		reserve = limit
	}
	if err := budget.Acquire(ctx, reserve); err != nil {
		return nil, nil, gamelift.Overloaded("Rate exceeded: the server is reading as many request bodies as it can hold; retry later")
	}
	release = func() { budget.Release(reserve) }
	// Not every ResponseWriter lets the deadline be set (httptest's recorder does not).
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	if n >= 0 {
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	}
	if err != nil {
		release()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, gamelift.Serialization("request body is over %d bytes", limit)
		}
		return nil, nil, gamelift.Serialization("could not read the request body: %v", err)
	}
	return body, release, nil
}

// VerifyDeclaredPayload checks the SigV4 signature of a request that is not an API call (a
// build upload, say) from its headers alone, with the same keys and rules, and that the
// key may do what the request does, named as the operation op: the body's SHA-256 must be
// declared in a signed X-Amz-Content-Sha256 header, which the signature is checked over.
// It returns the declared hash (lower-case hex); the caller must check the body against it
// as it reads it.
func (s *Server) VerifyDeclaredPayload(ctx context.Context, r *http.Request, op string) (string, error) {
	sr, err := s.verifier.checkHeaders(r, "x-amz-content-sha256")
	if err != nil {
		return "", err
	}
	declared := r.Header.Get("X-Amz-Content-Sha256")
	if b, err := hex.DecodeString(declared); err != nil || len(b) != sha256.Size || strings.ToLower(declared) != declared {
		return "", gamelift.IncompleteSignature("X-Amz-Content-Sha256 must be the lower-case hex SHA-256 of the body, not %q", declared)
	}
	if err := s.verifier.checkSignature(ctx, r, sr, declared); err != nil {
		return "", err
	}
	if err := s.verifier.keys.Authorize(ctx, sr.auth.accessKey, op); err != nil {
		return "", err
	}
	return declared, nil
}

// protocolOf tells the protocol of r and the operation it names. A request of neither
// protocol is answered in JSON.
func protocolOf(r *http.Request) (codec, string) {
	if op, ok := strings.CutPrefix(r.URL.Path, cborPathPrefix); ok {
		if strings.Contains(op, ":") { // Hoist's own operations are AWS JSON only
			op = ""
		}
		return rpcV2CBOR{}, op
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if op, ok := strings.CutPrefix(t, jsonTargetPrefix); ok {
			return awsJSON{}, op
		}
		if op, ok := strings.CutPrefix(t, hoistTargetPrefix); ok && op != "" {
			return awsJSON{}, HoistOperation(op)
		}
		return awsJSON{}, ""
	}
	return awsJSON{}, ""
}
