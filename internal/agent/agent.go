package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/builds"
)

// Config says which fleet's processes to run here, and how.
type Config struct {
	FleetID     string
	ComputeName string
	Control     Control
	// LogDir receives each process's stdout and stderr, as <process ID>.log.
	LogDir string
	// UploadLogs sends each ended process's output and LogPaths files to the server, for
	// GetGameSessionLogUrl (see logArchive for which files).
	UploadLogs bool
	// MaxLogBytes bounds the content of one process's log archive; DefaultMaxLogBytes
	// when zero.
	MaxLogBytes int64
	// Private lists directories whose files are never archived, whatever a process lists
	// in LogPaths (the server's data directory, for the agent inside the server).
	Private []string
	// BuildDir holds the builds this host unpacked, one directory each; processes of a
	// build fleet run from there, with /local/game/ in launch paths meaning that directory.
	BuildDir string
	// PollInterval is how often the runtime configuration is read; 2 s when zero.
	PollInterval time.Duration
	// StopTimeout is how long a process asked to end may take before it is killed; 30 s
	// when zero.
	StopTimeout time.Duration
	// SDKInitTimeout is how long a process has from its launch to connect to the server
	// (the Server SDK's InitSDK) before it is reported and stopped; 5 minutes when zero,
	// as in GameLift.
	SDKInitTimeout time.Duration
	Logger         *slog.Logger
	// Counters, when set, counts process restarts and crashes.
	Counters Counters
	// ProcessEnv are environment variables (KEY=value) for every process, after the
	// agent's own environment and before the Server SDK's variables.
	ProcessEnv []string
}

// Counters is told what happens to the agent's processes, for metrics. Its methods must
// not block.
type Counters interface {
	// ProcessRestarted: a process was launched to replace one that exited on its own.
	ProcessRestarted()
	// ProcessCrashed: a process exited with a failure the agent had not asked for.
	ProcessCrashed()
}

type noCounters struct{}

func (noCounters) ProcessRestarted() {}
func (noCounters) ProcessCrashed()   {}

// Crash handling: a process that fails sooner than quickExit after its start is crashing;
// its slot waits 1 s, 2 s, 4 s ... up to maxBackoff before the next launch.
const (
	quickExit  = 10 * time.Second
	maxBackoff = time.Minute
)

type proc struct {
	id      string
	slot    string
	cmd     *exec.Cmd
	started time.Time
	stop    bool // the agent asked it to end
	// connected: the server has seen it connect (InitSDK), or cannot tell that it has not.
	connected bool
	// killed: it had not ended StopTimeout after it was asked to, and was killed.
	killed atomic.Bool
}

type exit struct {
	p   *proc
	err error
}

type slotState struct {
	failures int
	notUntil time.Time
}

type agent struct {
	Config
	log      *slog.Logger
	endpoint string
	token    string
	expires  time.Time
	running  map[string]*proc // by process ID
	buildID  string           // the fleet's build, once known ("" for none)
	gameDir  string           // where it is unpacked
	prepared bool             // the build is unpacked and installed (or there is none)
	// installFailed: the build's install script failed here; no process is launched.
	installFailed bool
	// downloadFailed: the build's download failed and that was reported; it is tried
	// again at each reconcile, and reported again once one succeeds and another fails.
	downloadFailed bool
	slots          map[string]*slotState
	exits          chan exit
	// selfExited holds the slots whose process exited on its own: their next launch is a restart.
	selfExited map[string]bool
}

