package control

import "github.com/hoist-dev/hoist/internal/gamelift"

// Process states as the census counts them.
const (
	ProcessStarting     = "starting"     // connected, ProcessReady not called yet
	ProcessIdle         = "idle"         // ready, hosting nothing: placement may pick it
	ProcessHosting      = "hosting"      // ready, with a game session
	ProcessUnhealthy    = "unhealthy"    // reported unhealthy in its last heartbeat
	ProcessEnding       = "ending"       // called ProcessEnding, still connected
	ProcessDisconnected = "disconnected" // its connection dropped; kept for the reconnect grace
)

// CensusKey names a group the census counts: a fleet location, and a state or status.
type CensusKey struct {
	Fleet, Location, State string
}

// Census is what this server's process registry holds at a moment: its processes by
// state, the game sessions they host by status (ACTIVATING, ACTIVE, TERMINATING) and the
// player sessions of those by status (RESERVED, ACTIVE). With replicas, each counts the
// processes connected to it, so the sums over replicas are the service's.
type Census struct {
	Processes, GameSessions, PlayerSessions map[CensusKey]int
}

// Census counts the registry. It takes the registry's lock once, for a walk over every
// process: meant for a metrics scrape, not for every request.
func (s *Service) Census() Census {
	c := Census{Processes: map[CensusKey]int{}, GameSessions: map[CensusKey]int{}, PlayerSessions: map[CensusKey]int{}}
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	for _, p := range s.procs.byKey {
		k := CensusKey{Fleet: p.fleetID, Location: p.location, State: p.state()}
		c.Processes[k]++
		if p.gameSessionID == "" {
			continue
		}
		k.State = SessionActive
		switch {
		case p.activating:
			k.State = SessionActivating
		case p.terminating:
			k.State = SessionTerminating
		}
		c.GameSessions[k]++
		if p.reserved > 0 {
			c.PlayerSessions[CensusKey{p.fleetID, p.location, PlayerReserved}] += int(p.reserved)
		}
		if active := p.players - p.reserved; active > 0 {
			c.PlayerSessions[CensusKey{p.fleetID, p.location, PlayerActive}] += int(active)
		}
	}
	return c
}

// state tells the census state of a process; the registry's lock is held.
func (p *process) state() string {
	switch {
	case p.peer == nil:
		return ProcessDisconnected
	case p.ended:
		return ProcessEnding
	case p.unhealthy > 0:
		return ProcessUnhealthy
	case !p.ready:
		return ProcessStarting
	case p.gameSessionID != "":
		return ProcessHosting
	}
	return ProcessIdle
}

// reservedPlayers counts a session's RESERVED player sessions.
func reservedPlayers(players []gamelift.PlayerSession) int32 {
	n := int32(0)
	for _, ps := range players {
		if gamelift.Value(ps.Status) == PlayerReserved {
			n++
		}
	}
	return n
}
