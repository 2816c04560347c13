package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/postgres"
	"github.com/hoist-dev/hoist/internal/store/postgres/pgtest"
	"github.com/hoist-dev/hoist/internal/store/storetest"
)

func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Database(t)) })
}

// Replicas starting at once on a new database take turns migrating it: every one opens,
// and the schema is made once.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	url := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), url)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a replica failed to start: %v", err)
		}
	}
	s := open(t, url)
	defer s.Close()
	if err := s.Locations().Create(context.Background(), "custom-a", "", store.Location{}); err != nil {
		t.Fatal(err)
	}
}

// An acknowledged write is in the database: a new Store over it (a restarted server, or
// another replica) reads it.
func TestWritesSurviveReopen(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	s := open(t, url)
	loc := store.Location{Model: gamelift.LocationModel{LocationName: gamelift.String("custom-keep")}}
	if err := s.Locations().Create(ctx, "custom-keep", "", loc); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // harmless
	for range 2 {
		s = open(t, url)
		got, err := s.Locations().Get(ctx, "custom-keep")
		if err != nil || gamelift.Value(got.Model.LocationName) != "custom-keep" {
			t.Errorf("after reopen: %+v, %v", got, err)
		}
		if err := s.Locations().Create(ctx, "custom-keep", "", loc); !errors.Is(err, store.ErrExists) {
			t.Errorf("reopened store lost its uniqueness: %v", err)
		}
		s.Close()
	}
}

// Two stores on one database are two replicas: updates of one key from both are
// serialized by the row lock, none lost.
func TestUpdatesSerializeAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	if err := a.Fleets().Create(ctx, "fleet-1", "", store.Fleet{}); err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, err := s.Fleets().Update(ctx, "fleet-1", func(f *store.Fleet) error {
				f.Locations = append(f.Locations, store.FleetLocation{Name: fmt.Sprint(i)})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f, err := b.Fleets().Get(ctx, "fleet-1")
	if err != nil || len(f.Locations) != n {
		t.Errorf("after %d updates from two replicas the fleet has %d locations (%v): updates were lost", n, len(f.Locations), err)
	}
}

// Update's fn may read the store, even when every Update slot is taken and each fn reads:
// the pool keeps connections for the reads.
func TestUpdatesThatReadDoNotStarve(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.Database(t)+"&pool_max_conns=2")
	defer s.Close()
	for i := range 8 {
		if err := s.Aliases().Create(ctx, fmt.Sprint(i), "", store.Alias{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := s.Aliases().Update(ctx, fmt.Sprint(i), func(a *store.Alias) error {
				_, err := s.Aliases().Get(ctx, fmt.Sprint((i+1)%8))
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// NUL, which jsonb refuses, is kept in a string like any other character.
func TestStringsWithNULRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.Database(t))
	defer s.Close()
	gs := store.GameSession{Model: gamelift.GameSession{GameSessionData: gamelift.String("a\x00b ünïcode")}}
	if err := s.GameSessions().Create(ctx, "gs-1", "fleet-1", gs); err != nil {
		t.Fatal(err)
	}
	got, err := s.GameSessions().Get(ctx, "gs-1")
	if err != nil || gamelift.Value(got.Model.GameSessionData) != "a\x00b ünïcode" {
		t.Errorf("got %q, %v", gamelift.Value(got.Model.GameSessionData), err)
	}
}

// A database that may lose acknowledged commits is refused.
func TestRefusesAsynchronousCommit(t *testing.T) {
	_, err := postgres.Open(context.Background(), pgtest.Database(t)+"&synchronous_commit=off")
	if err == nil {
		t.Fatal("opened a database with synchronous_commit off")
	}
}

// While PostgreSQL is down every call fails, and once it is back calls succeed on the same
// Store, without reopening it; the same across a pg_ctl restart.
func TestDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	s := open(t, c.Database())
	defer s.Close()
	aliases := s.Aliases()
	n := 0
	create := func(ctx context.Context) error {
		n++
		return aliases.Create(ctx, fmt.Sprint(n), "", store.Alias{})
	}
	calls := map[string]func(context.Context) error{
		"Create": create,
		"Get":    func(ctx context.Context) error { _, err := aliases.Get(ctx, "1"); return err },
		"Update": func(ctx context.Context) error {
			_, err := aliases.Update(ctx, "1", func(*store.Alias) error { return nil })
			return err
		},
		"List":   func(ctx context.Context) error { _, err := aliases.List(ctx, store.Query{}); return err },
		"Delete": func(ctx context.Context) error { return aliases.Delete(ctx, fmt.Sprint(n)) },
	}
	// Warm the pool with several connections, each of which the stop kills.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { aliases.Get(ctx, "warm") })
	}
	wg.Wait()
	if err := create(ctx); err != nil {
		t.Fatal(err)
	}

	c.Stop()
	for name, call := range calls {
		callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := call(callCtx)
		cancel()
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with PostgreSQL down: %v, want a failure", name, err)
		}
	}

	c.Start()
	eventually(t, func() error { return create(ctx) })
	for name, call := range calls {
		if err := call(ctx); err != nil {
			t.Errorf("%s after PostgreSQL came back: %v", name, err)
		}
	}

	c.Restart()
	eventually(t, func() error { return create(ctx) })
	for name, call := range calls {
		if err := call(ctx); err != nil {
			t.Errorf("%s after a pg_ctl restart: %v", name, err)
		}
	}
}

// eventually calls fn until it succeeds: a call may still meet a connection the restart
// killed, which the pool then drops. A few seconds is ample.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls still fail after PostgreSQL is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkCreate is one durable write: an INSERT committed (synchronous_commit on).
func BenchmarkCreate(b *testing.B) {
	s := openBench(b)
	gs := store.GameSession{Model: gamelift.GameSession{Status: gamelift.String("ACTIVATING")}}
	b.ResetTimer()
	for i := range b.N {
		if err := s.GameSessions().Create(context.Background(), fmt.Sprint(i), "fleet-1", gs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel is many goroutines each updating keys of their own, as game
// sessions activating at once do: a transaction with a row lock, a read and a write each.
func BenchmarkUpdateParallel(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	const keys = 1000
	gs := store.GameSession{Model: gamelift.GameSession{Status: gamelift.String("ACTIVATING")}}
	for i := range keys {
		if err := s.GameSessions().Create(ctx, fmt.Sprint(i), "fleet-1", gs); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := s.GameSessions().Update(ctx, fmt.Sprint(n.Add(1)%keys), func(gs *store.GameSession) error {
				gs.Model.Status = gamelift.String("ACTIVE")
				return nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func openBench(b *testing.B) *postgres.Store {
	s, err := postgres.Open(context.Background(), pgtest.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
