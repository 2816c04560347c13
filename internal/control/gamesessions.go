package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/sdkhost"
	"github.com/hoist-dev/hoist/internal/store"
)

// Game session statuses, reasons and rules, as GameLift has them.
const (
	SessionActivating  = "ACTIVATING"
	SessionActive      = "ACTIVE"
	SessionTerminating = "TERMINATING"
	SessionTerminated  = "TERMINATED"
	SessionError       = "ERROR"

	ReasonInterrupted     = "INTERRUPTED"
	ReasonTriggered       = "TRIGGERED_ON_PROCESS_TERMINATE"
	ReasonForceTerminated = "FORCE_TERMINATED"

	policyAcceptAll = "ACCEPT_ALL"
	policyDenyAll   = "DENY_ALL"

	// sessionRetention is how long an ended session (and so its idempotency token) is kept.
	sessionRetention = 30 * 24 * time.Hour
	// creatorInterval limits a CreatorId without a fleet policy to one session a second.
	creatorInterval = time.Second
)

// sessionARN is a game session's ID: arn:aws:gamelift:<region>::gamesession/<fleet>/<id>.
func (s *Service) sessionARN(fleetID, id string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s::gamesession/%s/%s", s.region, fleetID, id)
}

// targetFleet resolves CreateGameSession's FleetId or AliasId (exactly one).
func (s *Service) targetFleet(ctx context.Context, fleetID, aliasID *string) (store.Fleet, error) {
	switch {
	case fleetID != nil && aliasID != nil:
		return store.Fleet{}, gamelift.InvalidRequest("Specify a FleetId or an AliasId, not both")
	case fleetID == nil && aliasID == nil:
		return store.Fleet{}, gamelift.InvalidRequest("A FleetId or an AliasId is required")
	case aliasID != nil:
		return s.resolveAlias(ctx, aliasID)
	}
	return s.getFleet(ctx, fleetID)
}

// sessionLocation is where a new session goes: the Location asked for, which must be one
// of the fleet's, or the home Region; an Anywhere fleet has no home Region to default to.
func (s *Service) sessionLocation(f store.Fleet, loc *string) (string, error) {
	id := gamelift.Value(f.Attributes.FleetId)
	if loc == nil {
		if gamelift.Value(f.Attributes.ComputeType) == ComputeAnywhere {
			return "", gamelift.InvalidRequest("Location is required for Anywhere fleet %s: give one of its custom locations", id)
		}
		return s.region, nil
	}
	if locationOf(&f, *loc) == nil {
		return "", gamelift.InvalidRequest("Location %s is not a location of fleet %s", *loc, id)
	}
	return *loc, nil
}

// CreateGameSession places a new game session on a ready server process of the fleet
// location and returns it ACTIVATING; the process activates it.
func (s *Service) CreateGameSession(ctx context.Context, in *gamelift.CreateGameSessionInput) (*gamelift.CreateGameSessionOutput, error) {
	f, err := s.targetFleet(ctx, in.FleetId, in.AliasId)
	if err != nil {
		return nil, err
	}
	fleetID := gamelift.Value(f.Attributes.FleetId)

	// A token already used answers with the session it made, whatever else the request
	// asks and whatever the fleet's state now: the request was processed once.
	token := gamelift.Value(in.IdempotencyToken)
	custom := token
	if custom == "" {
		custom = gamelift.Value(in.GameSessionId)
	}
	idPart := custom
	if idPart == "" {
		idPart = "gsess-" + uuid.NewString()
	}
	id := s.sessionARN(fleetID, idPart)
	if custom != "" {
		if gs, err := s.gameSessions.Get(ctx, id); err == nil {
			return replay(gs, token)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("look up idempotency token: %w", err)
		}
	}

	if st := gamelift.Value(f.Attributes.Status); st != FleetActive {
		return nil, gamelift.InvalidFleetStatus("Fleet %s is %s, not ACTIVE", fleetID, st)
	}
	location, err := s.sessionLocation(f, in.Location)
	if err != nil {
		return nil, err
	}
	now := s.now()
	release, err := s.takeCreatorSlot(ctx, fleetID, f.Attributes.ResourceCreationLimitPolicy, in.CreatorId, now)
	if err != nil {
		return nil, err
	}
	gs, err := s.placeSession(ctx, f, location, sessionSpec{
		id: id, custom: custom, name: in.Name, creator: in.CreatorId, data: in.GameSessionData,
		maxPlayers: *in.MaximumPlayerSessionCount, properties: in.GameProperties,
	}, now)
	if err != nil {
		release() // nothing was created: the slot is the creator's again
	}
	if errors.Is(err, store.ErrExists) { // the same token, created a moment ago
		existing, gerr := s.gameSessions.Get(ctx, id)
		if gerr != nil {
			return nil, fmt.Errorf("read game session: %w", gerr)
		}
		return replay(existing, token)
	}
	if err != nil {
		return nil, err
	}
	return &gamelift.CreateGameSessionOutput{GameSession: &gs.Model}, nil
}

