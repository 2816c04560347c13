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

	"github.com/hoist-dev/hoist/internal/server"
)

// pids lists the running processes started from binary.
func pids(t *testing.T, binary string) []string {
	t.Helper()
	out, _ := exec.Command("pgrep", "-f", "^"+binary).Output()
	return strings.Fields(string(out))
}

func fleetProcesses(t *testing.T, c *gl.Client, fleetID *string) int32 {
	t.Helper()
	u := must(c.DescribeFleetUtilization(context.Background(), &gl.DescribeFleetUtilizationInput{FleetIds: []string{aws.ToString(fleetID)}}))(t)
	return aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
}

func fleetStatus(t *testing.T, c *gl.Client, fleetID *string) types.FleetStatus {
	t.Helper()
	return must(c.DescribeFleetAttributes(context.Background(), &gl.DescribeFleetAttributesInput{FleetIds: []string{aws.ToString(fleetID)}}))(t).FleetAttributes[0].Status
}

// waitFleetActive waits for a managed fleet to be ACTIVE: one of its processes is ready.
func waitFleetActive(t *testing.T, c *gl.Client, fleetID *string) {
	t.Helper()
	eventually(t, "the fleet is ACTIVE", func() bool { return fleetStatus(t, c, fleetID) == types.FleetStatusActive })
}

func runtimeOf(binary string, n int32) *types.RuntimeConfiguration {
	return &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{
		{LaunchPath: aws.String(binary), Parameters: aws.String("-port 0"), ConcurrentExecutions: aws.Int32(n)},
	}}
}

// A managed fleet's processes run on the server's own host: the embedded agent launches
// them from the runtime configuration, replaces one that is killed, follows changes to the
// configuration, and drains them when the server stops.
func TestManagedFleetRunsItsProcesses(t *testing.T) {
	ctx := context.Background()
	binary := gameServerBinary(t)
	srv, c := start(t, t.TempDir())
	fa := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("managed"), RuntimeConfiguration: runtimeOf(binary, 2)}))(t).FleetAttributes
	id := fa.FleetId

	eventually(t, "2 processes run and are ready", func() bool { return fleetProcesses(t, c, id) == 2 })
	waitFleetActive(t, c, id)
	comp := must(c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: id, ComputeName: aws.String(server.LocalComputeName)}))(t).Compute
	if comp.Type != "EC2" || aws.ToString(comp.Location) != "us-west-2" {
		t.Errorf("the local host's compute = type %s, location %s", comp.Type, aws.ToString(comp.Location))
	}

	// A game session on it, with no Location: the home Region.
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	eventually(t, "the session is ACTIVE", func() bool {
		d := must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions
		return d[0].Status == types.GameSessionStatusActive && aws.ToString(d[0].IpAddress) == "127.0.0.1" && aws.ToInt32(d[0].Port) > 0
	})

	// Kill one: it is replaced, and the crash is a fleet event.
	before := pids(t, binary)
	if len(before) != 2 {
		t.Fatalf("pgrep finds %v", before)
	}
	victim := before[0]
	exec.Command("kill", "-KILL", victim).Run()
	eventually(t, "the killed process is replaced", func() bool {
		now := pids(t, binary)
		return len(now) == 2 && !slices.Contains(now, victim) && fleetProcesses(t, c, id) == 2
	})
	events := must(c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id}))(t).Events
	if !slices.ContainsFunc(events, func(e types.Event) bool { return e.EventCode == types.EventCodeServerProcessCrashed }) {
		t.Errorf("no SERVER_PROCESS_CRASHED event among %d events", len(events))
	}

	// Scale out and in with UpdateRuntimeConfiguration.
	must(c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: runtimeOf(binary, 3)}))(t)
	eventually(t, "3 processes", func() bool { return fleetProcesses(t, c, id) == 3 && len(pids(t, binary)) == 3 })
	must(c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: runtimeOf(binary, 1)}))(t)
	eventually(t, "1 process", func() bool { return fleetProcesses(t, c, id) == 1 && len(pids(t, binary)) == 1 })

	// Shutdown drains: no process outlives the server.
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := pids(t, binary); len(left) != 0 {
		t.Errorf("processes left after shutdown: %v", left)
	}
}

