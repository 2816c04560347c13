package queues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/placement"
	"github.com/hoist-dev/hoist/internal/store"
)

// Game session placement statuses, as GameLift has them.
const (
	PlacementPending   = "PENDING"
	PlacementFulfilled = "FULFILLED"
	PlacementCancelled = "CANCELLED"
	PlacementTimedOut  = "TIMED_OUT"
	PlacementFailed    = "FAILED"
)

const (
	// maxPendingPlacements bounds the placements waiting at once.
	maxPendingPlacements = 10000
	// placementRetention is how long an ended placement is kept (and its ID taken).
	placementRetention = 30 * 24 * time.Hour
	// maxPlacementTick bounds the time between two passes over the waiting placements,
	// which notice timeouts and latency policies relaxing.
	maxPlacementTick = time.Second
	// purgeInterval is how often ended placements past placementRetention are deleted.
	purgeInterval = time.Hour
)

// placer holds the placements waiting for a free process, oldest first, as stored; it is
// rebuilt from the store at start. A placement whose game session is made is found from
// that session (store.GameSession.PlacementID) when the session becomes ACTIVE or ends.
type placer struct {
	mu      sync.Mutex
	waiting []store.Placement // oldest first, as stored
	isIn    map[string]bool   // IDs of the waiting placements
	wakeup  chan struct{}
	// turn is held while one placement is tried, and by StopGameSessionPlacement, so a
	// placement is never placed and stopped at once.
	turn sync.Mutex
}

func newPlacer() placer {
	return placer{isIn: map[string]bool{}, wakeup: make(chan struct{}, 1)}
}

// wake asks for a pass over the waiting placements: capacity may have appeared.
func (p *placer) wake() {
	select {
	case p.wakeup <- struct{}{}:
	default:
	}
}

func (p *placer) add(pl store.Placement) {
	p.mu.Lock()
	p.waiting = append(p.waiting, pl)
	p.isIn[gamelift.Value(pl.Model.PlacementId)] = true
	p.mu.Unlock()
}

func (p *placer) drop(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isIn[id] {
		return
	}
	delete(p.isIn, id)
	p.waiting = slices.DeleteFunc(p.waiting, func(w store.Placement) bool { return gamelift.Value(w.Model.PlacementId) == id })
}

func (p *placer) isWaiting(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isIn[id]
}

func (p *placer) snapshot() []store.Placement {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.waiting)
}

func (p *placer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiting)
}

// StartGameSessionPlacement asks a queue for a new game session. The placement is PENDING
// until a process is free in one of the queue's fleet locations allowed at that moment
// and its session is ACTIVE; then FULFILLED.
func (s *Service) StartGameSessionPlacement(ctx context.Context, in *gamelift.StartGameSessionPlacementInput) (*gamelift.StartGameSessionPlacementOutput, error) {
	q, err := s.Queue(ctx, in.GameSessionQueueName)
	if err != nil {
		return nil, err
	}
	if o := in.PriorityConfigurationOverride; o != nil {
		if len(in.PlayerLatencies) > 0 {
			return nil, gamelift.InvalidRequest("Give PlayerLatencies or PriorityConfigurationOverride, not both")
		}
		if pc := q.Model.PriorityConfiguration; pc == nil || !slices.Contains(pc.PriorityOrder, placement.ByLocation) {
			return nil, gamelift.InvalidRequest("PriorityConfigurationOverride needs a queue that prioritizes LOCATION; queue %s does not", gamelift.Value(q.Model.Name))
		}
		if dupe(o.LocationOrder) {
			return nil, gamelift.InvalidRequest("PriorityConfigurationOverride.LocationOrder lists a location twice")
		}
	}
	players := map[string]bool{}
	for _, d := range in.DesiredPlayerSessions {
		id := gamelift.Value(d.PlayerId)
		if id == "" || players[id] {
			return nil, gamelift.InvalidRequest("DesiredPlayerSessions: each needs a PlayerId, and each player is listed once")
		}
		players[id] = true
	}
	if n := int32(len(players)); n > *in.MaximumPlayerSessionCount {
		return nil, gamelift.InvalidRequest("DesiredPlayerSessions has %d players; MaximumPlayerSessionCount is %d", n, *in.MaximumPlayerSessionCount)
	}
	if s.placer.count() >= maxPendingPlacements {
		return nil, gamelift.LimitExceeded("%d game session placements are in progress, the most Hoist holds; retry later", maxPendingPlacements)
	}
	id := gamelift.Value(in.PlacementId)
	pl := store.Placement{
		Model: gamelift.GameSessionPlacement{
			PlacementId: in.PlacementId, GameSessionQueueName: q.Model.Name, Status: gamelift.String(PlacementPending),
			GameProperties: in.GameProperties, MaximumPlayerSessionCount: in.MaximumPlayerSessionCount,
			GameSessionName: in.GameSessionName, PlayerLatencies: in.PlayerLatencies, StartTime: gamelift.At(s.now()),
			GameSessionData: in.GameSessionData, PriorityConfigurationOverride: in.PriorityConfigurationOverride,
		},
		QueueArn: gamelift.Value(q.Model.GameSessionQueueArn), DesiredPlayers: in.DesiredPlayerSessions,
		Replica: s.core.ReplicaID(),
	}
	if err := s.store.Placements().Create(ctx, id, "", pl); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("PlacementId %s was used before; placement IDs cannot be reused", id)
		}
		return nil, fmt.Errorf("create placement: %w", err)
	}
	s.placer.add(pl)
	s.placer.wake()
	return &gamelift.StartGameSessionPlacementOutput{GameSessionPlacement: &pl.Model}, nil
}

