package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/webhook"
)

// flexMatchEvent is the part of a "GameLift Matchmaking Event" the tests read.
type flexMatchEvent struct {
	Type            string `json:"type"`
	MatchID         string `json:"matchId"`
	Acceptance      string `json:"acceptance"`
	Tickets         []flexMatchEventTicket
	GameSessionInfo struct {
		Players []flexMatchEventPlayer `json:"players"`
	} `json:"gameSessionInfo"`
}

type flexMatchEventTicket struct {
	TicketID string                 `json:"ticketId"`
	Players  []flexMatchEventPlayer `json:"players"`
}

type flexMatchEventPlayer struct {
	PlayerID        string `json:"playerId"`
	PlayerSessionID string `json:"playerSessionId"`
	Team            string `json:"team"`
	// Accepted is absent for a player who has not called AcceptMatch.
	Accepted *bool `json:"accepted"`
}

// flexMatchEvents is a webhook endpoint that keeps the FlexMatch events it is sent, in the
// order they arrive (deliveries run concurrently, so that is not the order they were made).
type flexMatchEvents struct {
	URL string
	mu  sync.Mutex
	got []flexMatchEvent
}

func newFlexMatchEvents(t *testing.T) *flexMatchEvents {
	t.Helper()
	r := &flexMatchEvents{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e struct {
			DetailType string         `json:"detail-type"`
			Detail     flexMatchEvent `json:"detail"`
		}
		if err := json.NewDecoder(req.Body).Decode(&e); err != nil || e.DetailType != "GameLift Matchmaking Event" {
			return
		}
		r.mu.Lock()
		r.got = append(r.got, e.Detail)
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// wait returns the first event of the kind for which match holds, failing the test if none
// arrives in time.
func (r *flexMatchEvents) wait(t *testing.T, what, kind string, match func(flexMatchEvent) bool) flexMatchEvent {
	t.Helper()
	var found flexMatchEvent
	eventually(t, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.got {
			if e.Type == kind && match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// count is how many events of the kind hold ticketID.
func (r *flexMatchEvents) count(kind, ticketID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.got {
		if e.Type == kind && slices.ContainsFunc(e.Tickets, func(tk flexMatchEventTicket) bool { return tk.TicketID == ticketID }) {
			n++
		}
	}
	return n
}

// acceptance is a player's acceptance status in an event: "accepted", "rejected", or
// "missing" where AcceptMatch has not been called for them.
func acceptance(p flexMatchEventPlayer) string {
	switch {
	case p.Accepted == nil:
		return "missing"
	case *p.Accepted:
		return "accepted"
	default:
		return "rejected"
	}
}

// eventAcceptances maps each player of an event's tickets to its acceptance status, and
// each player of its gameSessionInfo (under "info:") to theirs, with their team.
func eventAcceptances(e flexMatchEvent) (tickets map[string]string, info map[string]string) {
	tickets, info = map[string]string{}, map[string]string{}
	for _, tk := range e.Tickets {
		for _, p := range tk.Players {
			tickets[tk.TicketID+"/"+p.PlayerID] = acceptance(p)
		}
	}
	for _, p := range e.GameSessionInfo.Players {
		if p.Team == "" {
			info[p.PlayerID] = "no team"
			continue
		}
		info[p.PlayerID] = acceptance(p)
	}
	return tickets, info
}

// startAcceptanceConfig makes a STANDALONE 2v2 configuration that requires acceptance within
// 30 seconds, with events sent to the receiver.
func startAcceptanceConfig(t *testing.T, events *flexMatchEvents) queueWorld {
	t.Helper()
	ctx := context.Background()
	q := newQueueWorld(t, func(c *server.Config) { c.EventWebhooks = []webhook.Target{{URL: events.URL}} })
	must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("casual"),
		RuleSetName: aws.String("duel"), RequestTimeoutSeconds: aws.Int32(120), AcceptanceRequired: aws.Bool(true),
		AcceptanceTimeoutSeconds: aws.Int32(30), FlexMatchMode: types.FlexMatchModeStandalone}))(t)
	return q
}

// The AcceptMatch event holds every ticket of the proposed match with each player's
// acceptance status (absent for those who have not answered), and gameSessionInfo with the
// match's players and teams, as GameLift's FlexMatch events reference shows: a backend can
// count acceptances from the events alone.
func TestMatchmakingAcceptMatchEventHasTheWholeMatch(t *testing.T) {
	ctx := context.Background()
	events := newFlexMatchEvents(t)
	q := startAcceptanceConfig(t, events)
	start := func(id string, players ...types.Player) {
		t.Helper()
		must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("casual"), Players: players}))(t)
	}
	start("duo", skilled("ann", 20), skilled("bob", 24))
	start("cat", skilled("cat", 22))
	start("dan", skilled("dan", 21))
	for _, id := range []string{"duo", "cat", "dan"} {
		q.waitTicket(t, id, types.MatchmakingConfigurationStatusRequiresAcceptance)
	}

	// Ann accepts for herself; Bob, Cat and Dan have not answered.
	must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String("duo"), PlayerIds: []string{"ann"}, AcceptanceType: types.AcceptanceTypeAccept}))(t)
	first := events.wait(t, "the AcceptMatch event of Ann's acceptance", "AcceptMatch", func(flexMatchEvent) bool { return true })
	tickets, info := eventAcceptances(first)
	want := map[string]string{"duo/ann": "accepted", "duo/bob": "missing", "cat/cat": "missing", "dan/dan": "missing"}
	if !equalMaps(tickets, want) {
		t.Errorf("the first AcceptMatch event's tickets say %v, want %v", tickets, want)
	}
	wantInfo := map[string]string{"ann": "accepted", "bob": "missing", "cat": "missing", "dan": "missing"}
	if !equalMaps(info, wantInfo) {
		t.Errorf("the first AcceptMatch event's gameSessionInfo says %v, want %v (with teams)", info, wantInfo)
	}
	if first.MatchID == "" {
		t.Error("the AcceptMatch event has no matchId")
	}

	// Cat rejects: the event shows Ann's acceptance and Cat's rejection.
	must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String("cat"), PlayerIds: []string{"cat"}, AcceptanceType: types.AcceptanceTypeReject}))(t)
	second := events.wait(t, "the AcceptMatch event of Cat's rejection", "AcceptMatch", func(e flexMatchEvent) bool { return !reflect.DeepEqual(e, first) })
	tickets, info = eventAcceptances(second)
	want = map[string]string{"duo/ann": "accepted", "duo/bob": "missing", "cat/cat": "rejected", "dan/dan": "missing"}
	if !equalMaps(tickets, want) {
		t.Errorf("the second AcceptMatch event's tickets say %v, want %v", tickets, want)
	}
	wantInfo = map[string]string{"ann": "accepted", "bob": "missing", "cat": "rejected", "dan": "missing"}
	if !equalMaps(info, wantInfo) {
		t.Errorf("the second AcceptMatch event's gameSessionInfo says %v, want %v (with teams)", info, wantInfo)
	}
	if second.MatchID != first.MatchID {
		t.Errorf("the two AcceptMatch events name matches %q and %q", first.MatchID, second.MatchID)
	}
	// The rejection completes the acceptance for the whole match, not just Cat's ticket.
	done := events.wait(t, "AcceptMatchCompleted", "AcceptMatchCompleted", func(flexMatchEvent) bool { return true })
	if done.Acceptance != "Rejected" || len(done.Tickets) != 3 || len(done.GameSessionInfo.Players) != 4 {
		t.Errorf("AcceptMatchCompleted = %+v, want Rejected with the match's 3 tickets and 4 players", done)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A ticket sent back to SEARCHING because its proposed match failed acceptance (another
// player rejected it, or did not answer in time) says so in its StatusReason and
// StatusMessage, and gets a new MatchmakingSearching event (GameLift's MatchmakingTicket
// reference and FlexMatch events reference name this case). The reason is gone once the
// ticket is in another match.
func TestMatchmakingSearchingAgainAfterFailedAcceptance(t *testing.T) {
	ctx := context.Background()
	events := newFlexMatchEvents(t)
	q := startAcceptanceConfig(t, events)
	start := func(id string, skill float64) {
		t.Helper()
		must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("casual"),
			Players: []types.Player{skilled("p-"+id, skill)}}))(t)
	}
	accept := func(id string, how types.AcceptanceType) {
		t.Helper()
		must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String(id), PlayerIds: []string{"p-" + id}, AcceptanceType: how}))(t)
	}
	searchingAgain := func(id string, searchEvents int) {
		t.Helper()
		tk := q.waitTicket(t, id, types.MatchmakingConfigurationStatusSearching)
		if aws.ToString(tk.StatusReason) != "ACCEPTANCE_FAILED" || aws.ToString(tk.StatusMessage) == "" {
			t.Errorf("ticket %s back in SEARCHING has StatusReason %q, StatusMessage %q; want ACCEPTANCE_FAILED and a message",
				id, aws.ToString(tk.StatusReason), aws.ToString(tk.StatusMessage))
		}
		eventually(t, "ticket "+id+" has its MatchmakingSearching event", func() bool {
			return events.count("MatchmakingSearching", id) >= searchEvents
		})
	}

	for i, id := range []string{"a", "b", "c", "d"} {
		start(id, float64(20+i))
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		q.waitTicket(t, id, types.MatchmakingConfigurationStatusRequiresAcceptance)
	}
	if tk := q.ticket(t, "a"); tk.StatusReason != nil {
		t.Errorf("a ticket new to a match has StatusReason %q", aws.ToString(tk.StatusReason))
	}

	// A, B and C accept, D rejects: A, B and C search again, each with a second MatchmakingSearching event.
	for _, id := range []string{"a", "b", "c"} {
		accept(id, types.AcceptanceTypeAccept)
	}
	accept("d", types.AcceptanceTypeReject)
	q.waitTicket(t, "d", types.MatchmakingConfigurationStatusCancelled)
	for _, id := range []string{"a", "b", "c"} {
		searchingAgain(id, 2)
	}

	// E makes a new match: in it, the tickets' reason is gone.
	start("e", 21)
	for _, id := range []string{"a", "b", "c", "e"} {
		if tk := q.waitTicket(t, id, types.MatchmakingConfigurationStatusRequiresAcceptance); tk.StatusReason != nil || tk.StatusMessage != nil {
			t.Errorf("ticket %s in a new proposed match keeps StatusReason %q, StatusMessage %q", id, aws.ToString(tk.StatusReason), aws.ToString(tk.StatusMessage))
		}
	}

	// A and B accept, C and E let the acceptance time out: A and B search again.
	accept("a", types.AcceptanceTypeAccept)
	accept("b", types.AcceptanceTypeAccept)
	q.clock.Advance(31 * time.Second)
	q.waitTicket(t, "c", types.MatchmakingConfigurationStatusCancelled)
	q.waitTicket(t, "e", types.MatchmakingConfigurationStatusCancelled)
	for _, id := range []string{"a", "b"} {
		searchingAgain(id, 3)
	}
}