// Run registers the host, keeps the fleet's processes running until ctx ends, then drains
// them and deregisters.
func Run(ctx context.Context, cfg Config) error {
	cfg.PollInterval = cmp.Or(cfg.PollInterval, 2*time.Second)
	cfg.StopTimeout = cmp.Or(cfg.StopTimeout, 30*time.Second)
	cfg.SDKInitTimeout = cmp.Or(cfg.SDKInitTimeout, 5*time.Minute)
	a := &agent{Config: cfg, log: cmp.Or(cfg.Logger, slog.Default()).With("fleet", cfg.FleetID, "compute", cfg.ComputeName),
		running: map[string]*proc{}, slots: map[string]*slotState{}, exits: make(chan exit, 16), selfExited: map[string]bool{}}
	if a.Counters == nil {
		a.Counters = noCounters{}
	}
	// Processes run in their own directory, so a relative directory of the agent's would
	// name another place for them (and for exec, which resolves a relative path from the
	// child's directory).
	for _, dir := range []*string{&a.LogDir, &a.BuildDir} {
		if *dir == "" {
			continue
		}
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return fmt.Errorf("agent directory %s: %w", *dir, err)
		}
		*dir = abs
	}
	if a.LogDir != "" {
		if err := os.MkdirAll(a.LogDir, 0o755); err != nil {
			return fmt.Errorf("agent log dir: %w", err)
		}
	}
	var err error
	if a.endpoint, err = cfg.Control.Register(ctx); err != nil {
		return err
	}
	a.log.Info("agent: host registered", "sdk_endpoint", a.endpoint)
	defer func() {
		a.drain()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := cfg.Control.Deregister(dctx); err != nil {
			a.log.Warn("agent: deregister", "error", err)
		}
	}()

	tick := time.NewTicker(cfg.PollInterval)
	defer tick.Stop()
	for {
		if !a.reconcile(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case e := <-a.exits:
			a.exited(ctx, e)
		case <-tick.C:
		}
	}
}

// reconcile launches what the runtime configuration wants and is not running, and asks
// what it no longer wants to end. It reports false when the host should stop serving the
// fleet: its location is being deleted, in ERROR, or gone.
func (a *agent) reconcile(ctx context.Context) bool {
	status, err := a.Control.LocationStatus(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("agent: read the fleet location's status", "error", err)
		}
		return true
	}
	if status != "ACTIVATING" && status != "ACTIVE" {
		a.log.Info("agent: the fleet location is " + cmp.Or(status, "gone") + "; stopping its processes")
		return false
	}
	if !a.prepared {
		if err := a.prepareBuild(ctx); err != nil {
			if ctx.Err() == nil {
				a.log.Error("agent: install the fleet's build", "error", err)
			}
			return true
		}
	}
	if a.installFailed {
		return true
	}
	sps, err := a.Control.RuntimeConfiguration(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("agent: read runtime configuration", "error", err)
		}
		return true
	}
	want := map[string]ServerProcess{}
	for _, sp := range sps {
		for i := range sp.Count {
			want[fmt.Sprintf("%s|%s|%d", sp.LaunchPath, sp.Parameters, i)] = sp
		}
	}
	a.checkConnected(ctx)
	have := map[string]bool{}
	for _, p := range a.running {
		if _, ok := want[p.slot]; !ok && !p.stop {
			a.stopProcess(ctx, p, "no longer in the runtime configuration", false)
		}
		if !p.stop {
			have[p.slot] = true
		}
	}
	for slot, sp := range want {
		if have[slot] {
			continue
		}
		if st := a.slots[slot]; st != nil && time.Now().Before(st.notUntil) {
			continue
		}
		a.launch(ctx, slot, sp)
	}
	return true
}