// sessionSpec is what a new game session is made with.
type sessionSpec struct {
	id                                  string // its ARN
	custom                              string // the idempotency token or custom ID it was named with, or ""
	name, creator, data, matchmakerData *string
	maxPlayers                          int32
	properties                          []gamelift.GameProperty
	// placementID names the placement the session is made for, or "".
	placementID string
	// capacitySince, when not 0, refuses capacity that appeared after that generation
	// (reserveProcessSince).
	capacitySince uint64
}

// newSession places a new game session on a free ready process of the fleet location,
// stores it ACTIVATING and tells the process to start it. FleetCapacityExceededException
// when no process is free; an error wrapping store.ErrExists when the ID is taken.
func (s *Service) newSession(ctx context.Context, f store.Fleet, location string, spec sessionSpec, now time.Time) (store.GameSession, error) {
	fleetID := gamelift.Value(f.Attributes.FleetId)
	p, err := s.reserveProcessSince(fleetID, location, spec.id, f.Runtime, now, spec.capacitySince)
	if err != nil {
		return store.GameSession{}, err
	}
	maxPlayers := spec.maxPlayers
	gs := store.GameSession{
		Model: gamelift.GameSession{
			GameSessionId: &spec.id, FleetId: &fleetID, FleetArn: f.Attributes.FleetArn, Name: spec.name,
			CreationTime: gamelift.At(now), Status: gamelift.String(SessionActivating),
			CurrentPlayerSessionCount: gamelift.Int32(0), MaximumPlayerSessionCount: &maxPlayers,
			GameProperties: spec.properties, IpAddress: nonEmpty(p.ipAddress), DnsName: nonEmpty(p.dnsName),
			Port: gamelift.Int32(p.port), PlayerSessionCreationPolicy: gamelift.String(policyAcceptAll),
			CreatorId: spec.creator, GameSessionData: spec.data, MatchmakerData: spec.matchmakerData, Location: &location,
			ComputeName: &p.computeName,
		},
		ProtectionPolicy: gamelift.Value(f.Attributes.NewGameSessionProtectionPolicy),
		ProcessID:        p.id, ComputeName: p.computeName, IdempotencyToken: spec.custom, LogPaths: p.logPaths,
		PlacementID: spec.placementID, Replica: s.replicas.id,
	}
	if err := s.gameSessions.Create(ctx, spec.id, fleetID, gs); err != nil {
		s.releaseProcess(p.key, spec.id)
		return store.GameSession{}, fmt.Errorf("create game session: %w", err)
	}
	s.updateProcessLimits(gs)
	s.startSession(p, gs)
	return gs, nil
}

func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// replay answers a repeated request for a session that exists. A repeated
// IdempotencyToken gets the original session, its status as it is now, whatever the
// other parameters: GameLift processes a token once. The deprecated GameSessionId is a
// custom ID string, not a token: reusing one is IdempotentParameterMismatchException, the
// one case GameLift's model documents that exception for.
func replay(gs store.GameSession, token string) (*gamelift.CreateGameSessionOutput, error) {
	m := gs.Model
	if token == "" {
		return nil, gamelift.IdempotentParameterMismatch("A game session with custom ID string %s already exists in fleet %s: give another GameSessionId, or use IdempotencyToken to replay a request",
			gs.IdempotencyToken, gamelift.Value(m.FleetId))
	}
	return &gamelift.CreateGameSessionOutput{GameSession: &m}, nil
}

