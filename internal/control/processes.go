package control

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/sdkhost"
)

// Process timing, from the Server SDK's own: it heartbeats every 60 s with up to 10 s of
// jitter, and retries a lost connection for about 30 s.
const (
	defaultHeartbeatTimeout = 90 * time.Second
	defaultReconnectGrace   = 30 * time.Second
	defaultSweepInterval    = 5 * time.Second
	maxUnhealthyReports     = 3
	minPort, maxPort        = 1, 60000
)

// process is a game server process connected (or recently connected) to the SDK endpoint.
// Its life is in memory: a process outlives no server restart, as its socket does not.
type process struct {
	id, fleetID, computeName, location string
	ipAddress, dnsName                 string
	sdk                                string
	port                               int32
	logPaths                           []string

	ready          bool // ActivateServerProcess answered, ProcessEnding not called
	unhealthy      int  // consecutive unhealthy heartbeats
	lastSeen       time.Time
	peer           sdkhost.Peer // nil while disconnected
	disconnectedAt time.Time
	tokenExpires   time.Time
	gameSessionID  string
}

// active tells whether the process can host a game session now.
func (p *process) active() bool { return p.ready && p.peer != nil && p.unhealthy == 0 }

// processes is the registry of connected processes.
type processes struct {
	mu   sync.Mutex
	byID map[string]*process
}

// Authenticate implements sdkhost.Backend: the token must be live and issued for the
// compute and fleet the process names.
func (s *Service) Authenticate(ctx context.Context, h sdkhost.Hello) error {
	if h.FleetID == "" || h.ComputeName == "" {
		return gamelift.Unauthorized("FleetId and ComputeId are required")
	}
	_, err := s.checkAuthToken(ctx, h.AuthToken, h.FleetID, h.ComputeName)
	return err
}

// Attach implements sdkhost.Backend. A process ID already known resumes that process on
// the new connection.
func (s *Service) Attach(ctx context.Context, h sdkhost.Hello, peer sdkhost.Peer) (sdkhost.Process, error) {
	tok, err := s.checkAuthToken(ctx, h.AuthToken, h.FleetID, h.ComputeName)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Computes().Get(ctx, computeKey(h.FleetID, h.ComputeName))
	if err != nil {
		return nil, notFound(err, "Compute %s not found in fleet %s", h.ComputeName, h.FleetID)
	}
	now := s.now()
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	p, ok := s.procs.byID[h.ProcessID]
	switch {
	case ok && (p.fleetID != h.FleetID || p.computeName != h.ComputeName):
		return nil, gamelift.Conflict("process ID %s is in use on another compute", h.ProcessID)
	case ok:
		if p.peer != nil {
			p.peer.Close("replaced by a new connection of the same process")
		}
	default:
		p = &process{id: h.ProcessID, fleetID: h.FleetID, computeName: h.ComputeName}
		s.procs.byID[h.ProcessID] = p
	}
	p.location = gamelift.Value(c.Model.Location)
	p.ipAddress, p.dnsName = gamelift.Value(c.Model.IpAddress), gamelift.Value(c.Model.DnsName)
	p.sdk = h.SDKLanguage + " " + h.SDKVersion
	p.peer, p.lastSeen, p.tokenExpires = peer, now, tok.Expires
	return &processHandle{s: s, id: h.ProcessID, peer: peer}, nil
}

// processHandle is the sdkhost.Process of one connection.
type processHandle struct {
	s    *Service
	id   string
	peer sdkhost.Peer
}

// Detach implements sdkhost.Process: the process stays known for a grace period, so a
// reconnect resumes it, but hosts nothing new meanwhile.
func (h *processHandle) Detach(ctx context.Context) {
	h.s.procs.mu.Lock()
	defer h.s.procs.mu.Unlock()
	if p, ok := h.s.procs.byID[h.id]; ok && p.peer == h.peer {
		p.peer, p.disconnectedAt = nil, h.s.now()
	}
}

