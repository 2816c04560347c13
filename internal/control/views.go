package control

import (
	"cmp"
	"slices"
)

// Views the web console shows that GameLift's API has no operation for. They read this
// replica's memory only, and are bounded.

// ProcessView is a server process connected to this replica, as the console shows it.
type ProcessView struct {
	ProcessID, ComputeName, Location string
	Port                             int32
	// State is READY (free for a session), ACTIVATING, HOSTING, UNHEALTHY, DISCONNECTED,
	// ENDING or STARTING (connected, not yet ready).
	State         string
	GameSessionID string
	Players, Max  int32
}

// FleetProcesses lists the processes of a fleet known to this replica, by compute and
// process ID.
func (s *Service) FleetProcesses(fleetID string) []ProcessView {
	s.procs.mu.Lock()
	var out []ProcessView
	for _, p := range s.procs.byKey {
		if p.fleetID != fleetID {
			continue
		}
		v := ProcessView{ProcessID: p.id, ComputeName: p.computeName, Location: p.location, Port: p.port,
			GameSessionID: p.gameSessionID, Players: p.players, Max: p.maxSlots}
		switch {
		case p.ended:
			v.State = "ENDING"
		case p.peer == nil:
			v.State = "DISCONNECTED"
		case p.unhealthy > 0:
			v.State = "UNHEALTHY"
		case !p.ready:
			v.State = "STARTING"
		case p.gameSessionID != "" && p.activating:
			v.State = "ACTIVATING"
		case p.gameSessionID != "":
			v.State = "HOSTING"
		default:
			v.State = "READY"
		}
		out = append(out, v)
	}
	s.procs.mu.Unlock()
	slices.SortFunc(out, func(a, b ProcessView) int {
		return cmp.Or(cmp.Compare(a.ComputeName, b.ComputeName), cmp.Compare(a.ProcessID, b.ProcessID))
	})
	return out
}
