package matchmaking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/flexmatch"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/queues"
	"github.com/hoist-dev/hoist/internal/store"
)

// Matchmaking ticket statuses, as GameLift has them.
const (
	TicketQueued             = "QUEUED"
	TicketSearching          = "SEARCHING"
	TicketRequiresAcceptance = "REQUIRES_ACCEPTANCE"
	TicketPlacing            = "PLACING"
	TicketCompleted          = "COMPLETED"
	TicketFailed             = "FAILED"
	TicketCancelled          = "CANCELLED"
	TicketTimedOut           = "TIMED_OUT"
)

// TicketReasonAcceptanceFailed is the StatusReason of a ticket back in SEARCHING because
// the proposed match it was in failed acceptance: another player rejected it or did not
// accept in time, or another ticket of it was stopped. GameLift's MatchmakingTicket
// reference names this case but not its code, so the code is Hoist's. It goes when the
// ticket's status changes again.
const TicketReasonAcceptanceFailed = "ACCEPTANCE_FAILED"

const (
	// maxTicketPlayers bounds the players of one ticket (a party).
	maxTicketPlayers = 200
	// maxLiveTickets bounds the tickets in progress, as each matchmaking pass counts them.
	maxLiveTickets = 100000
	// matchTick bounds the time between two matchmaking passes.
	matchTick = time.Second
	// ticketRetention is how long an ended ticket is kept (DescribeMatchmaking).
	ticketRetention = 24 * time.Hour
)

func ticketLive(st string) bool {
	return st == TicketQueued || st == TicketSearching || st == TicketRequiresAcceptance || st == TicketPlacing
}

// matcher wakes the matchmaking passes.
type matcher struct {
	wakeup chan struct{}
	// live is how many tickets were in progress at the last pass.
	live atomic.Int64
	// pass is held for a matchmaking pass, and by the calls that change tickets a pass may
	// be deciding about, so they take turns.
	pass sync.Mutex
}

func newMatcher() matcher { return matcher{wakeup: make(chan struct{}, 1)} }

func (m *matcher) wake() {
	select {
	case m.wakeup <- struct{}{}:
	default:
	}
}

// StartMatchmaking asks a configuration for a match for a player or a party.
func (s *Service) StartMatchmaking(ctx context.Context, in *gamelift.StartMatchmakingInput) (*gamelift.StartMatchmakingOutput, error) {
	c, err := s.getMatchConfig(ctx, in.ConfigurationName)
	if err != nil {
		return nil, err
	}
	rs, err := s.ruleSetOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if s.matcher.live.Load() >= maxLiveTickets {
		return nil, gamelift.LimitExceeded("%d matchmaking tickets are in progress, the most Hoist holds; retry later", maxLiveTickets)
	}
	if len(in.Players) == 0 || len(in.Players) > maxTicketPlayers {
		return nil, gamelift.InvalidRequest("A ticket has 1 to %d players, not %d", maxTicketPlayers, len(in.Players))
	}
	seen := map[string]bool{}
	for _, p := range in.Players {
		id := gamelift.Value(p.PlayerId)
		if id == "" || seen[id] {
			return nil, gamelift.InvalidRequest("Players: each needs a PlayerId, and each player is listed once")
		}
		seen[id] = true
		if err := checkAttributes(rs, p); err != nil {
			return nil, err
		}
	}
	id := gamelift.Value(in.TicketId)
	if id == "" {
		id = uuid.NewString()
	}
	t := store.Ticket{Model: gamelift.MatchmakingTicket{
		TicketId: &id, ConfigurationName: c.Model.Name, ConfigurationArn: c.Model.ConfigurationArn,
		Status: gamelift.String(TicketQueued), StartTime: gamelift.At(s.now()), Players: in.Players,
	}}
	if err := s.store.Tickets().Create(ctx, id, gamelift.Value(c.Model.Name), t); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("Ticket %s exists; a ticket ID is used once", id)
		}
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	s.matcher.wake()
	return &gamelift.StartMatchmakingOutput{MatchmakingTicket: &t.Model}, nil
}

