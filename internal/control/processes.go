package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unique"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/sdkhost"
	"github.com/hoist-dev/hoist/internal/store"
)

// Process timing, from the Server SDK's own: it heartbeats every 60 s with up to 10 s of
// jitter, and retries a lost connection for about 30 s.
const (
	defaultHeartbeatTimeout = 90 * time.Second
	defaultReconnectGrace   = 30 * time.Second
	DefaultSweepInterval    = 5 * time.Second
	maxUnhealthyReports     = 3
	minPort, maxPort        = 1, 60000
)

// What GameLift gives a process to get ready, and to exit once it called ProcessEnding.
const (
	processReadyTimeout = 5 * time.Minute
	processExitTimeout  = 30 * time.Second
)

// Fleet events of what befalls a process or its session, GameLift's names for them.
const (
	// eventProcessForceTerminated: a process asked to end had not after its agent's stop
	// timeout, and was killed.
	eventProcessForceTerminated = "SERVER_PROCESS_FORCE_TERMINATED"
	// eventProcessUnhealthy: a process reported itself unhealthy, or sent no heartbeat,
	// for too long, and was asked to end or removed.
	eventProcessUnhealthy = "SERVER_PROCESS_TERMINATED_UNHEALTHY"
	// eventProcessReadyTimeout: a process connected (InitSDK) but did not call
	// ProcessReady within processReadyTimeout.
	eventProcessReadyTimeout = "SERVER_PROCESS_PROCESS_READY_TIMEOUT"
	// eventProcessExitTimeout: a process that called ProcessEnding was still connected
	// processExitTimeout later.
	eventProcessExitTimeout = "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT"
	// eventActivationTimeout: a game session was not activated within its fleet's
	// GameSessionActivationTimeoutSeconds.
	eventActivationTimeout = "GAME_SESSION_ACTIVATION_TIMEOUT"
)

// process is a game server process connected (or recently connected) to the SDK endpoint.
// The registry is in memory; the sessions it hosts are in the store, and after a restart
// a process that reconnects with its ID takes its session back.
type process struct {
	id, fleetID, computeName, location string
	ipAddress, dnsName                 string
	sdk                                string
	port                               int32
	logPaths                           []string
	// ports maps container ports to connection ports on a container fleet's pod.
	ports map[int32]int32

	ready bool // ActivateServerProcess answered, ProcessEnding not called
	// heard is closed once the process's SDK knows it is ready (nil: it knows). The
	// official SDKs (Go, C++, C#) drop a game session that reaches them before they have
	// read ProcessReady's answer, and they read each message on its own thread, so even a
	// session sent after the answer can overtake it. Each heartbeats as soon as it has
	// marked itself ready: its first heartbeat since ProcessReady, or readySettle after the
	// answer for an SDK that does not heartbeat at once, closes heard. A session given to
	// the process meanwhile is pushed then.
	heard       chan struct{}
	ended       bool      // ProcessEnding called
	unhealthy   int       // consecutive unhealthy heartbeats
	connectedAt time.Time // its first connection (InitSDK)
	endedAt     time.Time // when it called ProcessEnding
	wasReady    bool      // it called ProcessReady, here or before with another server
	// readyOverdue and exitOverdue: its ProcessReady or exit timeout was reported.
	readyOverdue, exitOverdue bool
	lastSeen                  time.Time
	peer                      sdkhost.Peer // nil while disconnected
	disconnectedAt            time.Time
	tokenExpires              time.Time

	// The session it hosts, if any: ID, whether still ACTIVATING and until when, whether
	// TerminateGameSession asked it to end, players (reserved ones among them).
	gameSessionID     string
	activating        bool
	terminating       bool
	activationExpires time.Time
	players, maxSlots int32
	reserved          int32

	idx indexed // where the registry's index holds it
}

// free tells whether the process can take a new game session now.
func (p *process) free() bool {
	return p.ready && p.peer != nil && p.unhealthy == 0 && p.gameSessionID == ""
}

// readySettle is how long after answering ProcessReady a process that has not heartbeat
// yet is taken to have heard the answer (process.heard).
const readySettle = time.Second

// hear marks the process's SDK as knowing it is ready (process.heard).
func (p *process) hear() {
	if p.heard != nil {
		close(p.heard)
		p.heard = nil
	}
}

// counted tells whether the process counts as an active server process.
func (p *process) counted() bool { return p.ready && p.peer != nil && p.unhealthy == 0 }

func (p *process) key() procKey { return procKey{p.fleetID, p.computeName, p.id} }

// procKey names a process: process IDs are chosen by the process (or its host), so one
// is unique only within its fleet and compute.
type procKey struct{ fleet, compute, id string }

// keyOf names the process that hosts (or hosted) a stored game session.
func keyOf(gs store.GameSession) procKey {
	return procKey{gamelift.Value(gs.Model.FleetId), gs.ComputeName, gs.ProcessID}
}

// placed is what CreateGameSession needs of the process it reserved.
type placed struct {
	key                                 procKey
	id, computeName, ipAddress, dnsName string
	port                                int32
	logPaths                            []string
	peer                                sdkhost.Peer
	// heard is the process's heard when reserved: a session is pushed once it is closed.
	heard <-chan struct{}
}

