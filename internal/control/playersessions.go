package control

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Player session statuses, and how long a reservation waits for its player.
const (
	PlayerReserved  = "RESERVED"
	PlayerActive    = "ACTIVE"
	PlayerCompleted = "COMPLETED"
	PlayerTimedOut  = "TIMEDOUT"

	reservationTimeout = 60 * time.Second
)

var playerStatuses = []string{PlayerReserved, PlayerActive, PlayerCompleted, PlayerTimedOut}

// playerIndex finds player sessions by ID and tracks reservations waiting for their
// player. It is derived from the stored sessions and rebuilt at start.
type playerIndex struct {
	sessionOf map[string]string    // player session ID -> game session ID
	reserved  map[string]time.Time // player session ID -> when reserved
}

func (s *Service) indexPlayers(gs store.GameSession) {
	s.playersMu.Lock()
	defer s.playersMu.Unlock()
	id := gamelift.Value(gs.Model.GameSessionId)
	for _, ps := range gs.Players {
		psID := gamelift.Value(ps.PlayerSessionId)
		s.players.sessionOf[psID] = id
		if gamelift.Value(ps.Status) == PlayerReserved {
			s.players.reserved[psID] = ps.CreationTime.Time
		} else {
			delete(s.players.reserved, psID)
		}
	}
}

// forgetReservations drops a session's players from the reservation watch.
func (s *Service) forgetReservations(gs store.GameSession) {
	s.playersMu.Lock()
	defer s.playersMu.Unlock()
	for _, ps := range gs.Players {
		delete(s.players.reserved, gamelift.Value(ps.PlayerSessionId))
	}
}

// forgetSessionIndex drops a purged session's players from the index.
func (s *Service) forgetSessionIndex(gs store.GameSession) {
	s.playersMu.Lock()
	defer s.playersMu.Unlock()
	for _, ps := range gs.Players {
		delete(s.players.sessionOf, gamelift.Value(ps.PlayerSessionId))
		delete(s.players.reserved, gamelift.Value(ps.PlayerSessionId))
	}
}

func playerCount(gs *store.GameSession) int32 {
	n := int32(0)
	for _, ps := range gs.Players {
		if st := gamelift.Value(ps.Status); st == PlayerReserved || st == PlayerActive {
			n++
		}
	}
	return n
}

type newPlayer struct{ id, data string }

