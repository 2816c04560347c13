package server_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// gameProcess is a server process on sdk/gameserver, in this test binary.
type gameProcess struct {
	sdk      *gameserver.Client
	port     int
	started  chan gameserver.GameSession
	ended    chan struct{} // OnProcessTerminate ran
	errs     chan error    // from ActivateGameSession in the callback
	activate bool
	onUpdate func(gameserver.UpdateGameSession) // set before a session arrives
}

// startProcess connects a process and makes it ready on port; it activates each session
// it is given when activate is set.
func startProcess(t *testing.T, w *sdkWorld, id string, port int, activate bool) *gameProcess {
	t.Helper()
	c, err := gameserver.Connect(context.Background(), w.params(id), gameserver.Options{Logger: quietLogger(), HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() })
	p := &gameProcess{sdk: c, port: port, started: make(chan gameserver.GameSession, 1), ended: make(chan struct{}, 1),
		errs: make(chan error, 1), activate: activate}
	err = c.ProcessReady(context.Background(), gameserver.ProcessParameters{
		Port: port,
		OnStartGameSession: func(gs gameserver.GameSession) {
			if p.activate {
				p.errs <- c.ActivateGameSession(context.Background())
			}
			p.started <- gs
		},
		OnProcessTerminate: func() { p.ended <- struct{}{} },
		OnUpdateGameSession: func(u gameserver.UpdateGameSession) {
			if p.onUpdate != nil {
				p.onUpdate(u)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *sdkWorld) createSession(ctx context.Context, token string, maxPlayers int32) (*types.GameSession, error) {
	in := &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String(cmp.Or(w.location, "custom-sdk-1")), MaximumPlayerSessionCount: aws.Int32(maxPlayers)}
	if token != "" {
		in.IdempotencyToken = aws.String(token)
	}
	out, err := w.api.CreateGameSession(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.GameSession, nil
}

func (w *sdkWorld) session(t *testing.T, id *string) types.GameSession {
	t.Helper()
	out := must(w.api.DescribeGameSessions(context.Background(), &gl.DescribeGameSessionsInput{GameSessionId: id}))(t)
	if len(out.GameSessions) != 1 {
		t.Fatalf("DescribeGameSessions(%s) = %d sessions", aws.ToString(id), len(out.GameSessions))
	}
	return out.GameSessions[0]
}

func (w *sdkWorld) waitStatus(t *testing.T, id *string, want types.GameSessionStatus) types.GameSession {
	t.Helper()
	var gs types.GameSession
	eventually(t, fmt.Sprintf("game session is %s", want), func() bool { gs = w.session(t, id); return gs.Status == want })
	return gs
}

func received(t *testing.T, p *gameProcess) gameserver.GameSession {
	t.Helper()
	select {
	case gs := <-p.started:
		return gs
	case <-time.After(10 * time.Second):
		t.Fatal("the process never got CreateGameSession")
	}
	return gameserver.GameSession{}
}

// The seed, end to end: every parameter of CreateGameSession reaches the answer and the
// process; the session is ACTIVATING, then ACTIVE with the process's address; players
// reserve, join and leave; ProcessEnding ends it; the token returns it and places nothing.
func TestCreateGameSessionEndToEnd(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	proc := startProcess(t, w, "proc-1", 7777, true)

	out, err := w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{
		FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(4),
		Name: aws.String("harbor match"), CreatorId: aws.String("player-9"), IdempotencyToken: aws.String("match-1"),
		GameSessionData: aws.String("seed=42"),
		GameProperties:  []types.GameProperty{{Key: aws.String("map"), Value: aws.String("harbor")}, {Key: aws.String("mode"), Value: aws.String("duel")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gs := out.GameSession
	wantID := "arn:aws:gamelift:us-west-2::gamesession/" + w.fleetID + "/match-1"
	checks := []struct {
		what      string
		got, want any
	}{
		{"GameSessionId", aws.ToString(gs.GameSessionId), wantID},
		{"Status", gs.Status, types.GameSessionStatusActivating},
		{"FleetId", aws.ToString(gs.FleetId), w.fleetID},
		{"FleetArn", strings.HasSuffix(aws.ToString(gs.FleetArn), ":fleet/"+w.fleetID), true},
		{"Name", aws.ToString(gs.Name), "harbor match"},
		{"CurrentPlayerSessionCount", aws.ToInt32(gs.CurrentPlayerSessionCount), int32(0)},
		{"MaximumPlayerSessionCount", aws.ToInt32(gs.MaximumPlayerSessionCount), int32(4)},
		{"PlayerSessionCreationPolicy", gs.PlayerSessionCreationPolicy, types.PlayerSessionCreationPolicyAcceptAll},
		{"IpAddress", aws.ToString(gs.IpAddress), "127.0.0.1"},
		{"Port", aws.ToInt32(gs.Port), int32(7777)},
		{"CreatorId", aws.ToString(gs.CreatorId), "player-9"},
		{"GameSessionData", aws.ToString(gs.GameSessionData), "seed=42"},
		{"Location", aws.ToString(gs.Location), "custom-sdk-1"},
		{"GameProperties", len(gs.GameProperties), 2},
		{"CreationTime set", gs.CreationTime != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}

	pushed := received(t, proc)
	if err := <-proc.errs; err != nil {
		t.Fatalf("ActivateGameSession: %v", err)
	}
	if pushed.GameSessionID != wantID || pushed.GameSessionData != "seed=42" || pushed.GameProperties["map"] != "harbor" ||
		pushed.MaximumPlayerSessionCount != 4 || pushed.Port != 7777 || pushed.Name != "harbor match" || pushed.FleetID != w.fleetID {
		t.Errorf("the process got %+v", pushed)
	}
	active := w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
	if aws.ToString(active.IpAddress) != "127.0.0.1" || aws.ToInt32(active.Port) != 7777 {
		t.Errorf("ACTIVE session address = %s:%d", aws.ToString(active.IpAddress), aws.ToInt32(active.Port))
	}
	u := must(w.api.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{w.fleetID}}))(t).FleetUtilization[0]
	if aws.ToInt32(u.ActiveGameSessionCount) != 1 || aws.ToInt32(u.MaximumPlayerSessionCount) != 4 {
		t.Errorf("utilization = sessions %d, max players %d", aws.ToInt32(u.ActiveGameSessionCount), aws.ToInt32(u.MaximumPlayerSessionCount))
	}

	// A player: RESERVED, then ACTIVE when the game accepts it, COMPLETED when it leaves.
	ps := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("alice"), PlayerData: aws.String("lvl 3")}))(t).PlayerSession
	if ps.Status != types.PlayerSessionStatusReserved || aws.ToInt32(ps.Port) != 7777 || !strings.HasPrefix(aws.ToString(ps.PlayerSessionId), "psess-") {
		t.Errorf("player session = %+v", ps)
	}
	if n := aws.ToInt32(w.session(t, gs.GameSessionId).CurrentPlayerSessionCount); n != 1 {
		t.Errorf("count with one reservation = %d, want 1", n)
	}
	if err := proc.sdk.AcceptPlayerSession(ctx, aws.ToString(ps.PlayerSessionId)); err != nil {
		t.Fatal(err)
	}
	if err := proc.sdk.AcceptPlayerSession(ctx, aws.ToString(ps.PlayerSessionId)); err == nil {
		t.Error("accepting a player twice succeeded")
	}
	byID := must(w.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{PlayerSessionId: ps.PlayerSessionId}))(t).PlayerSessions
	if len(byID) != 1 || byID[0].Status != types.PlayerSessionStatusActive || aws.ToString(byID[0].PlayerData) != "lvl 3" {
		t.Errorf("DescribePlayerSessions by ID = %+v", byID)
	}
	fromGame, err := proc.sdk.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{GameSessionID: wantID})
	if err != nil || len(fromGame.PlayerSessions) != 1 || fromGame.PlayerSessions[0].Status != "ACTIVE" || fromGame.PlayerSessions[0].CreationTime == 0 {
		t.Errorf("DescribePlayerSessions from the game server = %+v, %v", fromGame, err)
	}
	if err := proc.sdk.RemovePlayerSession(ctx, aws.ToString(ps.PlayerSessionId)); err != nil {
		t.Fatal(err)
	}
	byPlayer := must(w.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{PlayerId: aws.String("alice")}))(t).PlayerSessions
	if len(byPlayer) != 1 || byPlayer[0].Status != types.PlayerSessionStatusCompleted || byPlayer[0].TerminationTime == nil {
		t.Errorf("after RemovePlayerSession = %+v", byPlayer)
	}
	if n := aws.ToInt32(w.session(t, gs.GameSessionId).CurrentPlayerSessionCount); n != 0 {
		t.Errorf("count after the player left = %d", n)
	}

	// The game ends.
	if err := proc.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	ended := w.session(t, gs.GameSessionId)
	if ended.Status != types.GameSessionStatusTerminated || ended.TerminationTime == nil || ended.StatusReason != "" {
		t.Errorf("after ProcessEnding: status %s, reason %q, termination %v", ended.Status, ended.StatusReason, ended.TerminationTime)
	}

	// The token returns the original session with its current status, and places nothing.
	replayed := must(w.createSession(ctx, "match-1", 4))(t)
	if aws.ToString(replayed.GameSessionId) != wantID || replayed.Status != types.GameSessionStatusTerminated || aws.ToString(replayed.Name) != "harbor match" {
		t.Errorf("replayed = %s %s %q", aws.ToString(replayed.GameSessionId), replayed.Status, aws.ToString(replayed.Name))
	}
}