// reserveProcess picks a process for the session (a free process of the fleet location,
// at random among those whose compute has room for another activation) and gives it the
// session, all under the registry lock, so no process is ever given two sessions.
func (s *Service) reserveProcess(fleetID, location, sessionID string, rc gamelift.RuntimeConfiguration, now time.Time) (placed, error) {
	return s.reserveProcessSince(fleetID, location, sessionID, rc, now, 0)
}

// errCapacityChanged: capacity appeared since the caller last looked (processes.gen).
var errCapacityChanged = errors.New("capacity changed")

// reserveProcessSince is reserveProcess for a caller that must not take capacity that
// appeared after generation since (the placements' pass, which serves the oldest first):
// errCapacityChanged then. 0 takes any.
func (s *Service) reserveProcessSince(fleetID, location, sessionID string, rc gamelift.RuntimeConfiguration, now time.Time, since uint64) (placed, error) {
	timeout := time.Duration(gamelift.Value(rc.GameSessionActivationTimeoutSeconds)) * time.Second
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	if since != 0 && s.procs.gen != since {
		return placed{}, errCapacityChanged
	}
	chosen := s.procs.pick(fleetID, location, gamelift.Value(rc.MaxConcurrentGameSessionActivations))
	if chosen == nil {
		return placed{}, gamelift.FleetCapacityExceeded("No available server process in fleet %s location %s", fleetID, location)
	}
	chosen.gameSessionID, chosen.activating, chosen.terminating, chosen.activationExpires = sessionID, true, false, now.Add(timeout)
	chosen.players, chosen.maxSlots, chosen.reserved = 0, 0, 0
	s.procs.sync(chosen)
	return placed{
		key: chosen.key(), id: chosen.id, computeName: chosen.computeName, ipAddress: chosen.ipAddress, dnsName: chosen.dnsName,
		port: chosen.port, logPaths: chosen.logPaths, peer: chosen.peer, heard: chosen.heard,
	}, nil
}

// releaseProcess frees a process reserved for a session that was not created after all.
func (s *Service) releaseProcess(key procKey, sessionID string) {
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	if p, ok := s.procs.byKey[key]; ok && p.gameSessionID == sessionID {
		p.gameSessionID, p.activating = "", false
		s.procs.sync(p)
	}
}

// updateProcessLimits copies a session's player counts and whether it is TERMINATING to
// its process, for utilization and the census.
func (s *Service) updateProcessLimits(gs store.GameSession) {
	reserved := reservedPlayers(gs.Players)
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	if p, ok := s.procs.byKey[keyOf(gs)]; ok && p.gameSessionID == gamelift.Value(gs.Model.GameSessionId) {
		p.players, p.maxSlots = gamelift.Value(gs.Model.CurrentPlayerSessionCount), gamelift.Value(gs.Model.MaximumPlayerSessionCount)
		p.reserved, p.terminating = reserved, gamelift.Value(gs.Model.Status) == SessionTerminating
	}
}

// askProcessToEnd pushes TerminateProcess: the process should end its session and call
// ProcessEnding (the SDK's OnProcessTerminate).
func (s *Service) askProcessToEnd(key procKey) {
	s.procs.mu.Lock()
	p, ok := s.procs.byKey[key]
	var peer sdkhost.Peer
	if ok {
		peer = p.peer
	}
	s.procs.mu.Unlock()
	if !ok && s.replicated() { // another replica may hold it
		s.bg.Go(func() {
			s.endRemoteProcess(s.bg.Context(), key, false)
		})
		return
	}
	if peer == nil {
		return
	}
	s.bg.Go(func() {
		err := peer.Push(s.bg.Context(), "TerminateProcess", map[string]int64{"TerminationTime": s.now().UnixMilli()})
		if err != nil {
			// The process is gone already (it ended, or its host is shutting down): the
			// sweep forgets it if it does not come back.
			s.log.Debug("push TerminateProcess", "process", key.id, "fleet", key.fleet, "error", err)
		}
	})
}

// forceStop ends a process now: it is told to terminate (TerminateProcess, so a game
// server on the SDK exits), then forgotten and disconnected.
func (s *Service) forceStop(ctx context.Context, key procKey) {
	s.procs.mu.Lock()
	var peer sdkhost.Peer
	p, ok := s.procs.byKey[key]
	if ok {
		peer = p.peer
	}
	s.procs.mu.Unlock()
	if !ok {
		s.endRemoteProcess(ctx, key, true) // another replica may hold it
		return
	}
	if peer != nil {
		peer.Push(ctx, "TerminateProcess", map[string]int64{"TerminationTime": s.now().UnixMilli()})
	}
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	if p, ok := s.procs.byKey[key]; ok {
		s.forgetProcessLocked(p, "game session force-terminated")
	}
}

