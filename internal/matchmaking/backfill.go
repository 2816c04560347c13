package matchmaking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/flexmatch"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Backfill: a ticket that holds the players a game session has now, with their teams, and
// finds searching tickets to fill its open slots. The players found join that session (a
// player session each); the game server gets UpdateGameSession with the new MatchmakerData.

// StartMatchBackfill asks a configuration for players to fill an ACTIVE game session.
func (s *Service) StartMatchBackfill(ctx context.Context, in *gamelift.StartMatchBackfillInput) (*gamelift.StartMatchBackfillOutput, error) {
	t, err := s.StartBackfill(ctx, gamelift.Value(in.ConfigurationName), gamelift.Value(in.GameSessionArn), gamelift.Value(in.TicketId), in.Players)
	if err != nil {
		return nil, err
	}
	return &gamelift.StartMatchBackfillOutput{MatchmakingTicket: t}, nil
}

// StartBackfill makes a backfill ticket for an ACTIVE game session: StartMatchBackfill,
// from the API or from the game server's SDK (control.Matchmaker).
func (s *Service) StartBackfill(ctx context.Context, config, sessionID, ticketID string, players []gamelift.Player) (*gamelift.MatchmakingTicket, error) {
	c, err := s.getMatchConfig(ctx, &config)
	if err != nil {
		return nil, err
	}
	if sessionID == "" {
		return nil, gamelift.InvalidRequest("GameSessionArn is required: Hoist backfills game sessions it hosts")
	}
	if s.matcher.live.Load() >= maxLiveTickets {
		return nil, gamelift.LimitExceeded("%d matchmaking tickets are in progress, the most Hoist holds; retry later", maxLiveTickets)
	}
	gs, err := s.core.GameSession(ctx, &sessionID)
	if err != nil {
		return nil, err
	}
	if st := gamelift.Value(gs.Model.Status); st != control.SessionActive {
		return nil, gamelift.InvalidRequest("Game session %s is %s; only an ACTIVE session is backfilled", sessionID, st)
	}
	rs, err := s.ruleSetOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(players) == 0 {
		return nil, gamelift.InvalidRequest("Players: give the players the game session has now, with their teams")
	}
	for _, p := range players {
		if err := checkAttributes(rs, p); err != nil {
			return nil, err
		}
	}
	if ticketID == "" {
		ticketID = uuid.NewString()
	}
	t := store.Ticket{Model: gamelift.MatchmakingTicket{
		TicketId: &ticketID, ConfigurationName: c.Model.Name, ConfigurationArn: c.Model.ConfigurationArn,
		Status: gamelift.String(TicketQueued), StartTime: gamelift.At(s.now()), Players: players,
	}, BackfillSession: sessionID}
	if err := s.store.Tickets().Create(ctx, ticketID, gamelift.Value(c.Model.Name), t); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("Ticket %s exists; a ticket ID is used once", ticketID)
		}
		return nil, fmt.Errorf("create backfill ticket: %w", err)
	}
	s.matcher.wake()
	return &t.Model, nil
}

// StopBackfill cancels a backfill ticket of a game session: the game server's SDK's
// StopMatchBackfill (control.Matchmaker).
func (s *Service) StopBackfill(ctx context.Context, ticketID, sessionID string) error {
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	t, err := s.store.Tickets().Get(ctx, ticketID)
	if err != nil || t.BackfillSession != sessionID {
		return gamelift.NotFound("No backfill ticket %s for game session %s", ticketID, sessionID)
	}
	if err := s.endTickets(ctx, []string{ticketID}, TicketCancelled, "Cancelled by StopMatchBackfill", "MatchmakingCancelled"); err != nil {
		return err
	}
	s.core.PushSessionUpdate(ctx, sessionID, "BACKFILL_CANCELLED", ticketID)
	return nil
}

// backfill tries each backfill ticket against the searching tickets, the backfill ticket
// first (it holds the session's players); it returns the tickets it used up.
func (s *Service) backfill(ctx context.Context, c store.MatchConfig, rs *flexmatch.RuleSet, backfills, searching []store.Ticket, now time.Time) (map[string]bool, error) {
	used := map[string]bool{}
	for _, bf := range backfills {
		in := []flexmatch.Ticket{flexmatchTicket(bf)}
		in[0].StartTime = time.Time{} // the oldest, so the matcher builds on it
		byID := map[string]store.Ticket{}
		for _, t := range searching {
			if !used[gamelift.Value(t.Model.TicketId)] {
				ft := flexmatchTicket(t)
				in = append(in, ft)
				byID[ft.ID] = t
			}
		}
		bfID := gamelift.Value(bf.Model.TicketId)
		for _, m := range flexmatch.Match(rs, in, now).Matches {
			if !slices.Contains(m.TicketIDs, bfID) {
				continue
			}
			if err := s.fillSession(ctx, c, bf, m, byID); err != nil {
				return used, err
			}
			for _, id := range m.TicketIDs {
				used[id] = true
			}
			break
		}
	}
	return used, nil
}

