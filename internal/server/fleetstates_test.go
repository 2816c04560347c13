package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/server"
)

func eventCodes(t *testing.T, c *gl.Client, fleetID *string) []types.EventCode {
	t.Helper()
	var codes []types.EventCode
	for _, e := range must(c.DescribeFleetEvents(context.Background(), &gl.DescribeFleetEventsInput{FleetId: fleetID}))(t).Events {
		codes = append(codes, e.EventCode)
	}
	return codes
}

// waitLastEvent waits for the fleet's latest event to be code: events follow the status
// change they record.
func waitLastEvent(t *testing.T, c *gl.Client, fleetID *string, code types.EventCode) {
	t.Helper()
	eventually(t, "the last event is "+string(code), func() bool {
		codes := eventCodes(t, c, fleetID)
		return len(codes) > 0 && codes[len(codes)-1] == code
	})
}

func eventMessages(t *testing.T, c *gl.Client, fleetID *string, code types.EventCode) string {
	t.Helper()
	var msgs []string
	for _, e := range must(c.DescribeFleetEvents(context.Background(), &gl.DescribeFleetEventsInput{FleetId: fleetID}))(t).Events {
		if e.EventCode == code {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	return strings.Join(msgs, "\n")
}

// uploadBuild makes a READY build of the files given (path -> content; mode 0755).
func uploadBuild(t *testing.T, srv *server.Server, c *gl.Client, files map[string][]byte) *string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	archive := must(builds.Zip(dir))(t)
	b := must(c.CreateBuild(context.Background(), &gl.CreateBuildInput{Name: aws.String("b")}))(t).Build
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	if err := builds.Upload(context.Background(), srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), creds, archive); err != nil {
		t.Fatal(err)
	}
	return b.BuildId
}

func buildFleet(t *testing.T, c *gl.Client, buildID *string, launchPath string) *string {
	t.Helper()
	return must(c.CreateFleet(context.Background(), &gl.CreateFleetInput{Name: aws.String("built"), BuildId: buildID,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{
			{LaunchPath: aws.String(launchPath), Parameters: aws.String("-port 0"), ConcurrentExecutions: aws.Int32(1)}}}}))(t).FleetAttributes.FleetId
}

// A build's install.sh runs on the host before any process: here it makes the very file
// the launch path names. An install script that fails puts the fleet in ERROR, with the
// script's output in the event, and nothing is launched.
func TestInstallScript(t *testing.T) {
	dataDir := t.TempDir()
	srv, c := start(t, dataDir)
	bin := must(os.ReadFile(gameServerBinary(t)))(t)

	good := uploadBuild(t, srv, c, map[string][]byte{
		"dist/lobby": bin,
		"install.sh": []byte("#!/bin/sh\nset -e\nsleep 0.2\nmkdir -p bin\ncp dist/lobby bin/lobby\nchmod 755 bin/lobby\n"),
	})
	fleet := buildFleet(t, c, good, "/local/game/bin/lobby")
	waitFleetActive(t, c, fleet)
	codes := eventCodes(t, c, fleet)
	running, completed := slices.Index(codes, types.EventCodeFleetCreationRunningInstaller), slices.Index(codes, types.EventCodeFleetCreationCompletedInstaller)
	if running < 0 || completed < running || slices.Contains(codes, types.EventCodeServerProcessInvalidPath) {
		t.Errorf("events = %v: want the installer to run and complete before any launch", codes)
	}
	if extracting := slices.Index(codes, types.EventCodeFleetCreationExtractingBuild); extracting < 0 || extracting > running {
		t.Errorf("events = %v: want the build extracted before its installer runs", codes)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "host-builds", aws.ToString(good), "bin", "lobby")); err != nil {
		t.Errorf("the install script's output is not in the build directory: %v", err)
	}

	bad := uploadBuild(t, srv, c, map[string][]byte{
		"bin/lobby":  bin,
		"install.sh": []byte("#!/bin/sh\necho missing dependency libfoo >&2\nexit 3\n"),
	})
	broken := buildFleet(t, c, bad, "/local/game/bin/lobby")
	eventually(t, "the fleet is in ERROR", func() bool { return fleetStatus(t, c, broken) == types.FleetStatusError })
	if msg := eventMessages(t, c, broken, types.EventCodeFleetCreationFailedInstaller); !strings.Contains(msg, "missing dependency libfoo") || !strings.Contains(msg, "exit status 3") {
		t.Errorf("FLEET_CREATION_FAILED_INSTALLER says %q", msg)
	}
	if codes := eventCodes(t, c, broken); !slices.Contains(codes, types.EventCodeFleetActivationFailed) || slices.Contains(codes, types.EventCodeFleetStateActive) {
		t.Errorf("events = %v", codes)
	}
	if n := fleetProcesses(t, c, broken); n != 0 {
		t.Errorf("%d processes run on a build whose install failed", n)
	}
}

