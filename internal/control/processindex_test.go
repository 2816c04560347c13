package control

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/sdkhost"
)

// livePeer stands for a process's open connection; the index only asks whether there is one.
type livePeer struct{ sdkhost.Peer }

// checkIndex compares the index with what a scan of every process says it should hold.
func checkIndex(t *testing.T, r *processes) {
	t.Helper()
	free := map[poolKey]int{}
	activating := map[computeRef]int32{}
	for _, p := range r.byKey {
		inPool := p.idx.pool != nil
		if inPool != p.free() {
			t.Fatalf("process %v: in a pool %v, free %v", p.key(), inPool, p.free())
		}
		if inPool {
			k := poolKey{p.fleetID, p.location}
			if r.pools[k] != p.idx.pool || p.idx.pool.free[p.idx.slot] != p {
				t.Fatalf("process %v is not where its index says", p.key())
			}
			free[k]++
		}
		if p.activating {
			activating[computeRef{p.fleetID, p.computeName}]++
		}
	}
	for k, pl := range r.pools {
		if len(pl.free) != free[k] {
			t.Fatalf("pool %v holds %d processes, %d are free there", k, len(pl.free), free[k])
		}
	}
	for c, n := range r.activating {
		if activating[c] != n {
			t.Fatalf("compute %v: index counts %d activating, %d are", c, n, activating[c])
		}
	}
	for c, n := range activating {
		if r.activating[c] != n {
			t.Fatalf("compute %v: %d activating, index counts %d", c, n, r.activating[c])
		}
	}
}

// The index stays true to the processes through every kind of change, over many fleets,
// locations and computes.
func TestProcessIndexFollowsEveryChange(t *testing.T) {
	r := newProcesses()
	rng := rand.New(rand.NewPCG(3, 4))
	var all []*process
	for i := range 5000 {
		p := &process{id: fmt.Sprintf("proc-%d", i), fleetID: fmt.Sprintf("fleet-%d", i%7), computeName: fmt.Sprintf("c-%d", i%50),
			location: fmt.Sprintf("loc-%d", i%3)}
		r.put(p)
		all = append(all, p)
	}
	changes := []func(p *process){
		func(p *process) { p.peer = livePeer{} },
		func(p *process) { p.peer = nil },
		func(p *process) { p.ready = true },
		func(p *process) { p.ready = false },
		func(p *process) { p.unhealthy = rng.IntN(2) },
		func(p *process) { p.gameSessionID, p.activating = "gs", true },
		func(p *process) { p.activating = false },
		func(p *process) { p.gameSessionID, p.activating = "", false },
		func(p *process) { p.location = fmt.Sprintf("loc-%d", rng.IntN(3)) },
	}
	for step := range 200000 {
		p := all[rng.IntN(len(all))]
		if _, ok := r.byKey[p.key()]; !ok {
			r.put(p)
		}
		if rng.IntN(50) == 0 {
			r.remove(p)
		} else {
			changes[rng.IntN(len(changes))](p)
			r.sync(p)
		}
		if step%20000 == 0 {
			checkIndex(t, &r)
		}
	}
	checkIndex(t, &r)
}

// Concurrent creates across many fleets and locations, 20,000 processes: no process gets
// two sessions, each fleet location hands out exactly its free processes, and no compute
// has more sessions activating than MaxConcurrentGameSessionActivations.
func TestReserveProcessUnderConcurrentCreates(t *testing.T) {
	s := &Service{procs: newProcesses()}
	const fleets, locations, computes, perCompute = 10, 4, 25, 20 // 20,000 processes
	for f := range fleets {
		for l := range locations {
			for c := range computes {
				for i := range perCompute {
					s.procs.put(&process{id: fmt.Sprintf("p-%d", i), fleetID: fmt.Sprintf("fleet-%d", f), location: fmt.Sprintf("loc-%d", l),
						computeName: fmt.Sprintf("c-%d-%d", l, c), ready: true, peer: livePeer{}})
				}
			}
		}
	}
	const maxActivations = 3
	rc := gamelift.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: gamelift.Int32(600), MaxConcurrentGameSessionActivations: gamelift.Int32(maxActivations)}
	var mu sync.Mutex
	got := map[procKey]string{}
	placedIn := map[poolKey]int{}
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := range 200 {
				fleet, loc := fmt.Sprintf("fleet-%d", (w+i)%fleets), fmt.Sprintf("loc-%d", i%locations)
				session := fmt.Sprintf("gs-%d-%d", w, i)
				p, err := s.reserveProcess(fleet, loc, session, rc, time.Now())
				if err != nil {
					continue // the location's computes are all at their limit
				}
				mu.Lock()
				if other, taken := got[p.key]; taken {
					t.Errorf("process %v got %s and %s", p.key, other, session)
				}
				got[p.key] = session
				placedIn[poolKey{fleet, loc}]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	checkIndex(t, &s.procs)
	for c, n := range s.procs.activating {
		if n > maxActivations {
			t.Errorf("compute %v has %d sessions activating, over the limit of %d", c, n, maxActivations)
		}
	}
	for k, n := range placedIn {
		if n != computes*maxActivations {
			t.Errorf("%v placed %d sessions; its %d computes take %d activating at once", k, n, computes, computes*maxActivations)
		}
	}

	// Activations done: the rest of each location's processes take sessions too.
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		p.activating = false
		s.procs.sync(p)
	}
	s.procs.mu.Unlock()
	for range fleets * locations * computes * perCompute {
		// keep placing until every process hosts a session
		if len(got) == fleets*locations*computes*perCompute {
			break
		}
		for f := range fleets {
			for l := range locations {
				p, err := s.reserveProcess(fmt.Sprintf("fleet-%d", f), fmt.Sprintf("loc-%d", l), "later", gamelift.RuntimeConfiguration{
					GameSessionActivationTimeoutSeconds: gamelift.Int32(600), MaxConcurrentGameSessionActivations: gamelift.Int32(defaultMaxActivations)}, time.Now())
				if err != nil {
					continue
				}
				if _, taken := got[p.key]; taken {
					t.Fatalf("process %v given a second session", p.key)
				}
				got[p.key] = "later"
			}
		}
	}
	if len(got) != fleets*locations*computes*perCompute {
		t.Errorf("%d of %d processes got a session", len(got), fleets*locations*computes*perCompute)
	}
	if _, err := s.reserveProcess("fleet-0", "loc-0", "one more", rc, time.Now()); !gamelift.IsCode(err, "FleetCapacityExceededException") {
		t.Errorf("with every process busy: %v", err)
	}
}
