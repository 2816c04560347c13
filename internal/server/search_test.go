package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// searchWorld is a server with an Anywhere fleet in two custom locations and named,
// ACTIVE game sessions on real server processes: sessions maps each name to its ID.
type searchWorld struct {
	*sdkWorld
	sessions map[string]string
	names    map[string]string // ID -> name
}

type seeded struct {
	name, location string
	max, players   int32
	props          map[string]string
}

func newSearchWorld(t *testing.T, sessions []seeded) *searchWorld {
	t.Helper()
	ctx := context.Background()
	w := newSDKWorld(t)
	must(w.api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-sdk-2")}))(t)
	must(w.api.CreateFleetLocations(ctx, &gl.CreateFleetLocationsInput{FleetId: &w.fleetID, Locations: []types.LocationConfiguration{{Location: aws.String("custom-sdk-2")}}}))(t)
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: &w.fleetID, ComputeName: aws.String("host-2"),
		IpAddress: aws.String("127.0.0.2"), Location: aws.String("custom-sdk-2")}))(t)
	tok := must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: &w.fleetID, ComputeName: aws.String("host-2")}))(t)
	w2 := *w
	w2.compute, w2.tok, w2.location = "host-2", aws.ToString(tok.AuthToken), "custom-sdk-2"

	sw := &searchWorld{sdkWorld: w, sessions: map[string]string{}, names: map[string]string{}}
	for i, s := range sessions {
		in := &gl.CreateGameSessionInput{FleetId: &w.fleetID, Location: aws.String(s.location), MaximumPlayerSessionCount: aws.Int32(s.max)}
		if s.name != "" {
			in.Name = aws.String(s.name)
		}
		for k, v := range s.props {
			in.GameProperties = append(in.GameProperties, types.GameProperty{Key: aws.String(k), Value: aws.String(v)})
		}
		host := w
		if s.location == "custom-sdk-2" {
			host = &w2
		}
		p := startProcess(t, host, fmt.Sprintf("proc-search-%d", i), 7600+i, true)
		w.clock.Advance(time.Millisecond) // creation times differ, so creation order is known
		gs := must(w.api.CreateGameSession(ctx, in))(t).GameSession
		received(t, p)
		w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
		for j := range s.players {
			must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String(fmt.Sprintf("player-%d-%d", i, j))}))(t)
		}
		label := cmpOr(s.name, fmt.Sprintf("unnamed-%d", i))
		sw.sessions[label] = aws.ToString(gs.GameSessionId)
		sw.names[aws.ToString(gs.GameSessionId)] = label
	}
	return sw
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// search runs one search and returns the names of what it found, in order.
func (w *searchWorld) search(t *testing.T, in gl.SearchGameSessionsInput) string {
	t.Helper()
	if in.FleetId == nil && in.AliasId == nil {
		in.FleetId = &w.fleetID
	}
	out := must(w.api.SearchGameSessions(context.Background(), &in))(t)
	return w.labels(t, out.GameSessions)
}

func (w *searchWorld) labels(t *testing.T, found []types.GameSession) string {
	t.Helper()
	var got []string
	for _, gs := range found {
		if gs.Status != types.GameSessionStatusActive {
			t.Errorf("search returned %s, %s", aws.ToString(gs.GameSessionId), gs.Status)
		}
		got = append(got, w.names[aws.ToString(gs.GameSessionId)])
	}
	return strings.Join(got, " ")
}