// StartPlacement stores a new PENDING placement, made by this replica, and has it placed
// as StartGameSessionPlacement's are (a match's, for matchmaking).
func (s *Service) StartPlacement(ctx context.Context, pl store.Placement) error {
	pl.Replica = s.core.ReplicaID()
	if err := s.store.Placements().Create(ctx, gamelift.Value(pl.Model.PlacementId), "", pl); err != nil {
		return err
	}
	s.placer.add(pl)
	s.placer.wake()
	return nil
}

// PendingPlacements returns up to limit of the game session placements waiting for a
// process on this replica, oldest first (the web console's view).
func (s *Service) PendingPlacements(limit int) []gamelift.GameSessionPlacement {
	s.placer.mu.Lock()
	defer s.placer.mu.Unlock()
	out := make([]gamelift.GameSessionPlacement, 0, min(limit, len(s.placer.waiting)))
	for _, pl := range s.placer.waiting[:min(limit, len(s.placer.waiting))] {
		out = append(out, pl.Model)
	}
	return out
}

// DescribeGameSessionPlacement returns a placement as it is now.
func (s *Service) DescribeGameSessionPlacement(ctx context.Context, in *gamelift.DescribeGameSessionPlacementInput) (*gamelift.DescribeGameSessionPlacementOutput, error) {
	id := gamelift.Value(in.PlacementId)
	pl, err := s.store.Placements().Get(ctx, id)
	if err != nil {
		return nil, store.NotFoundAs(err, "Game session placement %s not found", id)
	}
	return &gamelift.DescribeGameSessionPlacementOutput{GameSessionPlacement: &pl.Model}, nil
}

