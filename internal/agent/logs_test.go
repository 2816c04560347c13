package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// files makes a working directory with logs, links out of it (symbolic and hard), a pipe
// and a private directory inside it, and returns it with the private directory.
func files(t *testing.T) (wd, private string) {
	t.Helper()
	root := t.TempDir()
	wd = filepath.Join(root, "game")
	private = filepath.Join(wd, "data")
	for _, d := range []string{filepath.Join(wd, "logs"), private} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, content := range map[string]string{
		filepath.Join(wd, "match.log"):         "round 1\n",
		filepath.Join(wd, "logs", "chat.log"):  "gg\n",
		filepath.Join(private, "secrets.json"): "{}",
		filepath.Join(root, "outside.log"):     "not the game's\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(wd, "up"):            root,
		filepath.Join(wd, "logs", "zero"):  "/dev/zero",
		filepath.Join(wd, "secrets"):       filepath.Join(private, "secrets.json"),
		filepath.Join(wd, "logs", "match"): filepath.Join(wd, "match.log"), // inside: fine, once
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	// A hard link is a second name for the private file: its path is in the working
	// directory, its content is not.
	if err := os.Link(filepath.Join(private, "secrets.json"), filepath.Join(wd, "logs", "secrets.log")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(wd, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	return wd, private
}

func names(t *testing.T, archive []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

func TestLogArchiveRule(t *testing.T) {
	wd, private := files(t)
	for _, tc := range []struct {
		entry string
		want  []string
	}{
		{"match.log", []string{"match.log"}},
		{filepath.Join(wd, "match.log"), []string{"match.log"}},
		{"logs", []string{"logs/chat.log"}}, // links in a directory, symbolic or hard, are left out
		{"logs/match", []string{"match.log"}},
		{"../outside.log", nil},
		{"up/outside.log", nil},
		{"/etc/passwd", nil},
		{"/dev/zero", nil},
		{"logs/zero", nil},
		{"pipe", nil},
		{"secrets", nil},
		{"logs/secrets.log", nil},
		{"data", nil},
		{filepath.Join(private, "secrets.json"), nil},
		{"missing.log", nil},
	} {
		var buf bytes.Buffer
		n, skipped, err := logArchive{workDir: wd, logPaths: []string{tc.entry}, private: []string{private}}.write(context.Background(), &buf)
		if err != nil {
			t.Fatalf("%s: %v", tc.entry, err)
		}
		if got := names(t, buf.Bytes()); n != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: archived %v (%d), want %v; skipped %v", tc.entry, got, n, tc.want, skipped)
		}
	}
}

// The budget counts file content across the archive; the last file is cut to fit.
func TestLogArchiveLimit(t *testing.T) {
	wd, _ := files(t)
	big := filepath.Join(wd, "big.log")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 10_000), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, skipped, err := logArchive{workDir: wd, logPaths: []string{"match.log", "big.log", "logs"}, max: 5000}.write(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total != 5000 || len(zr.File) != 2 {
		t.Errorf("archived %d bytes in %d files, want 5000 in 2; skipped %v", total, len(zr.File), skipped)
	}
}

// Archiving stops when its context ends (the agent or server shutting down), however
// much is left to read.
func TestLogArchiveStopsWithItsContext(t *testing.T) {
	wd, _ := files(t)
	huge, err := os.Create(filepath.Join(wd, "huge.log"))
	if err != nil {
		t.Fatal(err)
	}
	huge.Truncate(8 << 30) // sparse
	huge.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = logArchive{workDir: wd, logPaths: []string{"huge.log"}, max: 16 << 30}.write(ctx, new(discard))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("after %s: %v; want it to stop with its context", time.Since(start), err)
	}
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
