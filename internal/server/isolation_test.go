package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// otherFleet adds a second Anywhere fleet to w's server, in location, with a compute of
// the same name as w's: a neighbour that must not see or disturb w.
func (w *sdkWorld) otherFleet(t *testing.T, location string) *sdkWorld {
	t.Helper()
	ctx := context.Background()
	fa := anywhereFleet(t, w.api, location)
	o := &sdkWorld{srv: w.srv, api: w.api, clock: w.clock, fleetID: aws.ToString(fa.FleetId), compute: w.compute, location: location}
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String(o.compute),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String(location)}))(t)
	o.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String(o.compute)}))(t).AuthToken)
	return o
}

// otherCompute registers a second compute in w's fleet and location.
func (w *sdkWorld) otherCompute(t *testing.T, name string) *sdkWorld {
	t.Helper()
	ctx := context.Background()
	o := *w
	o.compute = name
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: aws.String(w.fleetID), ComputeName: aws.String(name),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	o.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: aws.String(w.fleetID), ComputeName: aws.String(name)}))(t).AuthToken)
	return &o
}

// agentCall makes a call on the agent endpoint as w's compute, and returns the HTTP
// status and the decoded answer.
func (w *sdkWorld) agentCall(t *testing.T, call map[string]any) (int, map[string]any) {
	t.Helper()
	call = maps.Clone(call)
	call["FleetId"], call["ComputeName"] = w.fleetID, w.compute
	if _, ok := call["AuthToken"]; !ok {
		call["AuthToken"] = w.tok
	}
	b, _ := json.Marshal(call)
	resp, err := http.Post(w.srv.Endpoint+server.AgentPath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// putLogs uploads a log archive for a process as w's compute.
func (w *sdkWorld) putLogs(t *testing.T, processID string, archive []byte) int {
	t.Helper()
	q := url.Values{"FleetId": {w.fleetID}, "ComputeName": {w.compute}, "AuthToken": {w.tok}, "ProcessId": {processID}}
	req, _ := http.NewRequest(http.MethodPut, w.srv.Endpoint+server.AgentLogsPath+"?"+q.Encode(), bytes.NewReader(archive))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Process IDs are the process's (README suggests proc-1), so they repeat across fleets
// and hosts: the same ID in another fleet, or on another compute of the same fleet, is
// another process, hosts its own session, and is asked to end only for its own.
func TestSameProcessIDInOtherFleetsAndComputes(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	w2 := w.otherFleet(t, "custom-sdk-2")
	w3 := w.otherCompute(t, "host-2")
	p1 := startProcess(t, w, "proc-1", 7001, true)
	p2 := startProcess(t, w2, "proc-1", 7002, true)
	p3 := startProcess(t, w3, "proc-1", 7003, true)

	var sessions []*types.GameSession
	for _, world := range []*sdkWorld{w, w, w2} {
		gs, err := world.createSession(ctx, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, gs)
	}
	for _, p := range []*gameProcess{p1, p2, p3} {
		received(t, p)
	}
	for _, gs := range sessions {
		w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
	}
	if n := w.activeProcesses(t); n != 2 {
		t.Errorf("fleet 1 counts %d active processes, want 2", n)
	}

	// Ending fleet 2's session asks fleet 2's proc-1 to end, and no other.
	must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: sessions[2].GameSessionId,
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
	select {
	case <-p2.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("fleet 2's proc-1 was never asked to end")
	}
	time.Sleep(50 * time.Millisecond)
	for i, p := range []*gameProcess{p1, p3} {
		select {
		case <-p.ended:
			t.Errorf("process %d was asked to end for another fleet's session", i)
		default:
		}
	}
}

// An agent's report that a process exited ends that process of its own compute and
// fleet, and its session, at once; the same process ID on another compute or in another
// fleet is another process, which a report from elsewhere leaves alone.
func TestAgentReportsOnlyItsOwnProcessesExits(t *testing.T) {
	w := newSDKWorld(t)
	w2 := w.otherFleet(t, "custom-sdk-2")
	w3 := w.otherCompute(t, "host-2")
	_, gs := activeSession(t, w, "proc-1", 7001, "mine", 2)
	exited := map[string]any{"Action": "ProcessExited", "ProcessId": "proc-1", "EventCode": "SERVER_PROCESS_CRASHED", "Message": "exit status 2"}
	for _, intruder := range []*sdkWorld{w2, w3} {
		if status, out := intruder.agentCall(t, map[string]any{"Action": "ProcessExited", "ProcessId": "proc-1"}); status != http.StatusOK {
			t.Fatalf("ProcessExited of a process it does not run: %d %v", status, out)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if st := w.session(t, gs.GameSessionId).Status; st != types.GameSessionStatusActive {
		t.Fatalf("another compute's or fleet's report ended the session: %s", st)
	}

	if status, out := w.agentCall(t, exited); status != http.StatusOK {
		t.Fatalf("own ProcessExited: %d %v", status, out)
	}
	if ended := w.session(t, gs.GameSessionId); ended.Status != types.GameSessionStatusTerminated || ended.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Errorf("after its agent reported its exit the session is %s, reason %q", ended.Status, ended.StatusReason)
	}
	if msg := eventMessages(t, w.api, aws.String(w.fleetID), types.EventCodeServerProcessCrashed); msg != "exit status 2" {
		t.Errorf("crash events: %q", msg)
	}
	if status, out := w.agentCall(t, map[string]any{"Action": "ProcessExited", "ProcessId": "proc-2", "EventCode": "FLEET_STATE_ACTIVE"}); status != http.StatusBadRequest {
		t.Errorf("ProcessExited with a fleet state's event code: %d %v", status, out)
	}
}

// A process's DescribePlayerSessions answers about the game session it hosts only: not
// another fleet's, another session's, or a player of either (PlayerData included).
func TestProcessSeesOnlyItsOwnPlayers(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	w2 := w.otherFleet(t, "custom-sdk-2")
	p1, gs1 := activeSession(t, w, "proc-a", 7101, "mine", 4)
	_, gs2 := activeSession(t, w2, "proc-b", 7102, "theirs", 4)
	p3, gs3 := activeSession(t, w, "proc-c", 7103, "neighbour", 4)
	alice := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs1.GameSessionId, PlayerId: aws.String("alice"), PlayerData: aws.String("alice's data")}))(t).PlayerSession
	bob := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs2.GameSessionId, PlayerId: aws.String("bob"), PlayerData: aws.String("bob's secret")}))(t).PlayerSession
	carol := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs3.GameSessionId, PlayerId: aws.String("carol"), PlayerData: aws.String("carol's secret")}))(t).PlayerSession

	mine := must(p1.sdk.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{GameSessionID: aws.ToString(gs1.GameSessionId)}))(t)
	if len(mine.PlayerSessions) != 1 || mine.PlayerSessions[0].PlayerData != "alice's data" {
		t.Errorf("its own session's players = %+v", mine.PlayerSessions)
	}
	byID := must(p1.sdk.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{PlayerSessionID: aws.ToString(alice.PlayerSessionId)}))(t)
	if len(byID.PlayerSessions) != 1 {
		t.Errorf("its own player by player session ID = %+v", byID.PlayerSessions)
	}
	for _, tc := range []struct {
		name string
		req  gameserver.DescribePlayerSessionsRequest
	}{
		{"another fleet's session", gameserver.DescribePlayerSessionsRequest{GameSessionID: aws.ToString(gs2.GameSessionId)}},
		{"another session of its fleet", gameserver.DescribePlayerSessionsRequest{GameSessionID: aws.ToString(gs3.GameSessionId)}},
		{"another fleet's player session", gameserver.DescribePlayerSessionsRequest{PlayerSessionID: aws.ToString(bob.PlayerSessionId)}},
		{"a neighbour's player session", gameserver.DescribePlayerSessionsRequest{PlayerSessionID: aws.ToString(carol.PlayerSessionId)}},
		{"a neighbour's player session, naming its own session", gameserver.DescribePlayerSessionsRequest{
			GameSessionID: aws.ToString(gs1.GameSessionId), PlayerSessionID: aws.ToString(carol.PlayerSessionId)}},
	} {
		out, err := p1.sdk.DescribePlayerSessions(ctx, tc.req)
		var e *gameserver.Error
		if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %+v, %v; want a NotFound refusal", tc.name, out.PlayerSessions, err)
		}
	}
	for _, player := range []string{"bob", "carol"} {
		out, err := p1.sdk.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{PlayerID: player})
		if err != nil || len(out.PlayerSessions) != 0 {
			t.Errorf("by PlayerId %s: %+v, %v; want none", player, out.PlayerSessions, err)
		}
	}
	// Once its session is over, it hosts nothing and sees nothing.
	if err := p3.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := p3.sdk.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{PlayerID: "carol"})
	if err == nil {
		t.Error("a process that ended still describes its players")
	}
}

