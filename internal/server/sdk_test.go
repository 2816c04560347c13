package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/coder/websocket"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// fakeClock is the injected clock: tests move time instead of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sdkWorld is a server with an Anywhere fleet, one registered compute and a token for it.
type sdkWorld struct {
	srv                   *server.Server
	api                   *gl.Client
	clock                 *fakeClock
	fleetID, compute, tok string
	location              string // "" for custom-sdk-1
	dataDir               string
}

func newSDKWorld(t testing.TB) *sdkWorld {
	t.Helper()
	return newSDKWorldLogging(t, quietLogger())
}

func newSDKWorldLogging(t testing.TB, log *slog.Logger) *sdkWorld {
	t.Helper()
	return newSDKWorldWith(t, func(c *server.Config) { c.Logger = log })
}

// newSDKWorldWith is newSDKWorld with its server's configuration edited first.
func newSDKWorldWith(t testing.TB, edit func(*server.Config)) *sdkWorld {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	dataDir := t.TempDir()
	cfg := server.Config{
		Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Clock: clock,
		Logger: quietLogger(), SweepInterval: 5 * time.Millisecond,
	}
	edit(&cfg)
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	api := client(srv.Endpoint, testCreds.SecretAccessKey)
	fa := anywhereFleet(t, api, "custom-sdk-1")
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1"), CertificatePath: aws.String("/etc/game/cert.pem")}))(t)
	tok := must(api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t)
	return &sdkWorld{srv: srv, api: api, clock: clock, fleetID: aws.ToString(fa.FleetId), compute: "host-1", tok: aws.ToString(tok.AuthToken), dataDir: dataDir}
}

func (w *sdkWorld) params(processID string) gameserver.ServerParameters {
	return gameserver.ServerParameters{WebSocketURL: w.srv.SDKEndpoint, ProcessID: processID, HostID: w.compute, FleetID: w.fleetID, AuthToken: w.tok}
}

// activeProcesses reads DescribeFleetUtilization through the API, as a backend would.
func (w *sdkWorld) activeProcesses(t *testing.T) int32 {
	t.Helper()
	u := must(w.api.DescribeFleetUtilization(context.Background(), &gl.DescribeFleetUtilizationInput{FleetIds: []string{w.fleetID}}))(t)
	return aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
}

// eventually polls cond: processes and sockets are concurrent, so their effects arrive
// a little after the call that caused them.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// gameServerBinary builds examples/gameserver once for the package's tests.
func gameServerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hoist-gameserver")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "gameserver"), "../../examples/gameserver").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build example game server: %v", buildErr)
	}
	return filepath.Join(buildDir, "gameserver")
}