// processExited ends a process its host's agent saw exit, and the game session it hosted,
// at once: the reconnect grace is for a process whose connection dropped while it may
// still run, and this one cannot come back. Its session ends INTERRUPTED (GameLift's
// reason for a session stopped because what ran it went away), or, if TerminateGameSession
// or its compute's shutdown made it TERMINATING, with the reason given then.
func (s *Service) processExited(ctx context.Context, key procKey) {
	s.procs.mu.Lock()
	p, mine := s.procs.byKey[key]
	var session string
	terminating := false
	if mine {
		terminating = p.terminating
		session = s.forgetProcessLocked(p, "its host saw it exit")
	}
	s.procs.mu.Unlock()
	if !mine {
		if !s.replicated() {
			return // it never connected, or it ended (ProcessEnding) and is forgotten
		}
		// Another replica may hold it: it forgets it, and its session, in the shared
		// store, is ended from here. A process no replica holds hosts no live session
		// (a dead replica's are claimed, placeholders and all, by a live one).
		if !s.endRemoteProcess(ctx, key, true) {
			return
		}
		gs, err := s.lastSessionOf(ctx, key.fleet, key.compute, key.id)
		if err != nil || sessionEnded(gs) {
			return
		}
		session = gamelift.Value(gs.Model.GameSessionId)
		terminating = gamelift.Value(gs.Model.Status) == SessionTerminating
	}
	if session == "" {
		return
	}
	reason := ReasonInterrupted
	if terminating {
		reason = "" // the reason recorded when it became TERMINATING
	}
	s.endSessionOf(ctx, session, reason, false)
}

// connectedProcesses returns those of a compute's processes named that have connected
// (called InitSDK): those in the registry, and those another server saw get ready (their
// record). With replicas, one another replica holds is not known here: those are
// returned too, as this replica cannot tell that they have not connected.
func (s *Service) connectedProcesses(ctx context.Context, fleetID, compute string, ids []string) []string {
	seen := make([]string, 0, len(ids))
	var unknown []string
	s.procs.mu.Lock()
	for _, id := range ids {
		if _, ok := s.procs.byKey[procKey{fleetID, compute, id}]; ok {
			seen = append(seen, id)
		} else {
			unknown = append(unknown, id)
		}
	}
	s.procs.mu.Unlock()
	if s.replicated() {
		return append(seen, unknown...)
	}
	for _, id := range unknown {
		_, err := s.store.Processes().Get(ctx, store.ProcessKey(fleetID, compute, id))
		if !errors.Is(err, store.ErrNotFound) {
			seen = append(seen, id) // it got ready before a restart, or the store cannot tell
		}
	}
	return seen
}

// forgetProcessLocked removes a process from the registry and closes its connection. It
// returns the session the process hosted, which the caller ends (outside the lock).
func (s *Service) forgetProcessLocked(p *process, reason string) string {
	s.log.Info("server process removed", "process", p.id, "fleet", p.fleetID, "reason", reason)
	s.procs.remove(p)
	s.forgetReady(p.key())
	if p.peer != nil {
		p.peer.Close(reason)
	}
	return p.gameSessionID
}

// Authenticate implements sdkhost.Backend: the token must be live and issued for the
// compute and fleet the process names. The admission carries the compute's record to
// Attach.
func (s *Service) Authenticate(ctx context.Context, h sdkhost.Hello) (sdkhost.Admission, error) {
	if h.FleetID == "" || h.ComputeName == "" {
		return nil, gamelift.Unauthorized("FleetId and ComputeId are required")
	}
	_, c, err := s.authorize(ctx, h.AuthToken, h.FleetID, h.ComputeName)
	if err != nil {
		return nil, err
	}
	return admission{compute: c}, nil
}

// admission is what Authenticate read for Attach.
type admission struct{ compute store.Compute }

// Attach implements sdkhost.Backend. A process ID already known resumes that process on
// the new connection, with the session it hosts. The token is read again (it may have been
// revoked meanwhile, with its compute); the compute's record is the admission's.
func (s *Service) Attach(ctx context.Context, h sdkhost.Hello, a sdkhost.Admission, peer sdkhost.Peer) (sdkhost.Process, error) {
	adm, ok := a.(admission)
	if !ok {
		return nil, gamelift.Unauthorized("the process was not authenticated")
	}
	tok, err := s.liveToken(ctx, h.AuthToken, h.FleetID, h.ComputeName)
	if err != nil {
		return nil, err
	}
	c := adm.compute
	now := s.now()
	key := procKey{h.FleetID, h.ComputeName, h.ProcessID}
	if err := s.adoptMovedProcess(ctx, key); err != nil {
		return nil, err
	}
	ready, err := s.readyBefore(ctx, key)
	if err != nil {
		return nil, err
	}
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	p, ok := s.procs.byKey[key]
	switch {
	case ok:
		if p.peer != nil {
			p.peer.Close("replaced by a new connection of the same process")
		}
		s.log.Info("server process reconnected", "process", p.id, "fleet", p.fleetID, "compute", p.computeName, "game_session", p.gameSessionID)
	default:
		p = &process{id: h.ProcessID, fleetID: h.FleetID, computeName: h.ComputeName, connectedAt: now}
		if ready != nil { // it called ProcessReady before, with another server
			p.ready, p.wasReady, p.port, p.logPaths = true, true, ready.Port, ready.LogPaths
		}
		s.procs.put(p)
		s.log.Info("server process connected", "process", p.id, "fleet", p.fleetID, "compute", p.computeName, "ready_before", ready != nil)
	}
	p.location = shared(gamelift.Value(c.Model.Location))
	p.ipAddress, p.dnsName = shared(gamelift.Value(c.Model.IpAddress)), shared(gamelift.Value(c.Model.DnsName))
	p.sdk = shared(h.SDKLanguage + " " + h.SDKVersion)
	p.ports = c.Ports
	p.peer, p.lastSeen, p.tokenExpires = peer, now, tok.Expires
	s.procs.sync(p)
	return &processHandle{s: s, p: p, peer: peer}, nil
}

