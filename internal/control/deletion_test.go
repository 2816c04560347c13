package control

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// Expired compute auth tokens are purged; live ones stay.
func TestPurgeAuthTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for tok, expires := range map[string]time.Time{"expired": now.Add(-time.Second), "live": now.Add(time.Minute)} {
		if err := st.AuthTokens().Create(ctx, tok, "fleet-1", store.AuthToken{Token: tok, FleetID: "fleet-1", ComputeName: "c", Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	s := &Service{store: st, clock: fixedClock(now), log: slog.New(slog.DiscardHandler)}
	s.purgeAuthTokens(ctx)
	if _, err := st.AuthTokens().Get(ctx, "expired"); err == nil {
		t.Error("the expired token is still stored")
	}
	if _, err := st.AuthTokens().Get(ctx, "live"); err != nil {
		t.Errorf("the live token: %v", err)
	}
}

// The ready records of a gone compute's processes are dropped; others stay.
func TestForgetProcessesOf(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []string{"gone", "stays"} {
		p := store.Process{FleetID: "fleet-1", ComputeName: c, ProcessID: "p1", Port: 7000}
		if err := st.Processes().Create(ctx, store.ProcessKey(p.FleetID, c, p.ProcessID), p.FleetID, p); err != nil {
			t.Fatal(err)
		}
	}
	s := &Service{store: st, clock: fixedClock(time.Now()), log: slog.New(slog.DiscardHandler)}
	if err := s.forgetProcessesOf(ctx, "fleet-1", func(c string) bool { return c == "gone" }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Processes().Get(ctx, store.ProcessKey("fleet-1", "gone", "p1")); err == nil {
		t.Error("the gone compute's process record is still stored")
	}
	if _, err := st.Processes().Get(ctx, store.ProcessKey("fleet-1", "stays", "p1")); err != nil {
		t.Errorf("the other compute's process record: %v", err)
	}
}
