package sdkhost

import (
	"fmt"
	"net/http"
)

// helloField is one query parameter of the SDK's handshake and the longest value it may
// have. The bounds are those GameLift's model puts on the same values (a compute's name or
// ARN and an auth token 1024, a fleet ID or ARN 512), and small ones for the SDK's own
// names: a process would otherwise make the server keep whatever it sent for as long as it
// stays connected.
type helloField struct {
	name string
	max  int
	dst  func(*Hello) *string
}

var helloFields = []helloField{
	{"pID", 1024, func(h *Hello) *string { return &h.ProcessID }},
	{"ComputeId", 1024, func(h *Hello) *string { return &h.ComputeName }},
	{"FleetId", 512, func(h *Hello) *string { return &h.FleetID }},
	{"Authorization", 1024, func(h *Hello) *string { return &h.AuthToken }},
	{"sdkVersion", 128, func(h *Hello) *string { return &h.SDKVersion }},
	{"sdkLanguage", 128, func(h *Hello) *string { return &h.SDKLanguage }},
	{"IdempotencyToken", 1024, func(h *Hello) *string { return &h.IdempotencyToken }},
}

// helloError is a handshake refused for its query parameters, with the HTTP status it gets.
type helloError struct {
	status int
	msg    string
}

func (e *helloError) Error() string { return e.msg }

// parseHello reads who a connecting process says it is from the handshake's query. A
// value over its bound refuses the handshake (400) before anything is
// kept; a missing pID or Authorization refuses it with 401.
func parseHello(r *http.Request) (Hello, *helloError) {
	q := r.URL.Query()
	h := Hello{RemoteAddr: r.RemoteAddr}
	for _, f := range helloFields {
		v := q.Get(f.name)
		if len(v) > f.max {
			return Hello{}, &helloError{http.StatusBadRequest, fmt.Sprintf("the %s query parameter is %d bytes, over its bound of %d", f.name, len(v), f.max)}
		}
		*f.dst(&h) = v
	}
	if h.ProcessID == "" || h.AuthToken == "" {
		return Hello{}, &helloError{http.StatusUnauthorized, "pID and Authorization query parameters are required"}
	}
	return h, nil
}
