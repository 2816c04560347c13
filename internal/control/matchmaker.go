package control

import (
	"context"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Matchmaker is what the core tells FlexMatch matchmaking (internal/matchmaking), which is
// built after the core and set with SetMatchmaker: a game server's backfill requests, and
// the changes to sessions that matchmaking's tickets follow. PlayerLeft is called on the
// goroutine that made the change, so it must not block. (Game session placements,
// internal/queues, tell it when a match's placement ends.)
type Matchmaker interface {
	// StartBackfill answers a game server's StartMatchBackfill (Server SDK) for the session
	// it hosts: players are the session's players now, with their teams. ticketID may be
	// "" (one is made).
	StartBackfill(ctx context.Context, config, sessionID, ticketID string, players []gamelift.Player) (*gamelift.MatchmakingTicket, error)
	// StopBackfill answers a game server's StopMatchBackfill: it cancels the session's
	// backfill ticket; NotFoundException if the session has no such ticket.
	StopBackfill(ctx context.Context, ticketID, sessionID string) error
	// PlayerLeft is told that a player session of a session with MatchmakerData ended
	// (COMPLETED or TIMEDOUT); gs is the session after the change.
	PlayerLeft(gs store.GameSession)
}

// SetMatchmaker sets who is told what matchmaking follows. What happened before it was set
// (a player left a matched session) is told then; until it is set, a game server's
// backfill requests are refused.
func (s *Service) SetMatchmaker(m Matchmaker) {
	s.matchHooks.mu.Lock()
	defer s.matchHooks.mu.Unlock()
	s.matchHooks.m = m
	for _, gs := range s.matchHooks.left {
		m.PlayerLeft(gs)
	}
	s.matchHooks.left = nil
}

// matchHooks holds the Matchmaker, and what it is to be told once it is set.
type matchHooks struct {
	mu   sync.Mutex
	m    Matchmaker
	left []store.GameSession
}

func (s *Service) matchmaking() Matchmaker {
	s.matchHooks.mu.Lock()
	defer s.matchHooks.mu.Unlock()
	return s.matchHooks.m
}

func errNoMatchmaking() error {
	return gamelift.InvalidRequest("This Hoist server runs no matchmaking")
}

// startBackfill hands a game server's StartMatchBackfill to matchmaking.
func (s *Service) startBackfill(ctx context.Context, config, sessionID, ticketID string, players []gamelift.Player) (*gamelift.MatchmakingTicket, error) {
	m := s.matchmaking()
	if m == nil {
		return nil, errNoMatchmaking()
	}
	return m.StartBackfill(ctx, config, sessionID, ticketID, players)
}

// stopBackfill hands a game server's StopMatchBackfill to matchmaking.
func (s *Service) stopBackfill(ctx context.Context, ticketID, sessionID string) error {
	m := s.matchmaking()
	if m == nil {
		return errNoMatchmaking()
	}
	return m.StopBackfill(ctx, ticketID, sessionID)
}

// playerLeft tells matchmaking that a player left a session it may backfill.
func (s *Service) playerLeft(gs store.GameSession) {
	if gs.Model.MatchmakerData == nil {
		return
	}
	s.matchHooks.mu.Lock()
	defer s.matchHooks.mu.Unlock()
	if s.matchHooks.m == nil {
		s.matchHooks.left = append(s.matchHooks.left, gs)
		return
	}
	s.matchHooks.m.PlayerLeft(gs)
}

// sdkBackfill is the Server SDK's StartMatchBackfill and StopMatchBackfill frame.
type sdkBackfill struct {
	GameSessionArn, MatchmakingConfigurationArn, TicketId string
	Players                                               []sdkPlayer
}

// sdkPlayer is a player as the Server SDK sends it: attribute values carry AttrType.
type sdkPlayer struct {
	PlayerId         string
	Team             string
	PlayerAttributes map[string]struct {
		AttrType string
		N        *float64
		S        *string
		SL       []string
		SDM      map[string]float64
	}
	LatencyInMs map[string]int32
}

func (p sdkPlayer) player() gamelift.Player {
	out := gamelift.Player{PlayerId: gamelift.String(p.PlayerId), Team: nonEmpty(p.Team), LatencyInMs: p.LatencyInMs,
		PlayerAttributes: map[string]gamelift.AttributeValue{}}
	for name, v := range p.PlayerAttributes {
		switch v.AttrType {
		case "STRING":
			out.PlayerAttributes[name] = gamelift.AttributeValue{S: v.S}
		case "DOUBLE":
			out.PlayerAttributes[name] = gamelift.AttributeValue{N: v.N}
		case "STRING_LIST":
			out.PlayerAttributes[name] = gamelift.AttributeValue{SL: v.SL}
		case "STRING_DOUBLE_MAP":
			out.PlayerAttributes[name] = gamelift.AttributeValue{SDM: v.SDM}
		default:
			out.PlayerAttributes[name] = gamelift.AttributeValue{N: v.N, S: v.S, SL: v.SL, SDM: v.SDM}
		}
	}
	return out
}