// checkAttributes refuses a player attribute whose type the rule set declares otherwise.
func checkAttributes(rs *flexmatch.RuleSet, p gamelift.Player) error {
	for name, v := range p.PlayerAttributes {
		for _, a := range rs.Attributes {
			if a.Name != name {
				continue
			}
			want := map[flexmatch.AttributeType]bool{
				flexmatch.AttributeString: v.S != nil, flexmatch.AttributeNumber: v.N != nil,
				flexmatch.AttributeStringList: v.SL != nil, flexmatch.AttributeStringNumberMap: v.SDM != nil,
			}
			if !want[a.Type] {
				return gamelift.InvalidRequest("Player %s: attribute %s must be of type %s", gamelift.Value(p.PlayerId), name, a.Type)
			}
		}
	}
	return nil
}

func (s *Service) ruleSetOf(ctx context.Context, c store.MatchConfig) (*flexmatch.RuleSet, error) {
	rs, err := s.getRuleSet(ctx, c.Model.RuleSetName)
	if err != nil {
		return nil, err
	}
	return parseRuleSet(gamelift.Value(rs.Model.RuleSetBody))
}

// DescribeMatchmaking returns the tickets asked for that exist.
func (s *Service) DescribeMatchmaking(ctx context.Context, in *gamelift.DescribeMatchmakingInput) (*gamelift.DescribeMatchmakingOutput, error) {
	out := &gamelift.DescribeMatchmakingOutput{TicketList: []gamelift.MatchmakingTicket{}}
	for _, id := range in.TicketIds {
		t, err := s.store.Tickets().Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read ticket: %w", err)
		}
		out.TicketList = append(out.TicketList, t.Model)
	}
	return out, nil
}

// StopMatchmaking cancels a ticket that is not yet being placed.
func (s *Service) StopMatchmaking(ctx context.Context, in *gamelift.StopMatchmakingInput) (*gamelift.StopMatchmakingOutput, error) {
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	id := gamelift.Value(in.TicketId)
	t, err := s.store.Tickets().Get(ctx, id)
	if err != nil {
		return nil, store.NotFoundAs(err, "Ticket %s not found", id)
	}
	switch st := gamelift.Value(t.Model.Status); st {
	case TicketQueued, TicketSearching:
		return &gamelift.StopMatchmakingOutput{}, s.endTickets(ctx, []string{id}, TicketCancelled, "Cancelled by StopMatchmaking", "MatchmakingCancelled")
	case TicketRequiresAcceptance:
		// The proposed match fails: the others go back to searching.
		if err := s.endTickets(ctx, []string{id}, TicketCancelled, "Cancelled by StopMatchmaking", "MatchmakingCancelled"); err != nil {
			return nil, err
		}
		others := slices.DeleteFunc(slices.Clone(t.MatchTickets), func(o string) bool { return o == id })
		return &gamelift.StopMatchmakingOutput{}, s.research(ctx, others, "Another ticket of the proposed match was stopped; searching again")
	default:
		return nil, gamelift.InvalidRequest("Ticket %s is %s and cannot be stopped", id, st)
	}
}