// checkConnected asks the server which of the processes not yet seen connected have
// connected since, and stops those that have not within SDKInitTimeout of their launch,
// as GameLift does (SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT). Once a process has
// connected it is not asked about again, so a host whose processes all connected asks
// nothing.
func (a *agent) checkConnected(ctx context.Context) {
	var ids []string
	for id, p := range a.running {
		if !p.connected && !p.stop {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	seen, err := a.Control.ConnectedProcesses(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Debug("agent: ask which processes connected", "error", err)
		}
		// Past the timeout, a process the server cannot answer for (one from before
		// ConnectedProcesses, say) is left alone and not asked about again.
		for _, id := range ids {
			if p := a.running[id]; time.Since(p.started) > a.SDKInitTimeout {
				p.connected = true
			}
		}
		return
	}
	for _, id := range seen {
		if p := a.running[id]; p != nil {
			p.connected = true
		}
	}
	for _, id := range ids {
		p := a.running[id]
		if p.connected || time.Since(p.started) <= a.SDKInitTimeout {
			continue
		}
		a.report(ctx, "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT", fmt.Sprintf("process %s did not connect to the service (InitSDK) within %s of its launch and is stopped",
			id, a.SDKInitTimeout))
		a.stopProcess(ctx, p, "it did not call InitSDK in time", true)
	}
}

func (a *agent) freshToken(ctx context.Context) (string, error) {
	if a.token != "" && time.Until(a.expires) > 2*time.Minute {
		return a.token, nil
	}
	tok, exp, err := a.Control.AuthToken(ctx)
	if err != nil {
		return "", err
	}
	a.token, a.expires = tok, exp
	return tok, nil
}

// launch starts one process for slot with the Server SDK's environment and a fresh ID.
func (a *agent) launch(ctx context.Context, slot string, sp ServerProcess) {
	tok, err := a.freshToken(ctx)
	if err != nil {
		a.log.Warn("agent: no auth token for a new process", "error", err)
		return
	}
	path, dir, err := a.resolve(ctx, sp.LaunchPath)
	if err != nil {
		a.log.Error("agent: launch path", "launch_path", sp.LaunchPath, "error", err)
		a.backoff(slot)
		a.report(ctx, "SERVER_PROCESS_INVALID_PATH", fmt.Sprintf("could not launch %s: %v", sp.LaunchPath, err))
		return
	}
	id := "process-" + uuid.NewString()
	cmd := exec.Command(path, strings.Fields(sp.Parameters)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), a.ProcessEnv...),
		"GAMELIFT_SDK_WEBSOCKET_URL="+a.endpoint, "GAMELIFT_SDK_PROCESS_ID="+id, "GAMELIFT_SDK_HOST_ID="+a.ComputeName,
		"GAMELIFT_SDK_FLEET_ID="+a.FleetID, "GAMELIFT_SDK_AUTH_TOKEN="+tok)
	if a.LogDir != "" {
		if f, err := os.OpenFile(filepath.Join(a.LogDir, id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			cmd.Stdout, cmd.Stderr = f, f
			defer f.Close() // the child has its own copy
		}
	}
	if err := cmd.Start(); err != nil {
		a.log.Error("agent: launch failed", "launch_path", sp.LaunchPath, "error", err)
		a.backoff(slot)
		a.report(ctx, "SERVER_PROCESS_INVALID_PATH", fmt.Sprintf("could not launch %s: %v", sp.LaunchPath, err))
		return
	}
	p := &proc{id: id, slot: slot, cmd: cmd, started: time.Now()}
	a.running[id] = p
	a.log.Info("agent: process launched", "process", id, "pid", cmd.Process.Pid, "launch_path", sp.LaunchPath)
	if a.selfExited[slot] {
		delete(a.selfExited, slot)
		a.Counters.ProcessRestarted()
	}
	go func() { a.exits <- exit{p, cmd.Wait()} }()
}

// gameRoot is where a build's files sit in a launch path, as on GameLift's Linux hosts.
const gameRoot = "/local/game/"

// resolve maps a launch path to a file on this host and the directory to run it in: a
// path under /local/game/ is in the fleet's build, unpacked here on first use; any other
// absolute path is a program already on the host (Hoist's extension for local use).
func (a *agent) resolve(ctx context.Context, launchPath string) (path, dir string, err error) {
	rest, inBuild := strings.CutPrefix(launchPath, gameRoot)
	if !inBuild {
		return launchPath, filepath.Dir(launchPath), nil
	}
	if a.gameDir == "" {
		return "", "", fmt.Errorf("the launch path is under %s but the fleet has no build", gameRoot)
	}
	return filepath.Join(a.gameDir, filepath.FromSlash(rest)), a.gameDir, nil
}

