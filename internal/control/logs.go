package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hoist-dev/hoist/internal/builds"
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
	archive, err := builds.ZipFiles(paths)
	if err != nil {
		return "", err
	}
	return s.keepArchive(archive)
}

// keepArchive stores a log archive under a random, unguessable name, which it returns.
func (s *Service) keepArchive(archive []byte) (string, error) {
	if err := os.MkdirAll(s.logDir, 0o700); err != nil {
		return "", err
	}
	var b [16]byte
	rand.Read(b[:])
	name := hex.EncodeToString(b[:]) + ".zip"
	tmp := filepath.Join(s.logDir, name+".tmp")
	if err := os.WriteFile(tmp, archive, 0o600); err != nil {
		return "", err
	}
	return name, os.Rename(tmp, filepath.Join(s.logDir, name))
}

// StoreProcessLogs takes the log archive a host agent uploads when one of its processes
// ends, and makes it the logs of the last game session that process hosted.
func (s *Service) StoreProcessLogs(ctx context.Context, c AgentCall, archive []byte) error {
	if _, err := s.checkAuthToken(ctx, c.AuthToken, c.FleetId, c.ComputeName); err != nil {
		return err
	}
	if s.logDir == "" {
		return gamelift.InvalidRequest("this server keeps no logs")
	}
	gs, err := s.lastSessionOf(ctx, c.FleetId, c.ComputeName, c.ProcessId)
	if err != nil {
		return err
	}
	name, err := s.keepArchive(archive)
	if err != nil {
		return fmt.Errorf("keep log archive: %w", err)
	}
	_, err = s.store.GameSessions().Update(ctx, gamelift.Value(gs.Model.GameSessionId), func(gs *store.GameSession) error {
		gs.LogArchive = name
		return nil
	})
	return err
}

// lastSessionOf finds the most recent game session a process of a compute hosted: a
// compute speaks for its own processes only.
func (s *Service) lastSessionOf(ctx context.Context, fleetID, compute, processID string) (store.GameSession, error) {
	page, err := s.store.GameSessions().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return store.GameSession{}, fmt.Errorf("list game sessions: %w", err)
	}
	for i := len(page.Items) - 1; i >= 0; i-- {
		if gs := page.Items[i]; gs.ProcessID == processID && gs.ComputeName == compute {
			return page.Items[i], nil
		}
	}
	return store.GameSession{}, gamelift.NotFound("process %s of compute %s hosted no game session", processID, compute)
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