// StopGameSessionPlacement cancels a PENDING placement. One whose game session was made
// already cannot be stopped (TerminateGameSession ends that session), as in GameLift.
func (s *Service) StopGameSessionPlacement(ctx context.Context, in *gamelift.StopGameSessionPlacementInput) (*gamelift.StopGameSessionPlacementOutput, error) {
	id := gamelift.Value(in.PlacementId)
	s.placer.turn.Lock()
	defer s.placer.turn.Unlock()
	changed := false
	pl, err := s.store.Placements().Update(ctx, id, func(pl *store.Placement) error {
		changed = false
		switch st := gamelift.Value(pl.Model.Status); {
		case st == PlacementCancelled:
			return nil
		case st != PlacementPending:
			return gamelift.InvalidRequest("Game session placement %s is %s; only a PENDING placement can be stopped", id, st)
		case pl.Model.GameSessionId != nil:
			return gamelift.InvalidRequest("Game session placement %s has made game session %s already; end it with TerminateGameSession", id, gamelift.Value(pl.Model.GameSessionId))
		}
		pl.Model.Status, pl.Model.EndTime = gamelift.String(PlacementCancelled), gamelift.At(s.now())
		changed = true
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Game session placement %s not found", id)
	}
	if changed {
		s.placer.drop(id)
		s.placementEvent(pl, "PlacementCancelled")
	}
	return &gamelift.StopGameSessionPlacementOutput{GameSessionPlacement: &pl.Model}, nil
}

// runPlacements passes over the waiting placements whenever capacity may have appeared,
// and at least every tick.
func (s *Service) runPlacements(tick time.Duration) {
	s.bg.Loop(tick, s.placer.wakeup, func() { s.placeWaiting(s.bg.Context()) })
}

// placeWaiting tries every waiting placement, oldest first, so the oldest gets the first
// process that frees up where it may go.
//
// Capacity that appears during a pass must go to the oldest placement that can use it,
// not to whichever the pass reaches next: each reservation is made only if no capacity
// appeared since the pass began (the core's CapacityGeneration), and otherwise the pass
// starts over.
func (s *Service) placeWaiting(ctx context.Context) {
	for range maxPassRestarts {
		now, gen := s.now(), s.core.CapacityGeneration()
		restart := false
		for _, pl := range s.placer.snapshot() {
			if ctx.Err() != nil {
				return
			}
			id := gamelift.Value(pl.Model.PlacementId)
			err := s.tryPlacement(ctx, pl, now, gen)
			if errors.Is(err, control.ErrCapacityChanged) {
				restart = true
				break
			}
			if err != nil {
				s.log.Error("game session placement", "placement", id, "error", err)
			}
		}
		if !restart {
			return
		}
	}
	s.placer.wake() // capacity keeps changing: another pass soon
}

// maxPassRestarts bounds the restarts of one pass over the waiting placements.
const maxPassRestarts = 8

// tryPlacement ends a placement that timed out or lost its queue, or places its session
// in the best fleet location with a free process, if there is one.
//
// The waiting placement is as kept in memory: only a pass and StopGameSessionPlacement
// change a waiting placement, and they take turns.
func (s *Service) tryPlacement(ctx context.Context, pl store.Placement, now time.Time, gen uint64) error {
	s.placer.turn.Lock()
	defer s.placer.turn.Unlock()
	id := gamelift.Value(pl.Model.PlacementId)
	if !s.placer.isWaiting(id) { // stopped since the pass began
		return nil
	}
	q, err := s.queues.Get(ctx, gamelift.Value(pl.Model.GameSessionQueueName))
	if errors.Is(err, store.ErrNotFound) || (err == nil && gamelift.Value(q.Model.GameSessionQueueArn) != pl.QueueArn) {
		return s.endPlacement(ctx, id, PlacementFailed, "its queue was deleted")
	}
	if err != nil {
		return err
	}
	elapsed := now.Sub(pl.Model.StartTime.Time)
	if elapsed >= time.Duration(gamelift.Value(q.Model.TimeoutInSeconds))*time.Second {
		return s.endPlacement(ctx, id, PlacementTimedOut, "")
	}
	fleets := map[string]store.Fleet{}
	for _, c := range placement.Rank(s.queueCandidates(ctx, q, fleets), priorities(q.Model, pl.Model, elapsed)) {
		gs, err := s.core.PlaceSession(ctx, fleets[c.Fleet], c.Location, control.SessionRequest{
			Name: pl.Model.GameSessionName, Data: pl.Model.GameSessionData, MatchmakerData: pl.Model.MatchmakerData,
			MaxPlayers: gamelift.Value(pl.Model.MaximumPlayerSessionCount), Properties: pl.Model.GameProperties,
			PlacementID: id, CapacitySince: gen,
		}, now)
		if err != nil {
			if gamelift.IsCode(err, "FleetCapacityExceededException") {
				continue
			}
			return err
		}
		s.placer.drop(id)
		m := gs.Model
		sessionID := gamelift.Value(m.GameSessionId)
		orphan := false
		_, err = s.store.Placements().Update(ctx, id, func(pl *store.Placement) error {
			// Stopped meanwhile, or placed by another replica: this session is not the
			// placement's. (Its own activation may have FULFILLED it already.)
			st := gamelift.Value(pl.Model.Status)
			orphan = (pl.Model.GameSessionId != nil && *pl.Model.GameSessionId != sessionID) || (st != PlacementPending && st != PlacementFulfilled)
			if orphan {
				return nil
			}
			pl.Model.GameSessionId, pl.Model.GameSessionArn, pl.Model.GameSessionRegion = m.GameSessionId, m.GameSessionId, m.Location
			pl.Model.IpAddress, pl.Model.DnsName, pl.Model.Port = m.IpAddress, m.DnsName, m.Port
			return nil
		})
		if err == nil && orphan {
			s.log.Warn("a placement ended while its game session was being made; ending that session", "placement", id, "game_session", sessionID)
			s.core.EndSession(ctx, gs)
		}
		return err
	}
	return nil
}

// queueCandidates lists the fleet locations a queue's destinations offer now: ACTIVE
// fleets (aliases resolved; a TERMINAL alias offers none) and their ACTIVE locations
// that the queue's filter allows. The fleets read are left in fleets.
func (s *Service) queueCandidates(ctx context.Context, q store.Queue, fleets map[string]store.Fleet) []placement.Candidate {
	var allowed []string
	if fc := q.Model.FilterConfiguration; fc != nil {
		allowed = fc.AllowedLocations
	}
	var out []placement.Candidate
	for i, d := range q.Model.Destinations {
		m := destinationARN.FindStringSubmatch(gamelift.Value(d.DestinationArn))
		if m == nil {
			continue
		}
		var f store.Fleet
		var err error
		if m[3] == "alias" {
			f, err = s.core.AliasFleet(ctx, &m[4])
		} else {
			f, err = s.core.Fleet(ctx, &m[4])
		}
		if err != nil || gamelift.Value(f.Attributes.Status) != control.FleetActive {
			continue
		}
		fleetID := gamelift.Value(f.Attributes.FleetId)
		fleets[fleetID] = f
		for _, l := range f.Locations {
			if l.Status != control.FleetActive || (len(allowed) > 0 && !slices.Contains(allowed, l.Name)) {
				continue
			}
			out = append(out, placement.Candidate{Fleet: fleetID, Location: l.Name, Destination: i})
		}
	}
	return out
}

// priorities are the queue's placement rules for one placement, elapsed into its wait.
func priorities(q gamelift.GameSessionQueue, pl gamelift.GameSessionPlacement, elapsed time.Duration) placement.Priorities {
	var p placement.Priorities
	if pc := q.PriorityConfiguration; pc != nil {
		p.Order, p.LocationOrder = pc.PriorityOrder, pc.LocationOrder
	}
	if o := pl.PriorityConfigurationOverride; o != nil {
		p.LocationOrder = o.LocationOrder
		p.OnlyListed = gamelift.Value(o.PlacementFallbackStrategy) == "NONE"
	}
	if len(pl.PlayerLatencies) > 0 {
		p.Latencies = map[string]map[string]float64{}
		for _, l := range pl.PlayerLatencies {
			player := gamelift.Value(l.PlayerId)
			if p.Latencies[player] == nil {
				p.Latencies[player] = map[string]float64{}
			}
			p.Latencies[player][gamelift.Value(l.RegionIdentifier)] = float64(gamelift.Value(l.LatencyInMilliseconds))
		}
		policies := make([]placement.LatencyPolicy, len(q.PlayerLatencyPolicies))
		for i, lp := range q.PlayerLatencyPolicies {
			policies[i] = placement.LatencyPolicy{
				MaxLatency: float64(gamelift.Value(lp.MaximumIndividualPlayerLatencyMilliseconds)),
				Duration:   time.Duration(gamelift.Value(lp.PolicyDurationSeconds)) * time.Second,
			}
		}
		p.MaxLatency = placement.LatencyCap(policies, elapsed)
	}
	return p
}

// SessionActive fulfils a placement whose game session just became ACTIVE: its players
// get their player sessions (control.Placer).
func (s *Service) SessionActive(placementID, sessionID string) {
	s.bg.Go(func() {
		if err := s.fulfil(s.bg.Context(), placementID, sessionID); err != nil {
			s.log.Error("fulfil game session placement", "placement", placementID, "game_session", sessionID, "error", err)
		}
	})
}

// SessionEnded fails a placement whose game session ended before it was ACTIVE, as
// GameLift does; a FULFILLED placement stays so (control.Placer). Once Close has begun,
// the next start settles it.
func (s *Service) SessionEnded(placementID string) {
	if s.bg.Context().Err() != nil {
		return
	}
	if err := s.endPlacement(s.bg.Context(), placementID, PlacementFailed, "its game session ended before it was ACTIVE"); err != nil {
		s.log.Error("fail game session placement", "placement", placementID, "error", err)
	}
}

func (s *Service) fulfil(ctx context.Context, id, sessionID string) error {
	pl, err := s.store.Placements().Get(ctx, id)
	if err != nil {
		return err
	}
	if gamelift.Value(pl.Model.Status) != PlacementPending {
		return nil
	}
	var made []gamelift.PlayerSession
	if len(pl.DesiredPlayers) > 0 {
		if made, err = s.core.ReserveDesiredPlayers(ctx, sessionID, pl.DesiredPlayers); err != nil {
			return errors.Join(err, s.endPlacement(ctx, id, PlacementFailed, "its players could not join: "+err.Error()))
		}
	}
	gs, err := s.core.GameSession(ctx, &sessionID)
	if err != nil {
		return err
	}
	m := gs.Model
	fulfilled := false
	pl, err = s.store.Placements().Update(ctx, id, func(pl *store.Placement) error {
		fulfilled = false
		if gamelift.Value(pl.Model.Status) != PlacementPending {
			return nil
		}
		pl.Model.Status, pl.Model.EndTime = gamelift.String(PlacementFulfilled), gamelift.At(s.now())
		pl.Model.GameSessionId, pl.Model.GameSessionArn, pl.Model.GameSessionRegion = m.GameSessionId, m.GameSessionId, m.Location
		pl.Model.IpAddress, pl.Model.DnsName, pl.Model.Port = m.IpAddress, m.DnsName, m.Port
		pl.Model.PlacedPlayerSessions = make([]gamelift.PlacedPlayerSession, len(made))
		for i, ps := range made {
			pl.Model.PlacedPlayerSessions[i] = gamelift.PlacedPlayerSession{PlayerId: ps.PlayerId, PlayerSessionId: ps.PlayerSessionId}
		}
		fulfilled = true
		return nil
	})
	if err != nil {
		return err
	}
	if fulfilled {
		s.placementEnded(pl)
		s.placementEvent(pl, "PlacementFulfilled")
		s.matchPlacementEnded(pl)
	}
	return nil
}

// endPlacement moves a PENDING placement to a final status and sends its event.
func (s *Service) endPlacement(ctx context.Context, id, status, why string) error {
	s.placer.drop(id)
	ended := false
	pl, err := s.store.Placements().Update(ctx, id, func(pl *store.Placement) error {
		ended = false
		if gamelift.Value(pl.Model.Status) != PlacementPending {
			return nil
		}
		pl.Model.Status, pl.Model.EndTime = gamelift.String(status), gamelift.At(s.now())
		ended = true
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ended {
		s.log.Debug("game session placement ended", "placement", id, "status", status, "why", why)
		s.placementEnded(pl)
		s.placementEvent(pl, map[string]string{PlacementTimedOut: "PlacementTimedOut", PlacementFailed: "PlacementFailed", PlacementCancelled: "PlacementCancelled"}[status])
		s.matchPlacementEnded(pl)
	}
	return nil
}

// placementEnded tells the observer how long a placement waited, from its start to its
// end (FULFILLED, TIMED_OUT, CANCELLED, FAILED).
func (s *Service) placementEnded(pl store.Placement) {
	m := pl.Model
	if s.observer == nil || m.StartTime == nil || m.EndTime == nil {
		return
	}
	s.observer.PlacementEnded(gamelift.Value(m.GameSessionQueueName), gamelift.Value(m.Status), m.EndTime.Sub(m.StartTime.Time))
}

// placementEvent sends the event GameLift would publish to the queue's SNS topic, with
// GameLift's field names (CloudWatch Events form).
func (s *Service) placementEvent(pl store.Placement, kind string) {
	if s.events == nil {
		return
	}
	m := pl.Model
	millis := func(t *gamelift.Timestamp) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	detail := map[string]any{
		"type": kind, "placementId": gamelift.Value(m.PlacementId),
		"startTime": millis(m.StartTime), "endTime": millis(m.EndTime),
	}
	if kind == "PlacementFulfilled" {
		players := make([]map[string]string, len(m.PlacedPlayerSessions))
		for i, p := range m.PlacedPlayerSessions {
			players[i] = map[string]string{"playerId": gamelift.Value(p.PlayerId), "playerSessionId": gamelift.Value(p.PlayerSessionId)}
		}
		detail["port"] = strconv.Itoa(int(gamelift.Value(m.Port)))
		detail["gameSessionArn"] = gamelift.Value(m.GameSessionArn)
		detail["ipAddress"] = gamelift.Value(m.IpAddress)
		detail["dnsName"] = gamelift.Value(m.DnsName)
		detail["gameSessionRegion"] = gamelift.Value(m.GameSessionRegion)
		detail["placedPlayerSessions"] = players
	}
	if q, err := s.queues.Get(s.bg.Context(), gamelift.Value(m.GameSessionQueueName)); err == nil && q.Model.CustomEventData != nil {
		detail["customEventData"] = *q.Model.CustomEventData
	}
	body, err := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": "GameLift Queue Placement Event", "source": "aws.gamelift",
		"account": control.AccountID, "time": s.now().Format(time.RFC3339), "region": s.region,
		"resources": []string{pl.QueueArn}, "detail": detail,
	})
	if err != nil {
		s.log.Error("encode placement event", "error", err)
		return
	}
	s.events.Publish(pl.QueueArn, body)
}

// restorePlacements rebuilds the placer from the store at start. A placement whose
// session became ACTIVE or ended while the server was down is settled now.
func (s *Service) restorePlacements(ctx context.Context) error {
	page, err := s.store.Placements().List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list placements: %w", err)
	}
	live, err := s.core.LiveReplicas(ctx) // nil alone on the store
	if err != nil {
		return err
	}
	me := s.core.ReplicaID()
	for _, pl := range page.Items {
		m := pl.Model
		id := gamelift.Value(m.PlacementId)
		if gamelift.Value(m.Status) != PlacementPending {
			continue
		}
		if m.GameSessionId == nil {
			if live != nil && pl.Replica != me {
				// Another live replica's to place; a stopped one's, this one takes over.
				if live[pl.Replica] {
					continue
				}
				var ok bool
				if pl, ok, err = s.claimPlacement(ctx, id, pl.Replica); err != nil {
					return err
				} else if !ok {
					continue
				}
			}
			s.placer.add(pl)
			continue
		}
		// Its session was made: settle it if the session moved on while the server was down;
		// if it is still ACTIVATING, the session's activation or end will.
		sessionID := *m.GameSessionId
		gs, err := s.core.GameSession(ctx, &sessionID)
		switch {
		case gamelift.IsCode(err, "NotFoundException"):
			s.SessionEnded(id)
		case err != nil:
			return fmt.Errorf("read placement's game session: %w", err)
		case gamelift.Value(gs.Model.Status) == control.SessionActive:
			s.SessionActive(id, sessionID)
		case gamelift.Value(gs.Model.Status) != control.SessionActivating:
			s.SessionEnded(id)
		}
	}
	return nil
}