// fillSession puts a backfill match's new players into the session, completes their tickets
// and the backfill ticket, and tells the game server.
func (s *Service) fillSession(ctx context.Context, c store.MatchConfig, bf store.Ticket, m flexmatch.ProposedMatch, byID map[string]store.Ticket) error {
	sessionID := bf.BackfillSession
	var fresh []store.Ticket
	var players []string
	for _, id := range m.TicketIDs {
		if t, ok := byID[id]; ok {
			fresh = append(fresh, t)
			for _, p := range t.Model.Players {
				players = append(players, gamelift.Value(p.PlayerId))
			}
		}
	}
	made, err := s.core.ReservePlayers(ctx, sessionID, players)
	if err != nil {
		return s.endTickets(ctx, []string{gamelift.Value(bf.Model.TicketId)}, TicketFailed, "The game session cannot take the players found: "+err.Error(), "MatchmakingFailed")
	}
	matchID := uuid.NewString()
	data, err := matchmakerData(matchID, c, m, append([]store.Ticket{bf}, fresh...))
	if err != nil {
		return err
	}
	gs, err := s.core.SetMatchmakerData(ctx, sessionID, data)
	if err != nil {
		return fmt.Errorf("update the backfilled session: %w", err)
	}
	gm := gs.Model
	for _, t := range fresh {
		id := gamelift.Value(t.Model.TicketId)
		_, err := s.store.Tickets().Update(ctx, id, func(t *store.Ticket) error {
			info := &gamelift.GameSessionConnectionInfo{GameSessionArn: gm.GameSessionId, IpAddress: gm.IpAddress, DnsName: gm.DnsName, Port: gm.Port}
			for j := range t.Model.Players {
				t.Model.Players[j].Team = teamOf(m, gamelift.Value(t.Model.Players[j].PlayerId))
				for _, ps := range made {
					if gamelift.Value(ps.PlayerId) == gamelift.Value(t.Model.Players[j].PlayerId) {
						info.MatchedPlayerSessions = append(info.MatchedPlayerSessions, gamelift.MatchedPlayerSession{PlayerId: ps.PlayerId, PlayerSessionId: ps.PlayerSessionId})
					}
				}
			}
			t.MatchID, t.MatchmakerData = matchID, data
			t.Model.GameSessionConnectionInfo = info
			return nil
		})
		if err != nil {
			return fmt.Errorf("update ticket %s: %w", id, err)
		}
	}
	done := append([]string{gamelift.Value(bf.Model.TicketId)}, ids(fresh)...)
	if err := s.endTickets(ctx, done, TicketCompleted, "", "MatchmakingSucceeded"); err != nil {
		return err
	}
	s.core.PushSessionUpdate(ctx, sessionID, "MATCHMAKING_DATA_UPDATED", gamelift.Value(bf.Model.TicketId))
	return nil
}

// autoBackfill starts a backfill ticket for a FlexMatch session whose configuration has
// AUTOMATIC backfill, when a player left it, unless one is under way: the session's
// remaining players, with the teams and attributes its MatchmakerData holds.
func (s *Service) autoBackfill(ctx context.Context, gs store.GameSession) {
	if gamelift.Value(gs.Model.Status) != control.SessionActive {
		return
	}
	var data struct {
		Config string `json:"matchmakingConfigurationArn"`
		Mode   any    `json:"autoBackfillMode"`
		Teams  []struct {
			Name    string `json:"name"`
			Players []struct {
				PlayerID   string `json:"playerId"`
				Attributes map[string]struct {
					Type  string          `json:"attributeType"`
					Value json.RawMessage `json:"valueAttribute"`
				} `json:"attributes"`
			} `json:"players"`
		} `json:"teams"`
	}
	if json.Unmarshal([]byte(gamelift.Value(gs.Model.MatchmakerData)), &data) != nil || data.Mode != backfillAutomatic {
		return
	}
	c, err := s.getMatchConfig(ctx, &data.Config)
	if err != nil || gamelift.Value(c.Model.BackfillMode) != backfillAutomatic {
		return
	}
	sessionID := gamelift.Value(gs.Model.GameSessionId)
	page, err := s.store.Tickets().List(ctx, store.Query{Parent: gamelift.Value(c.Model.Name)})
	if err != nil {
		s.log.Warn("automatic backfill", "game_session", sessionID, "error", err)
		return
	}
	for _, t := range page.Items {
		if t.BackfillSession == sessionID && ticketLive(gamelift.Value(t.Model.Status)) {
			return // one is under way
		}
	}
	here := map[string]bool{}
	for _, ps := range gs.Players {
		if st := gamelift.Value(ps.Status); st == control.PlayerReserved || st == control.PlayerActive {
			here[gamelift.Value(ps.PlayerId)] = true
		}
	}
	var players []gamelift.Player
	for _, team := range data.Teams {
		for _, p := range team.Players {
			if !here[p.PlayerID] {
				continue
			}
			gp := gamelift.Player{PlayerId: gamelift.String(p.PlayerID), Team: gamelift.String(team.Name), PlayerAttributes: map[string]gamelift.AttributeValue{}}
			for name, a := range p.Attributes {
				var v gamelift.AttributeValue
				switch a.Type {
				case "STRING":
					json.Unmarshal(a.Value, &v.S)
				case "DOUBLE":
					json.Unmarshal(a.Value, &v.N)
				case "STRING_LIST":
					json.Unmarshal(a.Value, &v.SL)
				case "STRING_DOUBLE_MAP":
					json.Unmarshal(a.Value, &v.SDM)
				}
				gp.PlayerAttributes[name] = v
			}
			players = append(players, gp)
		}
	}
	if len(players) == 0 {
		return
	}
	if _, err := s.StartBackfill(ctx, data.Config, sessionID, "auto-"+uuid.NewString(), players); err != nil {
		s.log.Warn("automatic backfill", "game_session", sessionID, "error", err)
	}
}
