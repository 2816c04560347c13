package control

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Several servers (replicas) may share one store. A game server process is connected to
// one of them, and only that replica ever gives it a session: its process registry is
// the one authority on its processes, so no process gets two sessions whatever the
// interleaving. A replica with no free process for a new session asks the others, in
// random order, to place it on one of theirs (Peers); each replica records in the store
// where the others reach it and that it is alive.

// Timing of the replica registry.
const (
	replicaHeartbeat = 2 * time.Second
	// replicaDeadAfter: a replica whose heartbeat is older is not asked.
	replicaDeadAfter = 3 * replicaHeartbeat
	// peersFresh bounds how long the list of live replicas is reused.
	peersFresh = time.Second
)

// Peers carries a placement to another replica.
type Peers interface {
	// PlaceSession asks the replica at url to place a new game session on one of its
	// processes: the session, or the replica's GameLift error (FleetCapacityExceeded
	// when it has no free process there).
	PlaceSession(ctx context.Context, url string, req PeerPlacement) (store.GameSession, error)
	// EndProcess asks the replica at url to tell one of its processes to end
	// (TerminateProcess), or, with force, to stop it at once; found is false when the
	// process is not connected there.
	EndProcess(ctx context.Context, url string, req PeerProcess) (found bool, err error)
	// Usage returns what runs in a fleet location on the replica at url.
	Usage(ctx context.Context, url, fleetID, location string) (Usage, error)
	// Metrics returns the scaling metrics of a fleet location's processes on the replica at url.
	Metrics(ctx context.Context, url, fleetID, location string) (FleetMetrics, error)
}

// PeerProcess names a process for another replica to act on.
type PeerProcess struct {
	FleetID, ComputeName, ProcessID string
	Force                           bool
}

// PeerPlacement is a new game session for another replica's processes.
type PeerPlacement struct {
	FleetID, Location string
	SessionID         string
	Custom            string `json:",omitempty"`
	Name              *string
	CreatorID         *string
	Data              *string
	MatchmakerData    *string
	MaxPlayers        int32
	Properties        []gamelift.GameProperty
	PlacementID       string `json:",omitempty"`
}

func (p PeerPlacement) spec() sessionSpec {
	return sessionSpec{id: p.SessionID, custom: p.Custom, name: p.Name, creator: p.CreatorID, data: p.Data,
		matchmakerData: p.MatchmakerData, maxPlayers: p.MaxPlayers, properties: p.Properties, placementID: p.PlacementID}
}

func peerPlacement(fleetID, location string, s sessionSpec) PeerPlacement {
	return PeerPlacement{FleetID: fleetID, Location: location, SessionID: s.id, Custom: s.custom, Name: s.name,
		CreatorID: s.creator, Data: s.data, MatchmakerData: s.matchmakerData, MaxPlayers: s.maxPlayers,
		Properties: s.properties, PlacementID: s.placementID}
}

// replicas is this server's place among the replicas: its ID and URL, and the live others
// as last read.
type replicas struct {
	id, url string
	peers   Peers

	mu     sync.Mutex
	live   []store.Replica
	readAt time.Time
}

// heartbeat records this replica as alive now, and keeps doing so until the service
// closes; its record goes when it does.
func (s *Service) runReplicaHeartbeat(ctx context.Context) error {
	if s.replicas.peers == nil {
		return nil
	}
	if err := s.beat(ctx); err != nil {
		return err
	}
	s.bg.Go(func() {
		t := time.NewTicker(replicaHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-s.bg.Context().Done():
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				s.store.Replicas().Delete(ctx, s.replicas.id)
				cancel()
				return
			case <-t.C:
				if err := s.beat(s.bg.Context()); err != nil && s.bg.Context().Err() == nil {
					s.log.Warn("replica heartbeat", "error", err)
				}
				if err := s.takeOver(s.bg.Context()); err != nil && s.bg.Context().Err() == nil {
					s.log.Warn("take over a stopped replica's game sessions", "error", err)
				}
			}
		}
	})
	return nil
}

