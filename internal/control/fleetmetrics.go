package control

import (
	"context"
)

// FleetMetrics are GameLift's fleet metrics for one fleet location, as Hoist knows them:
// from the live process registries (every replica's) and the hosts (instances) registered.
type FleetMetrics struct {
	Hosts      int32 // active computes: GameLift's instances
	Processes  int32 // active server processes
	Activating int32 // sessions still ACTIVATING
	Sessions   int32 // sessions ACTIVE
	Available  int32 // processes free for a new session
	Players    int32 // player slots used or reserved
	Slots      int32 // player slots of the sessions
	BusyHosts  int32 // hosts running at least one session
}

// fleetMetrics measures a fleet location now, with every replica's processes counted.
func (s *Service) fleetMetrics(ctx context.Context, fleetID, location string, hosts int32) FleetMetrics {
	m := s.LocalMetrics(fleetID, location)
	if s.replicated() {
		for _, p := range s.livePeers(ctx) {
			pm, err := s.replicas.peers.Metrics(ctx, p.URL, fleetID, location)
			if err != nil {
				s.log.Warn("auto scaling: metrics of another replica", "replica", p.ID, "error", err)
				continue
			}
			m.Processes += pm.Processes
			m.Activating += pm.Activating
			m.Sessions += pm.Sessions
			m.Available += pm.Available
			m.Players += pm.Players
			m.Slots += pm.Slots
			m.BusyHosts += pm.BusyHosts // a host's processes may sit on two replicas: capped below
		}
	}
	m.Hosts = hosts
	m.BusyHosts = min(m.BusyHosts, hosts)
	return m
}

// LocalMetrics measures a fleet location's processes on this replica (Hosts left 0).
func (s *Service) LocalMetrics(fleetID, location string) FleetMetrics {
	var m FleetMetrics
	busy := map[string]bool{}
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID != fleetID || p.location != location || !p.counted() {
			continue
		}
		m.Processes++
		switch {
		case p.gameSessionID == "":
			m.Available++
			continue
		case p.activating:
			m.Activating++
		default:
			m.Sessions++
		}
		m.Players += p.players
		m.Slots += p.maxSlots
		busy[p.computeName] = true
	}
	s.procs.mu.Unlock()
	m.BusyHosts = int32(len(busy))
	return m
}

// leads tells whether this server does the work one server of a store does for all (auto
// scaling): alone on its store it does; among replicas, the live one with the lowest ID.
func (s *Service) leads(ctx context.Context) bool {
	if !s.replicated() {
		return true
	}
	live, err := s.liveReplicas(ctx)
	if err != nil {
		return false
	}
	for id := range live {
		if id < s.replicas.id {
			return false
		}
	}
	return true
}