// testGameServerArg makes the test binary a game server (runTestGameServer) rather than
// run tests: a managed fleet's launch script runs it so.
const testGameServerArg = "hoist-test-gameserver"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == testGameServerArg {
		os.Exit(runTestGameServer(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == testPodServerArg {
		os.Exit(runTestPodServer())
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// A process given only the five GAMELIFT_SDK_* variables becomes ready and is counted;
// killed, it stops counting at once and is forgotten after the reconnect grace.
func TestExampleGameServerFromEnvironment(t *testing.T) {
	w := newSDKWorld(t)
	cmd := exec.Command(gameServerBinary(t))
	cmd.Env = []string{
		"GAMELIFT_SDK_WEBSOCKET_URL=" + w.srv.SDKEndpoint,
		"GAMELIFT_SDK_PROCESS_ID=proc-env-1",
		"GAMELIFT_SDK_HOST_ID=" + w.compute,
		"GAMELIFT_SDK_FLEET_ID=" + w.fleetID,
		"GAMELIFT_SDK_AUTH_TOKEN=" + w.tok,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	eventually(t, "the process is counted by DescribeFleetUtilization", func() bool { return w.activeProcesses(t) == 1 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	eventually(t, "the killed process is no longer counted", func() bool { return w.activeProcesses(t) == 0 })
}

func TestTokensAreChecked(t *testing.T) {
	w := newSDKWorld(t)
	ctx := context.Background()
	refused := func(p gameserver.ServerParameters, why string) {
		t.Helper()
		_, err := gameserver.Connect(ctx, p, gameserver.Options{Logger: quietLogger()})
		var e *gameserver.Error
		if !errors.As(err, &e) || e.StatusCode != 401 {
			t.Errorf("%s: got %v, want a 401 refusal", why, err)
		}
	}
	forged := w.params("p-forged")
	forged.AuthToken = "0d3c5a52-2d7e-4a8e-9f3c-5f6e7a8b9c0d"
	refused(forged, "forged token")
	other := w.params("p-other")
	other.HostID = "host-2"
	refused(other, "token of another compute")

	c, err := gameserver.Connect(ctx, w.params("p-good"), gameserver.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("live token refused: %v", err)
	}
	c.Destroy()

	w.clock.Advance(15*time.Minute + time.Second)
	refused(w.params("p-late"), "expired token")
}

func TestSDKClientLifecycle(t *testing.T) {
	w := newSDKWorld(t)
	ctx := context.Background()
	c, err := gameserver.Connect(ctx, w.params("p-life"), gameserver.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	if n := w.activeProcesses(t); n != 0 {
		t.Errorf("connected but not ready: %d active, want 0", n)
	}
	if err := c.ProcessReady(ctx, gameserver.ProcessParameters{Port: 7777}); err != nil {
		t.Fatal(err)
	}
	if n := w.activeProcesses(t); n != 1 {
		t.Errorf("after ProcessReady: %d active, want 1", n)
	}
	_, err = c.DescribePlayerSessions(ctx, gameserver.DescribePlayerSessionsRequest{GameSessionID: "arn:aws:gamelift:us-west-2::gamesession/" + w.fleetID + "/none"})
	if e := (*gameserver.Error)(nil); !errors.As(err, &e) || e.StatusCode != 404 {
		t.Errorf("DescribePlayerSessions of an unknown session: %v, want a 404", err)
	}
	if _, err := c.GetGameSessionID(); err == nil {
		t.Error("GetGameSessionID without a session succeeded")
	}
	if err := c.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.ProcessEnding(ctx); err != nil {
		t.Errorf("a second ProcessEnding is answered too: %v", err)
	}
	if n := w.activeProcesses(t); n != 0 {
		t.Errorf("after ProcessEnding: %d active, want 0", n)
	}
}

// rawProcess is a process speaking the wire by hand, frame by frame.
type rawProcess struct {
	t    testing.TB
	conn *websocket.Conn
}

func dialRaw(t testing.TB, w *sdkWorld, processID string) *rawProcess {
	t.Helper()
	q := url.Values{"pID": {processID}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "ComputeId": {w.compute},
		"FleetId": {w.fleetID}, "IdempotencyToken": {"idem-1"}, "Authorization": {w.tok}}
	conn, _, err := websocket.Dial(context.Background(), w.srv.SDKEndpoint+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &rawProcess{t: t, conn: conn}
}

func (p *rawProcess) send(frame string) {
	p.t.Helper()
	if err := p.conn.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawProcess) recv() map[string]any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := p.conn.Read(ctx)
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatalf("frame %q is not JSON", b)
	}
	return m
}

// TestProtocolFrames sends the frames the official Go Server SDK 5.6.0 sends (field names
// and casing from its model/request package) and checks the answers it expects.
func TestProtocolFrames(t *testing.T) {
	w := newSDKWorld(t)
	p := dialRaw(t, w, "p-raw")
	gs := "arn:aws:gamelift:us-west-2::gamesession/" + w.fleetID + "/nope"
	cases := []struct {
		pins   string
		frame  string
		status float64
		check  func(map[string]any) bool
	}{
		{"ActivateServerProcess (ProcessReady) with its SdkVersion/SdkLanguage/Port/LogPaths answers 200",
			`{"Action":"ActivateServerProcess","RequestId":"r1","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":17777,"LogPaths":[]}`, 200, nil},
		{"HeartbeatServerProcess with HealthStatus answers 200",
			`{"Action":"HeartbeatServerProcess","RequestId":"r2","HealthStatus":true}`, 200, nil},
		{"ActivateGameSession for a session the process does not host answers 404",
			`{"Action":"ActivateGameSession","RequestId":"r3","GameSessionId":"` + gs + `"}`, 404, nil},
		{"AcceptPlayerSession likewise answers 404",
			`{"Action":"AcceptPlayerSession","RequestId":"r4","GameSessionId":"` + gs + `","PlayerSessionId":"psess-1"}`, 404, nil},
		{"RemovePlayerSession likewise answers 404",
			`{"Action":"RemovePlayerSession","RequestId":"r5","GameSessionId":"` + gs + `","PlayerSessionId":"psess-1"}`, 404, nil},
		{"UpdatePlayerSessionCreationPolicy uses PlayerSessionPolicy",
			`{"Action":"UpdatePlayerSessionCreationPolicy","RequestId":"r6","GameSessionId":"` + gs + `","PlayerSessionPolicy":"DENY_ALL"}`, 404, nil},
		{"DescribePlayerSessions of an unknown game session answers 404",
			`{"Action":"DescribePlayerSessions","RequestId":"r7","GameSessionId":"` + gs + `","Limit":10}`, 404, nil},
		{"GetComputeCertificate answers CertificatePath and ComputeName",
			`{"Action":"GetComputeCertificate","RequestId":"r8"}`, 200,
			func(m map[string]any) bool {
				return m["CertificatePath"] == "/etc/game/cert.pem" && m["ComputeName"] == "host-1"
			}},
		{"GetFleetRoleCredentials answers a clear error where no role credentials exist",
			`{"Action":"GetFleetRoleCredentials","RequestId":"r9","RoleArn":"arn:aws:iam::123456789012:role/game","RoleSessionName":"s"}`, 400,
			func(m map[string]any) bool { return strings.Contains(m["ErrorMessage"].(string), "credentials") }},
		{"TerminateServerProcess (ProcessEnding) answers 200",
			`{"Action":"TerminateServerProcess","RequestId":"r10"}`, 200, nil},
		{"and answers a second ProcessEnding too",
			`{"Action":"TerminateServerProcess","RequestId":"r11"}`, 200, nil},
		{"an unknown action answers 400", `{"Action":"DanceServerProcess","RequestId":"r12"}`, 400, nil},
		{"a frame without Action answers 400", `{"RequestId":"r13"}`, 400, nil},
		{"a frame that is not JSON answers 400", `not json`, 400, nil},
		{"a field of the wrong type answers 400", `{"Action":"HeartbeatServerProcess","RequestId":"r15","HealthStatus":"yes"}`, 400, nil},
	}
	for _, tc := range cases {
		p.send(tc.frame)
		m := p.recv()
		var sent struct{ Action, RequestId string }
		json.Unmarshal([]byte(tc.frame), &sent)
		if m["StatusCode"] != tc.status || m["RequestId"] != sent.RequestId || m["Action"] != sent.Action {
			t.Errorf("%s: answer %v", tc.pins, m)
		}
		if _, ok := m["ErrorMessage"].(string); !ok {
			t.Errorf("%s: answer has no ErrorMessage string: %v", tc.pins, m)
		}
		if tc.check != nil && !tc.check(m) {
			t.Errorf("%s: answer %v", tc.pins, m)
		}
	}
}

func TestBadConnectionsAreClosed(t *testing.T) {
	w := newSDKWorld(t)
	closed := func(p *rawProcess) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			if _, _, err := p.conn.Read(ctx); err != nil {
				return ctx.Err() == nil
			}
		}
	}
	huge := dialRaw(t, w, "p-huge")
	// The server may close the socket before the whole frame is written: either way is right.
	huge.conn.Write(context.Background(), websocket.MessageText, []byte(`{"Action":"HeartbeatServerProcess","RequestId":"x","Pad":"`+strings.Repeat("x", 2<<20)+`"}`))
	if !closed(huge) {
		t.Error("a 2 MiB frame did not close the connection")
	}
	flood := dialRaw(t, w, "p-flood")
	go func() {
		for i := 0; i < 5000; i++ {
			if flood.conn.Write(context.Background(), websocket.MessageText, []byte(`{"Action":"HeartbeatServerProcess","RequestId":"f","HealthStatus":true}`)) != nil {
				return
			}
		}
	}()
	if !closed(flood) {
		t.Error("a flood of frames did not close the connection")
	}
	// The endpoint still serves others.
	ok := dialRaw(t, w, "p-ok")
	ok.send(`{"Action":"ActivateServerProcess","RequestId":"a","Port":7000}`)
	if m := ok.recv(); m["StatusCode"] != 200.0 {
		t.Errorf("after bad peers, a good one gets %v", m)
	}
}

func TestProcessLifeRules(t *testing.T) {
	w := newSDKWorld(t)
	activate := func(p *rawProcess) {
		p.send(`{"Action":"ActivateServerProcess","RequestId":"a","Port":7000}`)
		if m := p.recv(); m["StatusCode"] != 200.0 {
			t.Fatalf("activate: %v", m)
		}
	}

	// A reconnect with the same process ID resumes the process: it is ready again without
	// a second ActivateServerProcess.
	first := dialRaw(t, w, "p-resume")
	activate(first)
	first.conn.Close(websocket.StatusNormalClosure, "network blip")
	eventually(t, "the disconnected process stops counting", func() bool { return w.activeProcesses(t) == 0 })
	dialRaw(t, w, "p-resume")
	eventually(t, "the reconnected process counts again", func() bool { return w.activeProcesses(t) == 1 })

	// Three unhealthy heartbeats in a row: the process is asked to end (TerminateProcess,
	// StatusCode 200 so the official SDK runs OnProcessTerminate) and counts no more.
	sick := dialRaw(t, w, "p-sick")
	activate(sick)
	eventually(t, "two processes count", func() bool { return w.activeProcesses(t) == 2 })
	for range 3 {
		sick.send(`{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":false}`)
		if m := sick.recv(); m["StatusCode"] != 200.0 {
			t.Fatalf("unhealthy heartbeat answer: %v", m)
		}
	}
	if m := sick.recv(); m["Action"] != "TerminateProcess" || m["StatusCode"] != 200.0 || m["TerminationTime"] == nil {
		t.Errorf("after 3 unhealthy heartbeats got %v, want a TerminateProcess push", m)
	}
	eventually(t, "the unhealthy process stops counting", func() bool { return w.activeProcesses(t) == 1 })

	// A process silent past the heartbeat window is removed (time moved, not waited for).
	w.clock.Advance(91 * time.Second)
	eventually(t, "the silent process is removed", func() bool { return w.activeProcesses(t) == 0 })
}

// What befalls a process that breaks GameLift's timing is a fleet event, as in GameLift:
// three unhealthy heartbeats (SERVER_PROCESS_TERMINATED_UNHEALTHY), no exit 30 s after
// ProcessEnding (SERVER_PROCESS_PROCESS_EXIT_TIMEOUT), no ProcessReady 5 minutes after
// connecting (SERVER_PROCESS_PROCESS_READY_TIMEOUT, and it is asked to end), and silence
// past the heartbeat window (SERVER_PROCESS_TERMINATED_UNHEALTHY again).
func TestProcessTimeoutsAreFleetEvents(t *testing.T) {
	w := newSDKWorld(t)
	events := func(code types.EventCode) string {
		return eventMessages(t, w.api, aws.String(w.fleetID), code)
	}
	call := func(p *rawProcess, frame string) {
		t.Helper()
		p.send(frame)
		if m := p.recv(); m["StatusCode"] != 200.0 {
			t.Fatalf("%s: %v", frame, m)
		}
	}
	slow := dialRaw(t, w, "p-slow")
	done := dialRaw(t, w, "p-done")
	sick := dialRaw(t, w, "p-sick")
	for _, p := range []*rawProcess{done, sick} {
		call(p, `{"Action":"ActivateServerProcess","RequestId":"a","Port":7000}`)
	}

	for range 3 {
		call(sick, `{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":false}`)
	}
	eventually(t, "a TERMINATED_UNHEALTHY event", func() bool {
		return strings.Contains(events(types.EventCodeServerProcessTerminatedUnhealthy), "p-sick")
	})

	call(done, `{"Action":"TerminateServerProcess","RequestId":"e"}`)
	w.clock.Advance(29 * time.Second)
	time.Sleep(50 * time.Millisecond) // sweeps run every 5 ms
	if msg := events(types.EventCodeServerProcessProcessExitTimeout); msg != "" {
		t.Errorf("PROCESS_EXIT_TIMEOUT within 30 s of ProcessEnding: %q", msg)
	}
	w.clock.Advance(2 * time.Second)
	eventually(t, "a PROCESS_EXIT_TIMEOUT event", func() bool { return strings.Contains(events(types.EventCodeServerProcessProcessExitTimeout), "p-done") })

	// p-slow heartbeats but never calls ProcessReady; the others fall silent. It connected
	// 31 s of clock ago: 4 minutes more keep it within its 5, 40 s more take it past them.
	// Each heartbeat comes before the clock moves a minute, within the 90 s window.
	call(slow, `{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":true}`)
	for range 4 {
		w.clock.Advance(time.Minute)
		call(slow, `{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":true}`)
	}
	time.Sleep(50 * time.Millisecond) // sweeps run every 5 ms
	if msg := events(types.EventCodeServerProcessProcessReadyTimeout); msg != "" {
		t.Errorf("PROCESS_READY_TIMEOUT within 5 minutes of connecting: %q", msg)
	}
	w.clock.Advance(40 * time.Second)
	call(slow, `{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":true}`)
	eventually(t, "a PROCESS_READY_TIMEOUT event", func() bool {
		return strings.Contains(events(types.EventCodeServerProcessProcessReadyTimeout), "p-slow")
	})
	if m := slow.recv(); m["Action"] != "TerminateProcess" {
		t.Errorf("after its ProcessReady timeout the process got %v, want a TerminateProcess push", m)
	}
	if msg := events(types.EventCodeServerProcessTerminatedUnhealthy); !strings.Contains(msg, "p-done on host-1 sent no heartbeat") {
		t.Errorf("after the heartbeat window, TERMINATED_UNHEALTHY events: %q", msg)
	}
}

// Before a process's token expires, the service pushes RefreshConnection with a new one,
// as a frame the official SDK accepts (StatusCode 200), and the new token works.
func TestRefreshConnectionBeforeTokenExpires(t *testing.T) {
	w := newSDKWorld(t)
	p := dialRaw(t, w, "p-refresh")
	// Ready, as a process that connects must be within 5 minutes or be asked to end.
	p.send(`{"Action":"ActivateServerProcess","RequestId":"a","Port":7000}`)
	if m := p.recv(); m["StatusCode"] != 200.0 {
		t.Fatalf("activate: %v", m)
	}
	var m map[string]any
	for range 10 { // to 13m20s, with heartbeats keeping the process alive meanwhile
		w.clock.Advance(80 * time.Second)
		p.send(`{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":true}`)
		for f := p.recv(); f["Action"] != "HeartbeatServerProcess"; f = p.recv() {
			if f["Action"] == "RefreshConnection" {
				m = f
			}
		}
	}
	if m == nil {
		m = p.recv() // the next sweep pushes it
	}
	if m["Action"] != "RefreshConnection" || m["StatusCode"] != 200.0 || m["AuthToken"] == "" || m["RefreshConnectionEndpoint"] != w.srv.SDKEndpoint {
		t.Fatalf("push = %v", m)
	}
	w.tok = m["AuthToken"].(string)
	w.clock.Advance(5 * time.Minute) // the first token has expired; the new one has not
	again := dialRaw(t, w, "p-refresh")
	again.send(`{"Action":"HeartbeatServerProcess","RequestId":"h","HealthStatus":true}`)
	if m := again.recv(); m["StatusCode"] != 200.0 {
		t.Errorf("reconnected with the refreshed token: %v", m)
	}
}

// The example game server's players: JOIN is checked with AcceptPlayerSession, so
// without a game session a join is denied.
func TestExampleGameServerDeniesUnknownPlayers(t *testing.T) {
	w := newSDKWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(gameServerBinary(t), "-port", strconv.Itoa(port))
	cmd.Env = []string{"GAMELIFT_SDK_WEBSOCKET_URL=" + w.srv.SDKEndpoint, "GAMELIFT_SDK_PROCESS_ID=proc-deny",
		"GAMELIFT_SDK_HOST_ID=" + w.compute, "GAMELIFT_SDK_FLEET_ID=" + w.fleetID, "GAMELIFT_SDK_AUTH_TOKEN=" + w.tok}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, "the game server is ready", func() bool { return w.activeProcesses(t) == 1 })
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("JOIN psess-00000000-0000-0000-0000-000000000000\n"))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.HasPrefix(line, "DENIED") {
		t.Errorf("unknown player got %q, want DENIED", line)
	}
	// SIGTERM: the game server calls ProcessEnding and exits cleanly.
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("game server exit after SIGINT: %v", err)
	}
	eventually(t, "the ended process stops counting", func() bool { return w.activeProcesses(t) == 0 })
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// runTestGameServer is a game server for managed fleets in tests: it connects from the
// SDK's environment, lists its arguments in ProcessReady as LogPaths, and when given a
// game session says so on its output, activates it, and ends (ProcessEnding, exit 0). Told
// to end (TerminateProcess), it exits 0 without ProcessEnding.
//
// An argument naming a mode changes what it does with a session:
// crashAfterActivation: it exits with status 2 (no ProcessEnding) crashDelay after
// activating it; neverActivate: it leaves it ACTIVATING.
func runTestGameServer(args []string) int {
	crash := slices.Contains(args, crashAfterActivation)
	never := slices.Contains(args, neverActivate)
	logPaths := slices.DeleteFunc(args, func(a string) bool { return a == crashAfterActivation || a == neverActivate })
	ctx := context.Background()
	c, err := gameserver.ConnectFromEnvironment(ctx, gameserver.Options{Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		return 1
	}
	defer c.Destroy()
	done := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(done) }) }
	err = c.ProcessReady(ctx, gameserver.ProcessParameters{
		Port: 7777, LogParameters: gameserver.LogParameters{LogPaths: logPaths},
		OnStartGameSession: func(gs gameserver.GameSession) {
			fmt.Println("game on:", gs.GameSessionID)
			if never {
				return
			}
			go func() {
				c.ActivateGameSession(ctx)
				if crash {
					time.Sleep(crashDelay)
					os.Exit(2)
				}
				c.ProcessEnding(ctx)
				end()
			}()
		},
		OnProcessTerminate: end,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ProcessReady:", err)
		return 1
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
	}
	return 0
}

// Modes of runTestGameServer, given as its arguments (a runtime configuration's Parameters).
const (
	crashAfterActivation = "-crash-after-activation"
	neverActivate        = "-never-activate"
	crashDelay           = 2 * time.Second
)
