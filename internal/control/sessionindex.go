package control

import (
	"context"
	"errors"
	"hash/maphash"
	"iter"
	"log/slog"
	"maps"
	"strings"
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

// fleetSessions holds one fleet's ACTIVE sessions in a dense slice, so a search that
// must read them all reads memory in order, and, for each search.Term, the IDs of the
// sessions that satisfy it, so a search whose filter requires a term reads only those.
type fleetSessions struct {
	mu       sync.RWMutex
	all      []indexedSession
	pos      map[string]int // ID -> index in all
	postings map[search.Term]map[string]struct{}
}

// indexedSession is an ACTIVE session: what a search expression sees, where it runs, and
// what a search returns.
type indexedSession struct {
	search.Session
	location  string
	terms     []search.Term
	model     *gamelift.GameSession
	protected bool // FullProtection: the container engine never takes its pod away
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
	e := indexedSession{
		Session: search.Session{
			ID: id, Name: gamelift.Value(m.Name), Properties: propertyMap(m.GameProperties),
			MaximumSessions:    int64(gamelift.Value(m.MaximumPlayerSessionCount)),
			PlayerSessionCount: int64(gamelift.Value(m.CurrentPlayerSessionCount)),
		},
		location: gamelift.Value(m.Location), model: &m, protected: gs.ProtectionPolicy == protectionFull,
	}
	if m.CreationTime != nil {
		e.CreationTimeMillis = m.CreationTime.UnixMilli()
	}
	e.terms = search.TermsOf(&e.Session)
	x.mu.Lock()
	f := x.fleets[fleetID]
	if f == nil {
		f = &fleetSessions{pos: map[string]int{}, postings: map[search.Term]map[string]struct{}{}}
		x.fleets[fleetID] = f
	}
	x.fleet[id] = fleetID
	x.mu.Unlock()
	f.mu.Lock()
	f.put(e)
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
	f.remove(id)
	f.mu.Unlock()
}

func (f *fleetSessions) put(e indexedSession) {
	i, ok := f.pos[e.ID]
	if ok {
		f.unpost(&f.all[i])
		f.all[i] = e
	} else {
		i = len(f.all)
		f.all = append(f.all, e)
		f.pos[e.ID] = i
	}
	for _, t := range e.terms {
		ids := f.postings[t]
		if ids == nil {
			ids = map[string]struct{}{}
			f.postings[t] = ids
		}
		ids[e.ID] = struct{}{}
	}
}

func (f *fleetSessions) remove(id string) {
	i, ok := f.pos[id]
	if !ok {
		return
	}
	f.unpost(&f.all[i])
	last := len(f.all) - 1
	if i != last {
		f.all[i] = f.all[last]
		f.pos[f.all[i].ID] = i
	}
	f.all[last] = indexedSession{}
	f.all = f.all[:last]
	delete(f.pos, id)
}

func (f *fleetSessions) unpost(e *indexedSession) {
	for _, t := range e.terms {
		ids := f.postings[t]
		delete(ids, e.ID)
		if len(ids) == 0 {
			delete(f.postings, t)
		}
	}
}

// narrowFraction: a search reads postings when they hold under 1/narrowFraction of the
// fleet's sessions (picking sessions out by ID costs about ten times reading them in order),
// and the whole slice otherwise.
var narrowFraction = 16

// size is how many sessions satisfy t.
func (f *fleetSessions) size(t search.Term) int {
	if t.Kind == search.TermID {
		if _, ok := f.pos[t.Value]; ok {
			return 1
		}
		return 0
	}
	return len(f.postings[t])
}

// has reports whether the session at index i satisfies t.
func (f *fleetSessions) has(t search.Term, id string) bool {
	if t.Kind == search.TermID {
		return t.Value == id
	}
	_, ok := f.postings[t][id]
	return ok
}

// candidates are the sessions a search reads: those of the terms the filter narrows to
// (each once), or all of them when it does not narrow, or not to a small part of them
// (reading the slice in order is then faster than picking sessions out of it by ID).
func (f *fleetSessions) candidates(filter *search.Filter, location string) iter.Seq[*search.Session] {
	terms, narrowed := filter.Narrow(f.size)
	if narrowed {
		total := 0
		for _, t := range terms {
			total += f.size(t)
		}
		narrowed = total < len(f.all)/narrowFraction
	}
	return func(yield func(*search.Session) bool) {
		visit := func(i int) bool {
			e := &f.all[i]
			return location != "" && e.location != location || yield(&e.Session)
		}
		if !narrowed {
			for i := range f.all {
				if !visit(i) {
					return
				}
			}
			return
		}
		for n, t := range terms {
			var ids iter.Seq[string]
			if t.Kind == search.TermID {
				ids = func(yield func(string) bool) { yield(t.Value) }
			} else {
				ids = maps.Keys(f.postings[t])
			}
		next:
			for id := range ids {
				i, ok := f.pos[id]
				if !ok {
					continue
				}
				for _, earlier := range terms[:n] { // read by an earlier term already
					if f.has(earlier, id) {
						continue next
					}
				}
				if !visit(i) {
					return
				}
			}
		}
	}
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
	page, more := search.Select(fs.candidates(f, location), f, o, after, n)
	out := make([]gamelift.GameSession, len(page))
	var last search.Cursor
	for i, s := range page {
		out[i] = *fs.all[fs.pos[s.ID]].model
		last = o.CursorOf(s)
	}
	return out, last, more
}

// computes reports the computes that host a fleet's ACTIVE sessions, and whether one of
// a compute's sessions is protected. The index holds every replica's sessions.
func (x *sessionIndex) computes(fleetID string) map[string]bool {
	x.mu.RLock()
	fs := x.fleets[fleetID]
	x.mu.RUnlock()
	out := map[string]bool{}
	if fs == nil {
		return out
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	for i := range fs.all {
		c := gamelift.Value(fs.all[i].model.ComputeName)
		out[c] = out[c] || fs.all[i].protected
	}
	return out
}

// sessionsOn lists the fleet's ACTIVE sessions on one compute, any replica's.
func (x *sessionIndex) sessionsOn(fleetID, compute string) []string {
	x.mu.RLock()
	fs := x.fleets[fleetID]
	x.mu.RUnlock()
	if fs == nil {
		return nil
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	var ids []string
	for i := range fs.all {
		if gamelift.Value(fs.all[i].model.ComputeName) == compute {
			ids = append(ids, gamelift.Value(fs.all[i].model.GameSessionId))
		}
	}
	return ids
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
	i, ok := fs.pos[id]
	if !ok {
		return search.Session{}, false
	}
	return fs.all[i].Session, true
}

// indexedSessions is the game session table with every write also applied to the index,
// and every change of status it makes logged (at debug level: they come with the traffic).
// Writes of one key hold one of a set of locks while they write and index, so the index
// takes a session's versions in the order the store committed them.
type indexedSessions struct {
	store.Table[store.GameSession]
	index *sessionIndex
	log   *slog.Logger
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func newIndexedSessions(t store.Table[store.GameSession], x *sessionIndex, log *slog.Logger) *indexedSessions {
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
	t.index.put(v)
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
		t.index.put(v)
		t.logStatus(was, &v)
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

// Refresh reads a session another server changed and indexes it as it now is.
func (t *indexedSessions) Refresh(ctx context.Context, key string) error {
	defer t.lock(key).Unlock()
	v, err := t.Table.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.index.remove(key)
	case err != nil:
		return err
	default:
		t.index.put(v)
	}
	return nil
}