// TestIdempotentReplays: a token is processed once. Every later request with it gets the
// original session back, whatever its other parameters and the fleet's state, and no
// process is given a second session; the deprecated GameSessionId is a custom ID that
// cannot be reused.
func TestIdempotentReplays(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	startProcess(t, w, "proc-i1", 7101, true)
	startProcess(t, w, "proc-i2", 7102, true)
	base := func() *gl.CreateGameSessionInput {
		return &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"),
			MaximumPlayerSessionCount: aws.Int32(4), Name: aws.String("first"), IdempotencyToken: aws.String("tok-1"),
			CreatorId: aws.String("alice"), GameSessionData: aws.String("d"),
			GameProperties: []types.GameProperty{{Key: aws.String("mode"), Value: aws.String("duel")}}}
	}
	first := must(w.api.CreateGameSession(ctx, base()))(t).GameSession
	w.waitStatus(t, first.GameSessionId, types.GameSessionStatusActive)

	cases := []struct {
		name string
		edit func(*gl.CreateGameSessionInput)
	}{
		{"same parameters", func(*gl.CreateGameSessionInput) {}},
		{"other name, data and players", func(in *gl.CreateGameSessionInput) {
			in.Name, in.GameSessionData, in.MaximumPlayerSessionCount = aws.String("second"), aws.String("other"), aws.Int32(9)
		}},
		{"other properties", func(in *gl.CreateGameSessionInput) { in.GameProperties = nil }},
		{"other creator, at once (no creator limit applies)", func(in *gl.CreateGameSessionInput) { in.CreatorId = aws.String("bob") }},
		{"same creator, at once", func(*gl.CreateGameSessionInput) {}},
		{"no location", func(in *gl.CreateGameSessionInput) { in.Location = nil }},
		{"a location the fleet does not have", func(in *gl.CreateGameSessionInput) { in.Location = aws.String("custom-nowhere") }},
		{"with a deprecated GameSessionId too", func(in *gl.CreateGameSessionInput) { in.GameSessionId = aws.String("tok-other") }},
	}
	for _, c := range cases {
		in := base()
		c.edit(in)
		got, err := w.api.CreateGameSession(ctx, in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		gs := got.GameSession
		if aws.ToString(gs.GameSessionId) != aws.ToString(first.GameSessionId) || gs.Status != types.GameSessionStatusActive ||
			aws.ToString(gs.Name) != "first" || aws.ToInt32(gs.MaximumPlayerSessionCount) != 4 || aws.ToInt32(gs.Port) != aws.ToInt32(first.Port) {
			t.Errorf("%s: replay = %s %s %q max %d port %d", c.name, aws.ToString(gs.GameSessionId), gs.Status, aws.ToString(gs.Name), aws.ToInt32(gs.MaximumPlayerSessionCount), aws.ToInt32(gs.Port))
		}
	}
	if n := w.activeProcesses(t); n != 2 {
		t.Errorf("%d processes connected", n)
	}
	if sessions := must(w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID)}))(t).GameSessions; len(sessions) != 1 {
		t.Errorf("replays made %d sessions", len(sessions))
	}

	// The deprecated GameSessionId names a session: the first request makes it, a second
	// with the same ID is IdempotentParameterMismatchException.
	byID := func() *gl.CreateGameSessionInput {
		return &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"),
			MaximumPlayerSessionCount: aws.Int32(2), GameSessionId: aws.String("custom-1")}
	}
	custom := must(w.api.CreateGameSession(ctx, byID()))(t).GameSession
	if !strings.HasSuffix(aws.ToString(custom.GameSessionId), "/custom-1") {
		t.Errorf("GameSessionId custom-1 made %s", aws.ToString(custom.GameSessionId))
	}
	var mismatch *types.IdempotentParameterMismatchException
	if _, err := w.api.CreateGameSession(ctx, byID()); !errors.As(err, &mismatch) {
		t.Errorf("reused GameSessionId: %v, want IdempotentParameterMismatchException", err)
	}
	// A token equal to that ID replays it: the token is the ID string.
	in := byID()
	in.GameSessionId, in.IdempotencyToken = nil, aws.String("custom-1")
	if got := must(w.api.CreateGameSession(ctx, in))(t).GameSession; aws.ToString(got.GameSessionId) != aws.ToString(custom.GameSessionId) {
		t.Errorf("token custom-1 made %s", aws.ToString(got.GameSessionId))
	}

	// A replay still answers when the fleet can no longer take new sessions.
	must(w.api.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: aws.String(w.fleetID)}))(t)
	if got, err := w.api.CreateGameSession(ctx, base()); err != nil || aws.ToString(got.GameSession.GameSessionId) != aws.ToString(first.GameSessionId) {
		t.Errorf("replay on a fleet being deleted: %v", err)
	}
	in = base()
	in.IdempotencyToken = aws.String("tok-new")
	var status *types.InvalidFleetStatusException
	if _, err := w.api.CreateGameSession(ctx, in); !errors.As(err, &status) {
		t.Errorf("a new token on a fleet being deleted: %v, want InvalidFleetStatusException", err)
	}
}

