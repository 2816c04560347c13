package bench

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// RestartConfig describes a restart storm: a server in a child process with its SQLite
// data directory, Procs game server processes on Hoist's Go SDK made ready on it, then the
// server killed (SIGKILL) and started again on the same address and data directory.
type RestartConfig struct {
	Procs, Computes int
	// Dials bounds the processes connecting at once before the kill (not after: then they
	// all reconnect by themselves).
	Dials int
	// Server makes the command that runs a server (hoist server) with these flags.
	Server func(flags ...string) *exec.Cmd
	// SpawnProcs makes the command that runs the processes (which must call ServeProcs).
	SpawnProcs func() *exec.Cmd
	// Timeout bounds the wait for the processes to come back (2 min when zero).
	Timeout time.Duration
	// Keep keeps the data directory and the server's log after a run that succeeded.
	Keep   bool
	Region string
	Logger *slog.Logger
}

// RestartReport is what a restart storm measured.
type RestartReport struct {
	Procs, Ready, Failed int           // before the kill: processes made ready, and not
	ConnectTime          time.Duration // to make them ready, Dials at a time
	Down                 time.Duration // from the kill to the new server's start
	ToServing            time.Duration // from the start to the first answer
	ToAllBack            time.Duration // from the start to every process connected and ready; 0 if not all came back
	ServerCPU            time.Duration // CPU time the new server spent until all were back (or the end)
	Back                 int           // processes connected and ready at the end
	Disconnected         int           // processes the server knows of but not connected, at the end
	ServerLog            string        // the server's log file (kept when the run failed)
}

// RunRestart runs a restart storm.
func RunRestart(ctx context.Context, cfg RestartConfig) (*RestartReport, error) {
	cfg.Dials = cmp.Or(cfg.Dials, 200)
	cfg.Timeout = cmp.Or(cfg.Timeout, 2*time.Minute)
	cfg.Region = cmp.Or(cfg.Region, "us-west-2")
	cfg.Computes = max(cfg.Computes, 1)
	if cfg.Procs <= 0 || cfg.Server == nil || cfg.SpawnProcs == nil {
		return nil, errors.New("bench: a restart storm needs processes, a server command and a processes command")
	}
	dir, err := os.MkdirTemp("", "hoist-restart-")
	if err != nil {
		return nil, fmt.Errorf("bench: data dir: %w", err)
	}
	addr, metricsAddr, err := freeAddrs()
	if err != nil {
		return nil, err
	}
	creds := aws.Credentials{AccessKeyID: "AKBENCH" + randomHex(6), SecretAccessKey: randomHex(20)}
	logPath := filepath.Join(dir, "server.log")
	srv := &serverChild{cfg: cfg, creds: creds, logPath: logPath, flags: []string{
		"--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--no-local-agent", "--region", cfg.Region,
		"--max-sdk-conns", strconv.Itoa(cfg.Procs + 64), "--metrics-listen", metricsAddr,
	}}
	rep := &RestartReport{Procs: cfg.Procs, ServerLog: logPath}
	ok := false
	defer func() {
		srv.kill()
		if ok && !cfg.Keep {
			os.RemoveAll(dir)
		}
	}()
	if err := srv.start(); err != nil {
		return nil, err
	}
	endpoint, metrics := "http://"+addr, "http://"+metricsAddr+"/metrics"
	if _, err := waitServing(ctx, metrics, 30*time.Second); err != nil {
		return nil, err
	}
	plan, _, err := setUp(ctx, Config{Procs: cfg.Procs, Fleets: 1, Computes: cfg.Computes, Dials: cfg.Dials, Region: cfg.Region, Credentials: creds}, endpoint)
	if err != nil {
		return nil, err
	}
	plan.SDK = true

	events := newCollector()
	began := time.Now()
	child, err := startProcs(ctx, Config{SpawnProcs: cfg.SpawnProcs, Logger: cfg.Logger}, plan, events)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	select {
	case ready := <-events.ready:
		rep.Ready, rep.Failed = ready.Ready, ready.Failed
	case err := <-child.exited:
		return nil, fmt.Errorf("bench: the processes ended before they were ready: %w", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rep.ConnectTime = time.Since(began)
	if rep.Ready < cfg.Procs {
		return rep, fmt.Errorf("bench: only %d of %d processes became ready before the kill", rep.Ready, cfg.Procs)
	}
	if c, err := scrape(ctx, metrics); err != nil || c.ready != cfg.Procs {
		return rep, fmt.Errorf("bench: the server counts %d ready processes of %d before the kill (%v)", c.ready, cfg.Procs, err)
	}

	killed := time.Now()
	srv.kill()
	restarted := time.Now()
	rep.Down = restarted.Sub(killed)
	if err := srv.start(); err != nil {
		return rep, err
	}
	serving, err := waitServing(ctx, metrics, 30*time.Second)
	if err != nil {
		return rep, err
	}
	rep.ToServing = serving.Sub(restarted)
	deadline := restarted.Add(cfg.Timeout)
	for {
		c, err := scrape(ctx, metrics)
		now := time.Now()
		if err == nil {
			rep.Back, rep.Disconnected = c.ready, c.disconnected
			if c.ready == cfg.Procs {
				rep.ToAllBack = now.Sub(restarted)
				rep.ServerCPU = srv.cpu()
				break
			}
		}
		if now.After(deadline) || ctx.Err() != nil {
			return rep, fmt.Errorf("bench: %d of %d processes were back %s after the restart", rep.Back, cfg.Procs, cfg.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ok = true
	return rep, nil
}

// freeAddrs picks two loopback addresses to listen on: the server's and its metrics'.
func freeAddrs() (string, string, error) {
	var addrs [2]string
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", fmt.Errorf("bench: pick a port: %w", err)
		}
		addrs[i] = l.Addr().String()
		l.Close()
	}
	return addrs[0], addrs[1], nil
}

// serverChild is the server's child process, started again on the same flags.
type serverChild struct {
	cfg     RestartConfig
	creds   aws.Credentials
	flags   []string
	logPath string
	cmd     *exec.Cmd
}

func (s *serverChild) start() error {
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("bench: server log: %w", err)
	}
	defer log.Close() // the child holds its own copy
	cmd := s.cfg.Server(s.flags...)
	cmd.Stdout, cmd.Stderr = io.Discard, log
	cmd.Env = append(os.Environ(), "HOIST_ACCESS_KEY_ID="+s.creds.AccessKeyID, "HOIST_SECRET_ACCESS_KEY="+s.creds.SecretAccessKey)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench: start the server: %w", err)
	}
	s.cmd = cmd
	return nil
}

// cpu is the CPU time (user and system) the running server has spent, as /proc tells
// it (0 where there is none).
func (s *serverChild) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses: utime and stime
	// are the 12th and 13th of them, in clock ticks (100 a second).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.Atoi(f[11])
	sys, _ := strconv.Atoi(f[12])
	return time.Duration(user+sys) * 10 * time.Millisecond
}

