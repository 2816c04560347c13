package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects a server's log lines for a test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// The server's log says what happened to a process, once: ready at info; a process that
// called ProcessEnding and left is not reported as lost later; one that vanished is.
func TestProcessLogLines(t *testing.T) {
	logs := &logBuffer{}
	w := newSDKWorldLogging(t, logs.logger())
	clean := startProcess(t, w, "proc-clean", 7001, true)
	vanishing := startProcess(t, w, "proc-vanishing", 7002, true)
	eventually(t, "both processes are ready", func() bool { return w.activeProcesses(t) == 2 })
	if n := strings.Count(logs.String(), `msg="server process ready" process=proc-clean`); n != 1 {
		t.Errorf("proc-clean logged ready %d times:\n%s", n, logs)
	}

	if err := clean.sdk.ProcessEnding(context.Background()); err != nil {
		t.Fatal(err)
	}
	clean.sdk.Destroy()
	vanishing.sdk.Destroy() // no ProcessEnding: the process is lost
	eventually(t, "the ended process is forgotten", func() bool {
		return strings.Contains(logs.String(), `msg="server process ended" process=proc-clean`)
	})
	eventually(t, "both processes are disconnected", func() bool { return w.activeProcesses(t) == 0 })
	w.clock.Advance(time.Minute)
	eventually(t, "the vanished process is reported lost", func() bool {
		return strings.Contains(logs.String(), "process=proc-vanishing fleet="+w.fleetID+` reason="connection lost and not resumed"`)
	})
	if strings.Contains(logs.String(), `process=proc-clean fleet=`+w.fleetID+` reason="connection lost`) {
		t.Errorf("a process that ended cleanly is reported lost:\n%s", logs)
	}
}