func TestCreateGameSessionRules(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	startProcess(t, w, "proc-r1", 7001, true)
	simple := must(w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("live"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: aws.String(w.fleetID)}}))(t).Alias
	terminal := must(w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("off"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("season over")}}))(t).Alias
	in := func(edit func(*gl.CreateGameSessionInput)) *gl.CreateGameSessionInput {
		v := &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)}
		edit(v)
		return v
	}
	props := make([]types.GameProperty, 17)
	for i := range props {
		props[i] = types.GameProperty{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
	}
	cases := []struct {
		name string
		in   *gl.CreateGameSessionInput
		code string
		says string
	}{
		{"fleet and alias", in(func(v *gl.CreateGameSessionInput) { v.AliasId = simple.AliasId }), "InvalidRequestException", "not both"},
		{"neither fleet nor alias", in(func(v *gl.CreateGameSessionInput) { v.FleetId = nil }), "InvalidRequestException", "FleetId or an AliasId"},
		{"terminal alias", in(func(v *gl.CreateGameSessionInput) { v.FleetId, v.AliasId = nil, terminal.AliasId }), "TerminalRoutingStrategyException", "season over"},
		{"unknown fleet", in(func(v *gl.CreateGameSessionInput) {
			v.FleetId = aws.String("fleet-00000000-0000-0000-0000-000000000000")
		}), "NotFoundException", "fleet-00000000"},
		{"unknown alias", in(func(v *gl.CreateGameSessionInput) {
			v.FleetId, v.AliasId = nil, aws.String("alias-00000000-0000-0000-0000-000000000000")
		}), "NotFoundException", "alias-00000000"},
		{"Anywhere fleet without location", in(func(v *gl.CreateGameSessionInput) { v.Location = nil }), "InvalidRequestException", "Location is required"},
		{"location not of the fleet", in(func(v *gl.CreateGameSessionInput) { v.Location = aws.String("custom-elsewhere") }), "InvalidRequestException", "custom-elsewhere"},
		{"49-character token", in(func(v *gl.CreateGameSessionInput) { v.IdempotencyToken = aws.String(strings.Repeat("t", 49)) }), "InvalidRequestException", "idempotencyToken"},
		{"token with a bad character", in(func(v *gl.CreateGameSessionInput) { v.IdempotencyToken = aws.String("a_b") }), "InvalidRequestException", "idempotencyToken"},
		{"17 game properties", in(func(v *gl.CreateGameSessionInput) { v.GameProperties = props }), "InvalidRequestException", "gameProperties"},
		{"negative max players", in(func(v *gl.CreateGameSessionInput) { v.MaximumPlayerSessionCount = aws.Int32(-1) }), "InvalidRequestException", "maximumPlayerSessionCount"},
		{"game session data too long", in(func(v *gl.CreateGameSessionInput) { v.GameSessionData = aws.String(strings.Repeat("d", 262145)) }), "InvalidRequestException", "gameSessionData"},
		{"deprecated GameSessionId too long", in(func(v *gl.CreateGameSessionInput) { v.GameSessionId = aws.String(strings.Repeat("g", 49)) }), "InvalidRequestException", "gameSessionId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.api.CreateGameSession(ctx, tc.in)
			if msg := apiError(t, err, tc.code); !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not mention %q", msg, tc.says)
			}
		})
	}

	// A SIMPLE alias (by ARN) routes to its fleet; the deprecated GameSessionId names the session.
	gs := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{AliasId: simple.AliasArn, Location: aws.String("custom-sdk-1"),
		MaximumPlayerSessionCount: aws.Int32(2), GameSessionId: aws.String("legacy-7")}))(t).GameSession
	if aws.ToString(gs.FleetId) != w.fleetID || !strings.HasSuffix(aws.ToString(gs.GameSessionId), "/"+w.fleetID+"/legacy-7") {
		t.Errorf("alias session = %s on %s", aws.ToString(gs.GameSessionId), aws.ToString(gs.FleetId))
	}
	// Its one process is busy now: no capacity.
	_, err := w.createSession(ctx, "", 2)
	apiError(t, err, "FleetCapacityExceededException")
}

