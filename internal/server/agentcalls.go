package server

import (
	"encoding/json"
	"net/http"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// AgentPath is where host agents send what GameLift's API has no operation for (fleet
// events, asking a process to end), as JSON, authenticated by their compute's token.
const AgentPath = "/hoist/agent"

func serveAgentCall(w http.ResponseWriter, r *http.Request, svc *control.Service) {
	var c control.AgentCall
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&c)
	if err != nil {
		err = gamelift.Serialization("agent call is not JSON: %v", err)
	} else {
		err = svc.HandleAgentCall(r.Context(), c)
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		e := gamelift.AsError(err)
		status := e.Status
		if e.Code == "UnauthorizedException" {
			status = http.StatusUnauthorized
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
		return
	}
	w.Write([]byte("{}\n"))
}