// shared returns s in one copy for all who hold it: a compute's location and address, and
// the SDK's name, are the same for many processes.
func shared(s string) string { return unique.Make(s).Value() }

// processHandle is the sdkhost.Process of one connection: its process, while that
// connection is the process's own.
type processHandle struct {
	s    *Service
	p    *process
	peer sdkhost.Peer
}

// current returns the handle's process and whether it is still registered and on this
// connection; the registry's lock is held.
func (h *processHandle) current() (*process, bool) {
	p := h.p
	return p, h.s.procs.byKey[p.key()] == p && p.peer == h.peer
}

// Detach implements sdkhost.Process: the process stays known for a grace period, so a
// reconnect resumes it, but hosts nothing new meanwhile.
func (h *processHandle) Detach(ctx context.Context) {
	h.s.procs.mu.Lock()
	defer h.s.procs.mu.Unlock()
	p, ok := h.current()
	if !ok {
		return
	}
	if p.ended && p.gameSessionID == "" {
		// It called ProcessEnding: nothing to resume.
		h.s.procs.remove(p)
		h.s.forgetReady(p.key())
		h.s.log.Debug("server process ended", "process", p.id, "fleet", p.fleetID)
		return
	}
	p.peer, p.disconnectedAt = nil, h.s.now()
	h.s.procs.sync(p)
	h.s.log.Info("server process disconnected; kept for its reconnect", "process", p.id, "fleet", p.fleetID, "grace", h.s.reconnectGrace)
}

// with runs fn on the process under the registry's lock, and keeps the index true to
// what fn changed.
func (h *processHandle) with(fn func(p *process) error) error {
	h.s.procs.mu.Lock()
	defer h.s.procs.mu.Unlock()
	p, ok := h.current()
	if !ok {
		return gamelift.NotFound("process %s is no longer registered", p.id)
	}
	defer h.s.procs.sync(p)
	return fn(p)
}

// settled closes heard, a channel the process had when it called ProcessReady, once
// readySettle has passed since, heartbeat or not.
func (h *processHandle) settled(heard chan struct{}) {
	h.s.procs.mu.Lock()
	defer h.s.procs.mu.Unlock()
	if p := h.p; p.heard == heard {
		p.hear()
	}
}

// hostedSession returns the session the process hosts, which must be id.
func (h *processHandle) hostedSession(id string) error {
	return h.with(func(p *process) error {
		if id == "" || id != p.gameSessionID {
			return gamelift.NotFound("game session %q is not hosted by this process", id)
		}
		return nil
	})
}

// SDK request frames, by action.
type (
	activateServerProcess struct {
		SdkVersion, SdkLanguage, SdkToolName, SdkToolVersion string
		Port                                                 int
		LogPaths                                             []string
	}
	heartbeatServerProcess struct{ HealthStatus bool }
	gameSessionRequest     struct {
		GameSessionId, PlayerSessionId, PlayerSessionPolicy string
	}
	describePlayerSessions struct {
		GameSessionId, PlayerId, PlayerSessionId, PlayerSessionStatusFilter, NextToken string
		Limit                                                                          int32
	}
	fleetRoleCredentials struct{ RoleArn, RoleSessionName string }
)

func decodeFrame[T any](frame []byte) (T, error) {
	var v T
	if err := json.Unmarshal(frame, &v); err != nil {
		return v, gamelift.InvalidRequest("malformed frame: %v", err)
	}
	return v, nil
}

