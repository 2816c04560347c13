package control

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// logRetention is how long GameLift keeps a game session's logs.
const logRetention = 14 * 24 * time.Hour

var archiveName = regexp.MustCompile(`^[0-9a-f]{32}\.zip$`)

// archiveLogs zips the files a session's process listed in LogPaths (those this host can
// read) under a random, unguessable name, and records it on the session.
func (s *Service) archiveLogs(ctx context.Context, gs store.GameSession) {
	paths := gs.LogPaths
	if s.processLogDir != "" {
		out := filepath.Join(s.processLogDir, gs.ProcessID+".log")
		if _, err := os.Stat(out); err == nil {
			paths = append(paths[:len(paths):len(paths)], out)
		}
	}
	if s.logDir == "" || len(paths) == 0 {
		return
	}
	id := gamelift.Value(gs.Model.GameSessionId)
	name, err := s.writeArchive(paths)
	if err != nil {
		s.log.Warn("archive game session logs", "game_session", id, "error", err)
		return
	}
	if _, err := s.store.GameSessions().Update(ctx, id, func(gs *store.GameSession) error {
		gs.LogArchive = name
		return nil
	}); err != nil {
		s.log.Warn("record game session log archive", "game_session", id, "error", err)
	}
}

func (s *Service) writeArchive(paths []string) (string, error) {
	if err := os.MkdirAll(s.logDir, 0o700); err != nil {
		return "", err
	}
	var b [16]byte
	rand.Read(b[:])
	name := hex.EncodeToString(b[:]) + ".zip"
	tmp, err := os.CreateTemp(s.logDir, "archive-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	added := 0
	for _, p := range paths {
		if err := addToZip(zw, p); err != nil {
			s.log.Debug("log path not archived", "path", p, "error", err)
			continue
		}
		added++
	}
	if err := errors.Join(zw.Close(), tmp.Sync(), tmp.Close()); err != nil {
		return "", err
	}
	if added == 0 {
		return "", errors.New("none of the log paths could be read on this host")
	}
	return name, os.Rename(tmp.Name(), filepath.Join(s.logDir, name))
}

// addToZip adds a file, or every file under a directory, keeping their absolute paths.
func addToZip(zw *zip.Writer, root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w, err := zw.Create(filepath.ToSlash(path[1:]))
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		return err
	})
}

// GetGameSessionLogUrl returns where to download an ended session's logs.
func (s *Service) GetGameSessionLogUrl(ctx context.Context, in *gamelift.GetGameSessionLogUrlInput) (*gamelift.GetGameSessionLogUrlOutput, error) {
	gs, err := s.getSession(ctx, in.GameSessionId)
	if err != nil {
		return nil, err
	}
	if gs.LogArchive == "" || gs.Model.TerminationTime == nil || s.now().Sub(gs.Model.TerminationTime.Time) > logRetention {
		return nil, gamelift.NotFound("No logs are kept for game session %s", gamelift.Value(in.GameSessionId))
	}
	return &gamelift.GetGameSessionLogUrlOutput{PreSignedUrl: gamelift.String(s.logURL + gs.LogArchive)}, nil
}

// LogArchives serves the archives by name; the unguessable name is the credential, as a
// presigned URL's signature is.
func (s *Service) LogArchives() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if s.logDir == "" || !archiveName.MatchString(name) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "game-session-logs.zip"))
		http.ServeFile(w, r, filepath.Join(s.logDir, name))
	})
}

// purgeLogs deletes archives older than the retention.
func (s *Service) purgeLogs() {
	entries, err := os.ReadDir(s.logDir)
	if err != nil {
		return
	}
	cutoff := s.now().Add(-logRetention)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(s.logDir, e.Name()))
		}
	}
}
