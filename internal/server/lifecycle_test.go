package server_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// activeSession starts a process and gives it an ACTIVE session of maxPlayers.
func activeSession(t *testing.T, w *sdkWorld, processID string, port int, token string, maxPlayers int32) (*gameProcess, types.GameSession) {
	t.Helper()
	p := startProcess(t, w, processID, port, true)
	gs, err := w.createSession(context.Background(), token, maxPlayers)
	if err != nil {
		t.Fatal(err)
	}
	received(t, p)
	if err := <-p.errs; err != nil {
		t.Fatal(err)
	}
	return p, w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
}

func TestPlayerSessionRules(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	proc, gs := activeSession(t, w, "proc-p", 7500, "players-1", 3)
	id := gs.GameSessionId

	// Up to 25 at once, all or none; a full session refuses the rest.
	many := must(w.api.CreatePlayerSessions(ctx, &gl.CreatePlayerSessionsInput{GameSessionId: id, PlayerIds: []string{"a", "b"},
		PlayerDataMap: map[string]string{"a": "team red"}}))(t).PlayerSessions
	if len(many) != 2 || aws.ToString(many[0].PlayerData) != "team red" || many[1].PlayerData != nil {
		t.Errorf("CreatePlayerSessions = %+v", many)
	}
	_, err := w.api.CreatePlayerSessions(ctx, &gl.CreatePlayerSessionsInput{GameSessionId: id, PlayerIds: []string{"c", "d"}})
	apiError(t, err, "GameSessionFullException")
	_, err = w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: id, PlayerId: aws.String("a")})
	apiError(t, err, "InvalidRequestException") // the same player twice
	if n := aws.ToInt32(w.session(t, id).CurrentPlayerSessionCount); n != 2 {
		t.Errorf("count = %d, want 2 (a refused batch adds nobody)", n)
	}

	// DENY_ALL closes the session to new players; ACCEPT_ALL opens it again.
	must(w.api.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: id, PlayerSessionCreationPolicy: types.PlayerSessionCreationPolicyDenyAll}))(t)
	_, err = w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: id, PlayerId: aws.String("c")})
	apiError(t, err, "GameSessionFullException")
	if err := proc.sdk.UpdatePlayerSessionCreationPolicy(ctx, gameserver.AcceptAll); err != nil {
		t.Fatal(err)
	}
	c := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: id, PlayerId: aws.String("c")}))(t).PlayerSession

	// Reservations nobody claims in 60 s time out; a claimed one stays.
	if err := proc.sdk.AcceptPlayerSession(ctx, aws.ToString(many[0].PlayerSessionId)); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(61 * time.Second)
	eventually(t, "unclaimed reservations time out", func() bool {
		out := must(w.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{GameSessionId: id, PlayerSessionStatusFilter: aws.String("TIMEDOUT")}))(t)
		return len(out.PlayerSessions) == 2
	})
	if n := aws.ToInt32(w.session(t, id).CurrentPlayerSessionCount); n != 1 {
		t.Errorf("count after time-outs = %d, want the 1 ACTIVE player", n)
	}
	err = proc.sdk.AcceptPlayerSession(ctx, aws.ToString(c.PlayerSessionId))
	if err == nil || !strings.Contains(err.Error(), "TIMEDOUT instead of RESERVED") {
		t.Errorf("accepting a timed-out reservation: %v", err)
	}

	// Paging through a session's player sessions.
	var seen int
	p := gl.NewDescribePlayerSessionsPaginator(w.api, &gl.DescribePlayerSessionsInput{GameSessionId: id, Limit: aws.Int32(2)})
	for p.HasMorePages() {
		seen += len(must(p.NextPage(ctx))(t).PlayerSessions)
	}
	if seen != 3 {
		t.Errorf("paged %d player sessions, want 3", seen)
	}
	_, err = w.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{})
	apiError(t, err, "InvalidRequestException")

	// When the session ends, its players are COMPLETED.
	proc.sdk.ProcessEnding(ctx)
	out := must(w.api.DescribePlayerSessions(ctx, &gl.DescribePlayerSessionsInput{PlayerSessionId: many[0].PlayerSessionId}))(t).PlayerSessions
	if out[0].Status != types.PlayerSessionStatusCompleted {
		t.Errorf("the ACTIVE player after the session ended is %s", out[0].Status)
	}
	_, err = w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: id, PlayerId: aws.String("late")})
	apiError(t, err, "InvalidGameSessionStatusException")
}

