package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
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

// jsonLines parses a JSON log, a line an object.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON log line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Each API request is a line with its request ID, operation, the caller's key ID, status
// and duration: at debug level when it succeeds, at info when it fails. Each change of a
// game session's status is a line, once. No secret, token or player data is logged.
func TestRequestAndSessionLogLines(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	w := newSDKWorldLogging(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	p := startProcess(t, w, "proc-1", 7001, true)
	eventually(t, "the process is ready", func() bool { return w.activeProcesses(t) == 1 })
	gs, err := w.createSession(ctx, "", 4)
	if err != nil {
		t.Fatal(err)
	}
	<-p.started
	id := aws.ToString(gs.GameSessionId)
	must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("alice"),
		PlayerData: aws.String("private-player-data")}))(t)
	_, err = w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: aws.String("fleet-nonexistent")})
	apiError(t, err, "NotFoundException")

	lines := jsonLines(t, logs.String())
	var creates, failures, activating, active int
	for _, l := range lines {
		switch {
		case l["msg"] == "api request" && l["op"] == "CreateGameSession":
			creates++
			if l["level"] != "DEBUG" || l["access_key_id"] != testCreds.AccessKeyID || l["status"] != float64(200) ||
				l["request_id"] == "" || l["request_id"] == nil || l["elapsed"] == nil {
				t.Errorf("CreateGameSession's line: %v", l)
			}
		case l["msg"] == "api request" && l["op"] == "DescribeGameSessions":
			failures++
			if l["level"] != "INFO" || l["status"] != float64(400) || l["code"] != "NotFoundException" || l["access_key_id"] != testCreds.AccessKeyID {
				t.Errorf("a failed request's line: %v", l)
			}
		case l["msg"] == "game session activating" && l["game_session"] == id:
			activating++
			if l["fleet"] != w.fleetID || l["process"] != "proc-1" || l["compute"] != w.compute {
				t.Errorf("a new session's line: %v", l)
			}
		case l["msg"] == "game session active" && l["game_session"] == id:
			active++
			if l["was"] != "ACTIVATING" {
				t.Errorf("activation's line: %v", l)
			}
		}
	}
	if creates != 1 || failures != 1 || activating != 1 || active != 1 {
		t.Errorf("lines: %d CreateGameSession, %d failed DescribeGameSessions, %d activating, %d active; want one each:\n%s",
			creates, failures, activating, active, logs)
	}
	for _, secret := range []string{testCreds.SecretAccessKey, w.tok, "private-player-data"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
