package control

import (
	"context"
	"slices"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// protectionFull keeps a game session's process from being ended by a scale-in.
const protectionFull = "FullProtection"

// AgentCall is what a host agent asks of the service beyond GameLift's API: to record a
// fleet event, or to ask one of its processes to end. It proves who it is with its
// compute's auth token.
type AgentCall struct {
	Action      string // ReportEvent, TerminateProcess or ProcessLogPaths
	FleetId     string
	ComputeName string
	AuthToken   string
	ProcessId   string // TerminateProcess
	// Force ends the process even if it hosts a protected game session (the host is going
	// away); without it, a process whose session has FullProtection is kept: Conflict.
	Force     bool   // TerminateProcess
	EventCode string // ReportEvent
	Message   string // ReportEvent
}

// Event codes an agent may report, GameLift's names for what happens to processes.
var agentEventCodes = []string{"SERVER_PROCESS_CRASHED", "SERVER_PROCESS_INVALID_PATH", "SERVER_PROCESS_FORCE_TERMINATED"}

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
		s.event(ctx, c.FleetId, c.EventCode, c.Message)
		return nil, nil
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
		if !mine {
			return nil, notFoundf("process %s is not connected from compute %s", c.ProcessId, c.ComputeName)
		}
		if session != "" && !c.Force {
			gs, err := s.store.GameSessions().Get(ctx, session)
			if err == nil && gs.ProtectionPolicy == protectionFull {
				return nil, gamelift.Conflict("process %s hosts game session %s, which has FullProtection", c.ProcessId, session)
			}
		}
		s.askProcessToEnd(key)
		return nil, nil
	}
	return nil, invalidf("unknown agent action %q", c.Action)
}