func TestUpdateAndDescribeGameSessions(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	_, gs := activeSession(t, w, "proc-u", 7600, "upd-1", 4)
	upd := must(w.api.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: gs.GameSessionId,
		MaximumPlayerSessionCount: aws.Int32(10), Name: aws.String("renamed"), ProtectionPolicy: types.ProtectionPolicyFullProtection,
		GameProperties: []types.GameProperty{{Key: aws.String("map"), Value: aws.String("dunes")}}}))(t).GameSession
	if aws.ToInt32(upd.MaximumPlayerSessionCount) != 10 || aws.ToString(upd.Name) != "renamed" || len(upd.GameProperties) != 1 {
		t.Errorf("UpdateGameSession = %+v", upd)
	}
	details := must(w.api.DescribeGameSessionDetails(ctx, &gl.DescribeGameSessionDetailsInput{FleetId: aws.String(w.fleetID)}))(t).GameSessionDetails
	if len(details) != 1 || details[0].ProtectionPolicy != types.ProtectionPolicyFullProtection {
		t.Errorf("details = %+v", details)
	}
	for _, tc := range []struct {
		in   *gl.DescribeGameSessionsInput
		want int
	}{
		{&gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID)}, 1},
		{&gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID), StatusFilter: aws.String("ACTIVE")}, 1},
		{&gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID), StatusFilter: aws.String("TERMINATED")}, 0},
		{&gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1")}, 1},
		{&gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-other")}, 0},
	} {
		if got := len(must(w.api.DescribeGameSessions(ctx, tc.in))(t).GameSessions); got != tc.want {
			t.Errorf("DescribeGameSessions(status %v, location %v) = %d sessions, want %d", aws.ToString(tc.in.StatusFilter), aws.ToString(tc.in.Location), got, tc.want)
		}
	}
	_, err := w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{})
	apiError(t, err, "InvalidRequestException")
	_, err = w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: aws.String(w.fleetID), StatusFilter: aws.String("SLEEPING")})
	apiError(t, err, "InvalidRequestException")
}

func TestTerminateGameSession(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	proc, gs := activeSession(t, w, "proc-t", 7700, "term-1", 4)

	_, err := w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeForceTerminate})
	apiError(t, err, "InvalidRequestException") // an Anywhere process has no agent to stop it

	out := must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId,
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t).GameSession
	if out.Status != types.GameSessionStatusTerminating {
		t.Errorf("after TRIGGER_ON_PROCESS_TERMINATE: %s, want TERMINATING", out.Status)
	}
	select {
	case <-proc.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("OnProcessTerminate never ran")
	}
	if _, err := proc.sdk.GetTerminationTime(); err != nil {
		t.Errorf("GetTerminationTime after TerminateProcess: %v", err)
	}
	if err := proc.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	ended := w.session(t, gs.GameSessionId)
	if ended.Status != types.GameSessionStatusTerminated || ended.StatusReason != types.GameSessionStatusReasonTriggeredOnProcessTerminate {
		t.Errorf("ended = %s / %s", ended.Status, ended.StatusReason)
	}
	_, err = w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeTriggerOnProcessTerminate})
	apiError(t, err, "InvalidGameSessionStatusException")
}