// Handle implements sdkhost.Process: one request of the Server SDK.
func (h *processHandle) Handle(ctx context.Context, action string, frame []byte) (any, error) {
	switch action {
	case "ActivateServerProcess":
		req, err := decodeFrame[activateServerProcess](frame)
		if err != nil {
			return nil, err
		}
		if req.Port < minPort || req.Port > maxPort {
			return nil, gamelift.InvalidRequest("Port %d is outside %d-%d", req.Port, minPort, maxPort)
		}
		var fleetID, location string
		var port int32
		misconfigured := false
		err = h.with(func(p *process) error {
			if !p.ready {
				h.s.log.Info("server process ready", "process", p.id, "fleet", p.fleetID, "compute", p.computeName, "port", req.Port, "sdk", p.sdk)
				if p.heard == nil {
					heard := make(chan struct{})
					p.heard = heard
					time.AfterFunc(readySettle, func() { h.settled(heard) })
				}
			}
			port = int32(req.Port)
			if cp, ok := p.ports[port]; ok {
				port = cp // a container's port, reached at its pod's connection port
			} else if p.ports != nil {
				misconfigured = true
			}
			p.port, p.logPaths, p.ready, p.wasReady, p.lastSeen = port, req.LogPaths, true, true, h.s.now()
			fleetID, location = p.fleetID, p.location
			return nil
		})
		if err == nil && misconfigured {
			h.s.event(ctx, fleetID, "SERVER_PROCESS_MISCONFIGURED_CONTAINER_PORT", fmt.Sprintf(
				"Process %s on %s called ProcessReady with port %d, which its container group definition does not declare: players cannot reach it",
				h.p.id, h.p.computeName, req.Port))
		}
		if err == nil {
			h.s.processReady(ctx, fleetID, location)
			err = h.s.recordReady(ctx, h.p, port, req.LogPaths)
		}
		return nil, err
	case "HeartbeatServerProcess":
		req, err := decodeFrame[heartbeatServerProcess](frame)
		if err != nil {
			return nil, err
		}
		sick := false
		err = h.with(func(p *process) error {
			p.lastSeen = h.s.now()
			if req.HealthStatus {
				p.unhealthy = 0
				if p.ready {
					p.hear()
				}
				return nil
			}
			p.unhealthy++
			if p.unhealthy == maxUnhealthyReports {
				// As GameLift does, an unhealthy process is asked to end; it hosts nothing
				// new meanwhile, and if it never ends, silence or disconnection removes it.
				p.ready, sick = false, true
				h.s.log.Info("server process unhealthy; asking it to end", "process", p.id, "reports", p.unhealthy)
			}
			return nil
		})
		if sick {
			// After this answer: the event is on record before the process hears it must end.
			key := h.p.key()
			h.s.bg.Go(func() {
				h.s.event(h.s.bg.Context(), key.fleet, eventProcessUnhealthy, fmt.Sprintf(
					"Process %s on %s reported itself unhealthy %d times in a row and was asked to end", key.id, key.compute, maxUnhealthyReports))
				h.s.askProcessToEnd(key)
			})
		}
		return nil, err
	case "TerminateServerProcess":
		var session string
		err := h.with(func(p *process) error {
			if !p.ended {
				h.s.log.Debug("server process ending", "process", p.id, "fleet", p.fleetID, "game_session", p.gameSessionID)
			}
			if !p.ended {
				p.endedAt = h.s.now()
			}
			p.ready, p.ended, session = false, true, p.gameSessionID
			p.gameSessionID, p.activating = "", false
			return nil
		})
		if err == nil {
			h.s.forgetReady(h.p.key())
		}
		if err == nil && session != "" {
			h.s.endSession(ctx, session, "")
		}
		return nil, err
	case "ActivateGameSession":
		req, err := decodeFrame[gameSessionRequest](frame)
		if err != nil {
			return nil, err
		}
		if err := h.hostedSession(req.GameSessionId); err != nil {
			return nil, err
		}
		if err := h.s.activateSession(ctx, req.GameSessionId); err != nil {
			return nil, err
		}
		return nil, h.with(func(p *process) error {
			p.activating = false
			return nil
		})
	case "AcceptPlayerSession", "RemovePlayerSession":
		req, err := decodeFrame[gameSessionRequest](frame)
		if err != nil {
			return nil, err
		}
		if err := h.hostedSession(req.GameSessionId); err != nil {
			return nil, err
		}
		if action == "AcceptPlayerSession" {
			return nil, h.s.changePlayer(ctx, req.GameSessionId, req.PlayerSessionId, []string{PlayerReserved}, PlayerActive)
		}
		return nil, h.s.changePlayer(ctx, req.GameSessionId, req.PlayerSessionId, []string{PlayerActive, PlayerReserved}, PlayerCompleted)
	case "UpdatePlayerSessionCreationPolicy":
		req, err := decodeFrame[gameSessionRequest](frame)
		if err != nil {
			return nil, err
		}
		if err := h.hostedSession(req.GameSessionId); err != nil {
			return nil, err
		}
		if req.PlayerSessionPolicy != policyAcceptAll && req.PlayerSessionPolicy != policyDenyAll {
			return nil, gamelift.InvalidRequest("PlayerSessionPolicy must be ACCEPT_ALL or DENY_ALL")
		}
		_, err = h.s.UpdateGameSession(ctx, &gamelift.UpdateGameSessionInput{
			GameSessionId: &req.GameSessionId, PlayerSessionCreationPolicy: &req.PlayerSessionPolicy,
		})
		return nil, err
	case "DescribePlayerSessions":
		return h.describePlayerSessions(ctx, frame)
	case "GetComputeCertificate":
		return h.computeCertificate(ctx)
	case "GetFleetRoleCredentials":
		req, err := decodeFrame[fleetRoleCredentials](frame)
		if err != nil {
			return nil, err
		}
		return nil, gamelift.InvalidRequest("Hoist issues no AWS credentials for fleet roles (role %q); give the process its own credentials", req.RoleArn)
	case "StartMatchBackfill":
		req, err := decodeFrame[sdkBackfill](frame)
		if err != nil {
			return nil, err
		}
		if err := h.hostedSession(req.GameSessionArn); err != nil {
			return nil, err
		}
		players := make([]gamelift.Player, len(req.Players))
		for i, p := range req.Players {
			players[i] = p.player()
		}
		t, err := h.s.startBackfill(ctx, req.MatchmakingConfigurationArn, req.GameSessionArn, req.TicketId, players)
		if err != nil {
			return nil, err
		}
		return map[string]string{"TicketId": gamelift.Value(t.TicketId)}, nil
	case "StopMatchBackfill":
		req, err := decodeFrame[sdkBackfill](frame)
		if err != nil {
			return nil, err
		}
		if err := h.hostedSession(req.GameSessionArn); err != nil {
			return nil, err
		}
		return nil, h.s.stopBackfill(ctx, req.TicketId, req.GameSessionArn)
	}
	return nil, sdkhost.ErrUnknownAction(action)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *processHandle) describePlayerSessions(ctx context.Context, frame []byte) (any, error) {
	req, err := decodeFrame[describePlayerSessions](frame)
	if err != nil {
		return nil, err
	}
	// As GameLift scopes the SDK's calls to the calling process, a process sees the
	// players of the game session it hosts, and no other.
	var hosted string
	if err := h.with(func(p *process) error { hosted = p.gameSessionID; return nil }); err != nil {
		return nil, err
	}
	if hosted == "" {
		return nil, gamelift.NotFound("process %s hosts no game session", h.p.id)
	}
	if req.GameSessionId != "" && req.GameSessionId != hosted {
		return nil, gamelift.NotFound("game session %q is not hosted by this process", req.GameSessionId)
	}
	if req.GameSessionId == "" && req.PlayerId == "" && req.PlayerSessionId == "" {
		return nil, gamelift.InvalidRequest("Specify a GameSessionId, a PlayerId or a PlayerSessionId")
	}
	found, err := h.s.findPlayers(ctx, &hosted, optional(req.PlayerId), optional(req.PlayerSessionId), optional(req.PlayerSessionStatusFilter))
	if err != nil {
		return nil, err
	}
	var limit *int32
	if req.Limit > 0 {
		limit = &req.Limit
	}
	items, token, err := pageSlice(found, limit, optional(req.NextToken))
	if err != nil {
		return nil, err
	}
	out := struct {
		PlayerSessions []sdkPlayerSession
		NextToken      string
	}{PlayerSessions: []sdkPlayerSession{}, NextToken: gamelift.Value(token)}
	for _, ps := range items {
		out.PlayerSessions = append(out.PlayerSessions, toSDK(ps))
	}
	return out, nil
}

