package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// DefaultMaxSessionLogBytes bounds a game session's log archive as its host agent
// uploads it; an agent archives no more file content than that, and zip adds a little.
const DefaultMaxSessionLogBytes = 64 << 20

// maxArchive is the largest archive taken: the content limit and room for zip's framing.
func (s *Service) maxArchive() int64 { return s.maxSessionLogBytes + s.maxSessionLogBytes/64 + 1<<20 }

// keepArchive streams a log archive to disk under a random, unguessable name, which it
// returns; an archive over the limit is refused.
func (s *Service) keepArchive(archive io.Reader) (string, error) {
	if err := os.MkdirAll(s.logDir, 0o700); err != nil {
		return "", err
	}
	var b [16]byte
	rand.Read(b[:])
	name := hex.EncodeToString(b[:]) + ".zip"
	tmp, err := os.CreateTemp(s.logDir, name+"-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(archive, s.maxArchive()+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", gamelift.Serialization("read log archive: %v", err)
	}
	if n > s.maxArchive() {
		return "", gamelift.InvalidRequest("log archive over %d bytes", s.maxArchive())
	}
	return name, os.Rename(tmp.Name(), filepath.Join(s.logDir, name))
}

// StoreProcessLogs takes the log archive (a zip) a host agent uploads when one of its
// processes ends, and makes it the logs of the last game session that process hosted.
// The server reads no game server's files itself: the agent, which knows where each
// process runs, archives them.
func (s *Service) StoreProcessLogs(ctx context.Context, c AgentCall, archive io.Reader) error {
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
	s.log.Debug("game session logs uploaded", "game_session", gamelift.Value(gs.Model.GameSessionId), "compute", c.ComputeName)
	var replaced string
	_, err = s.gameSessions.Update(ctx, gamelift.Value(gs.Model.GameSessionId), func(gs *store.GameSession) error {
		replaced, gs.LogArchive = gs.LogArchive, name
		return nil
	})
	if err != nil {
		os.Remove(filepath.Join(s.logDir, name))
		return err
	}
	if replaced != "" && replaced != name {
		// An upload again (a retry) replaces the archive: a session keeps one on disk.
		os.Remove(filepath.Join(s.logDir, replaced))
	}
	return nil
}

// lastSessionOf finds the most recent game session a process of a compute hosted: a
// compute speaks for its own processes only.
func (s *Service) lastSessionOf(ctx context.Context, fleetID, compute, processID string) (store.GameSession, error) {
	page, err := s.gameSessions.List(ctx, store.Query{Parent: fleetID})
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
