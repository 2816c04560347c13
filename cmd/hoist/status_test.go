package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// row returns the line of out whose first field is first, split into fields; nil if none.
func row(out, first string) []string {
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == first {
			return f
		}
	}
	return nil
}

// hoist status prints a running server's fleets, its processes and its live game
// sessions, read through the API.
func TestStatusPrintsFleetsProcessesAndSessions(t *testing.T) {
	ctx := context.Background()
	creds := server.Credentials{AccessKeyID: "AKSTATUS", SecretAccessKey: "status-secret"}
	srv := startServer(t, creds)
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})

	out, _, err := runHoist("status", "--endpoint", srv.Endpoint)
	if err != nil || !strings.Contains(out, "FLEETS (0)") || !strings.Contains(out, "GAME SESSIONS (0 live)") {
		t.Fatalf("status of an empty server: %v\n%s", err, out)
	}

	if _, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-status")}); err != nil {
		t.Fatal(err)
	}
	fleet, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("lobby"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-status")}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	if _, err := c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: &fleetID, ComputeName: aws.String("box-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-status")}); err != nil {
		t.Fatal(err)
	}
	tok, err := c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: aws.String("box-1")})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"proc-1", "proc-2"} {
		p, err := gameserver.Connect(ctx, gameserver.ServerParameters{WebSocketURL: srv.SDKEndpoint, ProcessID: id, HostID: "box-1",
			FleetID: fleetID, AuthToken: aws.ToString(tok.AuthToken)}, gameserver.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Destroy() })
		err = p.ProcessReady(ctx, gameserver.ProcessParameters{Port: 7000 + i,
			OnStartGameSession: func(gameserver.GameSession) { p.ActivateGameSession(context.Background()) }})
		if err != nil {
			t.Fatal(err)
		}
	}
	gs, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, Location: aws.String("custom-status"), MaximumPlayerSessionCount: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	sessionID := aws.ToString(gs.GameSession.GameSessionId)
	waitFor(t, "the game session is ACTIVE", func() bool {
		d, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: &sessionID})
		return err == nil && d.GameSessions[0].Status == types.GameSessionStatusActive
	})
	if _, err := c.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: &sessionID, PlayerId: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}

	// Signed with the key in the environment (startServer set it), as the other commands.
	out, _, err = runHoist("status", "--endpoint", srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hoist status:\n%s", out)
	if f := row(out, fleetID); len(f) < 4 || f[1] != "lobby" || f[2] != "ACTIVE" || f[3] != "ANYWHERE" {
		t.Errorf("fleet row %q in:\n%s", f, out)
	}
	var procs []string // the second row of the fleet: the processes table
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[0] == fleetID {
			procs = f
		}
	}
	if len(procs) != 5 || strings.Join(procs[1:], " ") != "2 1 1 4" {
		t.Errorf("processes row %q (want 2 processes, 1 session, 1 player of 4) in:\n%s", procs, out)
	}
	if f := row(out, sessionID); len(f) != 6 || f[1] != fleetID || f[2] != "custom-status" || f[3] != "ACTIVE" || f[4] != "1/4" || !strings.HasPrefix(f[5], "127.0.0.1:700") {
		t.Errorf("session row %q in:\n%s", f, out)
	}
	if !strings.Contains(out, "GAME SESSIONS (1 live)") {
		t.Errorf("no count of live sessions in:\n%s", out)
	}

	srv.Close(ctx)
	_, _, err = runHoist("status", "--endpoint", srv.Endpoint)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Hoist server") {
		t.Errorf("server down: %v", err)
	}
}
