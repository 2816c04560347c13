package control

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// protectionFull keeps a game session's process from being ended by a scale-in.
const protectionFull = "FullProtection"

// AgentCall is what a host agent asks of the service beyond GameLift's API: to record a
// fleet event, to ask one of its processes to end, or to say that one exited. It proves
// who it is with its compute's auth token.
type AgentCall struct {
	Action      string // ReportEvent, TerminateProcess, ProcessExited, ConnectedProcesses or ProcessLogPaths
	FleetId     string
	ComputeName string
	AuthToken   string
	ProcessId   string   // TerminateProcess, ProcessExited, ProcessLogPaths
	ProcessIds  []string // ConnectedProcesses
	// Force ends the process even if it hosts a protected game session (the host is going
	// away); without it, a process whose session has FullProtection is kept: Conflict.
	Force bool // TerminateProcess
	// EventCode is the fleet event to record: any of agentEventCodes for ReportEvent; for
	// ProcessExited, one of exitEventCodes, or none for a process that ended as asked or
	// with success.
	EventCode string // ReportEvent, ProcessExited
	Message   string // ReportEvent, ProcessExited
}

// Event codes an agent may report, GameLift's names for what happens to processes, to a
// build's download and install script, and to log uploads on a host.
var agentEventCodes = []string{
	eventProcessCrashed, eventProcessBadPath, eventProcessForceTerminated, "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT",
	"FLEET_BINARY_DOWNLOAD_FAILED", "FLEET_CREATION_EXTRACTING_BUILD",
	"FLEET_CREATION_RUNNING_INSTALLER", "FLEET_CREATION_COMPLETED_INSTALLER", eventInstallerFailed,
	"COMPUTE_LOG_UPLOAD_FAILED",
}

// maxAgentProcesses bounds the processes one ConnectedProcesses call asks about: a host
// runs at most 50 at once in GameLift.
const maxAgentProcesses = 1000

// Event codes an agent may give with ProcessExited: how the process ended, when that is
// a fleet event.
var exitEventCodes = []string{eventProcessCrashed, eventProcessForceTerminated}