// A process that dies (its socket closes and it never comes back) ends its session as
// INTERRUPTED once the reconnect grace has passed, and frees its place.
func TestLostProcessEndsItsSession(t *testing.T) {
	w := newSDKWorld(t)
	proc, gs := activeSession(t, w, "proc-lost", 7800, "lost-1", 4)
	proc.sdk.Destroy() // closes the socket without ProcessEnding, as a crash does
	eventually(t, "the lost process stops counting", func() bool { return w.activeProcesses(t) == 0 })
	w.clock.Advance(31 * time.Second)
	ended := w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusTerminated)
	if ended.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Errorf("status reason = %q, want INTERRUPTED", ended.StatusReason)
	}
}

// A restart in the middle: the session, its token and its players survive; the process
// reconnects with its ID and keeps hosting; the token still places nothing new.
func TestSessionsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &fakeClock{now: time.Now()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := server.Config{Addr: addr, DataDir: dir, Credentials: testCreds, Clock: clock, Logger: quietLogger(), SweepInterval: 5 * time.Millisecond}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &sdkWorld{srv: srv, api: client(srv.Endpoint, testCreds.SecretAccessKey), clock: clock}
	fa := anywhereFleet(t, w.api, "custom-sdk-1")
	w.fleetID, w.compute = aws.ToString(fa.FleetId), "host-1"
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"), IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	w.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)
	proc, gs := activeSession(t, w, "proc-restart", 7900, "survive-1", 4)
	ps := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("bob")}))(t).PlayerSession

	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err = server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	w.srv = srv
	if st := w.session(t, gs.GameSessionId).Status; st != types.GameSessionStatusActive {
		t.Errorf("after restart the session is %s", st)
	}
	// The search index is rebuilt from the store: the session is found as it was.
	found := must(w.api.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: &w.fleetID, FilterExpression: aws.String("playerSessionCount = 1")}))(t)
	if len(found.GameSessions) != 1 || aws.ToString(found.GameSessions[0].GameSessionId) != aws.ToString(gs.GameSessionId) {
		t.Errorf("after restart SearchGameSessions finds %d sessions", len(found.GameSessions))
	}
	replay := must(w.createSession(ctx, "survive-1", 8))(t) // other parameters: still a replay
	if aws.ToString(replay.GameSessionId) != aws.ToString(gs.GameSessionId) || aws.ToInt32(replay.MaximumPlayerSessionCount) != 4 {
		t.Errorf("the token placed a new session after restart: %s", aws.ToString(replay.GameSessionId))
	}
	// The SDK reconnects by itself (2 s between tries); the process then takes its
	// session back and can accept the player reserved before the restart.
	eventually(t, "the process is back", func() bool { return w.activeProcesses(t) == 1 })
	if err := proc.sdk.AcceptPlayerSession(ctx, aws.ToString(ps.PlayerSessionId)); err != nil {
		t.Errorf("accept after restart: %v", err)
	}
	if err := proc.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.session(t, gs.GameSessionId).Status; st != types.GameSessionStatusTerminated {
		t.Errorf("after ProcessEnding: %s", st)
	}
}

// Ended sessions are kept 30 days with their token reserved, then purged; the token is
// then free for a new session.
func TestEndedSessionsArePurgedAfter30Days(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	proc, gs := activeSession(t, w, "proc-old", 8200, "old-1", 2)
	if err := proc.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(29 * 24 * time.Hour)
	time.Sleep(50 * time.Millisecond) // sweeps run; the session must stay
	if st := w.session(t, gs.GameSessionId).Status; st != types.GameSessionStatusTerminated {
		t.Fatalf("after 29 days: %s", st)
	}
	w.clock.Advance(2 * 24 * time.Hour)
	eventually(t, "the session is purged", func() bool {
		_, err := w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId})
		return err != nil
	})
	w.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: aws.String(w.fleetID), ComputeName: aws.String(w.compute)}))(t).AuthToken)
	startProcess(t, w, "proc-new", 8201, true)
	again, err := w.createSession(ctx, "old-1", 2)
	if err != nil || again.Status != types.GameSessionStatusActivating {
		t.Errorf("the freed token: %+v, %v", again, err)
	}
}
