package control

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/sessionindex"
	"github.com/hoist-dev/hoist/internal/store"
)

// indexedSessions is the game session table with every write also applied to the index,
// and every change of status it makes logged (at debug level: they come with the traffic).
// Writes of one key hold one of a set of locks while they write and index, so the index
// takes a session's versions in the order the store committed them.
type indexedSessions struct {
	store.Table[store.GameSession]
	index *sessionindex.Index
	log   *slog.Logger
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func newIndexedSessions(t store.Table[store.GameSession], x *sessionindex.Index, log *slog.Logger) *indexedSessions {
	return &indexedSessions{Table: t, index: x, log: log, seed: maphash.MakeSeed()}
}

// logStatus logs a session's change of status, from was ("" for a new session).
func (t *indexedSessions) logStatus(was string, gs *store.GameSession) {
	m := &gs.Model
	now := gamelift.Value(m.Status)
	if was == now || !t.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("game_session", gamelift.Value(m.GameSessionId)), slog.String("fleet", gamelift.Value(m.FleetId)),
		slog.String("location", gamelift.Value(m.Location)), slog.String("status", now)}
	if was != "" {
		attrs = append(attrs, slog.String("was", was))
	} else {
		attrs = append(attrs, slog.String("compute", gs.ComputeName), slog.String("process", gs.ProcessID))
	}
	if r := gamelift.Value(m.StatusReason); r != "" {
		attrs = append(attrs, slog.String("reason", r))
	}
	t.log.LogAttrs(context.Background(), slog.LevelDebug, "game session "+strings.ToLower(now), attrs...)
}

func (t *indexedSessions) lock(key string) *sync.Mutex {
	l := &t.locks[maphash.String(t.seed, key)%uint64(len(t.locks))]
	l.Lock()
	return l
}

// Create implements store.Table.
func (t *indexedSessions) Create(ctx context.Context, key, parent string, v store.GameSession) error {
	defer t.lock(key).Unlock()
	if err := t.Table.Create(ctx, key, parent, v); err != nil {
		return err
	}
	t.index.Put(v)
	t.logStatus("", &v)
	return nil
}

// Update implements store.Table.
func (t *indexedSessions) Update(ctx context.Context, key string, fn func(*store.GameSession) error) (store.GameSession, error) {
	defer t.lock(key).Unlock()
	var was string
	v, err := t.Table.Update(ctx, key, func(gs *store.GameSession) error {
		was = gamelift.Value(gs.Model.Status)
		return fn(gs)
	})
	if err == nil {
		t.index.Put(v)
		t.logStatus(was, &v)
	}
	return v, err
}

// Delete implements store.Table.
func (t *indexedSessions) Delete(ctx context.Context, key string) error {
	defer t.lock(key).Unlock()
	err := t.Table.Delete(ctx, key)
	if err == nil {
		t.index.Remove(key)
	}
	return err
}

// Refresh reads a session another server changed and indexes it as it now is.
func (t *indexedSessions) Refresh(ctx context.Context, key string) error {
	defer t.lock(key).Unlock()
	v, err := t.Table.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.index.Remove(key)
	case err != nil:
		return err
	default:
		t.index.Put(v)
	}
	return nil
}