// AcceptMatch records players' answers to a proposed match. One rejection fails the match;
// when every player of every ticket has accepted, the match is placed.
func (s *Service) AcceptMatch(ctx context.Context, in *gamelift.AcceptMatchInput) (*gamelift.AcceptMatchOutput, error) {
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	id := gamelift.Value(in.TicketId)
	accept := gamelift.Value(in.AcceptanceType) == "ACCEPT"
	if !accept && gamelift.Value(in.AcceptanceType) != "REJECT" {
		return nil, gamelift.InvalidRequest("AcceptanceType must be ACCEPT or REJECT")
	}
	t, err := s.store.Tickets().Update(ctx, id, func(t *store.Ticket) error {
		if st := gamelift.Value(t.Model.Status); st != TicketRequiresAcceptance {
			return gamelift.InvalidRequest("Ticket %s is %s, not REQUIRES_ACCEPTANCE", id, st)
		}
		for _, p := range in.PlayerIds {
			if !slices.ContainsFunc(t.Model.Players, func(pl gamelift.Player) bool { return gamelift.Value(pl.PlayerId) == p }) {
				return gamelift.InvalidRequest("Player %s is not on ticket %s", p, id)
			}
			if accept && !slices.Contains(t.Accepted, p) {
				t.Accepted = append(t.Accepted, p)
			}
			if !accept && !slices.Contains(t.Rejected, p) {
				t.Accepted = slices.DeleteFunc(t.Accepted, func(a string) bool { return a == p })
				t.Rejected = append(t.Rejected, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Ticket %s not found", id)
	}
	// The events show the whole proposed match, so a backend can count its acceptances
	// from them, as from GameLift's.
	tickets, err := s.ticketsOf(ctx, t.MatchTickets)
	if err != nil {
		return nil, err
	}
	s.matchEvent(ctx, t.Model.ConfigurationArn, "AcceptMatch", t.MatchID, tickets, nil)
	if !accept {
		s.matchEvent(ctx, t.Model.ConfigurationArn, "AcceptMatchCompleted", t.MatchID, tickets, map[string]any{"acceptance": "Rejected"})
		if err := s.endTickets(ctx, []string{id}, TicketCancelled, "A player rejected the proposed match", "MatchmakingCancelled"); err != nil {
			return nil, err
		}
		others := slices.DeleteFunc(slices.Clone(t.MatchTickets), func(o string) bool { return o == id })
		return &gamelift.AcceptMatchOutput{}, s.research(ctx, others, "Another player rejected the proposed match; searching again")
	}
	for _, o := range tickets {
		if len(o.Accepted) < len(o.Model.Players) {
			return &gamelift.AcceptMatchOutput{}, nil // still waiting for others
		}
	}
	s.matchEvent(ctx, t.Model.ConfigurationArn, "AcceptMatchCompleted", t.MatchID, tickets, map[string]any{"acceptance": "Accepted"})
	c, err := s.getMatchConfig(ctx, t.Model.ConfigurationName)
	if err != nil {
		return nil, s.endTickets(ctx, t.MatchTickets, TicketFailed, "Its matchmaking configuration was deleted", "MatchmakingFailed")
	}
	return &gamelift.AcceptMatchOutput{}, s.placeMatch(ctx, c, t.MatchID, tickets)
}

func (s *Service) ticketsOf(ctx context.Context, ids []string) ([]store.Ticket, error) {
	out := make([]store.Ticket, 0, len(ids))
	for _, id := range ids {
		t, err := s.store.Tickets().Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read ticket %s: %w", id, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// runMatchmaking makes matches whenever tickets may match, and at least every tick.
func (s *Service) runMatchmaking(tick time.Duration) {
	s.bg.Loop(tick, s.matcher.wakeup, func() {
		if err := s.matchPass(s.bg.Context()); err != nil && s.bg.Context().Err() == nil {
			s.log.Error("matchmaking pass", "error", err)
		}
	})
}

// matchPass looks at every live ticket: QUEUED ones start SEARCHING, those past their
// configuration's timeout or acceptance time end, and each configuration's searching
// tickets are matched by its rule set.
func (s *Service) matchPass(ctx context.Context) error {
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	page, err := s.store.Tickets().List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list tickets: %w", err)
	}
	now := s.now()
	live := int64(0)
	defer func() { s.matcher.live.Store(live) }()
	byConfig := map[string][]store.Ticket{}
	proposed := map[string][]store.Ticket{}
	for _, t := range page.Items {
		st := gamelift.Value(t.Model.Status)
		if ticketLive(st) {
			live++
		}
		if !ticketLive(st) {
			if t.Model.EndTime != nil && now.Sub(t.Model.EndTime.Time) > ticketRetention {
				s.store.Tickets().Delete(ctx, gamelift.Value(t.Model.TicketId))
			}
			continue
		}
		switch st {
		case TicketQueued:
			t.Model.Status = gamelift.String(TicketSearching)
			if err := s.setStatus(ctx, t, TicketSearching, ""); err != nil {
				return err
			}
			s.matchEvent(ctx, t.Model.ConfigurationArn, "MatchmakingSearching", "", []store.Ticket{t}, nil)
			fallthrough
		case TicketSearching:
			byConfig[gamelift.Value(t.Model.ConfigurationName)] = append(byConfig[gamelift.Value(t.Model.ConfigurationName)], t)
		case TicketRequiresAcceptance:
			if now.After(t.AcceptBy) {
				proposed[t.MatchID] = append(proposed[t.MatchID], t)
			}
			continue
		default:
			continue
		}
	}
	for _, tickets := range proposed {
		if err := s.acceptanceTimedOut(ctx, tickets); err != nil {
			return err
		}
	}
	for name, tickets := range byConfig {
		c, err := s.store.MatchConfigs().Get(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			if err := s.endTickets(ctx, ids(tickets), TicketFailed, "Its matchmaking configuration was deleted", "MatchmakingFailed"); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		timeout := time.Duration(gamelift.Value(c.Model.RequestTimeoutSeconds)) * time.Second
		var searching []store.Ticket
		var timedOut []string
		for _, t := range tickets {
			if now.Sub(t.Model.StartTime.Time) >= timeout {
				timedOut = append(timedOut, gamelift.Value(t.Model.TicketId))
			} else {
				searching = append(searching, t)
			}
		}
		if err := s.endTickets(ctx, timedOut, TicketTimedOut, "No match within the configuration's RequestTimeoutSeconds", "MatchmakingTimedOut"); err != nil {
			return err
		}
		if len(searching) == 0 {
			continue
		}
		if err := s.matchTickets(ctx, c, searching, now); err != nil {
			return err
		}
	}
	return nil
}

func ids(tickets []store.Ticket) []string {
	out := make([]string, len(tickets))
	for i, t := range tickets {
		out[i] = gamelift.Value(t.Model.TicketId)
	}
	return out
}

// matchTickets runs the rule set over a configuration's searching tickets and acts on each
// match it proposes.
func (s *Service) matchTickets(ctx context.Context, c store.MatchConfig, tickets []store.Ticket, now time.Time) error {
	rs, err := s.ruleSetOf(ctx, c)
	if err != nil {
		return s.endTickets(ctx, ids(tickets), TicketFailed, "Its rule set is gone or invalid", "MatchmakingFailed")
	}
	var backfills, searching []store.Ticket
	for _, t := range tickets {
		if t.BackfillSession != "" {
			backfills = append(backfills, t)
		} else {
			searching = append(searching, t)
		}
	}
	used, err := s.backfill(ctx, c, rs, backfills, searching, now)
	if err != nil {
		return err
	}
	var in []flexmatch.Ticket
	byID := map[string]store.Ticket{}
	for _, t := range searching {
		if used[gamelift.Value(t.Model.TicketId)] {
			continue
		}
		ft := flexmatchTicket(t)
		in = append(in, ft)
		byID[ft.ID] = t
	}
	for _, m := range flexmatch.Match(rs, in, now).Matches {
		matchID := uuid.NewString()
		var members []store.Ticket
		for _, id := range m.TicketIDs {
			members = append(members, byID[id])
		}
		data, err := matchmakerData(matchID, c, m, members)
		if err != nil {
			return err
		}
		acceptance := gamelift.Value(c.Model.AcceptanceRequired)
		status := TicketPlacing
		var acceptBy time.Time
		if acceptance {
			status = TicketRequiresAcceptance
			acceptBy = now.Add(time.Duration(gamelift.Value(c.Model.AcceptanceTimeoutSeconds)) * time.Second)
		}
		for i := range members {
			members[i], err = s.store.Tickets().Update(ctx, gamelift.Value(members[i].Model.TicketId), func(t *store.Ticket) error {
				t.Model.Status, t.MatchID, t.MatchTickets, t.MatchmakerData = gamelift.String(status), matchID, m.TicketIDs, data
				t.Accepted, t.Rejected, t.AcceptBy = nil, nil, acceptBy
				t.Model.StatusReason, t.Model.StatusMessage = nil, nil // a failed acceptance's, if any
				for j := range t.Model.Players {
					t.Model.Players[j].Team = teamOf(m, gamelift.Value(t.Model.Players[j].PlayerId))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("update ticket: %w", err)
			}
		}
		if acceptance {
			s.matchEvent(ctx, c.Model.ConfigurationArn, "PotentialMatchCreated", matchID, members, map[string]any{
				"acceptanceTimeout": gamelift.Value(c.Model.AcceptanceTimeoutSeconds), "acceptanceRequired": true})
			continue
		}
		s.matchEvent(ctx, c.Model.ConfigurationArn, "PotentialMatchCreated", matchID, members, map[string]any{"acceptanceRequired": false})
		if err := s.placeMatch(ctx, c, matchID, members); err != nil {
			return err
		}
	}
	return nil
}

func teamOf(m flexmatch.ProposedMatch, playerID string) *string {
	for _, t := range m.Teams {
		for _, p := range t.Players {
			if p.PlayerID == playerID {
				return gamelift.String(t.Name)
			}
		}
	}
	return nil
}

func flexmatchTicket(t store.Ticket) flexmatch.Ticket {
	ft := flexmatch.Ticket{ID: gamelift.Value(t.Model.TicketId), StartTime: t.Model.StartTime.Time}
	for _, p := range t.Model.Players {
		fp := flexmatch.Player{ID: gamelift.Value(p.PlayerId), Team: gamelift.Value(p.Team), Attributes: map[string]flexmatch.AttributeValue{}}
		for name, v := range p.PlayerAttributes {
			switch {
			case v.S != nil:
				fp.Attributes[name] = flexmatch.String(*v.S)
			case v.N != nil:
				fp.Attributes[name] = flexmatch.Number(*v.N)
			case v.SL != nil:
				fp.Attributes[name] = flexmatch.StringList(v.SL...)
			case v.SDM != nil:
				fp.Attributes[name] = flexmatch.StringNumberMap(v.SDM)
			}
		}
		if len(p.LatencyInMs) > 0 {
			fp.LatencyMs = map[string]int{}
			for region, ms := range p.LatencyInMs {
				fp.LatencyMs[region] = int(ms)
			}
		}
		ft.Players = append(ft.Players, fp)
	}
	return ft
}

// matchmakerData is GameLift's MatchmakerData for a match: its ID, configuration, and
// teams with their players and attributes.
func matchmakerData(matchID string, c store.MatchConfig, m flexmatch.ProposedMatch, tickets []store.Ticket) (string, error) {
	attrs := map[string]map[string]gamelift.AttributeValue{}
	for _, t := range tickets {
		for _, p := range t.Model.Players {
			attrs[gamelift.Value(p.PlayerId)] = p.PlayerAttributes
		}
	}
	type attr struct {
		AttributeType  string `json:"attributeType"`
		ValueAttribute any    `json:"valueAttribute"`
	}
	type player struct {
		PlayerID   string          `json:"playerId"`
		Attributes map[string]attr `json:"attributes,omitempty"`
	}
	type team struct {
		Name    string   `json:"name"`
		Players []player `json:"players"`
	}
	var teams []team
	for _, t := range m.Teams {
		tm := team{Name: t.Name, Players: []player{}}
		for _, p := range t.Players {
			pl := player{PlayerID: p.PlayerID}
			for name, v := range attrs[p.PlayerID] {
				if pl.Attributes == nil {
					pl.Attributes = map[string]attr{}
				}
				switch {
				case v.S != nil:
					pl.Attributes[name] = attr{"STRING", *v.S}
				case v.N != nil:
					pl.Attributes[name] = attr{"DOUBLE", *v.N}
				case v.SL != nil:
					pl.Attributes[name] = attr{"STRING_LIST", v.SL}
				case v.SDM != nil:
					pl.Attributes[name] = attr{"STRING_DOUBLE_MAP", v.SDM}
				}
			}
			tm.Players = append(tm.Players, pl)
		}
		teams = append(teams, tm)
	}
	var backfill any
	if gamelift.Value(c.Model.BackfillMode) == backfillAutomatic {
		backfill = "AUTOMATIC"
	}
	b, err := json.Marshal(map[string]any{
		"matchId": matchID, "matchmakingConfigurationArn": gamelift.Value(c.Model.ConfigurationArn),
		"teams": teams, "autoBackfillMode": backfill, "autoBackfillTicketId": nil,
	})
	return string(b), err
}

// placeMatch places an accepted match: STANDALONE matches are COMPLETED at once; the others
// go through the configuration's first queue, as a placement with the match's players.
func (s *Service) placeMatch(ctx context.Context, c store.MatchConfig, matchID string, tickets []store.Ticket) error {
	if gamelift.Value(c.Model.FlexMatchMode) == flexMatchStandalone {
		return s.endTickets(ctx, ids(tickets), TicketCompleted, "", "MatchmakingSucceeded")
	}
	var desired []gamelift.DesiredPlayerSession
	for _, t := range tickets {
		for _, p := range t.Model.Players {
			desired = append(desired, gamelift.DesiredPlayerSession{PlayerId: p.PlayerId})
		}
	}
	for i := range tickets {
		if err := s.setStatus(ctx, tickets[i], TicketPlacing, ""); err != nil {
			return err
		}
	}
	q, err := s.queues.Queue(ctx, &c.Model.GameSessionQueueArns[0])
	if err != nil {
		return s.endTickets(ctx, ids(tickets), TicketFailed, "Its game session queue is gone", "MatchmakingFailed")
	}
	pl := store.Placement{
		Model: gamelift.GameSessionPlacement{
			PlacementId: gamelift.String(matchID), GameSessionQueueName: q.Model.Name, Status: gamelift.String(queues.PlacementPending),
			GameProperties: c.Model.GameProperties, GameSessionData: c.Model.GameSessionData,
			MaximumPlayerSessionCount: gamelift.Int32(int32(len(desired)) + gamelift.Value(c.Model.AdditionalPlayerCount)),
			StartTime:                 gamelift.At(s.now()), MatchmakerData: gamelift.String(tickets[0].MatchmakerData),
		},
		QueueArn: gamelift.Value(q.Model.GameSessionQueueArn), DesiredPlayers: desired,
		MatchTickets: ids(tickets),
	}
	for _, t := range tickets {
		for _, p := range t.Model.Players {
			for region, ms := range p.LatencyInMs {
				pl.Model.PlayerLatencies = append(pl.Model.PlayerLatencies, gamelift.PlayerLatency{
					PlayerId: p.PlayerId, RegionIdentifier: gamelift.String(region), LatencyInMilliseconds: gamelift.Float32(float32(ms))})
			}
		}
	}
	if err := s.queues.StartPlacement(ctx, pl); err != nil {
		return fmt.Errorf("create the match's placement: %w", err)
	}
	return nil
}

// matchPlaced settles the tickets of a match whose placement ended: COMPLETED with the
// game session's connection details, or FAILED.
func (s *Service) matchPlaced(ctx context.Context, pl store.Placement) {
	if len(pl.MatchTickets) == 0 {
		return
	}
	m := pl.Model
	if gamelift.Value(m.Status) != queues.PlacementFulfilled {
		if err := s.endTickets(ctx, pl.MatchTickets, TicketFailed, "The match's game session could not be placed: "+gamelift.Value(m.Status), "MatchmakingFailed"); err != nil {
			s.log.Error("fail matchmaking tickets", "error", err)
		}
		return
	}
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	var done []store.Ticket
	for _, id := range pl.MatchTickets {
		t, err := s.store.Tickets().Update(ctx, id, func(t *store.Ticket) error {
			info := &gamelift.GameSessionConnectionInfo{GameSessionArn: m.GameSessionArn, IpAddress: m.IpAddress, DnsName: m.DnsName, Port: m.Port}
			for _, ps := range m.PlacedPlayerSessions {
				if slices.ContainsFunc(t.Model.Players, func(p gamelift.Player) bool { return gamelift.Value(p.PlayerId) == gamelift.Value(ps.PlayerId) }) {
					info.MatchedPlayerSessions = append(info.MatchedPlayerSessions, gamelift.MatchedPlayerSession{PlayerId: ps.PlayerId, PlayerSessionId: ps.PlayerSessionId})
				}
			}
			t.Model.Status, t.Model.EndTime, t.Model.GameSessionConnectionInfo = gamelift.String(TicketCompleted), gamelift.At(s.now()), info
			return nil
		})
		if err != nil {
			s.log.Error("complete matchmaking ticket", "ticket", id, "error", err)
			continue
		}
		done = append(done, t)
	}
	if len(done) > 0 {
		// The event names its players as GameLift's does: playerId, playerSessionId, team.
		teams := map[string]string{}
		for _, t := range done {
			for _, p := range t.Model.Players {
				if p.Team != nil {
					teams[gamelift.Value(p.PlayerId)] = *p.Team
				}
			}
		}
		players := []map[string]any{}
		for _, ps := range m.PlacedPlayerSessions {
			pl := map[string]any{"playerId": gamelift.Value(ps.PlayerId), "playerSessionId": gamelift.Value(ps.PlayerSessionId)}
			if team, ok := teams[gamelift.Value(ps.PlayerId)]; ok {
				pl["team"] = team
			}
			players = append(players, pl)
		}
		s.matchEvent(ctx, done[0].Model.ConfigurationArn, "MatchmakingSucceeded", done[0].MatchID, done, map[string]any{
			"gameSessionInfo": map[string]any{"gameSessionArn": gamelift.Value(m.GameSessionArn), "ipAddress": gamelift.Value(m.IpAddress),
				"port": gamelift.Value(m.Port), "players": players}})
	}
}

// setStatus moves a live ticket to another live status.
func (s *Service) setStatus(ctx context.Context, t store.Ticket, status, reason string) error {
	_, err := s.store.Tickets().Update(ctx, gamelift.Value(t.Model.TicketId), func(t *store.Ticket) error {
		t.Model.Status, t.Model.StatusReason, t.Model.StatusMessage = gamelift.String(status), nonEmpty(reason), nil
		return nil
	})
	if err != nil {
		return fmt.Errorf("update ticket: %w", err)
	}
	return nil
}

// endTickets ends live tickets with a final status, each with its event.
func (s *Service) endTickets(ctx context.Context, ticketIDs []string, status, message, event string) error {
	var ended []store.Ticket
	for _, id := range ticketIDs {
		t, err := s.store.Tickets().Update(ctx, id, func(t *store.Ticket) error {
			if !ticketLive(gamelift.Value(t.Model.Status)) {
				return errTicketEnded
			}
			t.Model.Status, t.Model.EndTime, t.Model.StatusMessage = gamelift.String(status), gamelift.At(s.now()), nonEmpty(message)
			t.Model.StatusReason = nil // it explained the status the ticket leaves
			return nil
		})
		if errors.Is(err, errTicketEnded) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("end ticket %s: %w", id, err)
		}
		ended = append(ended, t)
	}
	for _, t := range ended {
		var extra map[string]any
		if status == TicketCompleted && t.MatchID != "" {
			extra = map[string]any{"matchId": t.MatchID}
		}
		s.matchEvent(ctx, t.Model.ConfigurationArn, event, t.MatchID, []store.Ticket{t}, extra)
	}
	return nil
}

var errTicketEnded = errors.New("ticket ended")

// research sends the tickets of a failed proposed match back to searching, saying why in
// their StatusReason and StatusMessage, each with a MatchmakingSearching event, as GameLift
// sends for "requests that were part of a proposed match that failed".
func (s *Service) research(ctx context.Context, ticketIDs []string, message string) error {
	var back []store.Ticket
	for _, id := range ticketIDs {
		t, err := s.store.Tickets().Update(ctx, id, func(t *store.Ticket) error {
			if gamelift.Value(t.Model.Status) != TicketRequiresAcceptance {
				return errTicketEnded
			}
			t.Model.Status, t.MatchID, t.MatchTickets, t.Accepted, t.Rejected, t.MatchmakerData = gamelift.String(TicketSearching), "", nil, nil, nil, ""
			t.Model.StatusReason, t.Model.StatusMessage = gamelift.String(TicketReasonAcceptanceFailed), gamelift.String(message)
			for j := range t.Model.Players {
				t.Model.Players[j].Team = nil
			}
			return nil
		})
		if errors.Is(err, errTicketEnded) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("return ticket %s to searching: %w", id, err)
		}
		back = append(back, t)
	}
	for _, t := range back {
		s.matchEvent(ctx, t.Model.ConfigurationArn, "MatchmakingSearching", "", []store.Ticket{t}, nil)
	}
	s.matcher.wake()
	return nil
}

// acceptanceTimedOut ends a proposed match nobody finished accepting in time: tickets
// whose players all accepted search again, the others are CANCELLED, as in GameLift.
func (s *Service) acceptanceTimedOut(ctx context.Context, tickets []store.Ticket) error {
	var back, cancel []string
	for _, t := range tickets {
		if len(t.Accepted) >= len(t.Model.Players) {
			back = append(back, gamelift.Value(t.Model.TicketId))
		} else {
			cancel = append(cancel, gamelift.Value(t.Model.TicketId))
		}
	}
	if len(tickets) > 0 {
		s.matchEvent(ctx, tickets[0].Model.ConfigurationArn, "AcceptMatchCompleted", tickets[0].MatchID, tickets, map[string]any{"acceptance": "TimedOut"})
	}
	if err := s.endTickets(ctx, cancel, TicketCancelled, "Not all players accepted the proposed match in time", "MatchmakingCancelled"); err != nil {
		return err
	}
	return s.research(ctx, back, "Not every player accepted the proposed match in time; searching again")
}

// matchEvent sends a FlexMatch event (GameLift's "GameLift Matchmaking Event") for the
// tickets given. Its gameSessionInfo lists their players, unless extra gives one.
func (s *Service) matchEvent(ctx context.Context, configArn *string, kind, matchID string, tickets []store.Ticket, extra map[string]any) {
	if s.events == nil {
		return
	}
	var ts []map[string]any
	all := []map[string]any{}
	for _, t := range tickets {
		var players []map[string]any
		for _, p := range t.Model.Players {
			pl := map[string]any{"playerId": gamelift.Value(p.PlayerId)}
			if p.Team != nil {
				pl["team"] = *p.Team
			}
			// A player who has not called AcceptMatch has no "accepted", as in GameLift.
			if slices.Contains(t.Accepted, gamelift.Value(p.PlayerId)) {
				pl["accepted"] = true
			} else if slices.Contains(t.Rejected, gamelift.Value(p.PlayerId)) {
				pl["accepted"] = false
			}
			players = append(players, pl)
			all = append(all, pl)
		}
		ts = append(ts, map[string]any{"ticketId": gamelift.Value(t.Model.TicketId),
			"startTime": t.Model.StartTime.UTC().Format("2006-01-02T15:04:05.000Z"), "players": players})
	}
	detail := map[string]any{"type": kind, "tickets": ts, "estimatedWaitMillis": "NOT_AVAILABLE",
		"gameSessionInfo": map[string]any{"players": all}}
	if matchID != "" {
		detail["matchId"] = matchID
	}
	for k, v := range extra {
		detail[k] = v
	}
	if c, err := s.store.MatchConfigs().Get(ctx, nameOf(configArn, "matchmakingconfiguration")); err == nil && c.Model.CustomEventData != nil {
		detail["customEventData"] = *c.Model.CustomEventData
	}
	body, err := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": "GameLift Matchmaking Event", "source": "aws.gamelift",
		"account": control.AccountID, "time": s.now().Format(time.RFC3339), "region": s.region,
		"resources": []string{gamelift.Value(configArn)}, "detail": detail,
	})
	if err != nil {
		s.log.Error("encode matchmaking event", "error", err)
		return
	}
	s.events.Publish(gamelift.Value(configArn), body)
}
