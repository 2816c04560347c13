package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/internal/server"
)

// Config describes one bench run.
type Config struct {
	// Procs simulated game server processes, hosting Sessions game sessions (at most Procs)
	// created by Clients concurrent API clients.
	Procs, Sessions, Clients int
	// Fleets are Anywhere fleets, each in its own custom location; Computes are spread
	// over them, and the processes over the computes.
	Fleets, Computes int
	// Dials bounds the processes connecting at once (200 when zero).
	Dials int

	// Endpoint is a running server's API endpoint, with Credentials its key pair; when
	// empty, the bench starts a server in this process over a fresh data directory.
	Endpoint    string
	Credentials aws.Credentials
	Region      string

	// SpawnProcs, when set, makes the command that runs the simulated processes in a child
	// process (which must call ServeProcs), so that they and the server each have their
	// own open-file limit; when nil they run in this process.
	SpawnProcs func() *exec.Cmd

	// CPUProfile, when set, receives a CPU profile of this process during the create phase.
	CPUProfile io.Writer
	// ActiveTimeout bounds the wait for sessions to become ACTIVE after the last call
	// (30 s when zero).
	ActiveTimeout time.Duration
	Logger        *slog.Logger
}

// Report is what a bench run measured.
type Report struct {
	Config Config

	// Processes.
	Ready, Failed  int
	StopReason     string // why fewer processes than asked were connected, or ""
	FileLimit      uint64 // the simulator's open-file limit
	ServerLimitMsg string // set when Procs was lowered to fit this process's open-file limit
	ConnectTime    time.Duration
	InChild        bool

	// Memory of this process (in-process server only): before and after the processes
	// were connected and ready.
	RSSBefore, RSSAfter   int64
	HeapBefore, HeapAfter uint64
	ChildRSS              int64 // the simulator's RSS after the connect phase, when in a child

	// CreateGameSession calls against Hoist.
	Calls      int
	Created    int
	Elapsed    time.Duration
	Latency    []time.Duration // sorted, every call
	ToPush     []time.Duration // sorted: call start to the push reaching the process
	ToActive   []time.Duration // sorted: call start to ActivateGameSession's 200 reaching the process
	Active     int
	Errors     map[string]int // by kind: exception name, "transport: ...", "process: ...", ...
	ErrorEx    map[string]string
	NoopCalls  int
	NoopOK     int
	NoopTime   time.Duration
	NoopErrors map[string]int
}

// Rate is Hoist's game sessions created per second.
func (r *Report) Rate() float64 { return rate(r.Created, r.Elapsed) }

// NoopRate is the no-op handler's calls answered (200) per second.
func (r *Report) NoopRate() float64 { return rate(r.NoopOK, r.NoopTime) }

