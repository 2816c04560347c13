package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
	"github.com/hoist-dev/hoist/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hoist.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// An acknowledged write is in the file: a new Store over it (a restarted server) reads it,
// and reopening applies no migration twice.
func TestWritesSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hoist.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	loc := store.Location{Model: gamelift.LocationModel{LocationName: gamelift.String("custom-keep")}}
	if err := s.Locations().Create(ctx, "custom-keep", "", loc); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Locations().Get(ctx, "custom-keep")
		if err != nil || gamelift.Value(got.Model.LocationName) != "custom-keep" {
			t.Errorf("after reopen: %+v, %v", got, err)
		}
		if err := s.Locations().Create(ctx, "custom-keep", "", loc); err == nil {
			t.Error("reopened store lost its uniqueness")
		}
		s.Close()
	}
}

// BenchmarkCreate is one durable write: a transaction committed with synchronous=FULL.
func BenchmarkCreate(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "hoist.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	gs := store.GameSession{Model: gamelift.GameSession{Status: gamelift.String("ACTIVATING")}}
	b.ResetTimer()
	for i := range b.N {
		if err := s.GameSessions().Create(context.Background(), strconv.Itoa(i), "fleet-1", gs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateParallel is durable writes from many goroutines at once, as concurrent API
// calls make them: group commit lets them share fsyncs.
func BenchmarkCreateParallel(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "hoist.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	gs := store.GameSession{Model: gamelift.GameSession{Status: gamelift.String("ACTIVATING")}}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.GameSessions().Create(context.Background(), strconv.FormatInt(n.Add(1), 10), "fleet-1", gs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// After Close, writes are refused with ErrClosed (not a panic), and a second Close is fine.
func TestWritesAfterClose(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.Locations().Create(context.Background(), "custom-late", "", store.Location{})
	if !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
