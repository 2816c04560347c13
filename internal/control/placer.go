package control

import (
	"sync"
	"sync/atomic"
)

// Placer is what the core tells game session placements (internal/queues), which are
// built after the core and set with SetPlacer: when capacity may have appeared, what
// became of the game sessions placements made, and what the core learns of other
// replicas. Its methods are called on the goroutine that made the change; CapacityFreed
// under the process registry's lock, so it must not block.
type Placer interface {
	// CapacityFreed is told that a process may have become free for a new session, on
	// this replica or another: a process became ready or free, a compute has one session
	// fewer activating, or another replica changed a session or a process.
	CapacityFreed()
	// SessionActive is told that a game session made for a placement
	// (SessionRequest.PlacementID) became ACTIVE.
	SessionActive(placementID, sessionID string)
	// SessionEnded is told that a game session made for a placement ended, ACTIVE or not.
	SessionEnded(placementID string)
	// ReplicasStopped is told the IDs of replicas that stopped (their heartbeats are too
	// old), before their records are deleted: what they were doing is another's now.
	ReplicasStopped(ids []string)
	// Changed is told of a change another replica made to a record of a kind the core
	// does not keep (the store's kinds: "queue", "placement", ...), and kind "" when
	// changes may have been missed.
	Changed(kind, key string)
}

// SetPlacer sets who is told what placements follow. What it would have been told of
// sessions and replicas before it was set is told then, and Changed("", "") says that
// changes may have been missed meanwhile.
func (s *Service) SetPlacer(p Placer) {
	h := &s.placerHook
	h.mu.Lock()
	missed := h.missed
	h.missed = nil
	h.p.Store(&p)
	h.mu.Unlock()
	for _, tell := range missed {
		tell(p)
	}
	p.Changed("", "")
}

// placerHook holds the Placer, and what it is to be told once it is set.
type placerHook struct {
	p      atomic.Pointer[Placer] // read without mu by capacityFreed, under the registry's lock
	mu     sync.Mutex
	missed []func(Placer)
}

// tellPlacer tells the Placer now, or once it is set.
func (s *Service) tellPlacer(tell func(Placer)) {
	h := &s.placerHook
	if p := h.p.Load(); p != nil {
		tell(*p)
		return
	}
	h.mu.Lock()
	if p := h.p.Load(); p != nil {
		h.mu.Unlock()
		tell(*p)
		return
	}
	h.missed = append(h.missed, tell)
	h.mu.Unlock()
}

// capacityFreed tells the Placer that capacity may have appeared; before it is set, no
// one is (SetPlacer's Changed covers that).
func (s *Service) capacityFreed() {
	if p := s.placerHook.p.Load(); p != nil {
		(*p).CapacityFreed()
	}
}

// changedElsewhere tells the Placer of a change another replica made that the core does
// not follow itself.
func (s *Service) changedElsewhere(kind, key string) {
	if p := s.placerHook.p.Load(); p != nil {
		(*p).Changed(kind, key)
	}
}

// placementSessionActive tells the Placer that a session made for a placement is ACTIVE.
func (s *Service) placementSessionActive(placementID, sessionID string) {
	s.tellPlacer(func(p Placer) { p.SessionActive(placementID, sessionID) })
}

// placementSessionEnded tells the Placer that a session made for a placement ended.
func (s *Service) placementSessionEnded(placementID string) {
	s.tellPlacer(func(p Placer) { p.SessionEnded(placementID) })
}