// MatchmakingSucceeded names the session's players as GameLift's event does: playerId,
// playerSessionId and team, the names a backend reads.
func TestMatchmakingSucceededEventNamesPlayers(t *testing.T) {
	ctx := context.Background()
	events := newFlexMatchEvents(t)
	q := newQueueWorld(t, func(c *server.Config) { c.EventWebhooks = []webhook.Target{{URL: events.URL}} })
	startProcess(t, q.sdkWorld, "proc-events", 7812, true)
	queue := q.queue(t, "matches", nil)
	must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("placed"),
		RuleSetName: aws.String("duel"), RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false),
		GameSessionQueueArns: []string{aws.ToString(queue.GameSessionQueueArn)}}))(t)
	for i, id := range []string{"w", "x", "y", "z"} {
		must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("placed"),
			Players: []types.Player{skilled("p-"+id, float64(20+i))}}))(t)
	}
	sessions := map[string]string{}
	for _, id := range []string{"w", "x", "y", "z"} {
		for _, ps := range q.waitTicket(t, id, types.MatchmakingConfigurationStatusCompleted).GameSessionConnectionInfo.MatchedPlayerSessions {
			sessions[aws.ToString(ps.PlayerId)] = aws.ToString(ps.PlayerSessionId)
		}
	}
	e := events.wait(t, "MatchmakingSucceeded", "MatchmakingSucceeded", func(flexMatchEvent) bool { return true })
	if len(e.GameSessionInfo.Players) != 4 {
		t.Fatalf("MatchmakingSucceeded gameSessionInfo.players = %+v, want the 4 players", e.GameSessionInfo.Players)
	}
	for _, p := range e.GameSessionInfo.Players {
		if p.PlayerID == "" || p.PlayerSessionID == "" || p.PlayerSessionID != sessions[p.PlayerID] || p.Team == "" {
			t.Errorf("player %+v: want playerId, its playerSessionId %q and team", p, sessions[p.PlayerID])
		}
	}
}
