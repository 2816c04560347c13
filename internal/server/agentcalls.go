package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/sdkhost"
)

// AgentPath is where host agents send what GameLift's API has no operation for (fleet
// events, asking a process to end, a process's log paths), as JSON, authenticated by their
// compute's token. AgentLogsPath takes a process's log archive (PUT, a zip; the call's
// members as query parameters).
const (
	AgentPath     = "/hoist/agent"
	AgentLogsPath = "/hoist/agent/logs"
)

// maxLogArchive bounds an uploaded log archive.
const maxLogArchive = 256 << 20

// maxAgentCall bounds an agent call's JSON.
const maxAgentCall = 64 << 10

// serveAgentLogs takes a log archive; the caller is authenticated, from the query, before
// the archive is read.
func serveAgentLogs(w http.ResponseWriter, r *http.Request, svc *control.Service, log *slog.Logger) {
	q := r.URL.Query()
	c := control.AgentCall{FleetId: q.Get("FleetId"), ComputeName: q.Get("ComputeName"), AuthToken: q.Get("AuthToken"), ProcessId: q.Get("ProcessId")}
	if err := svc.Authenticate(r.Context(), sdkhost.Hello{FleetID: c.FleetId, ComputeName: c.ComputeName, AuthToken: c.AuthToken}); err != nil {
		writeError(w, log, err)
		return
	}
	if r.ContentLength > maxLogArchive {
		writeError(w, log, gamelift.InvalidRequest("log archive over %d bytes", maxLogArchive))
		return
	}
	body := progressReader{r: http.MaxBytesReader(w, r.Body, maxLogArchive), rc: http.NewResponseController(w), idle: uploadIdleTimeout}
	archive, err := io.ReadAll(body)
	if err != nil {
		writeError(w, log, gamelift.Serialization("read log archive: %v", err))
		return
	}
	if err := svc.StoreProcessLogs(r.Context(), c, archive); err != nil {
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
