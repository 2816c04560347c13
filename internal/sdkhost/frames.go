package sdkhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Envelope is what every frame carries, in both directions.
type Envelope struct {
	Action    string `json:"Action"`
	RequestID string `json:"RequestId"`
}

// decodeEnvelope reads the Action and RequestId of a frame; a frame without an Action or
// that is not a JSON object is refused.
func decodeEnvelope(frame []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(frame, &e); err != nil {
		return e, fmt.Errorf("frame is not a JSON object with string Action and RequestId: %w", err)
	}
	if e.Action == "" {
		return e, errors.New("frame has no Action")
	}
	return e, nil
}

// encodeFrame writes one frame: the envelope, a status and message, then the members of
// body (a struct or map encoding as a JSON object, or nil).
func encodeFrame(env Envelope, status int, errMsg string, body any) ([]byte, error) {
	head, err := json.Marshal(struct {
		Envelope
		StatusCode   int    `json:"StatusCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}{env, status, errMsg})
	if err != nil {
		return nil, err
	}
	if body == nil {
		return head, nil
	}
	rest, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	rest = bytes.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '{' {
		return nil, fmt.Errorf("frame body %T is not a JSON object", body)
	}
	if len(rest) == 2 { // {}
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(rest))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	return append(out, rest[1:]...), nil
}

// statusOf maps an error to the StatusCode the SDK turns back into an error kind:
// 400 bad request, 401 unauthorized, 404 not found, 409 conflict, 429 throttled, 500 else.
func statusOf(err error) (int, string) {
	var e *gamelift.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "internal error"
	}
	switch e.Code {
	case "UnauthorizedException":
		return http.StatusUnauthorized, e.Message
	case "NotFoundException":
		return http.StatusNotFound, e.Message
	case "ConflictException":
		return http.StatusConflict, e.Message
	case "LimitExceededException":
		return http.StatusTooManyRequests, e.Message
	case "InternalServiceException", "InternalFailure":
		return http.StatusInternalServerError, e.Message
	}
	return http.StatusBadRequest, e.Message
}