func (h *processHandle) computeCertificate(ctx context.Context) (any, error) {
	var key string
	if err := h.with(func(p *process) error { key = computeKey(p.fleetID, p.computeName); return nil }); err != nil {
		return nil, err
	}
	c, err := h.s.store.Computes().Get(ctx, key)
	if err != nil {
		return nil, store.NotFoundAs(err, "compute of process %s is no longer registered", h.p.id)
	}
	if c.CertificatePath == "" {
		return nil, gamelift.InvalidRequest("compute %s registered no CertificatePath and its fleet generates no certificates", gamelift.Value(c.Model.ComputeName))
	}
	return map[string]string{"CertificatePath": c.CertificatePath, "ComputeName": gamelift.Value(c.Model.ComputeName)}, nil
}

// processUsage counts what runs in a fleet location, from the live registry.
func (s *Service) processUsage(fleetID, location string) Usage {
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	var u Usage
	for _, p := range s.procs.byKey {
		if p.fleetID != fleetID || p.location != location || !p.counted() {
			continue
		}
		u.ActiveServerProcesses++
		if p.gameSessionID != "" {
			u.ActiveGameSessions++
			u.CurrentPlayerSessions += p.players
			u.MaximumPlayerSessions += p.maxSlots
		}
	}
	return u
}

// watchProcesses runs the time-driven rules every interval: processes that went silent
// or stayed away, sessions that never activated, reservations nobody claimed, tokens
// about to expire, sessions past their retention and fleets TERMINATED a while ago.
func (s *Service) watchProcesses(every time.Duration) {
	lastPurge, lastFleetPurge := time.Time{}, time.Time{}
	s.bg.Loop(every, nil, func() {
		ctx := s.bg.Context()
		s.sweepProcesses(ctx)
		s.expireReservations(ctx)
		s.expireActivations(ctx)
		if now := s.now(); now.Sub(lastPurge) > time.Hour {
			s.purgeSessions(ctx)
			s.purgeAuthTokens(ctx)
			s.purgeLogs()
			lastPurge = now
		}
		if now := s.now(); now.Sub(lastFleetPurge) >= fleetPurgeInterval {
			s.purgeFleets(ctx)
			lastFleetPurge = now
		}
	})
}