func propertyMap(props []gamelift.GameProperty) map[string]string {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[gamelift.Value(p.Key)] = gamelift.Value(p.Value)
	}
	return m
}

// takeCreatorSlot enforces the fleet's resource creation limit policy for a CreatorId, or,
// without a policy, one new session a second per CreatorId: it counts a creation now,
// unless the creator is at its limit (LimitExceededException). release gives the slot
// back, for a creation that did not happen. Servers sharing a store count together.
func (s *Service) takeCreatorSlot(ctx context.Context, fleetID string, policy *gamelift.ResourceCreationLimitPolicy, creator *string, now time.Time) (release func(), err error) {
	limit, period := 1, creatorInterval
	if policy != nil && gamelift.Value(policy.PolicyPeriodInMinutes) > 0 {
		if creator == nil {
			return nil, gamelift.InvalidRequest("Fleet %s has a resource creation limit policy: CreatorId is required", fleetID)
		}
		limit, period = int(gamelift.Value(policy.NewGameSessionsPerCreator)), time.Duration(gamelift.Value(policy.PolicyPeriodInMinutes))*time.Minute
	}
	if creator == nil {
		return func() {}, nil
	}
	key := fleetID + "/" + *creator
	take := func(times []time.Time) ([]time.Time, error) {
		recent := slices.DeleteFunc(times, func(t time.Time) bool { return now.Sub(t) >= period })
		if len(recent) >= limit {
			return recent, gamelift.LimitExceeded("Creator %s has created %d game sessions in fleet %s in the last %s, the limit", *creator, len(recent), fleetID, period)
		}
		return append(recent, now), nil
	}
	giveBack := func(times []time.Time) []time.Time {
		if i := slices.IndexFunc(times, now.Equal); i >= 0 {
			return slices.Delete(times, i, i+1)
		}
		return times
	}
	if !s.replicated() {
		s.creatorsMu.Lock()
		defer s.creatorsMu.Unlock()
		times, err := take(s.creators[key])
		s.creators[key] = times
		if err != nil {
			return nil, err
		}
		return func() {
			s.creatorsMu.Lock()
			s.creators[key] = giveBack(s.creators[key])
			s.creatorsMu.Unlock()
		}, nil
	}
	update := func(fn func(*store.Creator) error) error {
		_, err := s.store.Creators().Update(ctx, key, fn)
		if errors.Is(err, store.ErrNotFound) {
			var c store.Creator
			if err = fn(&c); err == nil {
				if err = s.store.Creators().Create(ctx, key, fleetID, c); errors.Is(err, store.ErrExists) {
					_, err = s.store.Creators().Update(ctx, key, fn) // made meanwhile by another replica
				}
			}
		}
		return err
	}
	err = update(func(c *store.Creator) error {
		times, err := take(c.Times)
		c.Times = times
		return err
	})
	if err != nil {
		return nil, err
	}
	return func() {
		update(func(c *store.Creator) error { c.Times = giveBack(c.Times); return nil })
	}, nil
}

// startSession tells the process to start the session it was given, once its SDK has
// heard that it is ready (process.heard).
func (s *Service) startSession(p placed, gs store.GameSession) {
	m := gs.Model
	msg := map[string]any{
		"GameSessionId": gamelift.Value(m.GameSessionId), "GameSessionName": gamelift.Value(m.Name),
		"MaximumPlayerSessionCount": gamelift.Value(m.MaximumPlayerSessionCount), "Port": gamelift.Value(m.Port),
		"IpAddress": gamelift.Value(m.IpAddress), "DnsName": gamelift.Value(m.DnsName),
		"GameSessionData": gamelift.Value(m.GameSessionData), "MatchmakerData": gamelift.Value(m.MatchmakerData),
		"GameProperties": propertyMap(m.GameProperties),
	}
	s.bg.Go(func() {
		if p.heard != nil {
			select {
			case <-p.heard:
			case <-s.bg.Context().Done():
				return
			}
		}
		if err := p.peer.Push(s.bg.Context(), "CreateGameSession", msg); err != nil {
			s.log.Warn("push CreateGameSession; the activation timeout will end the session", "process", p.id, "error", err)
		}
	})
}

