package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/webhook"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

const twoVersusTwo = `{
  "name": "duel",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
  "teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}],
  "rules": [{"name": "FairTeamSkill", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill])"],
             "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 10}]
}`

func skilled(id string, skill float64) types.Player {
	return types.Player{PlayerId: aws.String(id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}}}
}

func (q queueWorld) ticket(t *testing.T, id string) types.MatchmakingTicket {
	t.Helper()
	out := must(q.api.DescribeMatchmaking(context.Background(), &gl.DescribeMatchmakingInput{TicketIds: []string{id}}))(t).TicketList
	if len(out) != 1 {
		t.Fatalf("ticket %s: %d found", id, len(out))
	}
	return out[0]
}

func (q queueWorld) waitTicket(t *testing.T, id string, want types.MatchmakingConfigurationStatus) types.MatchmakingTicket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tk := q.ticket(t, id)
		if tk.Status == want {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s is %s (%s), not %s", id, tk.Status, aws.ToString(tk.StatusMessage), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A 2v2 match made of a party and two solo players, placed through a queue on a real game
// server process, which gets GameLift's MatchmakerData; every ticket completes with its
// players' sessions.
func TestMatchmakingPlacesAMatch(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	proc := startProcess(t, q.sdkWorld, "proc-m1", 7801, true)
	updates := make(chan gameserver.UpdateGameSession, 4)
	proc.onUpdate = func(u gameserver.UpdateGameSession) { updates <- u }
	queue := q.queue(t, "matches", nil)

	_, err := q.api.ValidateMatchmakingRuleSet(ctx, &gl.ValidateMatchmakingRuleSetInput{RuleSetBody: aws.String(`{"name": "x", "teams": []}`)})
	apiError(t, err, "InvalidRequestException")
	if v := must(q.api.ValidateMatchmakingRuleSet(ctx, &gl.ValidateMatchmakingRuleSetInput{RuleSetBody: aws.String(twoVersusTwo)}))(t); !aws.ToBool(v.Valid) {
		t.Fatal("the 2v2 rule set is not valid")
	}
	rs := must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t).RuleSet
	cfg := must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("ranked"),
		RuleSetName: rs.RuleSetArn, RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false),
		GameSessionQueueArns: []string{aws.ToString(queue.GameSessionQueueArn)},
		GameProperties:       []types.GameProperty{{Key: aws.String("mode"), Value: aws.String("ranked")}}}))(t).Configuration
	if cfg.FlexMatchMode != types.FlexMatchModeWithQueue || cfg.BackfillMode != types.BackfillModeManual || aws.ToString(cfg.RuleSetName) != "duel" {
		t.Errorf("configuration = %+v", cfg)
	}
	_, err = q.api.DeleteMatchmakingRuleSet(ctx, &gl.DeleteMatchmakingRuleSetInput{Name: aws.String("duel")})
	apiError(t, err, "InvalidRequestException") // in use

	start := func(id string, players ...types.Player) {
		t.Helper()
		tk := must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("ranked"), Players: players}))(t).MatchmakingTicket
		if tk.Status != types.MatchmakingConfigurationStatusQueued {
			t.Fatalf("a new ticket is %s", tk.Status)
		}
	}
	start("party", skilled("ann", 20), skilled("bob", 24))
	start("solo-1", skilled("cat", 22))
	q.waitTicket(t, "solo-1", types.MatchmakingConfigurationStatusSearching)
	start("solo-2", skilled("dan", 21))
	done := q.waitTicket(t, "party", types.MatchmakingConfigurationStatusCompleted)
	info := done.GameSessionConnectionInfo
	if info == nil || aws.ToInt32(info.Port) != 7801 || len(info.MatchedPlayerSessions) != 2 {
		t.Fatalf("the party's connection info = %+v", info)
	}
	solo := q.waitTicket(t, "solo-2", types.MatchmakingConfigurationStatusCompleted)
	if len(solo.GameSessionConnectionInfo.MatchedPlayerSessions) != 1 || aws.ToString(solo.GameSessionConnectionInfo.GameSessionArn) != aws.ToString(info.GameSessionArn) {
		t.Errorf("solo-2's connection info = %+v", solo.GameSessionConnectionInfo)
	}
	teams := map[string]string{}
	for _, p := range done.Players {
		teams[aws.ToString(p.PlayerId)] = aws.ToString(p.Team)
	}
	if teams["ann"] == "" || teams["ann"] != teams["bob"] {
		t.Errorf("the party was split: %v", teams)
	}
	gs := received(t, proc)
	var data struct {
		MatchID string `json:"matchId"`
		Config  string `json:"matchmakingConfigurationArn"`
		Teams   []struct {
			Name    string `json:"name"`
			Players []struct {
				PlayerID   string `json:"playerId"`
				Attributes map[string]struct {
					Type  string  `json:"attributeType"`
					Value float64 `json:"valueAttribute"`
				} `json:"attributes"`
			} `json:"players"`
		} `json:"teams"`
	}
	if err := json.Unmarshal([]byte(gs.MatchmakerData), &data); err != nil || data.Config != aws.ToString(cfg.ConfigurationArn) || len(data.Teams) != 2 ||
		len(data.Teams[0].Players) != 2 || data.Teams[0].Players[0].Attributes["skill"].Type != "DOUBLE" {
		t.Errorf("MatchmakerData = %s (%v)", gs.MatchmakerData, err)
	}
	session := q.session(t, info.GameSessionArn)
	if aws.ToInt32(session.CurrentPlayerSessionCount) != 4 || len(session.GameProperties) != 1 || aws.ToString(session.GameProperties[0].Value) != "ranked" ||
		!strings.Contains(aws.ToString(session.MatchmakerData), data.MatchID) {
		t.Errorf("the match's session = %+v", session)
	}
	_, err = q.api.StopMatchmaking(ctx, &gl.StopMatchmakingInput{TicketId: aws.String("party")})
	apiError(t, err, "InvalidRequestException")

	// Backfill from the game server: dan leaves; the game asks for a player to take his
	// place, and eve, searching, joins the same session on dan's team.
	var danSession, danTeam string
	for _, ps := range solo.GameSessionConnectionInfo.MatchedPlayerSessions {
		danSession = aws.ToString(ps.PlayerSessionId)
	}
	for _, p := range solo.Players {
		danTeam = aws.ToString(p.Team)
	}
	if err := proc.sdk.AcceptPlayerSession(ctx, danSession); err != nil {
		t.Fatal(err)
	}
	if err := proc.sdk.RemovePlayerSession(ctx, danSession); err != nil {
		t.Fatal(err)
	}
	var stay []gameserver.BackfillPlayer
	for _, tk := range []types.MatchmakingTicket{done, q.ticket(t, "solo-1")} {
		for _, p := range tk.Players {
			stay = append(stay, gameserver.BackfillPlayer{PlayerID: aws.ToString(p.PlayerId), Team: aws.ToString(p.Team),
				Attributes: map[string]any{"skill": aws.ToFloat64(p.PlayerAttributes["skill"].N)}})
		}
	}
	bfID, err := proc.sdk.StartMatchBackfill(ctx, aws.ToString(cfg.ConfigurationArn), stay)
	if err != nil || bfID == "" {
		t.Fatalf("StartMatchBackfill from the game server: %q, %v", bfID, err)
	}
	start("late", skilled("eve", 23))
	late := q.waitTicket(t, "late", types.MatchmakingConfigurationStatusCompleted)
	if aws.ToString(late.GameSessionConnectionInfo.GameSessionArn) != aws.ToString(info.GameSessionArn) || aws.ToString(late.Players[0].Team) != danTeam {
		t.Errorf("eve's ticket = %+v, team %s (dan's was %s)", late.GameSessionConnectionInfo, aws.ToString(late.Players[0].Team), danTeam)
	}
	q.waitTicket(t, bfID, types.MatchmakingConfigurationStatusCompleted)
	select {
	case u := <-updates:
		if u.UpdateReason != "MATCHMAKING_DATA_UPDATED" || u.BackfillTicketID != bfID || !strings.Contains(u.GameSession.MatchmakerData, `"eve"`) {
			t.Errorf("UpdateGameSession = %+v", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the game server got no UpdateGameSession")
	}
}

// Acceptance: a proposed match waits for every player; a rejection cancels the rejecting
// ticket and sends the others back to searching. STANDALONE matches complete without a
// session; unmatched tickets time out; StopMatchmaking cancels.
func TestMatchmakingAcceptanceStandaloneTimeout(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				Type string `json:"type"`
			} `json:"detail"`
		}
		json.NewDecoder(r.Body).Decode(&e)
		if e.DetailType == "GameLift Matchmaking Event" {
			mu.Lock()
			seen[e.Detail.Type]++
			mu.Unlock()
		}
	}))
	defer receiver.Close()
	q := newQueueWorld(t, func(c *server.Config) { c.EventWebhooks = []webhook.Target{{URL: receiver.URL}} })
	must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("casual"),
		RuleSetName: aws.String("duel"), RequestTimeoutSeconds: aws.Int32(120), AcceptanceRequired: aws.Bool(true),
		AcceptanceTimeoutSeconds: aws.Int32(30), FlexMatchMode: types.FlexMatchModeStandalone}))(t)
	for i, id := range []string{"a", "b", "c", "d"} {
		must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("casual"),
			Players: []types.Player{skilled("p-"+id, float64(20+i))}}))(t)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		q.waitTicket(t, id, types.MatchmakingConfigurationStatusRequiresAcceptance)
	}
	for _, id := range []string{"a", "b", "c"} {
		must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String(id), PlayerIds: []string{"p-" + id}, AcceptanceType: types.AcceptanceTypeAccept}))(t)
	}
	if st := q.ticket(t, "a").Status; st != types.MatchmakingConfigurationStatusRequiresAcceptance {
		t.Errorf("with one player still to accept, a is %s", st)
	}
	must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String("d"), PlayerIds: []string{"p-d"}, AcceptanceType: types.AcceptanceTypeReject}))(t)
	q.waitTicket(t, "d", types.MatchmakingConfigurationStatusCancelled)
	q.waitTicket(t, "a", types.MatchmakingConfigurationStatusSearching)

	// A fourth player: the new match is accepted by all, and completes without a session.
	must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("e"), ConfigurationName: aws.String("casual"),
		Players: []types.Player{skilled("p-e", 21)}}))(t)
	for _, id := range []string{"a", "b", "c", "e"} {
		q.waitTicket(t, id, types.MatchmakingConfigurationStatusRequiresAcceptance)
		must(q.api.AcceptMatch(ctx, &gl.AcceptMatchInput{TicketId: aws.String(id), PlayerIds: []string{"p-" + id}, AcceptanceType: types.AcceptanceTypeAccept}))(t)
	}
	if tk := q.waitTicket(t, "e", types.MatchmakingConfigurationStatusCompleted); tk.GameSessionConnectionInfo != nil {
		t.Errorf("a STANDALONE match has connection info: %+v", tk.GameSessionConnectionInfo)
	}

	// Alone, a ticket waits, then times out; another is stopped.
	must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("lonely"), ConfigurationName: aws.String("casual"),
		Players: []types.Player{skilled("p-l", 20)}}))(t)
	must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("quitter"), ConfigurationName: aws.String("casual"),
		Players: []types.Player{skilled("p-q", 20)}}))(t)
	q.waitTicket(t, "quitter", types.MatchmakingConfigurationStatusSearching)
	must(q.api.StopMatchmaking(ctx, &gl.StopMatchmakingInput{TicketId: aws.String("quitter")}))(t)
	q.waitTicket(t, "quitter", types.MatchmakingConfigurationStatusCancelled)
	q.clock.Advance(121 * time.Second)
	q.waitTicket(t, "lonely", types.MatchmakingConfigurationStatusTimedOut)

	eventually(t, "every kind of matchmaking event is delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, kind := range []string{"MatchmakingSearching", "PotentialMatchCreated", "AcceptMatch", "AcceptMatchCompleted",
			"MatchmakingSucceeded", "MatchmakingCancelled", "MatchmakingTimedOut"} {
			if seen[kind] == 0 {
				return false
			}
		}
		return true
	})

	// A player attribute of the wrong type is refused.
	_, err := q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{ConfigurationName: aws.String("casual"),
		Players: []types.Player{{PlayerId: aws.String("x"), PlayerAttributes: map[string]types.AttributeValue{"skill": {S: aws.String("high")}}}}})
	apiError(t, err, "InvalidRequestException")
}

