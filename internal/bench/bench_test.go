package bench_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/bench"
)

// childEnv makes the test binary the simulator child (bench.ServeProcs) instead of
// running tests.
const childEnv = "HOIST_BENCH_TEST_PROCS"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := bench.ServeProcs(context.Background(), os.Stdin, os.Stdout, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A tiny bench end to end: every session is created and becomes ACTIVE, nothing fails,
// and the no-op comparison is made. Correctness only: no timing is asserted.
func TestBench(t *testing.T) {
	for _, tc := range []struct {
		name  string
		child bool
	}{{"in-process", false}, {"child process", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bench.Config{Procs: 50, Sessions: 50, Clients: 4, Fleets: 3, Computes: 5,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tc.child {
				exe, err := os.Executable()
				if err != nil {
					t.Fatal(err)
				}
				cfg.SpawnProcs = func() *exec.Cmd {
					cmd := exec.Command(exe)
					cmd.Env = append(os.Environ(), childEnv+"=1")
					return cmd
				}
			}
			rep, err := bench.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.Print(&out)
			t.Log("\n" + out.String())
			if rep.Ready != 50 || rep.Failed != 0 || rep.StopReason != "" {
				t.Errorf("processes ready %d, failed %d (%q), want 50 and 0", rep.Ready, rep.Failed, rep.StopReason)
			}
			if rep.Calls != 50 || rep.Created != 50 || rep.Active != 50 {
				t.Errorf("calls %d, created %d, ACTIVE %d, want 50 each", rep.Calls, rep.Created, rep.Active)
			}
			if len(rep.Errors) != 0 || len(rep.NoopErrors) != 0 {
				t.Errorf("errors %v, no-op errors %v, want none", rep.Errors, rep.NoopErrors)
			}
			if len(rep.Latency) != 50 || len(rep.ToActive) != 50 || len(rep.ToPush) != 50 {
				t.Errorf("%d latencies, %d create->ACTIVE, %d create->push, want 50 each", len(rep.Latency), len(rep.ToActive), len(rep.ToPush))
			}
			if rep.NoopOK != 50 || rep.Ratio() <= 0 {
				t.Errorf("no-op answered %d of 50, ratio %v", rep.NoopOK, rep.Ratio())
			}
			if rep.RSSAfter == 0 || rep.HeapAfter == 0 {
				t.Errorf("memory not measured: RSS %d, heap %d", rep.RSSAfter, rep.HeapAfter)
			}
			if tc.child && rep.ChildRSS == 0 {
				t.Error("the child's RSS was not measured")
			}
		})
	}
}