// pushSessionUpdate tells the process hosting a session of a change to it
// (UpdateGameSession), when this replica holds its connection.
func (s *Service) pushSessionUpdate(ctx context.Context, sessionID, reason, ticketID string) {
	gs, err := s.gameSessions.Get(ctx, sessionID)
	if err != nil {
		return
	}
	s.procs.mu.Lock()
	var target sdkhost.Peer
	if p, ok := s.procs.byKey[keyOf(gs)]; ok {
		target = p.peer
	}
	s.procs.mu.Unlock()
	if target == nil {
		return
	}
	m := gs.Model
	msg := map[string]any{
		"GameSession": map[string]any{
			"GameSessionId": gamelift.Value(m.GameSessionId), "GameSessionName": gamelift.Value(m.Name),
			"MaximumPlayerSessionCount": gamelift.Value(m.MaximumPlayerSessionCount), "Port": gamelift.Value(m.Port),
			"IpAddress": gamelift.Value(m.IpAddress), "DnsName": gamelift.Value(m.DnsName),
			"GameSessionData": gamelift.Value(m.GameSessionData), "MatchmakerData": gamelift.Value(m.MatchmakerData),
			"GameProperties": propertyMap(m.GameProperties),
		},
		"UpdateReason": reason, "BackfillTicketId": ticketID,
	}
	s.bg.Go(func() {
		if err := target.Push(s.bg.Context(), "UpdateGameSession", msg); err != nil {
			s.log.Warn("push UpdateGameSession", "game_session", sessionID, "error", err)
		}
	})
}

// getSession loads a game session by ID (ARN).
func (s *Service) getSession(ctx context.Context, id *string) (store.GameSession, error) {
	gs, err := s.gameSessions.Get(ctx, gamelift.Value(id))
	if err != nil {
		return gs, store.NotFoundAs(err, "Game session %s not found", gamelift.Value(id))
	}
	return gs, nil
}

// activateSession moves a session ACTIVATING -> ACTIVE when its process says so.
func (s *Service) activateSession(ctx context.Context, id string) error {
	activated := false
	gs, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		activated = false
		switch st := gamelift.Value(gs.Model.Status); st {
		case SessionActivating:
			gs.Model.Status = gamelift.String(SessionActive)
			activated = true
		case SessionActive:
		default:
			return gamelift.InvalidGameSessionStatus("Game session %s is %s, not ACTIVATING", id, st)
		}
		return nil
	})
	if err != nil {
		return store.NotFoundAs(err, "Game session %s not found", id)
	}
	if activated && gs.PlacementID != "" {
		s.placementSessionActive(gs.PlacementID, id)
	}
	return nil
}

// endSession ends a session: TERMINATED with reason (or none), its players COMPLETED.
// Ending an ended session changes nothing.
func (s *Service) endSession(ctx context.Context, id, reason string) {
	s.endSessionOf(ctx, id, reason, false)
}

// endSessionOf is endSession; with mineOnly, it leaves a session whose process another
// replica holds now (the process moved there).
func (s *Service) endSessionOf(ctx context.Context, id, reason string, mineOnly bool) {
	now := gamelift.At(s.now())
	gs, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		if mineOnly && s.replicated() && gs.Replica != s.replicas.id {
			return errAlreadyEnded
		}
		m := &gs.Model
		was := gamelift.Value(m.Status)
		if was == SessionTerminated || was == SessionError {
			return errAlreadyEnded
		}
		if reason == "" && was == SessionTerminating {
			// TerminateGameSession asked, and the process ended; or its compute is
			// shutting down, and the reason was given then (INTERRUPTED).
			reason = cmp.Or(gamelift.Value(m.StatusReason), ReasonTriggered)
		}
		m.Status, m.TerminationTime, m.StatusReason = gamelift.String(SessionTerminated), now, nonEmpty(reason)
		for i := range gs.Players {
			if st := gamelift.Value(gs.Players[i].Status); st == PlayerReserved || st == PlayerActive {
				gs.Players[i].Status, gs.Players[i].TerminationTime = gamelift.String(PlayerCompleted), now
			}
		}
		m.CurrentPlayerSessionCount = gamelift.Int32(0)
		return nil
	})
	if errors.Is(err, errAlreadyEnded) || errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		s.log.Error("end game session", "game_session", id, "error", err)
		return
	}
	s.forgetReservations(gs)
	if gs.PlacementID != "" {
		s.placementSessionEnded(gs.PlacementID)
	}
}

