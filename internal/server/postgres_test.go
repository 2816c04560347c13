package server_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/store/postgres/pgtest"
)

// A game session end to end on PostgreSQL: a fleet, a compute, a process through
// sdk/gameserver, a session going ACTIVE with a player; then the server restarts over a new,
// empty data directory, so all it knows comes from the database, and the session is there,
// its process takes it back, and ends it.
func TestGameSessionOnPostgres(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String() // the same after the restart, for the process to reconnect to
	ln.Close()
	clock := &fakeClock{now: time.Now()}
	cfg := server.Config{Addr: addr, DataDir: t.TempDir(), Store: db, Credentials: testCreds, Clock: clock, Logger: quietLogger(),
		SweepInterval: 5 * time.Millisecond}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &sdkWorld{srv: srv, api: client(srv.Endpoint, testCreds.SecretAccessKey), clock: clock}
	fa := anywhereFleet(t, w.api, "custom-sdk-1")
	w.fleetID, w.compute = aws.ToString(fa.FleetId), "host-1"
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"), IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	w.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)
	proc, gs := activeSession(t, w, "proc-pg", 7950, "pg-1", 4)
	ps := must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("alice")}))(t).PlayerSession

	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	srv, err = server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	w.srv = srv
	if got := w.session(t, gs.GameSessionId); got.Status != types.GameSessionStatusActive || aws.ToInt32(got.CurrentPlayerSessionCount) != 1 {
		t.Errorf("after restart the session is %s with %d players", got.Status, aws.ToInt32(got.CurrentPlayerSessionCount))
	}
	replay := must(w.createSession(ctx, "pg-1", 8))(t)
	if aws.ToString(replay.GameSessionId) != aws.ToString(gs.GameSessionId) {
		t.Errorf("the idempotency token placed a new session after restart: %s", aws.ToString(replay.GameSessionId))
	}
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

// While PostgreSQL is down the API answers InternalServiceException; once it is back the
// same server answers again, without a restart.
func TestServerRidesOutPostgresRestart(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: c.Database(), Credentials: testCreds,
		Logger: quietLogger(), NoLocalAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	api := client(srv.Endpoint, testCreds.SecretAccessKey)
	create := func(name string) error {
		_, err := api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(name)})
		return err
	}
	if err := create("custom-before"); err != nil {
		t.Fatal(err)
	}

	c.Stop()
	apiError(t, create("custom-down"), "InternalServiceException")
	_, err = api.ListLocations(ctx, &gl.ListLocationsInput{})
	apiError(t, err, "InternalServiceException")

	c.Start()
	deadline := time.Now().Add(10 * time.Second)
	for err := create("custom-after"); err != nil; err = create("custom-after") {
		// A call may still meet a connection the stop killed; the pool then drops it.
		if time.Now().After(deadline) {
			t.Fatalf("the server still fails once PostgreSQL is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	locs := must(api.ListLocations(ctx, &gl.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}}))(t)
	if len(locs.Locations) != 2 {
		t.Errorf("custom locations = %d, want the one before and the one after", len(locs.Locations))
	}
}
