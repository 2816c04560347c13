package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// download fetches a session's log archive through GetGameSessionLogUrl once it is there,
// and returns its files by name.
func download(t *testing.T, api *gl.Client, id *string) map[string]string {
	t.Helper()
	var url string
	eventually(t, "the logs are archived", func() bool {
		out, err := api.GetGameSessionLogUrl(context.Background(), &gl.GetGameSessionLogUrlInput{GameSessionId: id})
		if err == nil {
			url = aws.ToString(out.PreSignedUrl)
		}
		return err == nil
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("GET %s: %d, not a zip: %v", url, resp.StatusCode, err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	return files
}

// A session's logs are what its host's agent uploads when the process ends;
// GetGameSessionLogUrl hands out a URL that downloads them for 14 days. The server reads
// no game server's files itself: LogPaths alone archive nothing.
func TestGameSessionLogs(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	listed := filepath.Join(t.TempDir(), "match.log")
	if err := os.WriteFile(listed, []byte("round 1: alice wins\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := gameserver.Connect(ctx, w.params("proc-logs"), gameserver.Options{Logger: quietLogger(), HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	err = c.ProcessReady(ctx, gameserver.ProcessParameters{Port: 8100, LogParameters: gameserver.LogParameters{LogPaths: []string{listed}},
		OnStartGameSession: func(gameserver.GameSession) { c.ActivateGameSession(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	gs := must(w.createSession(ctx, "logs-1", 2))(t)
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
	if err := c.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err = w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId})
	apiError(t, err, "NotFoundException") // nothing until the host uploads

	if status := w.putLogs(t, "proc-logs", zipOf(t, map[string]string{"match.log": "round 1: alice wins\n"})); status != http.StatusOK {
		t.Fatalf("upload: %d", status)
	}
	files := download(t, w.api, gs.GameSessionId)
	if len(files) != 1 || files["match.log"] != "round 1: alice wins\n" {
		t.Errorf("archive holds %v", files)
	}
	out := must(w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId}))(t)
	guessed := strings.TrimSuffix(aws.ToString(out.PreSignedUrl), ".zip") + "0.zip"
	if resp, err := http.Get(guessed); err == nil && resp.StatusCode != http.StatusNotFound {
		t.Errorf("a guessed archive name answered %d", resp.StatusCode)
	}

	w.clock.Advance(15 * 24 * time.Hour)
	_, err = w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId})
	apiError(t, err, "NotFoundException")
}

// A process listing /dev/urandom (and the server's own database) in LogPaths gets
// nothing archived, and the server neither grows nor hangs at shutdown over it.
func TestLogPathsCannotExhaustTheServer(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(),
		SweepInterval: 5 * time.Millisecond, NoLocalAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			go srv.Close(context.Background())
		}
	})
	w := &sdkWorld{srv: srv, api: client(srv.Endpoint, testCreds.SecretAccessKey)}
	fa := anywhereFleet(t, w.api, "custom-sdk-1")
	w.fleetID, w.compute = aws.ToString(fa.FleetId), "host-1"
	must(w.api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-sdk-1")}))(t)
	w.tok = aws.ToString(must(w.api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)

	c, err := gameserver.Connect(ctx, w.params("proc-greedy"), gameserver.Options{Logger: quietLogger(), HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	logPaths := []string{"/dev/urandom", "/dev/zero", filepath.Join(dataDir, "hoist.db"), "/etc/passwd"}
	err = c.ProcessReady(ctx, gameserver.ProcessParameters{Port: 8300, LogParameters: gameserver.LogParameters{LogPaths: logPaths},
		OnStartGameSession: func(gameserver.GameSession) { c.ActivateGameSession(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	gs := must(w.createSession(ctx, "greedy-1", 2))(t)
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
	if err := c.ProcessEnding(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("the heap grew by %d MiB after the session ended", grown>>20)
	}
	_, err = w.api.GetGameSessionLogUrl(ctx, &gl.GetGameSessionLogUrlInput{GameSessionId: gs.GameSessionId})
	apiError(t, err, "NotFoundException")

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- srv.Close(ctx) }()
	select {
	case <-done:
		closed = true
	case <-time.After(5 * time.Second):
		t.Fatalf("Close has not returned after %s", time.Since(start).Truncate(time.Second))
	}
}

// launchScript writes dir/run.sh, which runs this test binary as runTestGameServer, and
// returns its path: a managed fleet's launch path whose working directory is dir.
func launchScript(t *testing.T, dir string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "run.sh")
	script := "#!/bin/sh\nexec '" + exe + "' " + testGameServerArg + ` "$@"` + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// On a managed fleet the host's agent archives a process's output and the LogPaths files
// in its working directory (relative paths from there; absolute ones only under it):
// regular files only, nothing of the server's data directory, nothing outside, and no
// more than the per-session limit.
func TestManagedFleetLogPathsStayInTheWorkingDirectory(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	wd := filepath.Join(root, "game")
	dataDir := filepath.Join(wd, "hoist-data") // inside the working directory, and still private
	for _, d := range []string{filepath.Join(wd, "logs"), dataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(wd, "match.log"), "round 1: alice wins\n")
	write(filepath.Join(wd, "logs", "chat.log"), "gg\n")
	write(filepath.Join(root, "outside.log"), "not the game's\n")
	big, err := os.Create(filepath.Join(wd, "big.log"))
	if err != nil {
		t.Fatal(err)
	}
	big.Truncate(3 << 20) // sparse: 3 MiB of zeros, over the 1 MiB limit below
	big.Close()
	for link, target := range map[string]string{
		filepath.Join(wd, "db-link"):        filepath.Join(dataDir, "hoist.db"),
		filepath.Join(wd, "escape"):         root,
		filepath.Join(wd, "logs", "passwd"): "/etc/passwd",
		filepath.Join(wd, "random"):         "/dev/urandom",
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(wd, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	launch := launchScript(t, wd)

	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(),
		MaxSessionLogBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	params := strings.Join([]string{"match.log", "logs", "pipe", "random", "db-link", "hoist-data/hoist.db", "hoist-data",
		filepath.Join(dataDir, "hoist.db"), "/etc/passwd", "/dev/urandom", "../outside.log", "escape/outside.log", "big.log"}, " ")
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("logs"), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String(launch), Parameters: aws.String(params), ConcurrentExecutions: aws.Int32(1)}},
	}}))(t).FleetAttributes.FleetId
	eventually(t, "the process is ready", func() bool { return fleetProcesses(t, c, id) == 1 })
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession

	files := download(t, c, gs.GameSessionId)
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var output string
	for _, name := range names {
		if strings.HasPrefix(name, "process-") && strings.HasSuffix(name, ".log") {
			output = name
		}
	}
	if want := []string{"big.log", "logs/chat.log", "match.log", output}; output == "" || !slices.Equal(names, want) {
		t.Errorf("archive holds %v, want %v (with the process's output)", names, want)
	}
	if files["match.log"] != "round 1: alice wins\n" || files["logs/chat.log"] != "gg\n" {
		t.Errorf("match.log = %q, chat.log = %q", files["match.log"], files["logs/chat.log"])
	}
	if !strings.Contains(files[output], "game on: "+aws.ToString(gs.GameSessionId)) {
		t.Errorf("the process's output = %q", files[output])
	}
	total := 0
	for _, content := range files {
		total += len(content)
	}
	if total > 1<<20 || len(files["big.log"]) < 512<<10 {
		t.Errorf("archived %d bytes (big.log %d); the limit is 1 MiB", total, len(files["big.log"]))
	}
}

// A process that hard-links the server's database into its working directory and lists it
// in LogPaths does not get it archived: the link's path is the process's, its content is
// not, and a file with more than one name is refused.
func TestManagedFleetLogPathsRefuseHardLinks(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	wd, dataDir := filepath.Join(root, "game"), filepath.Join(root, "hoist-data")
	if err := os.MkdirAll(wd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, "match.log"), []byte("round 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	launch := launchScript(t, wd)
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	if err := os.Link(filepath.Join(dataDir, "hoist.db"), filepath.Join(wd, "db.log")); err != nil {
		t.Fatal(err)
	}
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	id := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("hardlinks"), RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String(launch), Parameters: aws.String("match.log db.log"), ConcurrentExecutions: aws.Int32(1)}},
	}}))(t).FleetAttributes.FleetId
	eventually(t, "the process is ready", func() bool { return fleetProcesses(t, c, id) == 1 })
	waitFleetActive(t, c, id)
	gs := must(c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)}))(t).GameSession

	files := download(t, c, gs.GameSessionId)
	if _, ok := files["db.log"]; ok {
		t.Errorf("the archive holds db.log, a hard link to the server's database (%d bytes)", len(files["db.log"]))
	}
	if files["match.log"] != "round 1\n" {
		t.Errorf("match.log = %q, want the process's log", files["match.log"])
	}
}
