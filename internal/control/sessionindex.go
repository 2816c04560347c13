package control

import (
	"context"
	"hash/maphash"
	"iter"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/search"
	"github.com/hoist-dev/hoist/internal/store"
)

// sessionIndex holds the ACTIVE game sessions of each fleet in memory, as SearchGameSessions
// sees them, so a search reads no stored rows. It is built from the store at start
// (restoreSessions) and kept by indexedSessions, through which every game session write goes.
type sessionIndex struct {
	mu     sync.RWMutex
	fleets map[string]*fleetSessions // fleet ID -> its ACTIVE sessions
	fleet  map[string]string         // game session ID -> fleet ID, for the sessions held
}

type fleetSessions struct {
	mu   sync.RWMutex
	byID map[string]*indexedSession
}

// indexedSession is an ACTIVE session: what a search expression sees, where it runs, and
// what a search returns.
type indexedSession struct {
	search.Session
	location string
	model    gamelift.GameSession
}

func newSessionIndex() *sessionIndex {
	return &sessionIndex{fleets: map[string]*fleetSessions{}, fleet: map[string]string{}}
}

// put records a session as it now is: held if ACTIVE, dropped otherwise.
func (x *sessionIndex) put(gs store.GameSession) {
	m := gs.Model
	id, fleetID := gamelift.Value(m.GameSessionId), gamelift.Value(m.FleetId)
	if gamelift.Value(m.Status) != SessionActive {
		x.remove(id)
		return
	}
	e := &indexedSession{
		Session: search.Session{
			ID: id, Name: gamelift.Value(m.Name), Properties: propertyMap(m.GameProperties),
			MaximumSessions:    int64(gamelift.Value(m.MaximumPlayerSessionCount)),
			PlayerSessionCount: int64(gamelift.Value(m.CurrentPlayerSessionCount)),
		},
		location: gamelift.Value(m.Location), model: m,
	}
	if m.CreationTime != nil {
		e.CreationTimeMillis = m.CreationTime.UnixMilli()
	}
	x.mu.Lock()
	f := x.fleets[fleetID]
	if f == nil {
		f = &fleetSessions{byID: map[string]*indexedSession{}}
		x.fleets[fleetID] = f
	}
	x.fleet[id] = fleetID
	x.mu.Unlock()
	f.mu.Lock()
	f.byID[id] = e
	f.mu.Unlock()
}

// remove drops a session if held.
func (x *sessionIndex) remove(id string) {
	x.mu.Lock()
	fleetID, ok := x.fleet[id]
	delete(x.fleet, id)
	f := x.fleets[fleetID]
	x.mu.Unlock()
	if !ok || f == nil {
		return
	}
	f.mu.Lock()
	delete(f.byID, id)
	f.mu.Unlock()
}

// search returns up to n of a fleet's ACTIVE sessions (in one location, or all when
// location is "") that match the filter, in order, after the cursor; the cursor of the
// last one; and whether more follow.
func (x *sessionIndex) search(fleetID, location string, f *search.Filter, o search.Order, after *search.Cursor, n int) ([]gamelift.GameSession, search.Cursor, bool) {
	x.mu.RLock()
	fs := x.fleets[fleetID]
	x.mu.RUnlock()
	if fs == nil {
		return nil, search.Cursor{}, false
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	var all iter.Seq[*search.Session] = func(yield func(*search.Session) bool) {
		for _, e := range fs.byID {
			if (location == "" || e.location == location) && !yield(&e.Session) {
				return
			}
		}
	}
	page, more := search.Select(all, f, o, after, n)
	out := make([]gamelift.GameSession, len(page))
	var last search.Cursor
	for i, s := range page {
		out[i] = fs.byID[s.ID].model
		last = o.CursorOf(s)
	}
	return out, last, more
}

// lookup returns a held session's search view.
func (x *sessionIndex) lookup(fleetID, id string) (search.Session, bool) {
	x.mu.RLock()
	fs := x.fleets[fleetID]
	x.mu.RUnlock()
	if fs == nil {
		return search.Session{}, false
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	e, ok := fs.byID[id]
	if !ok {
		return search.Session{}, false
	}
	return e.Session, true
}

// indexedSessions is the game session table with every write also applied to the index.
// Writes of one key hold one of a set of locks while they write and index, so the index
// takes a session's versions in the order the store committed them.
type indexedSessions struct {
	store.Table[store.GameSession]
	index *sessionIndex
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func newIndexedSessions(t store.Table[store.GameSession], x *sessionIndex) *indexedSessions {
	return &indexedSessions{Table: t, index: x, seed: maphash.MakeSeed()}
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
	t.index.put(v)
	return nil
}

// Update implements store.Table.
func (t *indexedSessions) Update(ctx context.Context, key string, fn func(*store.GameSession) error) (store.GameSession, error) {
	defer t.lock(key).Unlock()
	v, err := t.Table.Update(ctx, key, fn)
	if err == nil {
		t.index.put(v)
	}
	return v, err
}

// Delete implements store.Table.
func (t *indexedSessions) Delete(ctx context.Context, key string) error {
	defer t.lock(key).Unlock()
	err := t.Table.Delete(ctx, key)
	if err == nil {
		t.index.remove(key)
	}
	return err
}