// SearchGameSessions filters and sorts a fleet's ACTIVE sessions as GameLift documents,
// through the AWS SDK for Go v2, with the sessions on real server processes.
func TestSearchGameSessions(t *testing.T) {
	ctx := context.Background()
	w := newSearchWorld(t, []seeded{
		{name: "alpha", location: "custom-sdk-1", max: 4, players: 1, props: map[string]string{"mode": "brawl", "map": "dunes"}},
		{name: "bravo", location: "custom-sdk-1", max: 2, players: 2, props: map[string]string{"mode": "ranked"}},
		{name: "Matt's Awesome Game 1", location: "custom-sdk-1", max: 10, players: 0, props: map[string]string{"mode": "brawl"}},
		{location: "custom-sdk-1", max: 8, players: 3},
		{name: "delta", location: "custom-sdk-2", max: 6, players: 0, props: map[string]string{"mode": "brawl"}},
	})
	// Sessions that are not ACTIVE are never found: one ACTIVATING (its process does not
	// activate), one TERMINATED.
	lazy := startProcess(t, w.sdkWorld, "proc-lazy", 7690, false)
	activating := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &w.fleetID, Location: aws.String("custom-sdk-1"),
		Name: aws.String("activating"), MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	received(t, lazy)
	ended := startProcess(t, w.sdkWorld, "proc-ended", 7691, true)
	gone := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &w.fleetID, Location: aws.String("custom-sdk-1"),
		Name: aws.String("ended"), MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	received(t, ended)
	w.waitStatus(t, gone.GameSessionId, types.GameSessionStatusActive)
	if err := ended.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitStatus(t, gone.GameSessionId, types.GameSessionStatusTerminated)
	if st := w.session(t, activating.GameSessionId).Status; st != types.GameSessionStatusActivating {
		t.Fatalf("the lazy process's session is %s", st)
	}

	unnamed := "unnamed-3"
	for _, tc := range []struct{ filter, sort, location, want string }{
		{"", "", "", "alpha bravo Matt's Awesome Game 1 " + unnamed + " delta"}, // creation order
		{"", "creationTimeMillis DESC", "", "delta " + unnamed + " Matt's Awesome Game 1 bravo alpha"},
		{"hasAvailablePlayerSessions = true", "maximumSessions DESC", "", "Matt's Awesome Game 1 " + unnamed + " delta alpha"},
		{"hasAvailablePlayerSessions=false", "", "", "bravo"},
		{"gameSessionProperties.mode = 'brawl'", "playerSessionCount DESC", "", "alpha Matt's Awesome Game 1 delta"},
		{`gameSessionProperties.mode = "brawl" AND NOT gameSessionProperties.map = 'dunes'`, "gameSessionName ASC", "", "Matt's Awesome Game 1 delta"},
		{"gameSessionProperties.mode <> 'brawl'", "", "", "bravo " + unnamed},
		{`gameSessionName = 'Matt\'s Awesome Game 1'`, "", "", "Matt's Awesome Game 1"},
		{"gameSessionName <> 'alpha'", "", "custom-sdk-1", "bravo Matt's Awesome Game 1 " + unnamed},
		{"gameSessionId = '" + w.sessions["bravo"] + "'", "", "", "bravo"},
		{"maximumSessions >= 6 AND playerSessionCount < 3 OR gameSessionName = 'bravo'", "maximumSessions ASC", "", "bravo delta Matt's Awesome Game 1"},
		{"maximumSessions >= 6 AND (playerSessionCount < 3 OR gameSessionName = 'bravo')", "maximumSessions ASC", "", "delta Matt's Awesome Game 1"},
		{"playerSessionCount > 0", "gameSessionName DESC", "", "bravo alpha " + unnamed}, // no name: last
		{"maximumSessions <= 4", "gameSessionProperties.mode ASC", "", "alpha bravo"},
		{"", "gameSessionProperties.map ASC", "", "alpha bravo Matt's Awesome Game 1 " + unnamed + " delta"},
		{"", "", "custom-sdk-2", "delta"},
		{"gameSessionName = 'delta'", "", "custom-sdk-1", ""},
		{"gameSessionName = 'activating' OR gameSessionName = 'ended'", "", "", ""},
	} {
		in := gl.SearchGameSessionsInput{}
		if tc.filter != "" {
			in.FilterExpression = aws.String(tc.filter)
		}
		if tc.sort != "" {
			in.SortExpression = aws.String(tc.sort)
		}
		if tc.location != "" {
			in.Location = aws.String(tc.location)
		}
		if got := w.search(t, in); got != tc.want {
			t.Errorf("filter %q sort %q location %q: [%s], want [%s]", tc.filter, tc.sort, tc.location, got, tc.want)
		}
	}

	// What a session becomes is what the next search sees: players, names, properties, status.
	must(w.api.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: aws.String(w.sessions["alpha"]),
		Name: aws.String("alpha2"), GameProperties: []types.GameProperty{{Key: aws.String("mode"), Value: aws.String("ranked")}}}))(t)
	w.names[w.sessions["alpha"]] = "alpha2"
	must(w.api.CreatePlayerSessions(ctx, &gl.CreatePlayerSessionsInput{GameSessionId: aws.String(w.sessions["delta"]), PlayerIds: []string{"x", "y", "z", "w", "v", "u"}}))(t)
	if got := w.search(t, gl.SearchGameSessionsInput{FilterExpression: aws.String("gameSessionProperties.mode = 'ranked'"), SortExpression: aws.String("gameSessionName ASC")}); got != "alpha2 bravo" {
		t.Errorf("after UpdateGameSession: [%s]", got)
	}
	if got := w.search(t, gl.SearchGameSessionsInput{FilterExpression: aws.String("hasAvailablePlayerSessions = false")}); got != "bravo delta" { // oldest first
		t.Errorf("after filling delta: [%s]", got)
	}
	must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: aws.String(w.sessions["bravo"]), TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
	if got := w.search(t, gl.SearchGameSessionsInput{FilterExpression: aws.String("hasAvailablePlayerSessions = false")}); got != "delta" {
		t.Errorf("after terminating bravo (TERMINATING): [%s]", got)
	}

	// An alias routes to its fleet; a terminal alias answers with its message.
	alias := must(w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("live"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: &w.fleetID}}))(t).Alias
	if got := w.search(t, gl.SearchGameSessionsInput{AliasId: alias.AliasId, Location: aws.String("custom-sdk-2")}); got != "delta" {
		t.Errorf("by alias: [%s]", got)
	}
	if got := w.search(t, gl.SearchGameSessionsInput{AliasId: alias.AliasArn, Location: aws.String("custom-sdk-2")}); got != "delta" {
		t.Errorf("by alias ARN: [%s]", got)
	}
	closed := must(w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("closed"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("season over")}}))(t).Alias
	_, err := w.api.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{AliasId: closed.AliasId})
	if msg := apiError(t, err, "TerminalRoutingStrategyException"); !strings.Contains(msg, "season over") {
		t.Errorf("terminal alias: %s", msg)
	}

	for _, bad := range []struct {
		in   gl.SearchGameSessionsInput
		code string
		msg  string
	}{
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, AliasId: alias.AliasId}, "InvalidRequestException", "not both"},
		{gl.SearchGameSessionsInput{}, "InvalidRequestException", "FleetId or an AliasId is required"},
		{gl.SearchGameSessionsInput{FleetId: aws.String("fleet-nope")}, "NotFoundException", ""},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, Location: aws.String("us-east-1")}, "InvalidRequestException", "not a location of fleet"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: aws.String("maximumSessions > 'ten'")}, "InvalidRequestException",
			"FilterExpression: at column 19: maximumSessions compares with a number, found the string 'ten'"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: aws.String("gameSessionName = 'x' AND (playerSessionCount > 1")}, "InvalidRequestException",
			"FilterExpression: at column 50: expected AND, OR or ')' to close the '(' at column 27, found the end of the expression"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: aws.String("gameSessionName < 'x'")}, "InvalidRequestException", "at column 17: gameSessionName compares with = or <> only"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, SortExpression: aws.String("players DESC")}, "InvalidRequestException", "SortExpression: at column 1: unknown attribute 'players'"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, SortExpression: aws.String("creationTimeMillis SIDEWAYS")}, "InvalidRequestException", "SortExpression: at column 20: expected ASC or DESC"},
		{gl.SearchGameSessionsInput{FleetId: &w.fleetID, NextToken: aws.String("not-a-token")}, "InvalidRequestException", "Invalid NextToken"},
	} {
		_, err := w.api.SearchGameSessions(ctx, &bad.in)
		if msg := apiError(t, err, bad.code); !strings.Contains(msg, bad.msg) {
			t.Errorf("%+v: %s, want %q", bad.in, msg, bad.msg)
		}
	}
}

