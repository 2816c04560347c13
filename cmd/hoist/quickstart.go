package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/examples/gameserver/lobby"
	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/server"
)

// exampleGameServer is the hidden subcommand the quickstart's fleet launches: the example
// game server, built into this binary so the quickstart needs nothing else.
const exampleGameServer = "example-gameserver"

func runExampleGameServer(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(exampleGameServer, flag.ContinueOnError)
	port := fs.Int("port", 0, "TCP port players connect to; 0 picks a free one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return lobby.Run(ctx, *port, slog.New(slog.NewTextHandler(stderr, nil)).With("pid", os.Getpid()))
}

var quickstartHelp = help{
	name: "hoist quickstart", purpose: "see Hoist work: a server, a fleet of example game servers on this machine, a game session going ACTIVE, a player joining",
	usage:       "[flags]",
	credentials: "none: the quickstart makes its own key pair and prints the AWS CLI commands to use it",
	more:        "It runs until Ctrl-C, then ends its game servers and removes its temporary data.",
}

// runQuickstart starts a server with a managed fleet running the example game server,
// creates a game session through the AWS SDK, joins a player, and keeps running.
func runQuickstart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hoist quickstart", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9080", "`host:port` for the API and the SDK endpoint")
	dataDir := fs.String("data-dir", "", "data `directory`; default: a new temporary one, removed on exit")
	once := fs.Bool("once", false, "exit once the player has joined, instead of waiting for Ctrl-C")
	selfSigned := fs.Bool("tls-self-signed", false, "serve over TLS (https://, wss://) with a self-signed certificate made in the data directory, as the official C++ Server SDK needs")
	rest, err := parseFlags(fs, quickstartHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(quickstartHelp, rest); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to launch as the game server: %w", err)
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "hoist-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}
	step := func(format string, a ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", a...) }

	step("Starting the Hoist server on %s", *addr)
	var tlsConf *server.TLSConfig
	if *selfSigned {
		tlsConf = &server.TLSConfig{SelfSigned: true}
	}
	srv, err := server.Start(ctx, server.Config{Addr: *addr, DataDir: *dataDir, TLS: tlsConf,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("port %s is taken: is another Hoist running? Pick another with --addr", *addr)
		}
		return err
	}
	defer func() {
		step("Shutting down: ending game servers, closing the server")
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Close(shutdown)
	}()
	step("Server is up: the API at %s, the SDK endpoint at %s", srv.Endpoint, srv.SDKEndpoint)
	creds := srv.Credentials
	hc, err := certs.HTTPClient(0, srv.CABundle)
	if err != nil {
		return err
	}
	client := gamelift.New(gamelift.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})

	step("Creating a managed fleet that runs 2 example game servers on this machine")
	fleet, err := client.CreateFleet(ctx, &gamelift.CreateFleetInput{
		Name: aws.String("quickstart"), Description: aws.String("examples/gameserver, launched by Hoist's host agent"),
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{
			LaunchPath: aws.String(self), Parameters: aws.String(exampleGameServer + " -port 0"), ConcurrentExecutions: aws.Int32(2),
		}}},
	})
	if err != nil {
		return fmt.Errorf("create fleet: %w", err)
	}
	fleetID := aws.ToString(fleet.FleetAttributes.FleetId)
	status := string(fleet.FleetAttributes.Status)
	step("Fleet %s is %s; waiting for it to be ACTIVE, which it is once a game server process on it calls ProcessReady", fleetID, status)
	err = poll(ctx, 30*time.Second, func() (bool, error) {
		d, err := client.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{fleetID}})
		if err != nil {
			return false, err
		}
		if len(d.FleetAttributes) == 0 {
			return false, fmt.Errorf("fleet %s is gone", fleetID)
		}
		if s := string(d.FleetAttributes[0].Status); s != status {
			status = s
			step("Fleet %s is %s", fleetID, status)
		}
		if status == "ERROR" {
			return false, fmt.Errorf("no game server could start; aws gamelift describe-fleet-events --fleet-id %s tells why", fleetID)
		}
		return status == "ACTIVE", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the fleet to be ACTIVE (it is %s): %w", status, err)
	}
	step("Waiting for both game server processes to call ProcessReady (DescribeFleetUtilization counts them)")
	ready := int32(-1)
	err = poll(ctx, 30*time.Second, func() (bool, error) {
		u, err := client.DescribeFleetUtilization(ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: []string{fleetID}})
		if err != nil {
			return false, err
		}
		n := aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
		if n != ready && n < 2 {
			step("%d of 2 game server processes ready", n)
		}
		ready = n
		return ready == 2, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the game servers to be ready: %w", err)
	}
	step("2 game server processes are ready")

	started := time.Now()
	gs, err := client.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: &fleetID, MaximumPlayerSessionCount: aws.Int32(4),
		Name: aws.String("quickstart"), GameProperties: []types.GameProperty{{Key: aws.String("map"), Value: aws.String("harbor")}}})
	if err != nil {
		return fmt.Errorf("create game session: %w", err)
	}
	session := gs.GameSession
	step("CreateGameSession: %s is %s; waiting for its game server to call ActivateGameSession", aws.ToString(session.GameSessionId), session.Status)
	err = poll(ctx, 30*time.Second, func() (bool, error) {
		d, err := client.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: session.GameSessionId})
		if err == nil {
			session = &d.GameSessions[0]
		}
		return err == nil && session.Status == types.GameSessionStatusActive, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the game session: %w", err)
	}
	address := net.JoinHostPort(aws.ToString(session.IpAddress), strconv.Itoa(int(aws.ToInt32(session.Port))))
	step("Game session is ACTIVE %s after the create call; players connect to %s", time.Since(started).Round(time.Millisecond), address)

	step("Reserving a player slot (CreatePlayerSession) and joining the game at %s", address)
	ps, err := client.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: session.GameSessionId, PlayerId: aws.String("player-1")})
	if err != nil {
		return fmt.Errorf("create player session: %w", err)
	}
	psID := aws.ToString(ps.PlayerSession.PlayerSessionId)
	conn, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connect to the game server: %w", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "JOIN %s\n", psID)
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(reply, "OK") {
		return fmt.Errorf("join: the game server answered %q (%v)", strings.TrimSpace(reply), err)
	}
	step("Player player-1 joined with %s: the game server accepted it", psID)
	if *once {
		return nil
	}

	env := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s", creds.AccessKeyID, creds.SecretAccessKey, srv.Region)
	if srv.CABundle != "" {
		env += " " + certs.EnvCABundle + "=" + srv.CABundle
	}
	fmt.Fprintf(stdout, `
Hoist is running. Try it from another terminal:

  %s aws gamelift describe-game-sessions --endpoint-url %s --fleet-id %s
  %s go run ./cmd/hoist status --endpoint %s   # fleets, processes, sessions

  # reserve a slot, then join the game with it (a line protocol: JOIN, SAY <text>, QUIT)
  %s aws gamelift create-player-session --endpoint-url %s \
      --game-session-id %s --player-id player-2
  nc %s   # then type: JOIN <the PlayerSessionId>

Data: %s   Logs of each game server: %s
Press Ctrl-C to stop.
`, env, srv.Endpoint, fleetID, env, srv.Endpoint, env, srv.Endpoint, aws.ToString(session.GameSessionId),
		strings.Replace(address, ":", " ", 1), *dataDir, filepath.Join(*dataDir, "process-logs"))
	<-ctx.Done()
	return nil
}

// poll calls done until it reports true, an error, ctx ends, or limit passes.
func poll(ctx context.Context, limit time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