// runUpkeep takes over the waiting placements of replicas that stopped when told of them
// (ReplicasStopped), and deletes ended placements once an hour; it looks every interval.
func (s *Service) runUpkeep(every time.Duration) {
	lastPurge := time.Time{}
	s.bg.Loop(every, s.stopped.wakeup, func() {
		if err := s.takeOver(s.bg.Context()); err != nil && s.bg.Context().Err() == nil {
			s.log.Warn("take over a stopped replica's game session placements", "error", err)
		}
		if now := s.now(); now.Sub(lastPurge) > purgeInterval {
			s.purgePlacements(s.bg.Context())
			lastPurge = now
		}
	})
}

// purgePlacements deletes placements ended over placementRetention ago; their IDs are
// free again.
func (s *Service) purgePlacements(ctx context.Context) {
	page, err := s.store.Placements().List(ctx, store.Query{})
	if err != nil {
		s.log.Error("list placements to purge", "error", err)
		return
	}
	cutoff := s.now().Add(-placementRetention)
	for _, pl := range page.Items {
		if t := pl.Model.EndTime; t != nil && t.Before(cutoff) {
			if err := s.store.Placements().Delete(ctx, gamelift.Value(pl.Model.PlacementId)); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Error("purge placement", "placement", gamelift.Value(pl.Model.PlacementId), "error", err)
			}
		}
	}
}