// Pages of a search hold at most Limit (and never more than 20) sessions, and together
// exactly the matching ones in order; a token serves only the search that made it.
func TestSearchGameSessionsPages(t *testing.T) {
	ctx := context.Background()
	var seed []seeded
	for i := range 23 {
		seed = append(seed, seeded{name: fmt.Sprintf("room-%02d", i), location: "custom-sdk-1", max: int32(2 + i%4), players: int32(i % 3)})
	}
	w := newSearchWorld(t, seed)
	if got := w.search(t, gl.SearchGameSessionsInput{Limit: aws.Int32(100)}); len(strings.Fields(got)) != 20 {
		t.Errorf("Limit 100 gave %d sessions, want GameLift's most, 20", len(strings.Fields(got)))
	}
	filter, sort := aws.String("playerSessionCount < 2"), aws.String("maximumSessions DESC")
	want := w.search(t, gl.SearchGameSessionsInput{FilterExpression: filter, SortExpression: sort})
	if n := len(strings.Fields(want)); n != 16 {
		t.Fatalf("%d match, want 16: %s", n, want)
	}
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		out := must(w.api.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: filter, SortExpression: sort,
			Limit: aws.Int32(3), NextToken: token}))(t)
		if len(out.GameSessions) > 3 || len(out.GameSessions) == 0 {
			t.Errorf("a page of %d sessions", len(out.GameSessions))
		}
		got = append(got, w.labels(t, out.GameSessions))
		if token = out.NextToken; token == nil {
			break
		}
		if pages == 1 {
			// The same token given with another sort is refused, not misread.
			_, err := w.api.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: filter, NextToken: token})
			apiError(t, err, "InvalidRequestException")
		}
	}
	if strings.Join(got, " ") != want {
		t.Errorf("pages of 3:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