func (s *Service) beat(ctx context.Context) error {
	me := store.Replica{ID: s.replicas.id, URL: s.replicas.url, Heartbeat: s.now()}
	_, err := s.store.Replicas().Update(ctx, me.ID, func(r *store.Replica) error {
		*r = me
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = s.store.Replicas().Create(ctx, me.ID, "", me)
	}
	if err != nil {
		return fmt.Errorf("record replica: %w", err)
	}
	return nil
}

// livePeers returns the other replicas alive now, in random order.
func (s *Service) livePeers(ctx context.Context) []store.Replica {
	r := &s.replicas
	now := s.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.readAt) >= peersFresh {
		page, err := s.store.Replicas().List(ctx, store.Query{})
		if err != nil {
			s.log.Warn("list replicas", "error", err)
		} else {
			r.live = r.live[:0]
			for _, p := range page.Items {
				if p.ID != r.id && now.Sub(p.Heartbeat) < replicaDeadAfter {
					r.live = append(r.live, p)
				}
			}
			r.readAt = now
		}
	}
	out := append([]store.Replica(nil), r.live...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// placeSession places a new session on a free process of the fleet location: one of this
// replica's, or else one of another replica's.
func (s *Service) placeSession(ctx context.Context, f store.Fleet, location string, spec sessionSpec, now time.Time) (store.GameSession, error) {
	gs, err := s.newSession(ctx, f, location, spec, now)
	if err == nil || s.replicas.peers == nil || !gamelift.IsCode(err, "FleetCapacityExceededException") {
		return gs, err
	}
	req := peerPlacement(gamelift.Value(f.Attributes.FleetId), location, spec)
	for _, p := range s.livePeers(ctx) {
		placed, perr := s.replicas.peers.PlaceSession(ctx, p.URL, req)
		switch {
		case perr == nil:
			return placed, nil
		case gamelift.IsCode(perr, "ConflictException"):
			return store.GameSession{}, fmt.Errorf("%w: %w", store.ErrExists, perr)
		case !gamelift.IsCode(perr, "FleetCapacityExceededException"):
			s.log.Warn("place a session through another replica", "replica", p.ID, "url", p.URL, "error", perr)
		}
	}
	return gs, err
}

// PlaceForPeer places a session another replica asks for on one of this replica's
// processes (never forwarding it again). A session ID taken already is
// ConflictException.
func (s *Service) PlaceForPeer(ctx context.Context, req PeerPlacement) (store.GameSession, error) {
	f, err := s.getFleet(ctx, &req.FleetID)
	if err != nil {
		return store.GameSession{}, err
	}
	if st := gamelift.Value(f.Attributes.Status); st != FleetActive {
		return store.GameSession{}, gamelift.InvalidFleetStatus("Fleet %s is %s, not ACTIVE", req.FleetID, st)
	}
	gs, err := s.newSession(ctx, f, req.Location, req.spec(), s.now())
	if errors.Is(err, store.ErrExists) {
		return gs, gamelift.Conflict("game session %s exists", req.SessionID)
	}
	return gs, err
}

func (s *Service) replicated() bool { return s.replicas.peers != nil }

// liveReplicas returns the IDs of the replicas alive now, this one included.
func (s *Service) liveReplicas(ctx context.Context) (map[string]bool, error) {
	page, err := s.store.Replicas().List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	now := s.now()
	live := map[string]bool{s.replicas.id: true}
	for _, r := range page.Items {
		if now.Sub(r.Heartbeat) < replicaDeadAfter {
			live[r.ID] = true
		}
	}
	return live, nil
}

var errClaimed = errors.New("game session claimed by another replica, or ended")

// claimSession makes this replica the one watching a session that replica from watched;
// ok is false when another replica claimed it first or it ended.
func (s *Service) claimSession(ctx context.Context, id, from string) (gs store.GameSession, ok bool, err error) {
	gs, err = s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		if gs.Replica != from || sessionEnded(*gs) {
			return errClaimed
		}
		gs.Replica = s.replicas.id
		return nil
	})
	switch {
	case errors.Is(err, errClaimed) || errors.Is(err, store.ErrNotFound):
		return gs, false, nil
	case err != nil:
		return gs, false, fmt.Errorf("claim game session %s: %w", id, err)
	}
	return gs, true, nil
}

// adoptMovedProcess prepares for a process connecting to this replica that it does not
// know: on a shared store, the process may host a session another replica gave it (it
// reconnected here after that replica died, or through another route). That session
// becomes this replica's to watch, so the process is never taken for free.
func (s *Service) adoptMovedProcess(ctx context.Context, key procKey) error {
	if !s.replicated() {
		return nil
	}
	s.procs.mu.Lock()
	_, known := s.procs.byKey[key]
	s.procs.mu.Unlock()
	if known {
		return nil
	}
	for token := ""; ; {
		page, err := s.gameSessions.List(ctx, store.Query{Parent: key.fleet, Limit: 1000, Token: token})
		if err != nil {
			return fmt.Errorf("find the session of process %s: %w", key.id, err)
		}
		for _, gs := range page.Items {
			if gs.ProcessID != key.id || gs.ComputeName != key.compute || sessionEnded(gs) {
				continue
			}
			if gs.Replica != s.replicas.id {
				claimed, ok, err := s.claimSession(ctx, gamelift.Value(gs.Model.GameSessionId), gs.Replica)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				gs = claimed
			}
			return s.adoptSession(ctx, gs)
		}
		if token = page.Next; token == "" {
			return nil
		}
	}
}