// Many parallel creates on a fleet with fewer processes: exactly as many succeed as there
// are processes, each on its own process.
func TestConcurrentCreatesNeverShareAProcess(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	const processes, creates = 5, 24
	for i := range processes {
		startProcess(t, w, fmt.Sprint("proc-c", i), 7100+i, true)
	}
	var mu sync.Mutex
	ports := map[int32]int{}
	failures := map[string]int{}
	var wg sync.WaitGroup
	for range creates {
		wg.Go(func() {
			gs, err := w.createSession(ctx, "", 8)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				var full *types.FleetCapacityExceededException
				if errors.As(err, &full) {
					failures["capacity"]++
				} else {
					failures[err.Error()]++
				}
				return
			}
			ports[aws.ToInt32(gs.Port)]++
		})
	}
	wg.Wait()
	if len(ports) != processes || failures["capacity"] != creates-processes || len(failures) != 1 {
		t.Errorf("sessions per port %v, failures %v: want %d sessions on %d distinct processes and %d FleetCapacityExceeded",
			ports, failures, processes, processes, creates-processes)
	}
	for port, n := range ports {
		if n != 1 {
			t.Errorf("process on port %d got %d sessions", port, n)
		}
	}
}

func TestCreatorLimits(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	for i := range 4 {
		startProcess(t, w, fmt.Sprint("proc-l", i), 7200+i, true)
	}
	create := func(creator *string) error {
		_, err := w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1"),
			MaximumPlayerSessionCount: aws.Int32(2), CreatorId: creator})
		return err
	}
	// No policy: one a second per creator.
	if err := create(aws.String("c1")); err != nil {
		t.Fatal(err)
	}
	apiError(t, create(aws.String("c1")), "LimitExceededException")
	w.clock.Advance(1100 * time.Millisecond)
	if err := create(aws.String("c1")); err != nil {
		t.Errorf("a second later: %v", err)
	}

	// With a policy: 1 per 1 minute here, and a CreatorId is required.
	must(w.api.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: aws.String(w.fleetID),
		ResourceCreationLimitPolicy: &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: aws.Int32(1), PolicyPeriodInMinutes: aws.Int32(1)}}))(t)
	apiError(t, create(nil), "InvalidRequestException")
	if err := create(aws.String("c2")); err != nil {
		t.Fatal(err)
	}
	apiError(t, create(aws.String("c2")), "LimitExceededException")
	w.clock.Advance(61 * time.Second)
	if err := create(aws.String("c2")); err != nil {
		t.Errorf("after the policy period: %v", err)
	}
}