// kill ends the server at once (SIGKILL), as a crash or an OOM kill does.
func (s *serverChild) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	s.cmd = nil
}

// census is the server's count of processes, from its metrics.
type census struct{ ready, disconnected int }

// scrape reads the server's process counts from its metrics endpoint.
func scrape(ctx context.Context, url string) (census, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return census{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return census{}, fmt.Errorf("bench: scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	var c census
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "hoist_server_processes{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		n, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, `state="idle"`):
			c.ready += int(n)
		case strings.Contains(line, `state="disconnected"`):
			c.disconnected += int(n)
		}
	}
	return c, sc.Err()
}

// waitServing waits until the metrics endpoint answers, and returns when it did.
func waitServing(ctx context.Context, url string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		if _, err := scrape(ctx, url); err == nil {
			return time.Now(), nil
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("bench: the server did not start within %s: %w", limit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Print writes the report for a person.
func (r *RestartReport) Print(w io.Writer) {
	fmt.Fprintf(w, "processes ready before the kill: %d of %d (%d failed), in %s\n", r.Ready, r.Procs, r.Failed, r.ConnectTime.Round(time.Millisecond))
	fmt.Fprintf(w, "kill -9 to the new server's start: %s\n", r.Down.Round(time.Millisecond))
	fmt.Fprintf(w, "start to serving:                  %s\n", r.ToServing.Round(time.Millisecond))
	if r.ToAllBack > 0 {
		fmt.Fprintf(w, "start to all %d back (connected and ready): %s (the server's CPU meanwhile: %s)\n", r.Procs, r.ToAllBack.Round(time.Millisecond), r.ServerCPU.Round(10*time.Millisecond))
	}
	fmt.Fprintf(w, "back: %d of %d; lost: %d; known but disconnected: %d\n", r.Back, r.Procs, r.Procs-r.Back, r.Disconnected)
}
