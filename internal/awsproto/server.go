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

// Server answers the GameLift API over HTTP.
type Server struct {
	ops      map[string]Handler
	verifier *verifier
	log      *slog.Logger
}

// Options tune a Server; the zero value is usable.
type Options struct {
	// Now is the clock used to check signing times; time.Now when nil.
	Now func() time.Time
	// Logger receives a line per failed request; slog.Default when nil.
	Logger *slog.Logger
}

// New returns a Server for the operations given, accepting requests signed by keys.
func New(ops map[string]Handler, keys Keys, o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Server{ops: ops, verifier: newVerifier(keys, o.Now), log: o.Logger}
}

const (
	jsonTargetPrefix = "GameLift."
	cborPathPrefix   = "/service/GameLift/operation/"
)

type requestIDKey struct{}

// RequestID returns the ID of the API request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set("X-Amzn-Requestid", id)
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	start := time.Now()

	c, op := protocolOf(r)
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "api: panic", "op", op, "request_id", id, "panic", p)
			c.encodeError(w, gamelift.InternalFailure("internal failure"))
		}
	}()
	out, err := s.serve(ctx, r, c, op)
	if err != nil {
		e := gamelift.AsError(err)
		level := slog.LevelDebug
		if e.Status >= 500 || e.Code == "InternalServiceException" {
			level = slog.LevelError
		}
		s.log.Log(ctx, level, "api: request failed", "op", op, "request_id", id, "code", e.Code, "error", err, "elapsed", time.Since(start))
		c.encodeError(w, e)
		return
	}
	c.encode(w, http.StatusOK, out)
}

func (s *Server) serve(ctx context.Context, r *http.Request, c codec, op string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, gamelift.UnknownOperation("the GameLift API takes POST requests")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, gamelift.Serialization("request body is over %d bytes", MaxBodyBytes)
		}
		return nil, gamelift.Serialization("could not read the request body: %v", err)
	}
	sum := sha256.Sum256(body)
	if _, err := s.verifier.verify(ctx, r, hex.EncodeToString(sum[:])); err != nil {
		return nil, err
	}
	h, ok := s.ops[op]
	if op == "" || !ok {
		return nil, gamelift.UnknownOperation("operation %q is not one Hoist answers", op)
	}
	return h(ctx, func(v any) error { return c.decode(body, v) })
}

// Verify checks the SigV4 signature of a request that is not an API call (a build
// upload, say) whose body has the SHA-256 payloadHash (hex), with the same keys and rules.
func (s *Server) Verify(ctx context.Context, r *http.Request, payloadHash string) error {
	_, err := s.verifier.verify(ctx, r, payloadHash)
	return err
}

// protocolOf tells the protocol of r and the operation it names. A request of neither
// protocol is answered in JSON.
func protocolOf(r *http.Request) (codec, string) {
	if op, ok := strings.CutPrefix(r.URL.Path, cborPathPrefix); ok {
		return rpcV2CBOR{}, op
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		op, _ := strings.CutPrefix(t, jsonTargetPrefix)
		if op == t {
			return awsJSON{}, ""
		}
		return awsJSON{}, op
	}
	return awsJSON{}, ""
}
