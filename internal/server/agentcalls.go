package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

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

func serveAgentLogs(w http.ResponseWriter, r *http.Request, svc *control.Service, log *slog.Logger) {
	q := r.URL.Query()
	c := control.AgentCall{FleetId: q.Get("FleetId"), ComputeName: q.Get("ComputeName"), AuthToken: q.Get("AuthToken"), ProcessId: q.Get("ProcessId")}
	if err := svc.StoreProcessLogs(r.Context(), c, r.Body); err != nil {
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}\n"))
}

func serveAgentCall(w http.ResponseWriter, r *http.Request, svc *control.Service, log *slog.Logger) {
	var c control.AgentCall
	var result any
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&c)
	if err != nil {
		err = gamelift.Serialization("agent call is not JSON: %v", err)
	} else {
		result, err = svc.HandleAgentCall(r.Context(), c)
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