// reservePlayers adds player sessions to an ACTIVE session with room for all of them.
func (s *Service) reservePlayers(ctx context.Context, sessionID string, players []newPlayer) ([]gamelift.PlayerSession, error) {
	now := gamelift.At(s.now())
	var made []gamelift.PlayerSession
	gs, err := s.gameSessions.Update(ctx, sessionID, func(gs *store.GameSession) error {
		made = nil
		m := &gs.Model
		if st := gamelift.Value(m.Status); st != SessionActive {
			return gamelift.InvalidGameSessionStatus("Game session %s is %s; players can join ACTIVE game sessions only", sessionID, st)
		}
		if gamelift.Value(m.PlayerSessionCreationPolicy) == policyDenyAll {
			return gamelift.GameSessionFull("Game session %s does not accept new players (DENY_ALL)", sessionID)
		}
		current := playerCount(gs)
		if current+int32(len(players)) > gamelift.Value(m.MaximumPlayerSessionCount) {
			return gamelift.GameSessionFull("Game session %s has %d of %d player slots taken; %d more do not fit",
				sessionID, current, gamelift.Value(m.MaximumPlayerSessionCount), len(players))
		}
		for _, p := range players {
			taken := slices.ContainsFunc(gs.Players, func(ps gamelift.PlayerSession) bool {
				st := gamelift.Value(ps.Status)
				return gamelift.Value(ps.PlayerId) == p.id && (st == PlayerReserved || st == PlayerActive)
			})
			if taken {
				return gamelift.InvalidRequest("Player %s already has a player session in game session %s", p.id, sessionID)
			}
			ps := gamelift.PlayerSession{
				PlayerSessionId: gamelift.String("psess-" + uuid.NewString()), PlayerId: gamelift.String(p.id),
				GameSessionId: m.GameSessionId, FleetId: m.FleetId, FleetArn: m.FleetArn, CreationTime: now,
				Status: gamelift.String(PlayerReserved), IpAddress: m.IpAddress, DnsName: m.DnsName, Port: m.Port,
				PlayerData: nonEmpty(p.data),
			}
			made = append(made, ps)
			gs.Players = append(gs.Players, ps)
		}
		m.CurrentPlayerSessionCount = gamelift.Int32(playerCount(gs))
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Game session %s not found", sessionID)
	}
	s.indexPlayers(gs)
	s.updateProcessLimits(gs)
	return made, nil
}

// CreatePlayerSession reserves a slot in a game session for one player.
func (s *Service) CreatePlayerSession(ctx context.Context, in *gamelift.CreatePlayerSessionInput) (*gamelift.CreatePlayerSessionOutput, error) {
	made, err := s.reservePlayers(ctx, gamelift.Value(in.GameSessionId), []newPlayer{{gamelift.Value(in.PlayerId), gamelift.Value(in.PlayerData)}})
	if err != nil {
		return nil, err
	}
	return &gamelift.CreatePlayerSessionOutput{PlayerSession: &made[0]}, nil
}

// CreatePlayerSessions reserves slots for up to 25 players at once: all or none.
func (s *Service) CreatePlayerSessions(ctx context.Context, in *gamelift.CreatePlayerSessionsInput) (*gamelift.CreatePlayerSessionsOutput, error) {
	var players []newPlayer
	for _, id := range in.PlayerIds {
		if slices.ContainsFunc(players, func(p newPlayer) bool { return p.id == id }) {
			return nil, gamelift.InvalidRequest("Player %s is listed twice in PlayerIds", id)
		}
		players = append(players, newPlayer{id, in.PlayerDataMap[id]})
	}
	made, err := s.reservePlayers(ctx, gamelift.Value(in.GameSessionId), players)
	if err != nil {
		return nil, err
	}
	return &gamelift.CreatePlayerSessionsOutput{PlayerSessions: made}, nil
}

// DescribePlayerSessions finds player sessions by ID, game session or player; given a
// game session and a player session ID, the player session must be in that game session.
func (s *Service) DescribePlayerSessions(ctx context.Context, in *gamelift.DescribePlayerSessionsInput) (*gamelift.DescribePlayerSessionsOutput, error) {
	found, err := s.findPlayers(ctx, in.GameSessionId, in.PlayerId, in.PlayerSessionId, in.PlayerSessionStatusFilter)
	if err != nil {
		return nil, err
	}
	items, token, err := pageSlice(found, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribePlayerSessionsOutput{PlayerSessions: nonNil(items), NextToken: token}, nil
}

func (s *Service) findPlayers(ctx context.Context, sessionID, playerID, psessID, status *string) ([]gamelift.PlayerSession, error) {
	if status != nil && !slices.Contains(playerStatuses, *status) {
		return nil, gamelift.InvalidRequest("PlayerSessionStatusFilter must be one of %v", playerStatuses)
	}
	keep := func(ps gamelift.PlayerSession) bool {
		return (playerID == nil || gamelift.Value(ps.PlayerId) == *playerID) &&
			(psessID == nil || gamelift.Value(ps.PlayerSessionId) == *psessID) &&
			(status == nil || gamelift.Value(ps.Status) == *status)
	}
	var sessions []store.GameSession
	switch {
	case psessID != nil:
		s.playersMu.Lock()
		id, ok := s.players.sessionOf[*psessID]
		s.playersMu.Unlock()
		if !ok || sessionID != nil && id != *sessionID {
			return nil, gamelift.NotFound("Player session %s not found", *psessID)
		}
		gs, err := s.getSession(ctx, &id)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, gs)
	case sessionID != nil:
		gs, err := s.getSession(ctx, sessionID)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, gs)
	case playerID != nil:
		page, err := s.gameSessions.List(ctx, store.Query{})
		if err != nil {
			return nil, fmt.Errorf("list game sessions: %w", err)
		}
		sessions = page.Items
	default:
		return nil, gamelift.InvalidRequest("Specify a GameSessionId, a PlayerId or a PlayerSessionId")
	}
	var out []gamelift.PlayerSession
	for _, gs := range sessions {
		for _, ps := range gs.Players {
			if keep(ps) {
				out = append(out, ps)
			}
		}
	}
	return out, nil
}

