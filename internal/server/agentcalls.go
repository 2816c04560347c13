package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// AgentPath is where host agents send what GameLift's API has no operation for (fleet
// events, asking a process to end, a process's log paths), as JSON, authenticated by their
// compute's token. AgentLogsPath takes a process's log archive (PUT, a zip; the call's
// members as query parameters).
const (
	AgentPath     = "/hoist/agent"
	AgentLogsPath = "/hoist/agent/logs"
)

// maxAgentCall bounds an agent call's JSON.
const maxAgentCall = 64 << 10

// serveAgentLogs takes a log archive; the service checks the caller's token, from the
// query, before it reads the archive, which it streams to disk under its size cap.
func serveAgentLogs(w http.ResponseWriter, r *http.Request, svc *control.Service, log *slog.Logger) {
	q := r.URL.Query()
	c := control.AgentCall{FleetId: q.Get("FleetId"), ComputeName: q.Get("ComputeName"), AuthToken: q.Get("AuthToken"), ProcessId: q.Get("ProcessId")}
	body := progressReader{r: r.Body, rc: http.NewResponseController(w), idle: uploadIdleTimeout}
	if err := svc.StoreProcessLogs(r.Context(), c, body); err != nil {
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}\n"))
}

// serveAgentCall answers a call whose compute token is in its JSON body: the body is read
// under the same budget and deadline as the API's, since nothing authenticates it before.
func serveAgentCall(w http.ResponseWriter, r *http.Request, svc *control.Service, budget *awsproto.Budget, log *slog.Logger) {
	var c control.AgentCall
	var result any
	body, release, err := awsproto.ReadBody(r.Context(), w, r, budget, maxAgentCall, awsproto.DefaultBodyTimeout)
	if err == nil {
		err = json.Unmarshal(body, &c)
		release()
		if err != nil {
			err = gamelift.Serialization("agent call is not JSON: %v", err)
		} else {
			result, err = svc.HandleAgentCall(r.Context(), c)
		}
	}
	if err != nil {
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if result == nil {
		result = struct{}{}
	}
	json.NewEncoder(w).Encode(result)
}