// with runs fn on the process under the registry's lock.
func (h *processHandle) with(fn func(p *process) (any, error)) (any, error) {
	h.s.procs.mu.Lock()
	defer h.s.procs.mu.Unlock()
	p, ok := h.s.procs.byID[h.id]
	if !ok || p.peer != h.peer {
		return nil, gamelift.NotFound("process %s is no longer registered", h.id)
	}
	return fn(p)
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
		Limit                                                                          int
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
		return h.with(func(p *process) (any, error) {
			p.port, p.logPaths, p.ready, p.lastSeen = int32(req.Port), req.LogPaths, true, h.s.now()
			return nil, nil
		})
	case "HeartbeatServerProcess":
		req, err := decodeFrame[heartbeatServerProcess](frame)
		if err != nil {
			return nil, err
		}
		return h.with(func(p *process) (any, error) {
			p.lastSeen = h.s.now()
			if req.HealthStatus {
				p.unhealthy = 0
				return nil, nil
			}
			p.unhealthy++
			if p.unhealthy == maxUnhealthyReports {
				// As GameLift does, an unhealthy process is asked to end; it hosts nothing
				// new meanwhile, and if it never ends, silence or disconnection removes it.
				p.ready = false
				h.s.log.Info("server process unhealthy; asking it to end", "process", p.id, "reports", p.unhealthy)
				go h.s.askToEnd(p.peer)
			}
			return nil, nil
		})
	case "TerminateServerProcess":
		return h.with(func(p *process) (any, error) {
			p.ready = false
			return nil, nil
		})
	case "ActivateGameSession", "AcceptPlayerSession", "RemovePlayerSession", "UpdatePlayerSessionCreationPolicy":
		req, err := decodeFrame[gameSessionRequest](frame)
		if err != nil {
			return nil, err
		}
		return h.with(func(p *process) (any, error) {
			if req.GameSessionId == "" || req.GameSessionId != p.gameSessionID {
				return nil, gamelift.NotFound("game session %q is not hosted by this process", req.GameSessionId)
			}
			return nil, gamelift.InvalidRequest("%s is not available yet", action)
		})
	case "DescribePlayerSessions":
		req, err := decodeFrame[describePlayerSessions](frame)
		if err != nil {
			return nil, err
		}
		if req.GameSessionId == "" && req.PlayerId == "" && req.PlayerSessionId == "" {
			return nil, gamelift.InvalidRequest("DescribePlayerSessions needs a GameSessionId, PlayerId or PlayerSessionId")
		}
		return map[string]any{"PlayerSessions": []any{}, "NextToken": ""}, nil
	case "GetComputeCertificate":
		return h.computeCertificate(ctx)
	case "GetFleetRoleCredentials":
		req, err := decodeFrame[fleetRoleCredentials](frame)
		if err != nil {
			return nil, err
		}
		return nil, gamelift.InvalidRequest("Hoist issues no AWS credentials for fleet roles (role %q); give the process its own credentials", req.RoleArn)
	case "StartMatchBackfill", "StopMatchBackfill":
		return nil, gamelift.InvalidRequest("%s: Hoist does not run FlexMatch", action)
	}
	return nil, sdkhost.ErrUnknownAction(action)
}

func (h *processHandle) computeCertificate(ctx context.Context) (any, error) {
	res, err := h.with(func(p *process) (any, error) { return computeKey(p.fleetID, p.computeName), nil })
	if err != nil {
		return nil, err
	}
	c, err := h.s.store.Computes().Get(ctx, res.(string))
	if err != nil {
		return nil, notFound(err, "compute of process %s is no longer registered", h.id)
	}
	if c.CertificatePath == "" {
		return nil, gamelift.InvalidRequest("compute %s registered no CertificatePath and its fleet generates no certificates", gamelift.Value(c.Model.ComputeName))
	}
	return map[string]string{"CertificatePath": c.CertificatePath, "ComputeName": gamelift.Value(c.Model.ComputeName)}, nil
}

// askToEnd pushes TerminateProcess: the process should end its session and call
// ProcessEnding now.
func (s *Service) askToEnd(peer sdkhost.Peer) {
	err := peer.Push(s.ctx, "TerminateProcess", map[string]int64{"TerminationTime": s.now().UnixMilli()})
	if err != nil {
		s.log.Warn("push TerminateProcess", "error", err)
	}
}

// endProcessLocked forgets a process and closes its connection. The caller holds procs.mu.
func (s *Service) endProcessLocked(_ context.Context, p *process, reason string) {
	s.log.Info("server process removed", "process", p.id, "fleet", p.fleetID, "reason", reason)
	delete(s.procs.byID, p.id)
	if p.peer != nil {
		p.peer.Close(reason)
	}
}

// processUsage counts what runs in a fleet location, from the live registry.
func (s *Service) processUsage(fleetID, location string) Usage {
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	var u Usage
	for _, p := range s.procs.byID {
		if p.fleetID != fleetID || p.location != location || !p.active() {
			continue
		}
		u.ActiveServerProcesses++
		if p.gameSessionID != "" {
			u.ActiveGameSessions++
		}
	}
	return u
}

// watchProcesses removes processes that went silent or stayed away, and refreshes the
// auth token of connected ones before it expires.
func (s *Service) watchProcesses(every time.Duration) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				s.sweepProcesses(s.ctx)
			}
		}
	}()
}

type refresh struct {
	p    *process
	peer sdkhost.Peer
}

func (s *Service) sweepProcesses(ctx context.Context) {
	now := s.now()
	var refreshes []refresh
	s.procs.mu.Lock()
	for _, p := range s.procs.byID {
		switch {
		case p.peer == nil && now.Sub(p.disconnectedAt) > s.reconnectGrace:
			s.endProcessLocked(ctx, p, "connection lost and not resumed")
		case p.peer != nil && now.Sub(p.lastSeen) > s.heartbeatTimeout:
			s.endProcessLocked(ctx, p, "no heartbeat for "+now.Sub(p.lastSeen).Truncate(time.Second).String())
		case p.peer != nil && p.tokenExpires.Sub(now) < s.tokenTTL/5:
			refreshes = append(refreshes, refresh{p, p.peer})
		}
	}
	s.procs.mu.Unlock()
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

var _ sdkhost.Backend = (*Service)(nil)