// A launch path that does not exist is reported, not retried in a tight loop.
func TestManagedFleetBadLaunchPath(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	fa := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("broken"), RuntimeConfiguration: runtimeOf("/nonexistent/game-server", 1)}))(t).FleetAttributes
	eventually(t, "an invalid path event", func() bool {
		events := must(c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: fa.FleetId}))(t).Events
		return slices.ContainsFunc(events, func(e types.Event) bool { return e.EventCode == types.EventCodeServerProcessInvalidPath })
	})
	// No process can start: the fleet does not become ACTIVE but goes to ERROR, and says why.
	eventually(t, "the fleet is in ERROR", func() bool { return fleetStatus(t, c, fa.FleetId) == types.FleetStatusError })
	waitLastEvent(t, c, fa.FleetId, types.EventCodeFleetStateError)
	events := must(c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: fa.FleetId}))(t).Events
	var codes []types.EventCode
	for _, e := range events {
		codes = append(codes, e.EventCode)
	}
	if slices.Contains(codes, types.EventCodeFleetStateActive) || !slices.Contains(codes, types.EventCodeFleetActivationFailed) ||
		codes[len(codes)-1] != types.EventCodeFleetStateError {
		t.Errorf("events = %v", codes)
	}
	eventually(t, "the host agent leaves the fleet", func() bool {
		_, err := c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: fa.FleetId, ComputeName: aws.String(server.LocalComputeName)})
		return err != nil
	})
	_, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(2)})
	apiError(t, err, "InvalidFleetStatusException")
}

// FORCE_TERMINATE on a managed fleet ends the session at once (FORCE_TERMINATED) and the
// process with it; the agent starts a fresh one in its place.
func TestForceTerminateOnManagedFleet(t *testing.T) {
	ctx := context.Background()
	binary := gameServerBinary(t)
	_, c := start(t, t.TempDir())
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("force"), RuntimeConfiguration: runtimeOf(binary, 1)}))(t).FleetAttributes.FleetId
	eventually(t, "the process is ready", func() bool { return fleetProcesses(t, c, id) == 1 })
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	eventually(t, "ACTIVE", func() bool {
		return must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0].Status == types.GameSessionStatusActive
	})
	first := pids(t, binary)
	out := must(c.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeForceTerminate}))(t).GameSession
	if out.Status != types.GameSessionStatusTerminated || out.StatusReason != types.GameSessionStatusReasonForceTerminated {
		t.Errorf("after FORCE_TERMINATE: %s / %s", out.Status, out.StatusReason)
	}
	eventually(t, "a fresh process replaces the stopped one", func() bool {
		now := pids(t, binary)
		return len(now) == 1 && !slices.Equal(now, first) && fleetProcesses(t, c, id) == 1
	})
}

// NewGameSessionProtectionPolicy FullProtection: a scale-in does not end a process whose
// game session is protected; it ends when its game does.
func TestScaleInKeepsProtectedSessions(t *testing.T) {
	ctx := context.Background()
	binary := gameServerBinary(t)
	_, c := start(t, t.TempDir())
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("protected"), RuntimeConfiguration: runtimeOf(binary, 1),
		NewGameSessionProtectionPolicy: types.ProtectionPolicyFullProtection}))(t).FleetAttributes.FleetId
	eventually(t, "the process is ready", func() bool { return fleetProcesses(t, c, id) == 1 })
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession
	status := func() types.GameSessionStatus {
		return must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0].Status
	}
	eventually(t, "ACTIVE", func() bool { return status() == types.GameSessionStatusActive })
	hosting := pids(t, binary)

	// The runtime configuration changes: the slot of the hosting process is no longer wanted.
	changed := runtimeOf(binary, 1)
	changed.ServerProcesses[0].Parameters = aws.String("-port=0")
	must(c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: changed}))(t)
	eventually(t, "a process of the new configuration runs beside the protected one", func() bool {
		return len(pids(t, binary)) == 2 && fleetProcesses(t, c, id) == 2
	})
	time.Sleep(3 * time.Second) // the agent reconciles every 2 s: give it a chance to (wrongly) stop the process
	if status() != types.GameSessionStatusActive || !slices.Contains(pids(t, binary), hosting[0]) {
		t.Fatalf("the protected session's process was stopped: session %s, processes %v (was %v)", status(), pids(t, binary), hosting)
	}
	// When its game ends, the process goes and is not replaced: its slot is gone.
	must(c.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
	eventually(t, "only the new process is left", func() bool {
		now := pids(t, binary)
		return len(now) == 1 && now[0] != hosting[0] && fleetProcesses(t, c, id) == 1
	})
}

