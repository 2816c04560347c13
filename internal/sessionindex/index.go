// Package sessionindex holds the ACTIVE game sessions of each fleet in memory, as
// SearchGameSessions sees them (internal/search's terms), so a search, and the questions the
// core asks of a fleet's sessions (which computes are busy or protected, which sessions a
// compute hosts), read no stored rows. It is a data structure: the core (internal/control)
// builds it from the store at start and puts every game session write into it.
package sessionindex

import (
	"iter"
	"maps"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/search"
	"github.com/hoist-dev/hoist/internal/store"
)

// What the index reads of a session: its status, and its protection policy.
const (
	sessionActive  = "ACTIVE"
	protectionFull = "FullProtection"
)

// Index holds the ACTIVE game sessions of each fleet in memory, as SearchGameSessions
// sees them, so a search reads no stored rows. It is built from the store at start
// (restoreSessions) and kept by indexedSessions, through which every game session write goes.
type Index struct {
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

// New returns an empty index.
func New() *Index {
	return &Index{fleets: map[string]*fleetSessions{}, fleet: map[string]string{}}
}

// Put records a session as it now is: held if ACTIVE, dropped otherwise.
func (x *Index) Put(gs store.GameSession) {
	m := gs.Model
	id, fleetID := gamelift.Value(m.GameSessionId), gamelift.Value(m.FleetId)
	if gamelift.Value(m.Status) != sessionActive {
		x.Remove(id)
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

// Remove drops a session if held.
func (x *Index) Remove(id string) {
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

// Search returns up to n of a fleet's ACTIVE sessions (in one location, or all when
// location is "") that match the filter, in order, after the cursor; the cursor of the
// last one; and whether more follow.
func (x *Index) Search(fleetID, location string, f *search.Filter, o search.Order, after *search.Cursor, n int) ([]gamelift.GameSession, search.Cursor, bool) {
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

// Computes reports the computes that host a fleet's ACTIVE sessions, and whether one of
// a compute's sessions is protected. The index holds every replica's sessions.
func (x *Index) Computes(fleetID string) map[string]bool {
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

// SessionsOn lists the fleet's ACTIVE sessions on one compute, any replica's.
func (x *Index) SessionsOn(fleetID, compute string) []string {
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

// Lookup returns a held session's search view.
func (x *Index) Lookup(fleetID, id string) (search.Session, bool) {
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

// propertyMap is a session's game properties as a search reads them: key to value.
func propertyMap(props []gamelift.GameProperty) map[string]string {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[gamelift.Value(p.Key)] = gamelift.Value(p.Value)
	}
	return m
}