func (a *agent) unpackBuild(ctx context.Context, id string) error {
	dir := filepath.Join(cmp.Or(a.BuildDir, filepath.Join(os.TempDir(), "hoist-builds")), id)
	if _, err := os.Stat(dir); err == nil {
		a.buildID, a.gameDir = id, dir
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	archive, err := os.CreateTemp(filepath.Dir(dir), id+"-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(archive.Name())
	defer archive.Close()
	if _, err := a.freshToken(ctx); err != nil {
		return err
	}
	if err := a.Control.DownloadBuild(ctx, id, archive); err != nil {
		if !a.downloadFailed && ctx.Err() == nil {
			a.downloadFailed = true
			a.report(ctx, "FLEET_BINARY_DOWNLOAD_FAILED", fmt.Sprintf("build %s could not be downloaded to %s: %v; trying again", id, a.ComputeName, err))
		}
		return err
	}
	a.downloadFailed = false
	a.report(ctx, "FLEET_CREATION_EXTRACTING_BUILD", fmt.Sprintf("build %s was downloaded to %s and is being extracted", id, a.ComputeName))
	size, err := archive.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	tmp := dir + ".unpacking"
	os.RemoveAll(tmp)
	if _, err := builds.Unzip(archive, size, tmp, builds.Limits{}); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	a.log.Info("agent: build unpacked", "build", id, "dir", dir)
	a.buildID, a.gameDir = id, dir
	return nil
}

// prepareBuild unpacks the fleet's build, if it has one, and runs its install script
// once on this host, before any process is launched, as GameLift does on each instance.
func (a *agent) prepareBuild(ctx context.Context) error {
	id, err := a.Control.FleetBuild(ctx)
	if err != nil {
		return err
	}
	if id != "" {
		if err := a.unpackBuild(ctx, id); err != nil {
			return err
		}
		if err := a.install(ctx); err != nil {
			return err
		}
	}
	a.prepared = true
	return nil
}

// Install scripts: install.sh at the root of a build runs once per host, in the build's
// directory, before the host launches processes; the marker file records that it ran.
const (
	installScript  = "install.sh"
	installMarker  = ".hoist-installed"
	installTimeout = 10 * time.Minute
)

func (a *agent) install(ctx context.Context) error {
	script := filepath.Join(a.gameDir, installScript)
	if _, err := os.Stat(script); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	marker := filepath.Join(a.gameDir, installMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	a.report(ctx, "FLEET_CREATION_RUNNING_INSTALLER", fmt.Sprintf("running %s of build %s on %s", installScript, a.buildID, a.ComputeName))
	ictx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ictx, "/bin/sh", installScript)
	cmd.Dir = a.gameDir
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	if a.LogDir != "" {
		if f, err := os.Create(filepath.Join(a.LogDir, "install-"+a.buildID+".log")); err == nil {
			defer f.Close()
			cmd.Stdout = io.MultiWriter(f, &out)
			cmd.Stderr = cmd.Stdout
		}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		a.installFailed = true
		a.log.Error("agent: install script failed", "build", a.buildID, "error", err, "output", out.String())
		a.report(ctx, "FLEET_CREATION_FAILED_INSTALLER", fmt.Sprintf("%s of build %s failed on %s: %s; its output ends: %s",
			installScript, a.buildID, a.ComputeName, exitStatus(err), out.String()))
		return nil
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return err
	}
	a.log.Info("agent: install script ran", "build", a.buildID)
	a.report(ctx, "FLEET_CREATION_COMPLETED_INSTALLER", fmt.Sprintf("%s of build %s completed on %s", installScript, a.buildID, a.ComputeName))
	return nil
}

// tail keeps the last bytes written to it, for an error message.
type tail struct{ b []byte }

const tailBytes = 512

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailBytes {
		t.b = append(t.b[:0], t.b[len(t.b)-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.b)) }

// exited handles a process that ended: the server hears of it first, so the game session
// it hosted ends at once (the server would otherwise keep it for the reconnect a dropped
// connection may be followed by); then its logs go up, and a crash is backed off from.
func (a *agent) exited(ctx context.Context, e exit) {
	delete(a.running, e.p.id)
	ran := time.Since(e.p.started)
	a.log.Info("agent: process exited", "process", e.p.id, "after", ran.Truncate(time.Millisecond), "status", exitStatus(e.err))
	var code, msg string
	switch {
	case e.p.stop && e.p.killed.Load():
		code = "SERVER_PROCESS_FORCE_TERMINATED"
		msg = fmt.Sprintf("process %s did not end within %s of being asked to (OnProcessTerminate) and was killed", e.p.id, a.StopTimeout)
	case !e.p.stop && e.err != nil:
		a.Counters.ProcessCrashed()
		code = "SERVER_PROCESS_CRASHED"
		msg = fmt.Sprintf("process %s exited after %s: %s", e.p.id, ran.Truncate(time.Second), exitStatus(e.err))
	}
	if err := a.Control.ProcessExited(ctx, e.p.id, code, msg); err != nil {
		a.log.Warn("agent: report a process's exit", "process", e.p.id, "error", err)
		if code != "" {
			a.report(ctx, code, msg) // a server from before ProcessExited still records the event
		}
	}
	if a.UploadLogs {
		a.uploadLogs(ctx, e.p)
	}
	if e.p.stop {
		return
	}
	a.selfExited[e.p.slot] = true
	if e.err == nil { // a game server that ended its game: a fresh one takes its place
		delete(a.slots, e.p.slot)
		return
	}
	if ran < quickExit {
		a.backoff(e.p.slot)
	} else {
		delete(a.slots, e.p.slot)
	}
}

// uploadLogs sends a process's output and the files it listed in LogPaths (those the
// rule of logArchive allows) to the server, when the process hosted a game session
// (otherwise the server has nowhere to keep them). The archive goes through a temporary
// file, never memory.
func (a *agent) uploadLogs(ctx context.Context, p *proc) {
	paths, err := a.Control.ProcessLogPaths(ctx, p.id)
	if err != nil {
		a.log.Debug("agent: no game session logs to upload", "process", p.id, "error", err)
		return
	}
	la := logArchive{workDir: p.cmd.Dir, logPaths: paths, private: a.Private, max: a.MaxLogBytes}
	if a.LogDir != "" {
		la.output = filepath.Join(a.LogDir, p.id+".log")
	}
	if err := a.sendLogs(ctx, p.id, la); err != nil {
		a.log.Warn("agent: upload process logs", "process", p.id, "error", err)
		a.report(ctx, "COMPUTE_LOG_UPLOAD_FAILED", fmt.Sprintf("the logs of process %s could not be uploaded from %s: %v", p.id, a.ComputeName, err))
	}
}

func (a *agent) sendLogs(ctx context.Context, id string, la logArchive) error {
	tmp, err := os.CreateTemp(a.LogDir, id+"-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, skipped, err := la.write(ctx, tmp)
	if len(skipped) > 0 {
		a.log.Info("agent: log files left out of the archive", "process", id, "files", skipped)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return a.Control.UploadLogs(ctx, id, tmp, size)
}

func (a *agent) backoff(slot string) {
	st := a.slots[slot]
	if st == nil {
		st = &slotState{}
		a.slots[slot] = st
	}
	st.failures++
	wait := min(maxBackoff, time.Second<<min(st.failures-1, 6))
	st.notUntil = time.Now().Add(wait)
	a.log.Warn("agent: process slot backing off", "slot", slot, "failures", st.failures, "wait", wait)
}

func (a *agent) report(ctx context.Context, code, msg string) {
	if err := a.Control.ReportEvent(ctx, code, msg); err != nil {
		a.log.Warn("agent: report fleet event", "code", code, "error", err)
	}
}

// stopProcess asks a process to end (TerminateProcess through the service, and SIGTERM),
// and kills it if it has not after StopTimeout. Unless force is set, a process hosting a
// protected game session is left running; the next reconcile asks again.
func (a *agent) stopProcess(ctx context.Context, p *proc, why string, force bool) {
	err := a.Control.TerminateProcess(ctx, p.id, force)
	if errors.Is(err, ErrProtected) {
		a.log.Debug("agent: process kept: its game session is protected", "process", p.id)
		return
	}
	if err != nil {
		a.log.Debug("agent: TerminateProcess", "process", p.id, "error", err)
	}
	p.stop = true
	a.log.Info("agent: stopping process", "process", p.id, "why", why)
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.AfterFunc(a.StopTimeout, func() {
		if p.cmd.Process.Kill() == nil {
			p.killed.Store(true)
		}
	})
}

// drain stops every process and waits for them, up to StopTimeout and a little.
func (a *agent) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), a.StopTimeout+5*time.Second)
	defer cancel()
	for _, p := range a.running {
		if !p.stop {
			a.stopProcess(ctx, p, "agent shutting down", true)
		}
	}
	for len(a.running) > 0 {
		select {
		case e := <-a.exits:
			delete(a.running, e.p.id)
		case <-ctx.Done():
			for _, p := range a.running {
				p.cmd.Process.Kill()
			}
			return
		}
	}
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	}
	return err.Error()
}
