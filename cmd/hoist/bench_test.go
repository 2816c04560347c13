package main

import (
	"strings"
	"testing"
)

// hoist bench end to end, with its simulated processes in a child process (this test
// binary, standing in for hoist through HOIST_TEST_MAIN, which the child inherits).
func TestBenchCommand(t *testing.T) {
	t.Setenv("HOIST_TEST_MAIN", "1")
	out, errs, err := runHoist("bench", "--procs", "20", "--fleets", "2", "--clients", "2")
	if err != nil {
		t.Fatalf("hoist bench: %v\n%s", err, errs)
	}
	for _, want := range []string{"20 of 20 ready", "simulated processes in a child process", "sessions ACTIVE     20 of 20 created",
		"errors              none", "per connected idle process", "share of the no-op rate"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// hoist bench --restart end to end: a real server child killed with SIGKILL and started
// again, and every process on Hoist's Go SDK back, connected and ready.
func TestBenchRestart(t *testing.T) {
	t.Setenv("HOIST_TEST_MAIN", "1")
	out, errs, err := runHoist("bench", "--restart", "--procs", "50")
	if err != nil {
		t.Fatalf("hoist bench --restart: %v\n%s\n%s", err, out, errs)
	}
	for _, want := range []string{"ready before the kill: 50 of 50", "start to all 50 back (connected and ready): ", "back: 50 of 50; lost: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchArguments(t *testing.T) {
	out, _, err := runHoist("bench", "--help")
	if err != nil || !strings.Contains(out, "--procs PROCESSES") || !strings.Contains(out, "--cpuprofile FILE") {
		t.Errorf("hoist bench --help = %v:\n%s", err, out)
	}
	t.Setenv("HOIST_ACCESS_KEY_ID", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--procs", "10", "--sessions", "11"}, "must be from 0 to --procs 10"},
		{[]string{"bench", "--fleets", "3", "--computes", "2"}, "fewer than --fleets"},
		{[]string{"bench", "--procs", "0"}, "must be positive"},
		{[]string{"bench", "--sessions", "many"}, "not a whole number"},
		{[]string{"bench", "--endpoint", "http://127.0.0.1:1"}, "HOIST_ACCESS_KEY_ID"},
		{[]string{"bench", "now"}, "hoist bench takes no arguments"},
	} {
		if _, _, err := runHoist(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("hoist %v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}