// HandleAgentCall runs one agent request; the result (or nil) is its answer.
func (s *Service) HandleAgentCall(ctx context.Context, c AgentCall) (any, error) {
	if _, err := s.checkAuthToken(ctx, c.AuthToken, c.FleetId, c.ComputeName); err != nil {
		return nil, err
	}
	switch c.Action {
	case "ReportEvent":
		if !slices.Contains(agentEventCodes, c.EventCode) {
			return nil, invalidf("EventCode must be one of %v", agentEventCodes)
		}
		if !s.takeEventBudget(c.FleetId, c.ComputeName) {
			return nil, gamelift.Throttling("compute %s reports more than %d fleet events a minute", c.ComputeName, int(time.Minute/eventRefill))
		}
		s.event(ctx, c.FleetId, c.EventCode, truncateMessage(c.Message))
		switch c.EventCode {
		case eventProcessCrashed, eventProcessBadPath, eventInstallerFailed:
			s.launchFailed(ctx, c.FleetId, c.ComputeName, c.EventCode, c.Message)
		}
		return nil, nil
	case "ProcessExited":
		// The agent saw the process exit: it is gone, whatever its connection says. The
		// key holds the caller's own fleet and compute, so an agent ends only its own.
		if c.ProcessId == "" {
			return nil, invalidf("ProcessId is required")
		}
		if c.EventCode != "" && !slices.Contains(exitEventCodes, c.EventCode) {
			return nil, invalidf("EventCode must be empty or one of %v", exitEventCodes)
		}
		s.processExited(ctx, procKey{c.FleetId, c.ComputeName, c.ProcessId})
		if c.EventCode == "" {
			return nil, nil
		}
		if !s.takeEventBudget(c.FleetId, c.ComputeName) {
			return nil, gamelift.Throttling("compute %s reports more than %d fleet events a minute", c.ComputeName, int(time.Minute/eventRefill))
		}
		s.event(ctx, c.FleetId, c.EventCode, truncateMessage(c.Message))
		if c.EventCode == eventProcessCrashed {
			s.launchFailed(ctx, c.FleetId, c.ComputeName, c.EventCode, c.Message)
		}
		return nil, nil
	case "ConnectedProcesses":
		if len(c.ProcessIds) > maxAgentProcesses {
			return nil, invalidf("ProcessIds names more than %d processes", maxAgentProcesses)
		}
		return map[string][]string{"ProcessIds": s.connectedProcesses(ctx, c.FleetId, c.ComputeName, c.ProcessIds)}, nil
	case "ProcessLogPaths":
		// The files the process listed in LogPaths, for the agent to upload with its output.
		gs, err := s.lastSessionOf(ctx, c.FleetId, c.ComputeName, c.ProcessId)
		if err != nil {
			return nil, err
		}
		return map[string][]string{"LogPaths": gs.LogPaths}, nil
	case "TerminateProcess":
		key := procKey{c.FleetId, c.ComputeName, c.ProcessId}
		s.procs.mu.Lock()
		p, mine := s.procs.byKey[key]
		var session string
		if mine {
			session = p.gameSessionID
		}
		s.procs.mu.Unlock()
		if !mine && !s.replicated() {
			return nil, notFoundf("process %s is not connected from compute %s", c.ProcessId, c.ComputeName)
		}
		if session != "" && !c.Force {
			gs, err := s.gameSessions.Get(ctx, session)
			if err == nil && gs.ProtectionPolicy == protectionFull {
				return nil, gamelift.Conflict("process %s hosts game session %s, which has FullProtection", c.ProcessId, session)
			}
		}
		if !mine { // connected to another replica, if to any
			if gs, err := s.lastSessionOf(ctx, c.FleetId, c.ComputeName, c.ProcessId); err == nil && !c.Force &&
				!sessionEnded(gs) && gs.ProtectionPolicy == protectionFull {
				return nil, gamelift.Conflict("process %s hosts game session %s, which has FullProtection", c.ProcessId, gamelift.Value(gs.Model.GameSessionId))
			}
			if !s.endRemoteProcess(ctx, key, false) {
				return nil, notFoundf("process %s is not connected from compute %s", c.ProcessId, c.ComputeName)
			}
			return nil, nil
		}
		s.askProcessToEnd(key)
		return nil, nil
	}
	return nil, invalidf("unknown agent action %q", c.Action)
}

// What a host agent may report: GameLift's event messages are short, and a compute's
// agent reports a few events a minute (a token bucket: a burst, then one per refill).
const (
	maxEventMessage = 1024
	eventBurst      = 20
	eventRefill     = 6 * time.Second // 10 a minute
)

type eventBudget struct {
	tokens float64
	at     time.Time
}

// takeEventBudget spends one of a compute's event tokens, if it has one left.
func (s *Service) takeEventBudget(fleetID, compute string) bool {
	now := s.now()
	s.eventsMu.Lock()
	defer s.eventsMu.Unlock()
	key := computeKey(fleetID, compute)
	b, ok := s.eventBudgets[key]
	if !ok {
		b = &eventBudget{tokens: eventBurst, at: now}
		s.eventBudgets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(eventBurst, b.tokens+float64(now.Sub(b.at))/float64(eventRefill))
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forgetEventBudgets drops the budgets of a fleet's computes (one compute, or all for "").
func (s *Service) forgetEventBudgets(fleetID, compute string) {
	s.eventsMu.Lock()
	defer s.eventsMu.Unlock()
	if compute != "" {
		delete(s.eventBudgets, computeKey(fleetID, compute))
		return
	}
	for key := range s.eventBudgets {
		if strings.HasPrefix(key, fleetID+"/") {
			delete(s.eventBudgets, key)
		}
	}
}

// truncateMessage cuts an event message to maxEventMessage bytes, on a character boundary.
func truncateMessage(msg string) string {
	const mark = " [truncated]"
	if len(msg) <= maxEventMessage {
		return msg
	}
	cut := maxEventMessage - len(mark)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + mark
}