type refresh struct {
	p    *process
	peer sdkhost.Peer
}

type ending struct{ session, reason string }

// sweepEvent is a fleet event the sweep records once it has let go of the registry.
type sweepEvent struct{ fleet, code, msg string }

func (s *Service) sweepProcesses(ctx context.Context) {
	now := s.now()
	var refreshes []refresh
	var ends []ending
	var timedOut []procKey
	var events []sweepEvent
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		switch {
		case p.peer == nil && now.Sub(p.disconnectedAt) > s.reconnectGrace:
			ends = append(ends, ending{s.forgetProcessLocked(p, "connection lost and not resumed"), ReasonInterrupted})
		case p.peer != nil && now.Sub(p.lastSeen) > s.heartbeatTimeout:
			silent := now.Sub(p.lastSeen).Truncate(time.Second)
			events = append(events, sweepEvent{p.fleetID, eventProcessUnhealthy, fmt.Sprintf(
				"Process %s on %s sent no heartbeat for %s and was removed", p.id, p.computeName, silent)})
			ends = append(ends, ending{s.forgetProcessLocked(p, "no heartbeat for "+silent.String()), ReasonInterrupted})
		case p.activating && now.After(p.activationExpires):
			// GameLift ends a session that does not activate in time, and the process.
			s.log.Info("game session activation timed out", "process", p.id, "game_session", p.gameSessionID)
			events = append(events, sweepEvent{p.fleetID, eventActivationTimeout, fmt.Sprintf(
				"Game session %s was not activated by process %s on %s within the fleet's GameSessionActivationTimeoutSeconds; the process was asked to end",
				p.gameSessionID, p.id, p.computeName)})
			ends = append(ends, ending{p.gameSessionID, ""})
			p.gameSessionID, p.activating, p.ready = "", false, false
			s.procs.sync(p)
			timedOut = append(timedOut, p.key())
		case p.peer != nil && !p.wasReady && !p.ended && !p.readyOverdue && now.Sub(p.connectedAt) > processReadyTimeout:
			// As GameLift does, a process that never gets ready is asked to end.
			p.readyOverdue = true
			events = append(events, sweepEvent{p.fleetID, eventProcessReadyTimeout, fmt.Sprintf(
				"Process %s on %s did not call ProcessReady within %s of connecting and was asked to end", p.id, p.computeName, processReadyTimeout)})
			timedOut = append(timedOut, p.key())
		case p.peer != nil && p.ended && !p.exitOverdue && now.Sub(p.endedAt) > processExitTimeout:
			// Its connection stays open: the process still runs. Only its agent could stop
			// it, and agents stop only what they asked to end.
			p.exitOverdue = true
			events = append(events, sweepEvent{p.fleetID, eventProcessExitTimeout, fmt.Sprintf(
				"Process %s on %s called ProcessEnding but had not exited %s later", p.id, p.computeName, processExitTimeout)})
		case p.peer != nil && p.tokenExpires.Sub(now) < s.tokenTTL/5:
			refreshes = append(refreshes, refresh{p, p.peer})
		}
	}
	s.procs.mu.Unlock()
	for _, e := range events {
		s.event(ctx, e.fleet, e.code, e.msg)
	}
	for _, e := range ends {
		if e.session != "" {
			s.endSessionOf(ctx, e.session, e.reason, true)
		}
	}
	for _, key := range timedOut {
		s.askProcessToEnd(key)
	}
	for _, r := range refreshes {
		s.refreshConnection(ctx, r)
	}
}

// refreshConnection gives a process a new token before its own expires: the SDK then
// reconnects with it (RefreshConnection push).
func (s *Service) refreshConnection(ctx context.Context, r refresh) {
	tok, err := s.issueAuthToken(ctx, r.p.fleetID, r.p.computeName)
	if err != nil {
		s.log.Error("refresh process token", "process", r.p.id, "error", err)
		return
	}
	err = r.peer.Push(ctx, "RefreshConnection", map[string]string{"RefreshConnectionEndpoint": s.sdkEndpoint, "AuthToken": tok.Token})
	if err != nil {
		s.log.Warn("push RefreshConnection", "process", r.p.id, "error", err)
		return
	}
	s.procs.mu.Lock()
	r.p.tokenExpires = tok.Expires
	s.procs.mu.Unlock()
}

// restoreSessions rebuilds what memory holds about stored sessions after a restart: the
// player index, the search index of ACTIVE sessions, and for each live session a disconnected placeholder of its process, so
// the process takes its session back when it reconnects, or the session ends
// (INTERRUPTED) when the reconnect grace passes.
func (s *Service) restoreSessions(ctx context.Context) error {
	page, err := s.gameSessions.List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list game sessions: %w", err)
	}
	var live map[string]bool
	if s.replicated() {
		if live, err = s.liveReplicas(ctx); err != nil {
			return err
		}
	}
	for _, gs := range page.Items {
		s.indexPlayers(gs)
		s.searchIndex.Put(gs)
		if sessionEnded(gs) {
			continue
		}
		if s.replicated() && gs.Replica != s.replicas.id {
			// Another live replica's process: not this one's to watch. A dead one's: this
			// replica takes it over, unless another does first.
			if live[gs.Replica] {
				continue
			}
			var ok bool
			if gs, ok, err = s.claimSession(ctx, gamelift.Value(gs.Model.GameSessionId), gs.Replica); err != nil {
				return err
			} else if !ok {
				continue
			}
		}
		if err := s.adoptSession(ctx, gs); err != nil {
			return err
		}
	}
	return nil
}