// takeOver watches the sessions of replicas that stopped: each is claimed by one live
// replica, whose registry then waits for its process to come back (the reconnect grace).
// The Placer is told, for their waiting placements. A dead replica's record goes once its
// sessions are claimed.
func (s *Service) takeOver(ctx context.Context) error {
	page, err := s.store.Replicas().List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list replicas: %w", err)
	}
	now := s.now()
	var dead []string
	for _, r := range page.Items {
		if r.ID != s.replicas.id && now.Sub(r.Heartbeat) >= replicaDeadAfter {
			dead = append(dead, r.ID)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	sessions, err := s.gameSessions.List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list game sessions: %w", err)
	}
	for _, gs := range sessions.Items {
		if sessionEnded(gs) || !slices.Contains(dead, gs.Replica) {
			continue
		}
		claimed, ok, err := s.claimSession(ctx, gamelift.Value(gs.Model.GameSessionId), gs.Replica)
		if err != nil {
			return err
		}
		if ok {
			if err := s.adoptSession(ctx, claimed); err != nil {
				return err
			}
			s.log.Info("took over a game session from a replica that stopped", "game_session", gamelift.Value(gs.Model.GameSessionId), "replica", gs.Replica)
		}
	}
	s.tellPlacer(func(p Placer) { p.ReplicasStopped(dead) }) // their waiting placements
	for _, id := range dead {
		if err := s.store.Replicas().Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("forget replica %s: %w", id, err)
		}
	}
	return nil
}

// changeFeed is a store shared with other servers that tells which records they change.
type changeFeed interface {
	Changes(ctx context.Context, fn func(kind, key string)) error
}

// followChanges keeps what this replica holds in memory true to the changes other replicas
// make: cached fleets and aliases are dropped, game sessions are indexed again for
// SearchGameSessions, and the Placer is told that capacity may have appeared when a
// process or a session changed elsewhere, and of the changes to what it keeps.
func (s *Service) followChanges() {
	feed, ok := s.store.(changeFeed)
	if !ok || !s.replicated() {
		return
	}
	s.bg.Go(func() { feed.Changes(s.bg.Context(), s.changed) })
}

// The kinds of record the core keeps in memory that other replicas change (the stores'
// table names); changes of other kinds are the Placer's.
const (
	kindFleet       = "fleet"
	kindAlias       = "alias"
	kindGameSession = "game_session"
	kindProcess     = "process"
)

func (s *Service) changed(kind, key string) {
	switch kind {
	case "": // changes may have been missed
		s.fleets.InvalidateAll()
		s.aliases.InvalidateAll()
		s.changedElsewhere(kind, key)
	case kindFleet:
		s.fleets.Invalidate(key)
		if l := s.fleetListener(); l != nil {
			l.FleetChanged(key) // another replica changed it: the container engine's leader follows
		}
	case kindAlias:
		s.aliases.Invalidate(key)
	case kindGameSession:
		if err := s.gameSessions.Refresh(s.bg.Context(), key); err != nil && s.bg.Context().Err() == nil {
			s.log.Warn("index a game session changed by another replica", "game_session", key, "error", err)
		}
		s.capacityFreed()
	case kindProcess:
		s.capacityFreed()
	default:
		s.changedElsewhere(kind, key)
	}
}

// EndProcessForPeer tells a process this replica holds to end, or stops it, for another
// replica; false when the process is not connected here.
func (s *Service) EndProcessForPeer(ctx context.Context, req PeerProcess) bool {
	key := procKey{req.FleetID, req.ComputeName, req.ProcessID}
	s.procs.mu.Lock()
	p, ok := s.procs.byKey[key]
	if ok && !req.Force {
		// Asked to end (its pod drained or deleted): it takes no new game session, as
		// when this replica drains it.
		p.ready = false
		s.procs.sync(p)
	}
	s.procs.mu.Unlock()
	if !ok {
		return false
	}
	if req.Force {
		s.forceStop(ctx, key)
	} else {
		s.askProcessToEnd(key)
	}
	return true
}

// UsageForPeer is what this replica's processes run in a fleet location.
func (s *Service) UsageForPeer(fleetID, location string) Usage {
	return s.processUsage(fleetID, location)
}

// endRemoteProcess asks the other replicas to end (or stop) a process this one does not
// hold, in the background; it reports whether one held it, to wait for if the caller must.
func (s *Service) endRemoteProcess(ctx context.Context, key procKey, force bool) bool {
	if !s.replicated() {
		return false
	}
	req := PeerProcess{FleetID: key.fleet, ComputeName: key.compute, ProcessID: key.id, Force: force}
	for _, p := range s.livePeers(ctx) {
		found, err := s.replicas.peers.EndProcess(ctx, p.URL, req)
		if err != nil {
			s.log.Warn("end a process through another replica", "replica", p.ID, "process", key.id, "error", err)
			continue
		}
		if found {
			return true
		}
	}
	return false
}

// usage is what runs in a fleet location across all replicas.
func (s *Service) usage(ctx context.Context, fleetID, location string) Usage {
	u := s.processUsage(fleetID, location)
	if !s.replicated() {
		return u
	}
	for _, p := range s.livePeers(ctx) {
		pu, err := s.replicas.peers.Usage(ctx, p.URL, fleetID, location)
		if err != nil {
			s.log.Warn("usage of another replica", "replica", p.ID, "error", err)
			continue
		}
		u.ActiveServerProcesses += pu.ActiveServerProcesses
		u.ActiveGameSessions += pu.ActiveGameSessions
		u.CurrentPlayerSessions += pu.CurrentPlayerSessions
		u.MaximumPlayerSessions += pu.MaximumPlayerSessions
	}
	return u
}