// AUTOMATIC backfill: when a player leaves a matched session, Hoist looks for another
// player itself, and the one found joins that session.
func TestMatchmakingAutomaticBackfill(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	proc := startProcess(t, q.sdkWorld, "proc-auto", 7811, true)
	queue := q.queue(t, "matches", nil)
	must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("auto"),
		RuleSetName: aws.String("duel"), RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false),
		GameSessionQueueArns: []string{aws.ToString(queue.GameSessionQueueArn)}, BackfillMode: types.BackfillModeAutomatic}))(t)
	for i, id := range []string{"w", "x", "y", "z"} {
		must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("auto"),
			Players: []types.Player{skilled("p-"+id, float64(20+i))}}))(t)
	}
	z := q.waitTicket(t, "z", types.MatchmakingConfigurationStatusCompleted)
	received(t, proc)
	leaving := aws.ToString(z.GameSessionConnectionInfo.MatchedPlayerSessions[0].PlayerSessionId)
	if err := proc.sdk.AcceptPlayerSession(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	if err := proc.sdk.RemovePlayerSession(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("newcomer"), ConfigurationName: aws.String("auto"),
		Players: []types.Player{skilled("p-new", 22)}}))(t)
	got := q.waitTicket(t, "newcomer", types.MatchmakingConfigurationStatusCompleted)
	if aws.ToString(got.GameSessionConnectionInfo.GameSessionArn) != aws.ToString(z.GameSessionConnectionInfo.GameSessionArn) ||
		aws.ToString(got.Players[0].Team) != aws.ToString(z.Players[0].Team) {
		t.Errorf("the newcomer went to %s on team %s; want %s, team %s", aws.ToString(got.GameSessionConnectionInfo.GameSessionArn),
			aws.ToString(got.Players[0].Team), aws.ToString(z.GameSessionConnectionInfo.GameSessionArn), aws.ToString(z.Players[0].Team))
	}
}