func TestActivationTimeoutEndsSession(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	must(w.api.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: aws.String(w.fleetID), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses:                     []types.ServerProcess{{LaunchPath: aws.String("/opt/game/server"), ConcurrentExecutions: aws.Int32(1)}},
		GameSessionActivationTimeoutSeconds: aws.Int32(30),
	}}))(t)
	proc := startProcess(t, w, "proc-slow", 7300, false)
	gs, err := w.createSession(ctx, "slow-1", 2)
	if err != nil {
		t.Fatal(err)
	}
	received(t, proc)
	_, err = w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("early")})
	apiError(t, err, "InvalidGameSessionStatusException") // ACTIVATING takes no players

	w.clock.Advance(31 * time.Second)
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusTerminated)
	select {
	case <-proc.ended:
	case <-time.After(10 * time.Second):
		t.Error("the process that never activated was not asked to end")
	}
}

func TestMaxConcurrentActivationsPerCompute(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	must(w.api.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: aws.String(w.fleetID), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses:                     []types.ServerProcess{{LaunchPath: aws.String("/opt/game/server"), ConcurrentExecutions: aws.Int32(2)}},
		MaxConcurrentGameSessionActivations: aws.Int32(1),
	}}))(t)
	procs := map[int32]*gameProcess{7400: startProcess(t, w, "proc-a", 7400, false), 7401: startProcess(t, w, "proc-b", 7401, false)}
	first, err := w.createSession(ctx, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.createSession(ctx, "", 2)
	apiError(t, err, "FleetCapacityExceededException") // the compute already activates one session
	host := procs[aws.ToInt32(first.Port)]
	received(t, host)
	if err := host.sdk.ActivateGameSession(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.createSession(ctx, "", 2); err != nil {
		t.Errorf("once the first session is ACTIVE, the compute takes another: %v", err)
	}
}

// A session in a managed fleet's remote location lands on a host registered there; with
// no Location it goes to the home Region. The host's DNS name travels with the session.
func TestRemoteLocationSessions(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds,
		Logger: quietLogger(), NoLocalAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	api := client(srv.Endpoint, testCreds.SecretAccessKey)
	fa := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("global"),
		RuntimeConfiguration: runtimeOf("/opt/game/server", 1), Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}}))(t).FleetAttributes
	eventually(t, "the fleet is ACTIVATING", func() bool { return fleetStatus(t, api, fa.FleetId) == types.FleetStatusActivating })
	// A host in the home Region makes the fleet ACTIVE; its process takes the first session.
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("oregon-1"), IpAddress: aws.String("10.0.0.1")}))(t)
	homeTok := must(api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("oregon-1")}))(t)
	startProcess(t, &sdkWorld{srv: srv, api: api, fleetID: aws.ToString(fa.FleetId), compute: "oregon-1", tok: aws.ToString(homeTok.AuthToken)}, "proc-oregon", 7777, true)
	waitFleetActive(t, api, fa.FleetId)
	home := must(api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	if aws.ToString(home.Location) != "us-west-2" || aws.ToString(home.IpAddress) != "10.0.0.1" {
		t.Errorf("session with no Location: location %s, ip %s", aws.ToString(home.Location), aws.ToString(home.IpAddress))
	}
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("dublin-1"),
		IpAddress: aws.String("10.1.2.3"), DnsName: aws.String("dublin-1.games.example"), Location: aws.String("eu-west-1")}))(t)
	tok := must(api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("dublin-1")}))(t)
	w := &sdkWorld{srv: srv, api: api, fleetID: aws.ToString(fa.FleetId), compute: "dublin-1", tok: aws.ToString(tok.AuthToken)}
	startProcess(t, w, "proc-dublin", 7777, true)

	_, err = api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "FleetCapacityExceededException") // the home Region's one process is taken
	_, err = api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(2), Location: aws.String("ap-south-1")})
	apiError(t, err, "InvalidRequestException") // not a location of this fleet
	gs := must(api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(2), Location: aws.String("eu-west-1")}))(t).GameSession
	if aws.ToString(gs.Location) != "eu-west-1" || aws.ToString(gs.IpAddress) != "10.1.2.3" || aws.ToString(gs.DnsName) != "dublin-1.games.example" {
		t.Errorf("remote session = location %s, ip %s, dns %s", aws.ToString(gs.Location), aws.ToString(gs.IpAddress), aws.ToString(gs.DnsName))
	}
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
}

