package server_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/server"
)

// TestREADMEOperationTable reads README's operation table ("## What Hoist answers"): every
// operation of GameLift's model is in it once; those marked yes or partly are answered,
// those marked not yet or no are refused as unsupported.go says, with its reason.
func TestREADMEOperationTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## What Hoist answers")
	if start < 0 {
		t.Fatal(`README has no "## What Hoist answers" section`)
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}

	answered, unsupported := server.AnsweredOperations(), server.UnsupportedOperations()
	rows := map[string]int{}
	for line := range strings.Lines(section) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) < 5 || !slices.Contains(gamelift.ModelOperations, strings.TrimSpace(cells[1])) {
			continue
		}
		op, status, notes := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		rows[op]++
		switch status {
		case "yes", "partly":
			if !slices.Contains(answered, op) {
				t.Errorf("README: %s is %q, but the server does not answer it", op, status)
			}
			if status == "partly" && notes == "" {
				t.Errorf("README: %s is partly answered without saying how", op)
			}
		case "not yet", "no":
			why, ok := unsupported[op]
			switch {
			case !ok:
				t.Errorf("README: %s is %q, but unsupported.go does not list it", op, status)
			case notes != why:
				t.Errorf("README: %s says %q; unsupported.go says %q", op, notes, why)
			}
		default:
			t.Errorf("README: %s has status %q; want yes, partly, not yet or no", op, status)
		}
	}
	for _, op := range gamelift.ModelOperations {
		if n := rows[op]; n != 1 {
			t.Errorf("README's operation table lists %s %d times, want once", op, n)
		}
	}
}
