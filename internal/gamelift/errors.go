package gamelift

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an exception GameLift (or the AWS protocol layer in front of it) answers with.
// Code is the exception name put in __type; Status the HTTP status it travels with.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(code string, status int, format string, args []any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg, Status: status}
}

// The exceptions of the GameLift model. All travel with HTTP 400, as the model says.
func Conflict(format string, args ...any) *Error {
	return newError("ConflictException", http.StatusBadRequest, format, args)
}
func FleetCapacityExceeded(format string, args ...any) *Error {
	return newError("FleetCapacityExceededException", http.StatusBadRequest, format, args)
}
func GameSessionFull(format string, args ...any) *Error {
	return newError("GameSessionFullException", http.StatusBadRequest, format, args)
}
func IdempotentParameterMismatch(format string, args ...any) *Error {
	return newError("IdempotentParameterMismatchException", http.StatusBadRequest, format, args)
}
func InternalService(format string, args ...any) *Error {
	return newError("InternalServiceException", http.StatusBadRequest, format, args)
}
func InvalidFleetStatus(format string, args ...any) *Error {
	return newError("InvalidFleetStatusException", http.StatusBadRequest, format, args)
}
func InvalidGameSessionStatus(format string, args ...any) *Error {
	return newError("InvalidGameSessionStatusException", http.StatusBadRequest, format, args)
}
func InvalidRequest(format string, args ...any) *Error {
	return newError("InvalidRequestException", http.StatusBadRequest, format, args)
}
func LimitExceeded(format string, args ...any) *Error {
	return newError("LimitExceededException", http.StatusBadRequest, format, args)
}
func NotFound(format string, args ...any) *Error {
	return newError("NotFoundException", http.StatusBadRequest, format, args)
}
func NotReady(format string, args ...any) *Error {
	return newError("NotReadyException", http.StatusBadRequest, format, args)
}
func TaggingFailed(format string, args ...any) *Error {
	return newError("TaggingFailedException", http.StatusBadRequest, format, args)
}
func TerminalRoutingStrategy(format string, args ...any) *Error {
	return newError("TerminalRoutingStrategyException", http.StatusBadRequest, format, args)
}
func Unauthorized(format string, args ...any) *Error {
	return newError("UnauthorizedException", http.StatusBadRequest, format, args)
}
func UnsupportedRegion(format string, args ...any) *Error {
	return newError("UnsupportedRegionException", http.StatusBadRequest, format, args)
}

// Protocol-level errors: what never reaches an operation.
func Serialization(format string, args ...any) *Error {
	return newError("SerializationException", http.StatusBadRequest, format, args)
}
func UnknownOperation(format string, args ...any) *Error {
	return newError("UnknownOperationException", http.StatusBadRequest, format, args)
}
func InvalidSignature(format string, args ...any) *Error {
	return newError("InvalidSignatureException", http.StatusForbidden, format, args)
}
func IncompleteSignature(format string, args ...any) *Error {
	return newError("IncompleteSignatureException", http.StatusForbidden, format, args)
}
func UnrecognizedClient(format string, args ...any) *Error {
	return newError("UnrecognizedClientException", http.StatusForbidden, format, args)
}
func MissingAuthenticationToken(format string, args ...any) *Error {
	return newError("MissingAuthenticationTokenException", http.StatusForbidden, format, args)
}
func Throttling(format string, args ...any) *Error {
	return newError("ThrottlingException", http.StatusBadRequest, format, args)
}
func InternalFailure(format string, args ...any) *Error {
	return newError("InternalFailure", http.StatusInternalServerError, format, args)
}

// Overloaded is a ThrottlingException for a server at its limit rather than a caller over
// its rate: HTTP 503, which AWS SDKs retry too.
func Overloaded(format string, args ...any) *Error {
	return newError("ThrottlingException", http.StatusServiceUnavailable, format, args)
}

// AsError finds the GameLift exception in err's chain; anything else is an internal failure
// whose details stay in the server's log.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return InternalService("the service could not complete the request")
}

// IsCode reports whether err carries the named exception.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Unsupported answers an operation of GameLift's model that Hoist does not have, naming
// it and why. It is UnsupportedRegionException, the model's own way of saying an
// operation is not offered where it was called, so every AWS SDK parses it (as a typed
// error where the operation models it) and a client can tell it from a malformed request.
func Unsupported(op, why string) *Error {
	return newError("UnsupportedRegionException", http.StatusBadRequest, "Hoist does not support %s: %s", []any{op, why})
}

// AccessDenied refuses a call the caller's key is not allowed to make.
func AccessDenied(format string, args ...any) *Error {
	return newError("AccessDeniedException", http.StatusBadRequest, format, args)
}