// DescribeGameSessions pages through a fleet's sessions with a status filter: every page
// holds at most Limit sessions, and the pages together hold exactly the matching ones.
func TestDescribeGameSessionsPagesWithAFilter(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	var active, ended []string
	procs := map[int]*gameProcess{}
	for i := range 24 {
		procs[7000+i] = startProcess(t, w, fmt.Sprintf("proc-page-%d", i), 7000+i, true)
	}
	eventually(t, "the processes are ready", func() bool { return w.activeProcesses(t) == 24 })
	for i := range 24 {
		gs := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &w.fleetID, Location: aws.String("custom-sdk-1"),
			MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
		w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
		if i%3 == 0 {
			must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId,
				TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
			if err := procs[int(aws.ToInt32(gs.Port))].sdk.ProcessEnding(ctx); err != nil {
				t.Fatal(err)
			}
			ended = append(ended, aws.ToString(gs.GameSessionId))
			continue
		}
		active = append(active, aws.ToString(gs.GameSessionId))
	}
	for _, id := range ended {
		w.waitStatus(t, &id, types.GameSessionStatusTerminated)
	}
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		if pages > 24 {
			t.Fatal("paging does not end")
		}
		out := must(w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: &w.fleetID, StatusFilter: aws.String("ACTIVE"),
			Limit: aws.Int32(5), NextToken: token}))(t)
		if len(out.GameSessions) > 5 {
			t.Errorf("a page of %d sessions, over the limit of 5", len(out.GameSessions))
		}
		for _, gs := range out.GameSessions {
			if gs.Status != types.GameSessionStatusActive {
				t.Errorf("%s is %s", aws.ToString(gs.GameSessionId), gs.Status)
			}
			got = append(got, aws.ToString(gs.GameSessionId))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(active) {
		t.Errorf("pages hold %d sessions %v, want the %d ACTIVE ones in creation order %v", len(got), got, len(active), active)
	}
	_, err := w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: &w.fleetID, NextToken: aws.String("o3")})
	apiError(t, err, "InvalidRequestException")
}