// Ratio is Hoist's rate as a share of the no-op's.
func (r *Report) Ratio() float64 {
	if r.NoopRate() == 0 {
		return 0
	}
	return r.Rate() / r.NoopRate()
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// reservedFiles is what the bench's own process keeps open besides the processes'
// connections: the store, the API clients' connections on both ends, the no-op server.
const reservedFiles = 256

// Run runs a bench: it starts a server (unless cfg.Endpoint is set), creates the fleets
// and computes, connects the simulated processes, drives CreateGameSession against the
// server and then the same calls against a no-op handler, and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.Clients = max(cfg.Clients, 1)
	cfg.Fleets = max(cfg.Fleets, 1)
	cfg.Computes = max(cfg.Computes, cfg.Fleets)
	cfg.Dials = cmp.Or(cfg.Dials, 200)
	cfg.Region = cmp.Or(cfg.Region, "us-west-2")
	cfg.ActiveTimeout = cmp.Or(cfg.ActiveTimeout, 30*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Procs <= 0 || cfg.Sessions < 0 || cfg.Sessions > cfg.Procs {
		return nil, fmt.Errorf("bench: need procs > 0 and 0 <= sessions <= procs, got %d and %d", cfg.Procs, cfg.Sessions)
	}
	rep := &Report{InChild: cfg.SpawnProcs != nil, Errors: map[string]int{}, ErrorEx: map[string]string{}}

	endpoint := cfg.Endpoint
	if endpoint == "" {
		// This process holds the server's end of every connection, and the simulator's
		// too when it is not a child.
		perProc := 1
		if cfg.SpawnProcs == nil {
			perProc = 2
		}
		if limit, err := fileLimit(); err == nil {
			room := (int(limit) - reservedFiles - 2*cfg.Clients - cfg.Dials) / perProc
			if cfg.Procs > room {
				rep.ServerLimitMsg = fmt.Sprintf("the open-file limit of %d (ulimit -n; %d per process here, plus %d reserved) holds %d processes, not %d: connecting %d",
					limit, perProc, reservedFiles+2*cfg.Clients+cfg.Dials, room, cfg.Procs, room)
				cfg.Procs = room
				cfg.Sessions = min(cfg.Sessions, room)
			}
		}
		dir, err := os.MkdirTemp("", "hoist-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: data dir: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Credentials = aws.Credentials{AccessKeyID: "AKBENCH" + randomHex(6), SecretAccessKey: randomHex(20)}
		srv, err := server.Start(ctx, server.Config{
			Addr: "127.0.0.1:0", DataDir: dir, Region: cfg.Region, NoLocalAgent: true, Logger: cfg.Logger,
			Credentials: server.Credentials{AccessKeyID: cfg.Credentials.AccessKeyID, SecretAccessKey: cfg.Credentials.SecretAccessKey},
			MaxSDKConns: cfg.Procs + 64, MaxConns: 2*cfg.Clients + cfg.Dials + 64,
		})
		if err != nil {
			return nil, fmt.Errorf("bench: start server: %w", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			srv.Close(cctx)
		}()
		endpoint = srv.Endpoint
	}
	rep.Config = cfg

	plan, bodies, err := setUp(ctx, cfg, endpoint)
	if err != nil {
		return nil, err
	}

	inProcess := cfg.Endpoint == ""
	if inProcess {
		rep.RSSBefore, rep.HeapBefore = memory()
	}
	events := newCollector()
	began := time.Now()
	child, err := startProcs(ctx, cfg, plan, events)
	if err != nil {
		return nil, err
	}
	defer child.stop()

	var ready Event
	select {
	case ready = <-events.ready:
	case err := <-child.exited:
		return nil, fmt.Errorf("bench: the simulated processes ended before they were ready: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rep.ConnectTime = time.Since(began)
	rep.Ready, rep.Failed, rep.StopReason, rep.FileLimit = ready.Ready, ready.Failed, ready.StopReason, ready.FileLimit
	if inProcess {
		rep.RSSAfter, rep.HeapAfter = memory()
		if child.pid != 0 {
			rep.ChildRSS = rss(fmt.Sprintf("/proc/%d/status", child.pid))
		}
	}
	if rep.Ready < len(bodies) {
		bodies = bodies[:rep.Ready] // the first processes are the ones connected, in all but a few
	}

	signed := signedClients{creds: cfg.Credentials, region: cfg.Region, signer: v4.NewSigner()}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	hoist := signed.drive(ctx, endpoint, bodies, cfg.Clients)
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	rep.Calls, rep.Elapsed = len(bodies), hoist.elapsed
	for i, ok := range hoist.ok {
		if ok {
			rep.Created++
		}
		rep.Latency = append(rep.Latency, hoist.latency[i])
	}
	for k, n := range hoist.errors.count {
		rep.Errors[k] += n
		rep.ErrorEx[k] = hoist.errors.example[k]
	}

	// Every session created should reach its process and become ACTIVE.
	deadline := time.Now().Add(cfg.ActiveTimeout)
	for events.settled() < rep.Created && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	events.into(rep, hoist.startAt)

	noop := noopServer()
	defer noop.Close()
	base := signed.drive(ctx, noop.URL, bodies, cfg.Clients)
	rep.NoopCalls, rep.NoopTime = len(bodies), base.elapsed
	rep.NoopOK = len(bodies) - base.errors.total()
	rep.NoopErrors = base.errors.count
	return rep, ctx.Err()
}

// setUp creates cfg's locations, fleets and computes through the API and returns the
// processes' plan and the CreateGameSession bodies: session j goes to the fleet of process
// j, so no fleet is asked for more sessions than it has processes.
func setUp(ctx context.Context, cfg Config, endpoint string) (Plan, [][]byte, error) {
	var apis []*gl.Client
	for _, e := range strings.Split(endpoint, ",") {
		apis = append(apis, gl.New(gl.Options{
			Region: cfg.Region, BaseEndpoint: aws.String(e), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.Credentials.AccessKeyID, cfg.Credentials.SecretAccessKey, ""),
		}))
	}
	api := apis[0]
	run := randomHex(3) // names that do not collide with an earlier run on the same server
	fleets := make([]string, cfg.Fleets)
	locations := make([]string, cfg.Fleets)
	for f := range fleets {
		locations[f] = fmt.Sprintf("custom-bench-%s-%d", run, f)
		if _, err := api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: &locations[f]}); err != nil {
			return Plan{}, nil, fmt.Errorf("bench: create location: %w", err)
		}
		out, err := api.CreateFleet(ctx, &gl.CreateFleetInput{
			Name: aws.String(fmt.Sprintf("bench-%s-%d", run, f)), ComputeType: types.ComputeTypeAnywhere,
			Locations: []types.LocationConfiguration{{Location: &locations[f]}},
		})
		if err != nil {
			return Plan{}, nil, fmt.Errorf("bench: create fleet: %w", err)
		}
		fleets[f] = aws.ToString(out.FleetAttributes.FleetId)
	}
	plan := Plan{Procs: cfg.Procs, Computes: make([]ComputePlan, cfg.Computes), Dials: cfg.Dials, Heartbeat: time.Minute}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for k := range plan.Computes {
		g.Go(func() error {
			f := k % cfg.Fleets
			name := fmt.Sprintf("bench-%s-c%d", run, k)
			// With several endpoints (replicas), each compute registers through the next, so
			// its processes connect to that replica.
			api := apis[k%len(apis)]
			reg, err := api.RegisterCompute(gctx, &gl.RegisterComputeInput{FleetId: &fleets[f], ComputeName: &name,
				IpAddress: aws.String("127.0.0.1"), Location: &locations[f]})
			if err != nil {
				return fmt.Errorf("bench: register compute: %w", err)
			}
			tok, err := api.GetComputeAuthToken(gctx, &gl.GetComputeAuthTokenInput{FleetId: &fleets[f], ComputeName: &name})
			if err != nil {
				return fmt.Errorf("bench: compute auth token: %w", err)
			}
			plan.Computes[k] = ComputePlan{Endpoint: cmp.Or(aws.ToString(reg.Compute.GameLiftServiceSdkEndpoint), wsURL(strings.Split(endpoint, ",")[k%len(apis)])),
				FleetID: fleets[f], ComputeName: name, AuthToken: aws.ToString(tok.AuthToken)}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Plan{}, nil, err
	}
	bodies := make([][]byte, cfg.Sessions)
	for j := range bodies {
		f := j % cfg.Computes % cfg.Fleets
		b, err := json.Marshal(map[string]any{"FleetId": fleets[f], "Location": locations[f], "MaximumPlayerSessionCount": 8, "Name": sessionName(j)})
		if err != nil {
			return Plan{}, nil, err
		}
		bodies[j] = b
	}
	return plan, bodies, nil
}

// sessionName names call j's session, so the process it lands on can tell which call it
// came from.
func sessionName(j int) string { return "b" + strconv.Itoa(j) }

// wsURL is the WebSocket URL of an http(s):// endpoint.
func wsURL(endpoint string) string {
	if rest, ok := strings.CutPrefix(endpoint, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(endpoint, "http://")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// memory is this process's resident set size and live Go heap, after a collection.
func memory() (rssBytes int64, heap uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return rss("/proc/self/status"), m.HeapAlloc
}

// rss reads VmRSS from a /proc/<pid>/status file, in bytes; 0 when unknown.
func rss(statusFile string) int64 {
	b, err := os.ReadFile(statusFile)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// collector gathers the simulated processes' events.
type collector struct {
	ready chan Event

	mu       sync.Mutex
	sessions map[string]Event // by session name
	errors   errorCounts
	failures int // errors about sessions (activation refused)
}

func newCollector() *collector {
	return &collector{ready: make(chan Event, 1), sessions: map[string]Event{}}
}

func (c *collector) add(e Event) {
	switch e.Kind {
	case EventReady:
		c.ready <- e
	case EventSession:
		c.mu.Lock()
		c.sessions[e.Name] = e
		c.mu.Unlock()
	case EventError:
		c.errors.add(e.Type, e.Message)
		if strings.HasPrefix(e.Type, "ActivateGameSession") {
			c.mu.Lock()
			c.failures++
			c.mu.Unlock()
		}
	}
}

// settled is how many sessions have become ACTIVE or failed to.
func (c *collector) settled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions) + c.failures
}

// into adds the processes' view to rep: call j started at startAt[j].
func (c *collector) into(rep *Report, startAt []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, e := range c.sessions {
		j, err := strconv.Atoi(strings.TrimPrefix(name, "b"))
		if err != nil || j < 0 || j >= len(startAt) {
			rep.Errors["process: a session the bench did not ask for"]++
			continue
		}
		rep.Active++
		rep.ToPush = append(rep.ToPush, time.Duration(e.PushAt-startAt[j]))
		rep.ToActive = append(rep.ToActive, time.Duration(e.ActiveAt-startAt[j]))
	}
	c.errors.mu.Lock()
	for k, n := range c.errors.count {
		rep.Errors[k] += n
		rep.ErrorEx[k] = c.errors.example[k]
	}
	c.errors.mu.Unlock()
}

// procsRunner is the simulated processes, running in a child process or in goroutines.
type procsRunner struct {
	pid    int
	exited chan error // the runner's end, before or after ctx ends
	stop   func()     // stops the processes and waits for them
}

// startProcs runs the simulated processes of plan, feeding their events to events, in a
// child process when cfg.SpawnProcs is set; they stop when ctx ends.
func startProcs(ctx context.Context, cfg Config, plan Plan, events *collector) (*procsRunner, error) {
	r := &procsRunner{exited: make(chan error, 1)}
	ctx, cancel := context.WithCancel(ctx)
	if cfg.SpawnProcs == nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.exited <- Simulate(ctx, plan, events.add, cfg.Logger)
		}()
		r.stop = func() { cancel(); <-done }
		return r, nil
	}
	cmd := cfg.SpawnProcs()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bench: simulator stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bench: simulator stdout: %w", err)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("bench: start simulator: %w", err)
	}
	r.pid = cmd.Process.Pid
	line, _ := json.Marshal(plan)
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		cancel()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("bench: send the plan to the simulator: %w", err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		dec := json.NewDecoder(stdout)
		for {
			var e Event
			if err := dec.Decode(&e); err != nil {
				return
			}
			events.add(e)
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-read
		err := cmd.Wait()
		if err == nil && ctx.Err() == nil {
			err = errors.New("simulator exited")
		}
		cancel()
		r.exited <- err
	}()
	// The simulator ends when its stdin closes; one that does not within 10 s is killed.
	r.stop = func() {
		cancel()
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	return r, nil
}