// Processes that start but never call ProcessReady: the location stays ACTIVATING, then
// goes to ERROR when the activation timeout passes, and its processes are stopped.
func TestFleetActivationTimesOut(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds,
		Logger: quietLogger(), SweepInterval: 20 * time.Millisecond, FleetActivationTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	const sleeper = "/bin/sleep"
	fleet := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("silent"), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String(sleeper), Parameters: aws.String("613"), ConcurrentExecutions: aws.Int32(1)}}}}))(t).FleetAttributes.FleetId
	running := func() bool {
		out, _ := exec.Command("pgrep", "-f", "^"+sleeper+" 613$").Output()
		return len(out) > 0
	}
	eventually(t, "the process runs", running)
	if st := fleetStatus(t, c, fleet); st != types.FleetStatusActivating {
		t.Errorf("fleet with a running process that is not ready is %s", st)
	}
	eventually(t, "the fleet is in ERROR", func() bool { return fleetStatus(t, c, fleet) == types.FleetStatusError })
	if msg := eventMessages(t, c, fleet, types.EventCodeFleetActivationFailed); !strings.Contains(msg, "ProcessReady") {
		t.Errorf("FLEET_ACTIVATION_FAILED says %q", msg)
	}
	eventually(t, "the process is stopped", func() bool { return !running() })
}

// DeleteFleet with a live game session on an Anywhere fleet: the session ends, the game
// server is told to end and does, the compute goes, and the fleet is TERMINATED with
// FLEET_DELETED, still described for half a minute, then gone.
func TestDeleteAnywhereFleetWithLiveSession(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	cmd := exec.Command(gameServerBinary(t))
	cmd.Env = []string{"GAMELIFT_SDK_WEBSOCKET_URL=" + w.srv.SDKEndpoint, "GAMELIFT_SDK_PROCESS_ID=proc-del-1",
		"GAMELIFT_SDK_HOST_ID=" + w.compute, "GAMELIFT_SDK_FLEET_ID=" + w.fleetID, "GAMELIFT_SDK_AUTH_TOKEN=" + w.tok}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually(t, "the game server is ready", func() bool { return w.activeProcesses(t) == 1 })
	gs := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &w.fleetID, Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)

	must(w.api.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: &w.fleetID}))(t)
	if st := fleetStatus(t, w.api, &w.fleetID); st != types.FleetStatusDeleting && st != types.FleetStatusTerminated {
		t.Errorf("right after DeleteFleet the fleet is %s", st)
	}
	ended := w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusTerminated)
	if ended.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Errorf("the session ended with reason %q", ended.StatusReason)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the game server exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the game server was not told to end")
	}
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, w.api, &w.fleetID) == types.FleetStatusTerminated })
	waitLastEvent(t, w.api, &w.fleetID, types.EventCodeFleetDeleted)
	_, err := w.api.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: &w.fleetID, ComputeName: &w.compute})
	apiError(t, err, "NotFoundException")

	// Half a minute after it is TERMINATED, the fleet is gone, as in GameLift: Terraform's
	// AWS provider waits for describe calls to stop returning it.
	w.clock.Advance(31 * time.Second)
	eventually(t, "the TERMINATED fleet is no longer described", func() bool {
		out, err := w.api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{w.fleetID}})
		return (err != nil && strings.Contains(err.Error(), "NotFoundException")) || (err == nil && len(out.FleetAttributes) == 0)
	})
	for _, fa := range must(w.api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{}))(t).FleetAttributes {
		if aws.ToString(fa.FleetId) == w.fleetID {
			t.Errorf("the deleted fleet is still in DescribeFleetAttributes' list")
		}
	}
	_, err = w.api.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: &w.fleetID})
	apiError(t, err, "NotFoundException")
}