// A process that crashes while it hosts a game session is gone, and its host's agent says
// so: the session ends at once, INTERRUPTED, and takes no more players. The reconnect
// grace is for a process whose connection dropped while it may still run, not for one
// its agent saw exit.
func TestCrashedProcessEndsItsSessionAtOnce(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	launch := launchScript(t, t.TempDir())
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("crashing"), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String(launch), Parameters: aws.String(crashAfterActivation), ConcurrentExecutions: aws.Int32(1)}},
	}}))(t).FleetAttributes.FleetId
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	describe := func() types.GameSession {
		return must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0]
	}
	eventually(t, "the session is ACTIVE", func() bool { return describe().Status == types.GameSessionStatusActive })
	active := time.Now()
	must(c.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("before")}))(t)

	// The process exits crashDelay after activating the session.
	ended := describe()
	for ; ended.Status == types.GameSessionStatusActive; ended = describe() {
		if time.Since(active) > crashDelay+5*time.Second {
			t.Fatalf("the session is still ACTIVE %s after its process crashed", (time.Since(active) - crashDelay).Truncate(time.Second))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ended.Status != types.GameSessionStatusTerminated || ended.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Errorf("after the crash the session is %s, reason %q; want TERMINATED, INTERRUPTED", ended.Status, ended.StatusReason)
	}
	_, err := c.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("after")})
	apiError(t, err, "InvalidGameSessionStatusException")
	if msg := eventMessages(t, c, id, types.EventCodeServerProcessCrashed); !strings.Contains(msg, "exit status 2") {
		t.Errorf("SERVER_PROCESS_CRASHED events: %q", msg)
	}
}

// A game session its process never activates ends after the fleet's
// GameSessionActivationTimeoutSeconds, and a GAME_SESSION_ACTIVATION_TIMEOUT fleet event,
// on record by then, says so; the process is asked to end, and its agent replaces it.
func TestSessionActivationTimeoutIsAFleetEvent(t *testing.T) {
	ctx := context.Background()
	_, c := startWith(t, server.Config{SweepInterval: 50 * time.Millisecond})
	launch := launchScript(t, t.TempDir())
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("never-activates"), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses:                     []types.ServerProcess{{LaunchPath: aws.String(launch), Parameters: aws.String(neverActivate), ConcurrentExecutions: aws.Int32(1)}},
		GameSessionActivationTimeoutSeconds: aws.Int32(1),
	}}))(t).FleetAttributes.FleetId
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	eventually(t, "the session that never activated is TERMINATED", func() bool {
		return must(c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions[0].Status == types.GameSessionStatusTerminated
	})
	if msg := eventMessages(t, c, id, types.EventCodeGameSessionActivationTimeout); !strings.Contains(msg, aws.ToString(gs.GameSessionId)) {
		t.Errorf("GAME_SESSION_ACTIVATION_TIMEOUT events: %q; want one naming %s", msg, aws.ToString(gs.GameSessionId))
	}
	if msg := eventMessages(t, c, id, types.EventCodeServerProcessCrashed); msg != "" {
		t.Errorf("the process asked to end is reported crashed: %q", msg)
	}
}

// A process that never connects (InitSDK) is reported when its SDKInitTimeout passes
// (SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT) and stopped; one that does not end when
// asked to is killed after the agent's stop timeout, and that is reported too
// (SERVER_PROCESS_FORCE_TERMINATED), not as a crash.
func TestProcessThatNeverConnectsIsStopped(t *testing.T) {
	ctx := context.Background()
	_, c := startWith(t, server.Config{SDKInitTimeout: time.Second})
	launch := filepath.Join(t.TempDir(), "stubborn.sh")
	if err := os.WriteFile(launch, []byte("#!/bin/sh\ntrap '' TERM\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("never-connects"), RuntimeConfiguration: runtimeOf(launch, 1)}))(t).FleetAttributes.FleetId
	waitFor := func(code types.EventCode, within time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			if msg := eventMessages(t, c, id, code); msg != "" {
				return msg
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s event after %s", code, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if msg := waitFor(types.EventCodeServerProcessSdkInitializationTimeout, 10*time.Second); !strings.Contains(msg, "did not connect") {
		t.Errorf("SDK_INITIALIZATION_TIMEOUT event: %q", msg)
	}
	// The local host's agent gives a process 10 s to end.
	waitFor(types.EventCodeServerProcessForceTerminated, 20*time.Second)
	if msg := eventMessages(t, c, id, types.EventCodeServerProcessCrashed); msg != "" {
		t.Errorf("a process the agent stopped is reported crashed: %q", msg)
	}
}
