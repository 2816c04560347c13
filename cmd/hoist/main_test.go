package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
)

// TestMain lets this test binary stand in for the hoist binary: run with HOIST_TEST_MAIN=1
// it is `hoist <args>`, which is how the tests run `hoist agent` as a separate process
// and how fleets launch `hoist example-gameserver`.
func TestMain(m *testing.M) {
	if os.Getenv("HOIST_TEST_MAIN") == "1" || (len(os.Args) > 1 && os.Args[1] == exampleGameServer) {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func self(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The quickstart, non-interactively: a fleet of example game servers, a game session that
// reaches ACTIVE, a player who joins.
func TestQuickstartReachesActive(t *testing.T) {
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"quickstart", "--addr", "127.0.0.1:0", "--once"}, &out, &errs); err != nil {
		t.Fatalf("quickstart: %v\n%s\n%s", err, out.String(), errs.String())
	}
	for _, want := range []string{"Fleet fleet-", "is ACTIVE", "2 game server processes are ready", "is ACTIVATING", "Game session is ACTIVE", "joined with psess-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if left, _ := exec.Command("pgrep", "-f", self(t)+" "+exampleGameServer).Output(); len(left) > 0 {
		t.Errorf("game servers left running: %s", left)
	}
	// Shutting down with game servers connected is routine: no warning for what it closes.
	if strings.Contains(errs.String(), "level=WARN") || strings.Contains(errs.String(), "level=ERROR") {
		t.Errorf("the quickstart logged:\n%s", errs.String())
	}
}

func TestPortTakenIsAClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, cmd := range []string{"quickstart", "server"} {
		var out, errs bytes.Buffer
		err := run(context.Background(), []string{cmd, "--addr", ln.Addr().String(), "--data-dir", t.TempDir()}, &out, &errs)
		if err == nil || !strings.Contains(err.Error(), "is taken") {
			t.Errorf("%s on a taken port: %v", cmd, err)
		}
	}
}

// `hoist agent` as a separate process runs an Anywhere fleet's runtime configuration on
// its host, and on SIGTERM drains its processes and deregisters the host.
func TestAgentCommand(t *testing.T) {
	ctx := context.Background()
	creds := server.Credentials{AccessKeyID: "AKAGENT", SecretAccessKey: "agent-secret"}
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: creds, NoLocalAgent: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	if _, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-agent-1")}); err != nil {
		t.Fatal(err)
	}
	fleet, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("agent"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-agent-1")}},
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{
			LaunchPath: aws.String(self(t)), Parameters: aws.String(exampleGameServer + " -port 0"), ConcurrentExecutions: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)

	// The agent signs with a key allowed only what README says an agent needs.
	t.Setenv("HOIST_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("HOIST_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	out, _, err := runHoist("keys", "create", "--name", "agents", "--allow", "RegisterCompute,DeregisterCompute,GetComputeAuthToken,Describe*",
		"--endpoint", srv.Endpoint, "--output", "json")
	var key struct{ AccessKeyId, SecretAccessKey string }
	if err != nil || json.Unmarshal([]byte(out), &key) != nil {
		t.Fatalf("make the agent's key: %q, %v", out, err)
	}
	agent := exec.Command(self(t), "agent", "--server", srv.Endpoint, "--fleet-id", fleetID, "--compute-name", "box-1",
		"--location", "custom-agent-1", "--ip", "127.0.0.1", "--log-dir", t.TempDir())
	agent.Env = append(os.Environ(), "HOIST_TEST_MAIN=1", "HOIST_ACCESS_KEY_ID="+key.AccessKeyId, "HOIST_SECRET_ACCESS_KEY="+key.SecretAccessKey)
	var agentLog bytes.Buffer
	agent.Stderr = &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer agent.Process.Kill()

	active := func() int32 {
		u, err := c.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
	}
	waitFor(t, "the agent's 2 processes are ready", func() bool { return active() == 2 })
	comp, err := c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: &fleetID, ComputeName: aws.String("box-1")})
	if err != nil || aws.ToString(comp.Compute.Location) != "custom-agent-1" {
		t.Fatalf("the agent's compute: %+v, %v", comp, err)
	}

	// A game session on the agent's host; when it ends, the process's output reaches the
	// server (the agent uploads it) and GetGameSessionLogUrl serves it.
	gs, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, Location: aws.String("custom-agent-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session is ACTIVE", func() bool {
		d, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
		return err == nil && d.GameSessions[0].Status == types.GameSessionStatusActive
	})
	if _, err := c.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSession.GameSessionId,
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
		t.Fatal(err)
	}
	var logURL string
	waitFor(t, "the session's logs are on the server", func() bool {
		out, err := c.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSession.GameSessionId})
		if err == nil {
			logURL = aws.ToString(out.PreSignedUrl)
		}
		return err == nil
	})
	if body := download(t, logURL); !bytes.Contains(body, []byte("starting game session")) {
		t.Errorf("the uploaded logs lack the game server's output (%d bytes)", len(body))
	}

	agent.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(); err != nil {
		t.Errorf("agent exit: %v\n%s", err, agentLog.String())
	}
	if n := active(); n != 0 {
		t.Errorf("%d processes still active after the agent stopped", n)
	}
	_, err = c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: &fleetID, ComputeName: aws.String("box-1")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("the compute after the agent stopped: %v, want NotFoundException (deregistered)", err)
	}
}

