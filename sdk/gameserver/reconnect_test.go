package gameserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
)

// A process whose service is gone for longer than the official SDK's seven tries to
// connect keeps trying, and is back, ready, once the service is: the server restarted
// here hands it a game session without it calling ProcessReady again.
func TestReconnectOutlastsTheConnectTries(t *testing.T) {
	reconnectFirst, reconnectMax = 10*time.Millisecond, 40*time.Millisecond
	t.Cleanup(func() { reconnectFirst, reconnectMax = time.Second, 10*time.Second })
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, Logger: quiet, NoLocalAgent: true}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fleetID, tok := anywhereHost(t, apiOf(srv))
	c, err := Connect(ctx, ServerParameters{WebSocketURL: srv.SDKEndpoint, ProcessID: "p-1", HostID: "host-1",
		FleetID: aws.ToString(fleetID), AuthToken: tok}, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	started := make(chan GameSession, 1)
	if err := c.ProcessReady(ctx, ProcessParameters{Port: 7777, OnStartGameSession: func(gs GameSession) { started <- gs }}); err != nil {
		t.Fatal(err)
	}

	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Down for several times what seven tries at the longest interval take.
	time.Sleep(time.Duration(3*connectTries) * reconnectMax)
	cfg.Addr = srv.Endpoint[len("http://"):]
	srv, err = server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	api := apiOf(srv)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fleetID, Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process did not come back after the restart: %v", errors.Unwrap(err))
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the game session did not reach the process")
	}
}

// A connection lost between ProcessReady's request and its answer (the service restarting
// at that moment) does not fail ProcessReady: the call is sent again on the next
// connection. A proxy in front of a real server drops the first connection as the answer
// comes back, and lets the next one through.
func TestProcessReadyOutlivesALostConnection(t *testing.T) {
	reconnectFirst, reconnectMax = 10*time.Millisecond, 40*time.Millisecond
	t.Cleanup(func() { reconnectFirst, reconnectMax = time.Second, 10*time.Second })
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, Logger: quiet, NoLocalAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	api := apiOf(srv)
	fleetID, tok := anywhereHost(t, api)

	var connections, dropped atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := connections.Add(1)
		down, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer down.CloseNow()
		up, _, err := websocket.Dial(r.Context(), srv.SDKEndpoint+"?"+r.URL.RawQuery, nil)
		if err != nil {
			return
		}
		defer up.CloseNow()
		go func() { // process to service
			for {
				typ, b, err := down.Read(context.Background())
				if err != nil || up.Write(context.Background(), typ, b) != nil {
					up.CloseNow()
					return
				}
			}
		}()
		for { // service to process; the first connection is lost as ProcessReady's answer comes
			typ, b, err := up.Read(context.Background())
			if err != nil {
				return
			}
			if n == 1 && strings.Contains(string(b), `"ActivateServerProcess"`) {
				dropped.Add(1)
				return
			}
			if down.Write(context.Background(), typ, b) != nil {
				return
			}
		}
	}))
	defer proxy.Close()

	c, err := Connect(ctx, ServerParameters{WebSocketURL: "ws" + strings.TrimPrefix(proxy.URL, "http"), ProcessID: "p-1", HostID: "host-1",
		FleetID: aws.ToString(fleetID), AuthToken: tok}, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	started := make(chan GameSession, 1)
	if err := c.ProcessReady(ctx, ProcessParameters{Port: 7777, OnStartGameSession: func(gs GameSession) { started <- gs }}); err != nil {
		t.Fatalf("ProcessReady across a lost connection: %v", err)
	}
	if dropped.Load() != 1 || connections.Load() < 2 {
		t.Fatalf("%d answers dropped over %d connections, want 1 over at least 2", dropped.Load(), connections.Load())
	}
	if _, err := api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fleetID, Location: aws.String("custom-sdk-1"), MaximumPlayerSessionCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the game session did not reach the process")
	}
}

var testCreds = server.Credentials{AccessKeyID: "AKTEST", SecretAccessKey: "test-secret"}

// apiOf is a GameLift client of srv, signing with testCreds, that does not retry.
func apiOf(srv *server.Server) *gl.Client {
	return gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, "")})
}

// anywhereHost makes an Anywhere fleet in custom-sdk-1 with compute host-1 registered, and
// returns the fleet's ID and an auth token for host-1.
func anywhereHost(t *testing.T, api *gl.Client) (fleetID *string, token string) {
	t.Helper()
	ctx := context.Background()
	if _, err := api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-sdk-1")}); err != nil {
		t.Fatal(err)
	}
	fleet, err := api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-sdk-1")}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID = fleet.FleetAttributes.FleetId
	if _, err := api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fleetID, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}); err != nil {
		t.Fatal(err)
	}
	tok, err := api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fleetID, ComputeName: aws.String("host-1")})
	if err != nil {
		t.Fatal(err)
	}
	return fleetID, aws.ToString(tok.AuthToken)
}