// changePlayer moves one player session of a session from one of the statuses in from to
// status to (the process accepting or removing its player).
func (s *Service) changePlayer(ctx context.Context, sessionID, psessID string, from []string, to string) error {
	gs, err := s.gameSessions.Update(ctx, sessionID, func(gs *store.GameSession) error {
		i := slices.IndexFunc(gs.Players, func(ps gamelift.PlayerSession) bool { return gamelift.Value(ps.PlayerSessionId) == psessID })
		if i < 0 {
			return gamelift.NotFound("Player session %s not found in game session %s", psessID, sessionID)
		}
		ps := &gs.Players[i]
		if st := gamelift.Value(ps.Status); !slices.Contains(from, st) {
			return gamelift.InvalidRequest("PlayerSession %s has a status of %s instead of %s", psessID, st, from[0])
		}
		ps.Status = gamelift.String(to)
		if to == PlayerCompleted || to == PlayerTimedOut {
			ps.TerminationTime = gamelift.At(s.now())
		}
		gs.Model.CurrentPlayerSessionCount = gamelift.Int32(playerCount(gs))
		return nil
	})
	if err != nil {
		return store.NotFoundAs(err, "Game session %s not found", sessionID)
	}
	s.indexPlayers(gs)
	s.updateProcessLimits(gs)
	if to == PlayerCompleted || to == PlayerTimedOut {
		s.playerLeft(gs)
	}
	return nil
}

// expireReservations times out reservations whose player never arrived within 60 s.
func (s *Service) expireReservations(ctx context.Context) {
	cutoff := s.now().Add(-reservationTimeout)
	type late struct{ session, psess string }
	var due []late
	s.playersMu.Lock()
	for psess, at := range s.players.reserved {
		if !at.After(cutoff) {
			due = append(due, late{s.players.sessionOf[psess], psess})
		}
	}
	s.playersMu.Unlock()
	for _, l := range due {
		if err := s.changePlayer(ctx, l.session, l.psess, []string{PlayerReserved}, PlayerTimedOut); err != nil {
			s.log.Debug("time out player reservation", "player_session", l.psess, "error", err)
			s.playersMu.Lock()
			delete(s.players.reserved, l.psess)
			s.playersMu.Unlock()
		}
	}
}

// sdkPlayerSession is a player session as the Server SDK carries it: times in epoch ms.
type sdkPlayerSession struct {
	PlayerSessionId, PlayerId, GameSessionId, FleetId, PlayerData, IpAddress, DnsName, Status string
	Port                                                                                      int32
	CreationTime, TerminationTime                                                             int64
}

func toSDK(ps gamelift.PlayerSession) sdkPlayerSession {
	out := sdkPlayerSession{
		PlayerSessionId: gamelift.Value(ps.PlayerSessionId), PlayerId: gamelift.Value(ps.PlayerId),
		GameSessionId: gamelift.Value(ps.GameSessionId), FleetId: gamelift.Value(ps.FleetId),
		PlayerData: gamelift.Value(ps.PlayerData), IpAddress: gamelift.Value(ps.IpAddress), DnsName: gamelift.Value(ps.DnsName),
		Status: gamelift.Value(ps.Status), Port: gamelift.Value(ps.Port),
	}
	if ps.CreationTime != nil {
		out.CreationTime = ps.CreationTime.UnixMilli()
	}
	if ps.TerminationTime != nil {
		out.TerminationTime = ps.TerminationTime.UnixMilli()
	}
	return out
}

// GetPlayerConnectionDetails tells each player where to connect. Hoist has no player
// gateway, so, as GameLift does where the gateway is disabled, every player gets the game
// session's own endpoint (its IP address, or its DNS name when it has none, and port) and
// no gateway token. The session must be ACTIVE.
func (s *Service) GetPlayerConnectionDetails(ctx context.Context, in *gamelift.GetPlayerConnectionDetailsInput) (*gamelift.GetPlayerConnectionDetailsOutput, error) {
	gs, err := s.getSession(ctx, in.GameSessionId)
	if err != nil {
		return nil, err
	}
	m := gs.Model
	if st := gamelift.Value(m.Status); st != SessionActive {
		return nil, gamelift.InvalidGameSessionStatus("Game session %s is %s, not ACTIVE", gamelift.Value(m.GameSessionId), st)
	}
	host := m.IpAddress
	if gamelift.Value(host) == "" {
		host = m.DnsName
	}
	out := &gamelift.GetPlayerConnectionDetailsOutput{GameSessionId: m.GameSessionId, PlayerConnectionDetails: []gamelift.PlayerConnectionDetail{}}
	for _, p := range in.PlayerIds {
		out.PlayerConnectionDetails = append(out.PlayerConnectionDetails, gamelift.PlayerConnectionDetail{
			PlayerId:  gamelift.String(p),
			Endpoints: []gamelift.PlayerConnectionEndpoint{{IpAddress: host, Port: m.Port}},
		})
	}
	return out, nil
}