// A configuration with a ticket in progress cannot be deleted (GameLift: "A matchmaking
// configuration cannot be deleted if it is being used in any active matchmaking
// tickets"); the ticket goes on searching. Once no ticket of it is in progress, it can.
func TestMatchmakingConfigurationInUseIsNotDeleted(t *testing.T) {
	ctx := context.Background()
	q := newQueueWorld(t, func(*server.Config) {})
	must(q.api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	must(q.api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("casual"),
		RuleSetName: aws.String("duel"), RequestTimeoutSeconds: aws.Int32(120), AcceptanceRequired: aws.Bool(false),
		FlexMatchMode: types.FlexMatchModeStandalone}))(t)
	must(q.api.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("alone"), ConfigurationName: aws.String("casual"),
		Players: []types.Player{skilled("p-alone", 20)}}))(t)
	q.waitTicket(t, "alone", types.MatchmakingConfigurationStatusSearching)

	_, err := q.api.DeleteMatchmakingConfiguration(ctx, &gl.DeleteMatchmakingConfigurationInput{Name: aws.String("casual")})
	if msg := apiError(t, err, "InvalidRequestException"); !strings.Contains(msg, "alone") {
		t.Errorf("the refusal does not name the ticket: %q", msg)
	}
	time.Sleep(1500 * time.Millisecond) // a matchmaking pass or more
	if tk := q.ticket(t, "alone"); tk.Status != types.MatchmakingConfigurationStatusSearching {
		t.Errorf("after the refused delete the ticket is %s (%s), not SEARCHING", tk.Status, aws.ToString(tk.StatusMessage))
	}
	if out := must(q.api.DescribeMatchmakingConfigurations(ctx, &gl.DescribeMatchmakingConfigurationsInput{Names: []string{"casual"}}))(t); len(out.Configurations) != 1 {
		t.Errorf("the configuration is gone after a refused delete: %+v", out.Configurations)
	}

	must(q.api.StopMatchmaking(ctx, &gl.StopMatchmakingInput{TicketId: aws.String("alone")}))(t)
	q.waitTicket(t, "alone", types.MatchmakingConfigurationStatusCancelled)
	must(q.api.DeleteMatchmakingConfiguration(ctx, &gl.DeleteMatchmakingConfigurationInput{Name: aws.String("casual")}))(t)
	if out := must(q.api.DescribeMatchmakingConfigurations(ctx, &gl.DescribeMatchmakingConfigurationsInput{Names: []string{"casual"}}))(t); len(out.Configurations) != 0 {
		t.Errorf("the configuration is still there after its delete: %+v", out.Configurations)
	}
}