func sessionEnded(gs store.GameSession) bool {
	st := gamelift.Value(gs.Model.Status)
	return st == SessionTerminated || st == SessionError
}

// adoptSession puts the process of a session this server watches in its registry,
// disconnected: the process has the reconnect grace to come back to this server before
// its session is INTERRUPTED. A process the registry has already is left as it is.
func (s *Service) adoptSession(ctx context.Context, gs store.GameSession) error {
	fleetID := gamelift.Value(gs.Model.FleetId)
	timeout := defaultActivationTimeout * time.Second
	if f, err := s.fleets.Get(ctx, fleetID); err == nil {
		timeout = time.Duration(gamelift.Value(f.Runtime.GameSessionActivationTimeoutSeconds)) * time.Second
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read fleet %s: %w", fleetID, err)
	}
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	if _, ok := s.procs.byKey[keyOf(gs)]; ok {
		return nil
	}
	s.procs.put(&process{
		id: gs.ProcessID, fleetID: fleetID, computeName: gs.ComputeName, location: gamelift.Value(gs.Model.Location),
		ipAddress: gamelift.Value(gs.Model.IpAddress), dnsName: gamelift.Value(gs.Model.DnsName),
		port: gamelift.Value(gs.Model.Port), logPaths: gs.LogPaths, ready: true, wasReady: true, disconnectedAt: s.now(),
		gameSessionID: gamelift.Value(gs.Model.GameSessionId), activating: gamelift.Value(gs.Model.Status) == SessionActivating,
		terminating:       gamelift.Value(gs.Model.Status) == SessionTerminating,
		activationExpires: gs.Model.CreationTime.Add(timeout),
		players:           gamelift.Value(gs.Model.CurrentPlayerSessionCount), maxSlots: gamelift.Value(gs.Model.MaximumPlayerSessionCount),
		reserved: reservedPlayers(gs.Players),
	})
	return nil
}

var _ sdkhost.Backend = (*Service)(nil)

// recordReady keeps in the store that a process is ready, so a server it connects to
// later (after a restart, or another replica) knows it can host a session.
func (s *Service) recordReady(ctx context.Context, p *process, port int32, logPaths []string) error {
	rec := store.Process{FleetID: p.fleetID, ComputeName: p.computeName, ProcessID: p.id, Port: port, LogPaths: logPaths}
	key := store.ProcessKey(p.fleetID, p.computeName, p.id)
	_, err := s.store.Processes().Update(ctx, key, func(r *store.Process) error {
		*r = rec
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		if err = s.store.Processes().Create(ctx, key, p.fleetID, rec); errors.Is(err, store.ErrExists) {
			err = nil // made by a call that raced with this one
		}
	}
	if err != nil {
		return fmt.Errorf("record ready process: %w", err)
	}
	return nil
}

// forgetReady drops a process's record, in the background: the process is gone.
func (s *Service) forgetReady(k procKey) {
	s.bg.Go(func() {
		err := s.store.Processes().Delete(s.bg.Context(), store.ProcessKey(k.fleet, k.compute, k.id))
		if err != nil && !errors.Is(err, store.ErrNotFound) && s.bg.Context().Err() == nil {
			s.log.Warn("forget ready process", "process", k.id, "error", err)
		}
	})
}

// readyBefore returns the record of a process that called ProcessReady with another
// server (or before a restart), or nil. A process this server knows needs none.
func (s *Service) readyBefore(ctx context.Context, k procKey) (*store.Process, error) {
	s.procs.mu.Lock()
	_, known := s.procs.byKey[k]
	s.procs.mu.Unlock()
	if known {
		return nil, nil
	}
	rec, err := s.store.Processes().Get(ctx, store.ProcessKey(k.fleet, k.compute, k.id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ready process: %w", err)
	}
	return &rec, nil
}

// forgetProcessesOf drops the ready records of a fleet's processes on the computes gone
// reports: a deregistered compute's processes cannot connect again, and records of those
// that ended while no server watched them would otherwise stay for good.
func (s *Service) forgetProcessesOf(ctx context.Context, fleetID string, gone func(compute string) bool) error {
	page, err := s.store.Processes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return fmt.Errorf("list ready processes: %w", err)
	}
	for _, p := range page.Items {
		if !gone(p.ComputeName) {
			continue
		}
		if err := s.store.Processes().Delete(ctx, store.ProcessKey(p.FleetID, p.ComputeName, p.ProcessID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("forget ready process: %w", err)
		}
	}
	return nil
}