var errAlreadyEnded = errors.New("game session already ended")

// DescribeGameSessions lists game sessions by ID, fleet or alias, with filters.
func (s *Service) DescribeGameSessions(ctx context.Context, in *gamelift.DescribeGameSessionsInput) (*gamelift.DescribeGameSessionsOutput, error) {
	sessions, token, err := s.findSessions(ctx, in.FleetId, in.GameSessionId, in.AliasId, in.Location, in.StatusFilter, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeGameSessionsOutput{GameSessions: []gamelift.GameSession{}, NextToken: token}
	for _, gs := range sessions {
		out.GameSessions = append(out.GameSessions, gs.Model)
	}
	return out, nil
}

// DescribeGameSessionDetails is DescribeGameSessions with each session's protection policy.
func (s *Service) DescribeGameSessionDetails(ctx context.Context, in *gamelift.DescribeGameSessionDetailsInput) (*gamelift.DescribeGameSessionDetailsOutput, error) {
	sessions, token, err := s.findSessions(ctx, in.FleetId, in.GameSessionId, in.AliasId, in.Location, in.StatusFilter, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeGameSessionDetailsOutput{GameSessionDetails: []gamelift.GameSessionDetail{}, NextToken: token}
	for _, gs := range sessions {
		out.GameSessionDetails = append(out.GameSessionDetails, gamelift.GameSessionDetail{
			GameSession: &gs.Model, ProtectionPolicy: nonEmpty(gs.ProtectionPolicy),
		})
	}
	return out, nil
}

var sessionStatuses = []string{SessionActive, SessionActivating, SessionTerminated, SessionTerminating, SessionError}

func (s *Service) findSessions(ctx context.Context, fleetID, sessionID, aliasID, location, status *string, limit *int32, token *string) ([]store.GameSession, *string, error) {
	if status != nil && !slices.Contains(sessionStatuses, *status) {
		return nil, nil, gamelift.InvalidRequest("StatusFilter must be one of %v", sessionStatuses)
	}
	keep := func(gs store.GameSession) bool {
		return (location == nil || gamelift.Value(gs.Model.Location) == *location) &&
			(status == nil || gamelift.Value(gs.Model.Status) == *status)
	}
	if sessionID != nil {
		gs, err := s.getSession(ctx, sessionID)
		if err != nil {
			return nil, nil, err
		}
		if !keep(gs) {
			return nil, nil, nil
		}
		return []store.GameSession{gs}, nil, nil
	}
	var f store.Fleet
	var err error
	switch {
	case fleetID != nil && aliasID != nil:
		return nil, nil, gamelift.InvalidRequest("Specify a FleetId or an AliasId, not both")
	case fleetID != nil:
		f, err = s.getFleet(ctx, fleetID)
	case aliasID != nil:
		f, err = s.resolveAlias(ctx, aliasID)
	default:
		return nil, nil, gamelift.InvalidRequest("Specify a GameSessionId, a FleetId or an AliasId")
	}
	if err != nil {
		return nil, nil, err
	}
	// A page is a page of the fleet's sessions in the store, filtered: it may hold fewer
	// than Limit, with a NextToken to go on, as AWS's paging allows, and it costs Limit
	// reads however many sessions the fleet has.
	page, err := s.gameSessions.List(ctx, paging.Query(gamelift.Value(f.Attributes.FleetId), limit, token))
	if err != nil {
		return nil, nil, store.PageError(err)
	}
	return slices.DeleteFunc(page.Items, func(gs store.GameSession) bool { return !keep(gs) }), paging.Next(page.Next), nil
}

// UpdateGameSession changes a live session's players limit, name, policies or properties.
func (s *Service) UpdateGameSession(ctx context.Context, in *gamelift.UpdateGameSessionInput) (*gamelift.UpdateGameSessionOutput, error) {
	id := gamelift.Value(in.GameSessionId)
	gs, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		m := &gs.Model
		if st := gamelift.Value(m.Status); st != SessionActive && st != SessionActivating {
			return gamelift.InvalidGameSessionStatus("Game session %s is %s; only ACTIVE or ACTIVATING sessions can be updated", id, st)
		}
		set(&m.MaximumPlayerSessionCount, in.MaximumPlayerSessionCount)
		set(&m.Name, in.Name)
		set(&m.PlayerSessionCreationPolicy, in.PlayerSessionCreationPolicy)
		if in.ProtectionPolicy != nil {
			gs.ProtectionPolicy = *in.ProtectionPolicy
		}
		if in.GameProperties != nil {
			m.GameProperties = mergeProperties(m.GameProperties, in.GameProperties)
			if len(m.GameProperties) > 16 {
				return gamelift.InvalidRequest("A game session holds at most 16 game properties; this update makes %d", len(m.GameProperties))
			}
		}
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Game session %s not found", id)
	}
	s.updateProcessLimits(gs)
	return &gamelift.UpdateGameSessionOutput{GameSession: &gs.Model}, nil
}

// mergeProperties sets new values over old ones; properties are never removed.
func mergeProperties(old, upd []gamelift.GameProperty) []gamelift.GameProperty {
	out := slices.Clone(old)
	for _, u := range upd {
		i := slices.IndexFunc(out, func(p gamelift.GameProperty) bool { return gamelift.Value(p.Key) == gamelift.Value(u.Key) })
		if i >= 0 {
			out[i].Value = u.Value
		} else {
			out = append(out, u)
		}
	}
	return out
}

// TerminateGameSession ends a session: TRIGGER_ON_PROCESS_TERMINATE asks its process to end
// (TERMINATING until it calls ProcessEnding); FORCE_TERMINATE ends it now.
func (s *Service) TerminateGameSession(ctx context.Context, in *gamelift.TerminateGameSessionInput) (*gamelift.TerminateGameSessionOutput, error) {
	id := gamelift.Value(in.GameSessionId)
	gs, err := s.getSession(ctx, in.GameSessionId)
	if err != nil {
		return nil, err
	}
	switch st := gamelift.Value(gs.Model.Status); st {
	case SessionError, SessionTerminated:
		return nil, gamelift.InvalidGameSessionStatus("Game session %s is %s", id, st)
	}
	mode := gamelift.Value(in.TerminationMode)
	if mode == "FORCE_TERMINATE" {
		f, err := s.getFleet(ctx, gs.Model.FleetId)
		if err == nil && gamelift.Value(f.Attributes.ComputeType) == ComputeAnywhere {
			return nil, gamelift.InvalidRequest("FORCE_TERMINATE needs a host agent to stop the process; Anywhere fleet %s has none", gamelift.Value(f.Attributes.FleetId))
		}
		s.endSession(ctx, id, ReasonForceTerminated)
		s.forceStop(ctx, keyOf(gs))
	} else {
		updated, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
			if st := gamelift.Value(gs.Model.Status); st == SessionActive || st == SessionActivating {
				gs.Model.Status = gamelift.String(SessionTerminating)
			}
			return nil
		})
		if err != nil {
			return nil, store.NotFoundAs(err, "Game session %s not found", id)
		}
		s.updateProcessLimits(updated)
		s.askProcessToEnd(keyOf(gs))
	}
	gs, err = s.getSession(ctx, in.GameSessionId)
	if err != nil {
		return nil, err
	}
	return &gamelift.TerminateGameSessionOutput{GameSession: &gs.Model}, nil
}

// purgeSessions deletes sessions ended more than 30 days ago; their tokens are free again.
func (s *Service) purgeSessions(ctx context.Context) {
	page, err := s.gameSessions.List(ctx, store.Query{})
	if err != nil {
		s.log.Error("list game sessions to purge", "error", err)
		return
	}
	cutoff := s.now().Add(-sessionRetention)
	for _, gs := range page.Items {
		if t := gs.Model.TerminationTime; t != nil && t.Before(cutoff) {
			if err := s.gameSessions.Delete(ctx, gamelift.Value(gs.Model.GameSessionId)); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Error("purge game session", "game_session", gamelift.Value(gs.Model.GameSessionId), "error", err)
			}
			s.forgetSessionIndex(gs)
		}
	}
}
