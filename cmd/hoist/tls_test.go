package main

import (
	"bytes"
	"context"
	"log/slog"
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

	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/server"
)

// The quickstart over TLS: its in-process agent's example game servers connect over
// wss://, trusting the self-signed certificate through the AWS_CA_BUNDLE the agent gives
// them, and a session goes ACTIVE.
func TestQuickstartOverTLS(t *testing.T) {
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"quickstart", "--addr", "127.0.0.1:0", "--once", "--tls-self-signed"}, &out, &errs); err != nil {
		t.Fatalf("quickstart: %v\n%s\n%s", err, out.String(), errs.String())
	}
	for _, want := range []string{"the API at https://127.0.0.1:", "the SDK endpoint at wss://127.0.0.1:", "2 game server processes are ready", "Game session is ACTIVE"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// startTLSServer runs a server with a self-signed certificate in dataDir, no local agent,
// with creds as its keys (when given), also set in the environment as hoist's commands
// read them.
func startTLSServer(t *testing.T, dataDir string, creds server.Credentials) *server.Server {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: creds, NoLocalAgent: true,
		TLS: &server.TLSConfig{SelfSigned: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	if creds.AccessKeyID != "" {
		t.Setenv("HOIST_ACCESS_KEY_ID", creds.AccessKeyID)
		t.Setenv("HOIST_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	}
	return srv
}

// hoist keys prints the https:// endpoint and the AWS_CA_BUNDLE of the server last started
// with the data directory, and the key commands and hoist status reach it with the data
// directory's key pair, trusting that certificate with nothing in the environment.
func TestKeysOverTLS(t *testing.T) {
	for _, k := range []string{"HOIST_ACCESS_KEY_ID", "HOIST_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", certs.EnvCABundle} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	srv := startTLSServer(t, dir, server.Credentials{})
	out, _, err := runHoist("keys", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export AWS_ENDPOINT_URL=" + srv.Endpoint + "\n", "export AWS_CA_BUNDLE=" + srv.CABundle + "\n"} {
		if !strings.Contains(out, want) || !strings.HasPrefix(srv.Endpoint, "https://") {
			t.Errorf("hoist keys printed %q, want %q", out, want)
		}
	}
	if out, _, err := runHoist("keys", "list", "--data-dir", dir); err != nil || !strings.Contains(out, "admin ") {
		t.Errorf("keys list over TLS: %q, %v", out, err)
	}
	if out, _, err := runHoist("status", "--data-dir", dir); err != nil {
		t.Errorf("status over TLS: %q, %v", out, err)
	}
}

// `hoist agent` against a server over TLS, trusting its self-signed certificate through
// AWS_CA_BUNDLE: it registers, gets wss:// from RegisterCompute, and its processes, which
// inherit AWS_CA_BUNDLE, connect and host a session that goes ACTIVE.
func TestAgentOverTLS(t *testing.T) {
	ctx := context.Background()
	creds := server.Credentials{AccessKeyID: "AKAGENT", SecretAccessKey: "agent-secret"}
	srv := startTLSServer(t, t.TempDir(), creds)
	hc, err := certs.HTTPClient(0, srv.CABundle)
	if err != nil {
		t.Fatal(err)
	}
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	if _, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-tls-1")}); err != nil {
		t.Fatal(err)
	}
	fleet, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("agent"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-tls-1")}},
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{
			LaunchPath: aws.String(self(t)), Parameters: aws.String(exampleGameServer + " -port 0"), ConcurrentExecutions: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	agent := exec.Command(self(t), "agent", "--server", srv.Endpoint, "--fleet-id", fleetID, "--compute-name", "box-1",
		"--location", "custom-tls-1", "--log-dir", t.TempDir())
	agent.Env = append(os.Environ(), "HOIST_TEST_MAIN=1", certs.EnvCABundle+"="+srv.CABundle)
	var agentLog bytes.Buffer
	agent.Stderr = &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer agent.Process.Kill()
	waitFor(t, "the agent's process is ready", func() bool {
		u, err := c.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
		return err == nil && aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount) == 1
	})
	comp, err := c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: &fleetID, ComputeName: aws.String("box-1")})
	if err != nil || aws.ToString(comp.Compute.GameLiftServiceSdkEndpoint) != srv.SDKEndpoint || !strings.HasPrefix(srv.SDKEndpoint, "wss://") {
		t.Fatalf("the agent's compute: %+v, %v; want the endpoint %s", comp.Compute, err, srv.SDKEndpoint)
	}
	gs, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, Location: aws.String("custom-tls-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session is ACTIVE", func() bool {
		d, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
		return err == nil && d.GameSessions[0].Status == types.GameSessionStatusActive
	})
	agent.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(); err != nil {
		t.Errorf("agent exit: %v\n%s", err, agentLog.String())
	}
}
