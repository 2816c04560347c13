package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// AgentPath is where host agents send what GameLift's API has no operation for (fleet
// events, asking a process to end), as JSON, authenticated by their compute's token.
const AgentPath = "/hoist/agent"

func serveAgentCall(w http.ResponseWriter, r *http.Request, svc *control.Service, log *slog.Logger) {
	var c control.AgentCall
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&c)
	if err != nil {
		err = gamelift.Serialization("agent call is not JSON: %v", err)
	} else {
		err = svc.HandleAgentCall(r.Context(), c)
	}
	if err != nil {
		if gamelift.IsCode(err, "ConflictException") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(map[string]string{"__type": "ConflictException", "message": gamelift.AsError(err).Message})
			return
		}
		writeError(w, log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}\n"))
}