// A compute speaks for its own processes only: another compute of the same fleet can
// neither read a process's LogPaths nor replace its session's logs.
func TestComputeCannotTouchAnotherComputesLogs(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	intruder := w.otherCompute(t, "host-2")
	p, gs := activeSession(t, w, "proc-logs", 7201, "logs", 2)
	if err := p.sdk.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusTerminated)

	if status, out := intruder.agentCall(t, map[string]any{"Action": "ProcessLogPaths", "ProcessId": "proc-logs"}); status != http.StatusNotFound {
		t.Errorf("another compute's ProcessLogPaths: %d %v", status, out)
	}
	if status := intruder.putLogs(t, "proc-logs", zipOf(t, map[string]string{"forged.log": "nothing happened here"})); status != http.StatusNotFound {
		t.Errorf("another compute's log upload: %d", status)
	}
	if _, err := w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId}); err == nil {
		t.Error("the session has logs that its compute never uploaded")
	}

	// Its own compute may.
	if status, out := w.agentCall(t, map[string]any{"Action": "ProcessLogPaths", "ProcessId": "proc-logs"}); status != http.StatusOK {
		t.Errorf("own ProcessLogPaths: %d %v", status, out)
	}
	if status := w.putLogs(t, "proc-logs", zipOf(t, map[string]string{"match.log": "alice wins"})); status != http.StatusOK {
		t.Errorf("own log upload: %d", status)
	}
	must(w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId}))(t)

	// Uploading again replaces the archive: a session keeps one on disk.
	for range 3 {
		if status := w.putLogs(t, "proc-logs", zipOf(t, map[string]string{"match.log": "alice wins again"})); status != http.StatusOK {
			t.Errorf("own log upload again: %d", status)
		}
	}
	if files := download(t, w.api, gs.GameSessionId); files["match.log"] != "alice wins again" {
		t.Errorf("after uploading again the archive holds %v", files)
	}
	if kept, _ := filepath.Glob(filepath.Join(w.dataDir, "logs", "*")); len(kept) != 1 {
		t.Errorf("log directory holds %v, want the one archive", kept)
	}
}

