package control

import (
	"math/rand/v2"
	"sync"

	"github.com/hoist-dev/hoist/internal/placement"
)

// processes is the registry of connected processes, with the index placement reads: the
// free processes of each fleet location, and the sessions activating on each compute.
// Every change to a process goes through the registry under mu and ends with sync, which
// keeps the index true, so finding a process for a new session does not depend on how
// many processes there are.
type processes struct {
	mu    sync.Mutex
	byKey map[procKey]*process
	pools map[poolKey]*pool
	// activating counts the sessions ACTIVATING per fleet compute.
	activating map[computeRef]int32
	// freed, when set, is called (under mu; it must not block) when capacity may have
	// appeared: a process became free, or a compute has one session fewer activating.
	freed func()
	// gen counts those moments, from 1.
	gen uint64
}

type poolKey struct{ fleet, location string }

type computeRef struct{ fleet, compute string }

// pool holds the free processes of one fleet location, in no order; a process knows its
// slot, so it leaves in O(1).
type pool struct {
	free []*process
}

// indexed is where the index holds a process: its pool and slot (nil, -1 when it is not
// free), and whether it counts in its compute's activations.
type indexed struct {
	pool         *pool
	slot         int
	inActivating bool
}

func newProcesses() processes {
	return processes{byKey: map[procKey]*process{}, pools: map[poolKey]*pool{}, activating: map[computeRef]int32{}, gen: 1}
}

// put adds a new process to the registry.
func (r *processes) put(p *process) {
	p.idx.slot = -1
	r.byKey[p.key()] = p
	r.sync(p)
}

// remove takes a process out of the registry and the index.
func (r *processes) remove(p *process) {
	r.unpool(p)
	if p.idx.inActivating {
		r.activating[computeRef{p.fleetID, p.computeName}]--
		p.idx.inActivating = false
	}
	delete(r.byKey, p.key())
}

// sync brings the index in line with the process's state, after any change to it.
func (r *processes) sync(p *process) {
	want := p.free()
	k := poolKey{p.fleetID, p.location}
	if p.idx.pool != nil && (!want || r.pools[k] != p.idx.pool) {
		r.unpool(p)
	}
	if want && p.idx.pool == nil {
		pl := r.pools[k]
		if pl == nil {
			pl = &pool{}
			r.pools[k] = pl
		}
		p.idx.pool, p.idx.slot = pl, len(pl.free)
		pl.free = append(pl.free, p)
		r.signal()
	}
	if p.activating != p.idx.inActivating {
		c := computeRef{p.fleetID, p.computeName}
		if p.activating {
			r.activating[c]++
		} else {
			if r.activating[c]--; r.activating[c] == 0 {
				delete(r.activating, c)
			}
			r.signal()
		}
		p.idx.inActivating = p.activating
	}
}

func (r *processes) signal() {
	r.gen++
	if r.freed != nil {
		r.freed()
	}
}

func (r *processes) unpool(p *process) {
	pl := p.idx.pool
	if pl == nil {
		return
	}
	last := len(pl.free) - 1
	moved := pl.free[last]
	pl.free[p.idx.slot], moved.idx.slot = moved, p.idx.slot
	pl.free[last] = nil
	pl.free = pl.free[:last]
	p.idx.pool, p.idx.slot = nil, -1
}

// pick chooses a free process of the fleet location for a new session (placement.Pick:
// at random among those whose compute is under maxActivations sessions activating), or
// nil.
func (r *processes) pick(fleetID, location string, maxActivations int32) *process {
	pl := r.pools[poolKey{fleetID, location}]
	if pl == nil {
		return nil
	}
	eligible := func(i int) bool {
		p := pl.free[i]
		return maxActivations <= 0 || r.activating[computeRef{p.fleetID, p.computeName}] < maxActivations
	}
	i := placement.Pick(len(pl.free), eligible, rand.IntN)
	if i < 0 {
		return nil
	}
	return pl.free[i]
}

// generation returns the count of moments capacity may have appeared.
func (r *processes) generation() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}