// download fetches a zip and returns its files' contents, concatenated.
func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("GET %s: %s, not a zip: %v", url, resp.Status, err)
	}
	var all []byte
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		all = append(all, b...)
	}
	return all
}

// startServer runs a server with no local agent, with creds as its keys, also set in the
// environment as hoist's commands read them.
func startServer(t *testing.T, creds server.Credentials) *server.Server {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: creds, NoLocalAgent: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	t.Setenv("HOIST_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("HOIST_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	return srv
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// `hoist agent` with its default, relative directories runs a managed fleet's build: the
// build is unpacked under ./hoist-agent/builds of the directory it starts in, and its
// processes start from there.
func TestAgentRunsABuildFromDefaultDirectories(t *testing.T) {
	ctx := context.Background()
	creds := server.Credentials{AccessKeyID: "AKAGENT", SecretAccessKey: "agent-secret"}
	srv := startServer(t, creds)
	// The build is a script that runs this test binary as the game server: the binary
	// itself (about 150 MB, built with -race) takes minutes to zip and unzip on a busy
	// machine, and what is tested is where the agent puts and runs the build.
	buildDir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nexec %q %s \"$@\"\n", self(t), exampleGameServer)
	if err := os.WriteFile(buildDir+"/game", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _, err := runHoist("build", "upload", "--name", "game", "--server", srv.Endpoint, buildDir)
	if err != nil {
		t.Fatal(err)
	}
	buildID := strings.Fields(out)[0]
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	fleet, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("built"), BuildId: &buildID,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{
			LaunchPath: aws.String("/local/game/game"), Parameters: aws.String("-port 0"), ConcurrentExecutions: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	status := func() types.FleetStatus {
		d, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{fleetID}})
		if err != nil {
			t.Fatal(err)
		}
		return d.FleetAttributes[0].Status
	}
	waitFor(t, "the fleet waits for a host", func() bool { return status() == types.FleetStatusActivating })

	cwd := t.TempDir()
	agent := exec.Command(self(t), "agent", "--server", srv.Endpoint, "--fleet-id", fleetID, "--compute-name", "box-1")
	agent.Dir = cwd
	agent.Env = append(os.Environ(), "HOIST_TEST_MAIN=1")
	var agentLog bytes.Buffer
	agent.Stderr = &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer agent.Process.Kill()
	waitFor(t, "the fleet is ACTIVE", func() bool { return status() == types.FleetStatusActive })
	if _, err := os.Stat(cwd + "/hoist-agent/builds/" + buildID + "/game"); err != nil {
		t.Errorf("the build is not under the agent's default directory: %v", err)
	}
	agent.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(); err != nil {
		t.Errorf("agent exit: %v\n%s", err, agentLog.String())
	}
	if strings.Contains(agentLog.String(), "no such file") {
		t.Errorf("the agent could not find its build:\n%s", agentLog.String())
	}
}

func TestLogFormatIsTextOrJSON(t *testing.T) {
	for _, args := range [][]string{{"server", "--data-dir", t.TempDir()}, {"agent", "--fleet-id", "f", "--compute-name", "c"}} {
		var out, errs bytes.Buffer
		err := run(context.Background(), append(args, "--log-format", "xml"), &out, &errs)
		if err == nil || !strings.Contains(err.Error(), "--log-format is text or json") {
			t.Errorf("hoist %s --log-format xml: %v", args[0], err)
		}
	}
}
