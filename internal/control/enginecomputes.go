package control

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Computes an engine starts and stops (a container fleet's pods, which internal/containers
// reports for Hoist's Kubernetes engine): their records, their processes in the registry
// and the game sessions on them. The engine decides when a compute comes and goes; the
// core keeps what runs on it.

var errNoChange = errors.New("no change")

// putCompute records a compute an engine runs, creating or replacing its record; gives
// its processes its IP address once it has one; and counts an ACTIVE one as its
// location's host for activation. Engine computes count against no compute limit.
func (s *Service) putCompute(ctx context.Context, rec store.Compute) error {
	c := rec.Model
	fleetID, name := gamelift.Value(c.FleetId), gamelift.Value(c.ComputeName)
	key := computeKey(fleetID, name)
	err := s.store.Computes().Create(ctx, key, fleetID, rec)
	if errors.Is(err, store.ErrExists) {
		_, err = s.replaceCompute(ctx, key, rec)
	}
	if err != nil {
		return fmt.Errorf("record compute %s: %w", name, err)
	}
	if ip := gamelift.Value(c.IpAddress); ip != "" {
		s.computeAddressed(fleetID, name, ip)
	}
	if gamelift.Value(c.ComputeStatus) == computeActive {
		s.hostRegistered(fleetID, gamelift.Value(c.Location))
	}
	return nil
}

// computeAddressed gives a compute's processes its IP: a game server may connect before
// the engine has seen where its pod runs, and its sessions need the address.
func (s *Service) computeAddressed(fleetID, compute, ip string) {
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == compute && p.ipAddress != ip {
			p.ipAddress = shared(ip)
			s.procs.sync(p)
		}
	}
}

// closeCompute lets a compute that is shutting down end well, as GameLift does: its
// processes take no new game sessions, and its game sessions are TERMINATING, to end
// INTERRUPTED when the game server calls ProcessEnding (or the compute is gone).
func (s *Service) closeCompute(ctx context.Context, fleetID, compute string) error {
	for _, id := range s.stopPlacingOn(fleetID, compute) {
		if err := s.interruptSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// stopPlacingOn stops placing game sessions on a compute's processes, and returns the
// sessions they host: those of this server's processes, and the ACTIVE ones of any
// replica's.
func (s *Service) stopPlacingOn(fleetID, compute string) []string {
	var ids []string
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == compute {
			p.ready = false
			s.procs.sync(p)
			if p.gameSessionID != "" {
				ids = append(ids, p.gameSessionID)
			}
		}
	}
	s.procs.mu.Unlock()
	for _, id := range s.searchIndex.SessionsOn(fleetID, compute) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// interruptSession makes a session whose compute is shutting down TERMINATING, with the
// reason it will end with, INTERRUPTED.
func (s *Service) interruptSession(ctx context.Context, id string) error {
	gs, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		if st := gamelift.Value(gs.Model.Status); st != SessionActive && st != SessionActivating {
			return errNoChange
		}
		gs.Model.Status, gs.Model.StatusReason = gamelift.String(SessionTerminating), gamelift.String(ReasonInterrupted)
		return nil
	})
	if errors.Is(err, errNoChange) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("interrupt game session %s: %w", id, err)
	}
	s.updateProcessLimits(gs)
	return nil
}

// computeGone deregisters a compute that is no longer there. Its game sessions end now,
// INTERRUPTED: whatever ran them is gone with it.
func (s *Service) computeGone(ctx context.Context, fleetID, compute string) error {
	var ends []string
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == compute {
			if id := s.forgetProcessLocked(p, "its pod is gone"); id != "" {
				ends = append(ends, id)
			}
		}
	}
	s.procs.mu.Unlock()
	for _, id := range ends {
		s.endSessionOf(ctx, id, ReasonInterrupted, false)
	}
	if err := s.store.Computes().Delete(ctx, computeKey(fleetID, compute)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("deregister compute %s: %w", compute, err)
	}
	if err := s.revokeAuthTokens(ctx, fleetID, compute); err != nil {
		return err
	}
	s.forgetEventBudgets(fleetID, compute)
	return s.forgetProcessesOf(ctx, fleetID, func(name string) bool { return name == compute })
}

// ComputeUse is what runs on a compute: its game server processes, ready ones, and
// whether one hosts a game session, a protected one.
type ComputeUse struct {
	Processes, Ready int
	Busy, Protected  bool
}

// computeUses reports what runs on a fleet's computes: the processes connected to this
// server (and with replicas, the ready ones the store records for the others), and the
// ACTIVE game sessions, with their protection, on any replica's.
func (s *Service) computeUses(ctx context.Context, fleetID string) (map[string]ComputeUse, error) {
	uses := map[string]ComputeUse{}
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID != fleetID {
			continue
		}
		u := uses[p.computeName]
		u.Processes++
		if p.ready && p.peer != nil {
			u.Ready++
		}
		if p.gameSessionID != "" {
			u.Busy = true // ACTIVATING ones too
		}
		uses[p.computeName] = u
	}
	s.procs.mu.Unlock()
	if s.replicated() {
		page, err := s.store.Processes().List(ctx, store.Query{Parent: fleetID})
		if err != nil {
			return nil, fmt.Errorf("list ready processes: %w", err)
		}
		for _, p := range page.Items {
			if u, ok := uses[p.ComputeName]; !ok || u.Processes == 0 {
				u.Processes, u.Ready = 1, 1 // a process another replica holds
				uses[p.ComputeName] = u
			}
		}
	}
	for compute, protected := range s.searchIndex.Computes(fleetID) {
		u := uses[compute]
		u.Busy, u.Protected = true, protected
		uses[compute] = u
	}
	return uses, nil
}

// drainCompute asks a compute's game server processes to end (TerminateProcess), and
// stops giving them sessions.
func (s *Service) drainCompute(fleetID, compute string) {
	var keys []procKey
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == compute {
			p.ready = false
			s.procs.sync(p)
			keys = append(keys, p.key())
		}
	}
	s.procs.mu.Unlock()
	if len(keys) == 0 {
		// Another replica may hold its game server, whose process ID is the pod's name
		// (GAMELIFT_SDK_PROCESS_ID): askProcessToEnd reaches it there.
		keys = append(keys, procKey{fleetID, compute, compute})
	}
	for _, k := range keys {
		s.askProcessToEnd(k)
	}
}