// DeleteFleet with a live game session on a managed fleet: the session ends and the host
// agent stops the fleet's processes before the fleet is TERMINATED.
func TestDeleteManagedFleetWithLiveSession(t *testing.T) {
	ctx := context.Background()
	binary := gameServerBinary(t)
	logs := &logBuffer{}
	_, c := startLogging(t, t.TempDir(), logs.logger())
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("doomed"), RuntimeConfiguration: runtimeOf(binary, 2)}))(t).FleetAttributes.FleetId
	eventually(t, "2 processes are ready", func() bool { return fleetProcesses(t, c, id) == 2 })
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	session := func() types.GameSession {
		return must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0]
	}
	eventually(t, "the session is ACTIVE", func() bool { return session().Status == types.GameSessionStatusActive })

	must(c.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: id}))(t)
	_, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "InvalidFleetStatusException")
	eventually(t, "the session is TERMINATED", func() bool { return session().Status == types.GameSessionStatusTerminated })
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, c, id) == types.FleetStatusTerminated })
	if left := pids(t, binary); len(left) != 0 {
		t.Errorf("processes of the deleted fleet still run: %v", left)
	}
	waitLastEvent(t, c, id, types.EventCodeFleetDeleted)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("deleting a fleet logged: %s", line)
		}
	}
}

// A remote location is served by the hosts registered in it. With LocalLocations the
// server's own host serves it too, as a compute of its own: the location becomes ACTIVE
// when a process there is ready, and sessions placed there run on this host.
func TestLocalLocations(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds,
		Logger: quietLogger(), LocalLocations: []string{"eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("two-places"), RuntimeConfiguration: runtimeOf(gameServerBinary(t), 1),
		Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}, {Location: aws.String("ap-south-1")}}}))(t).FleetAttributes.FleetId
	waitFleetActive(t, c, id)
	eventually(t, "eu-west-1 is ACTIVE", func() bool {
		la := must(c.DescribeFleetLocationAttributes(ctx, &gl.DescribeFleetLocationAttributesInput{FleetId: id, Locations: []string{"eu-west-1"}}))(t)
		return la.LocationAttributes[0].LocationState.Status == types.FleetStatusActive
	})
	comp := must(c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: id, ComputeName: aws.String(server.LocalComputeName + "-eu-west-1")}))(t).Compute
	if aws.ToString(comp.Location) != "eu-west-1" {
		t.Errorf("the local host's eu-west-1 compute is in %s", aws.ToString(comp.Location))
	}
	for loc, want := range map[string]int32{"us-west-2": 1, "eu-west-1": 1, "ap-south-1": 0} {
		got := must(c.DescribeFleetLocationCapacity(ctx, &gl.DescribeFleetLocationCapacityInput{FleetId: id, Location: aws.String(loc)}))(t).FleetCapacity
		if n := aws.ToInt32(got.InstanceCounts.ACTIVE); n != want {
			t.Errorf("%s has %d instances, want %d", loc, n, want)
		}
	}
	eventually(t, "a process is ready in eu-west-1", func() bool {
		u := must(c.DescribeFleetLocationUtilization(ctx, &gl.DescribeFleetLocationUtilizationInput{FleetId: id, Location: aws.String("eu-west-1")}))(t)
		return aws.ToInt32(u.FleetUtilization.ActiveServerProcessCount) == 1
	})
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, Location: aws.String("eu-west-1"), MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	if aws.ToString(gs.Location) != "eu-west-1" {
		t.Errorf("session in %s", aws.ToString(gs.Location))
	}
	_, err = c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, Location: aws.String("ap-south-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "FleetCapacityExceededException")
}
