package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/hoist-dev/hoist/internal/bench"
)

var benchHelp = help{
	name: "hoist bench", purpose: "measure CreateGameSession throughput and latency with simulated game server processes",
	usage:       "[flags]",
	credentials: "none for the in-process server; with --endpoint, " + serverKeys,
	more: `Without --endpoint it starts a server in this process over a fresh temporary data
directory (durable SQLite store, no local agent), and runs the simulated processes in a child
process, so each has its own open-file limit. Each simulated process connects on the SDK 5
WebSocket with its compute's auth token, sends ActivateServerProcess, heartbeats about every
60 s, and activates the game session pushed to it at once. The same calls are then sent to a
no-op handler, for a ceiling to compare with.

With --restart it measures a reconnect storm instead: it runs hoist server as a child
process over a fresh data directory, makes --procs processes ready on Hoist's Go SDK (in
another child), kills the server with SIGKILL, starts it again on the same address and data
directory, and reports the time until every process is connected and ready again, as the
server's metrics count them.`,
}

// benchProcs is the hidden argument that makes `hoist bench` the simulated processes'
// child process (bench.ServeProcs).
const benchProcs = "_procs"

// runBench is `hoist bench`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(args) > 0 && args[0] == benchProcs {
		if _, _, err := raiseFileLimit(); err != nil {
			log.Warn("could not raise the open file limit", "error", err)
		}
		return bench.ServeProcs(ctx, os.Stdin, os.Stdout, log)
	}
	fs := flag.NewFlagSet("hoist bench", flag.ContinueOnError)
	procs := fs.Int("procs", 1000, "simulated game server `processes` to connect")
	var sessions, computes optionalInt
	fs.Var(&sessions, "sessions", "game `sessions` to create, at most --procs (default --procs)")
	clients := fs.Int("clients", 16, "concurrent API `clients`")
	fleets := fs.Int("fleets", 1, "Anywhere `fleets`, each in its own custom location, the processes spread over them")
	fs.Var(&computes, "computes", "`computes` the processes are spread over (default max(--fleets, --procs/100))")
	dials := fs.Int("dials", 200, "processes connecting at once")
	endpoint := fs.String("endpoint", "", "a running server's API endpoint `URL`, or several (replicas on one store), comma-separated (computes and clients then take turns over them); without it the bench starts a server in this process")
	region := fs.String("region", "us-west-2", "`Region` to sign requests for")
	inProcess := fs.Bool("procs-in-process", false, "run the simulated processes in this process rather than a child (two descriptors per process here)")
	restart := fs.Bool("restart", false, "measure a reconnect storm: kill -9 a server child with --procs processes ready, restart it, and time until all are back")
	keep := fs.Bool("keep", false, "with --restart: keep the server's data directory and log")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process during the create phase to `file` (the server's side when in-process)")
	rest, err := parseFlags(fs, benchHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(benchHelp, rest); err != nil {
		return err
	}
	if !sessions.set {
		sessions.n = *procs
	}
	if !computes.set {
		computes.n = max(*fleets, *procs/100)
	}
	switch {
	case *procs <= 0 || *clients <= 0 || *fleets <= 0 || *dials <= 0 || computes.n <= 0:
		return errors.New("hoist bench: --procs, --clients, --fleets, --computes and --dials must be positive")
	case sessions.n < 0 || sessions.n > *procs:
		return fmt.Errorf("hoist bench: --sessions %d must be from 0 to --procs %d: each process hosts one session", sessions.n, *procs)
	case computes.n < *fleets:
		return fmt.Errorf("hoist bench: --computes %d is fewer than --fleets %d: each fleet needs a compute", computes.n, *fleets)
	}
	if *restart {
		return runRestartBench(ctx, bench.RestartConfig{Procs: *procs, Computes: computes.n, Dials: *dials, Region: *region, Keep: *keep, Logger: log}, stdout, stderr)
	}
	cfg := bench.Config{
		Procs: *procs, Sessions: sessions.n, Clients: *clients, Fleets: *fleets, Dials: *dials,
		Computes: computes.n, Endpoint: *endpoint, Region: *region, Logger: log,
	}
	if *endpoint != "" {
		cfg.Credentials = aws.Credentials{
			AccessKeyID:     firstSet("HOIST_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
			SecretAccessKey: firstSet("HOIST_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
		}
		if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.SecretAccessKey == "" {
			return errors.New("hoist bench: set HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) to the server's keys")
		}
	}
	if _, _, err := raiseFileLimit(); err != nil {
		log.Warn("could not raise the open file limit", "error", err)
	}
	if !*inProcess {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("hoist bench: find this program to run the simulated processes: %w", err)
		}
		cfg.SpawnProcs = func() *exec.Cmd {
			cmd := exec.Command(self, "bench", benchProcs)
			cmd.Stderr = stderr
			return cmd
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("hoist bench: %w", err)
		}
		defer f.Close()
		cfg.CPUProfile = f
	}
	fmt.Fprintf(stderr, "hoist bench: connecting %d processes, then creating %d sessions...\n", cfg.Procs, cfg.Sessions)
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	return nil
}

// runRestartBench is `hoist bench --restart`: the server and the processes each run in a
// child process of this program.
func runRestartBench(ctx context.Context, cfg bench.RestartConfig, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("hoist bench: find this program to run the server and the processes: %w", err)
	}
	cfg.Server = func(flags ...string) *exec.Cmd {
		return exec.Command(self, append([]string{"server"}, flags...)...)
	}
	cfg.SpawnProcs = func() *exec.Cmd {
		cmd := exec.Command(self, "bench", benchProcs)
		cmd.Stderr = stderr
		return cmd
	}
	fmt.Fprintf(stderr, "hoist bench: making %d processes ready, then kill -9 and restart of the server...\n", cfg.Procs)
	rep, err := bench.RunRestart(ctx, cfg)
	if rep != nil {
		rep.Print(stdout)
		if cfg.Keep {
			fmt.Fprintf(stdout, "server log: %s\n", rep.ServerLog)
		}
	}
	if err != nil {
		if rep != nil {
			return fmt.Errorf("%w (server log: %s)", err, rep.ServerLog)
		}
		return err
	}
	return nil
}

// optionalInt is an int flag whose default depends on other flags: unset, it shows no
// default in --help.
type optionalInt struct {
	n   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	o.n, o.set = n, true
	return nil
}