// A deregistered compute's tokens stop working at once, on the agent endpoint and for
// game server processes, even if it registers again; so do a deleted fleet's.
func TestDeregisteredComputeTokensAreRevoked(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	gone := w.otherCompute(t, "host-2")
	refusedConnect := func(world *sdkWorld, why string) {
		t.Helper()
		p := world.params("proc-x")
		_, err := gameserver.Connect(ctx, p, gameserver.Options{Logger: quietLogger()})
		var e *gameserver.Error
		if !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: SDK connect got %v, want a 401 refusal", why, err)
		}
	}
	event := map[string]any{"Action": "ReportEvent", "EventCode": "SERVER_PROCESS_CRASHED", "Message": "boom"}
	if status, out := gone.agentCall(t, event); status != http.StatusOK {
		t.Fatalf("a live compute's agent call: %d %v", status, out)
	}

	must(w.api.DeregisterCompute(ctx, &gl.DeregisterComputeInput{FleetId: aws.String(w.fleetID), ComputeName: aws.String("host-2")}))(t)
	if status, _ := gone.agentCall(t, event); status != http.StatusUnauthorized {
		t.Errorf("a deregistered compute's agent call: %d", status)
	}
	refusedConnect(gone, "deregistered compute")
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: aws.String(w.fleetID), ComputeName: aws.String("host-2"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	if status, _ := gone.agentCall(t, event); status != http.StatusUnauthorized {
		t.Errorf("the old token after registering again: %d", status)
	}
	refusedConnect(gone, "old token after registering again")

	// The rest of the fleet is untouched; a deleted fleet's tokens go with it.
	if status, out := w.agentCall(t, event); status != http.StatusOK {
		t.Errorf("host-1 after host-2 left: %d %v", status, out)
	}
	// (Its processes may still call ProcessEnding while it is DELETING.)
	must(w.api.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: aws.String(w.fleetID)}))(t)
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, w.api, aws.String(w.fleetID)) == types.FleetStatusTerminated })
	if status, _ := w.agentCall(t, event); status != http.StatusUnauthorized {
		t.Errorf("a deleted fleet's token: %d", status)
	}
	refusedConnect(w, "deleted fleet")
}

// A compute's agent may report a burst of 20 fleet events, then 10 a minute; beyond that
// it is throttled, and a message is kept to its first KiB.
func TestAgentEventsAreBounded(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	neighbour := w.otherCompute(t, "host-2")
	long := strings.Repeat("é", 30_000) // 60 KB
	report := map[string]any{"Action": "ReportEvent", "EventCode": "SERVER_PROCESS_CRASHED", "Message": long}
	var stored, throttled int
	for range 25 {
		switch status, out := w.agentCall(t, report); {
		case status == http.StatusOK:
			stored++
		case status == http.StatusBadRequest && out["__type"] == "ThrottlingException":
			throttled++
		default:
			t.Fatalf("ReportEvent: %d %v", status, out)
		}
	}
	if stored != 20 || throttled != 5 {
		t.Errorf("25 reports at once: %d stored, %d throttled; want 20 and 5", stored, throttled)
	}
	// Another compute of the fleet has its own budget, whole: its burst of 20 is stored
	// after the first compute's was spent. Time refills one's.
	for i := range 20 {
		if status, out := neighbour.agentCall(t, report); status != http.StatusOK {
			t.Fatalf("another compute's report %d: %d %v", i+1, status, out)
		}
	}
	w.clock.Advance(6 * time.Second)
	if status, out := w.agentCall(t, report); status != http.StatusOK {
		t.Errorf("a report 6 s later: %d %v", status, out)
	}
	if status, _ := w.agentCall(t, report); status != http.StatusBadRequest {
		t.Errorf("a second report 6 s later: %d, want throttled", status)
	}

	events := must(w.api.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(w.fleetID)}))(t).Events
	crashes := 0
	for _, e := range events {
		if e.EventCode != types.EventCodeServerProcessCrashed {
			continue
		}
		crashes++
		if msg := aws.ToString(e.Message); len(msg) > 1024 || !utf8.ValidString(msg) || !strings.HasPrefix(long, strings.TrimSuffix(msg, " [truncated]")) {
			t.Fatalf("stored message of %d bytes: %.40q...", len(msg), msg)
		}
	}
	if crashes != 41 {
		t.Errorf("%d crash events stored, want 41", crashes)
	}
}
