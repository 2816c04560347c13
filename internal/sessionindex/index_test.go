package sessionindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/search"
	"github.com/hoist-dev/hoist/internal/store"
)

// The index answers every search as a scan of the sessions as they now are would, through
// random creations, changes and ends, narrowed by its postings or not.
func TestSessionIndexAgreesWithAScan(t *testing.T) {
	for _, fraction := range []int{1, 4} {
		t.Run(fmt.Sprintf("postings-under-1/%d", fraction), func(t *testing.T) {
			defer func(was int) { narrowFraction = was }(narrowFraction)
			narrowFraction = fraction
			checkIndexAgainstScan(t)
		})
	}
}

func checkIndexAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := New()
	live := map[string]store.GameSession{} // what the store holds, by ID
	base := time.Unix(1_700_000_000, 0)
	for i := range 3000 {
		id := fmt.Sprintf("gs-%d", rng.IntN(400))
		gs, ok := live[id]
		if !ok {
			gs = store.GameSession{Model: gamelift.GameSession{GameSessionId: gamelift.String(id), FleetId: gamelift.String("fleet-1"),
				CreationTime: gamelift.At(base.Add(time.Duration(rng.IntN(50)) * time.Second))}}
		}
		m := &gs.Model
		m.Status = gamelift.String([]string{sessionActive, sessionActive, sessionActive, "ACTIVATING", "TERMINATED"}[rng.IntN(5)])
		m.Location = gamelift.String([]string{"loc-a", "loc-b"}[rng.IntN(2)])
		m.MaximumPlayerSessionCount = gamelift.Int32(int32(1 + rng.IntN(4)))
		m.CurrentPlayerSessionCount = gamelift.Int32(int32(rng.IntN(5)))
		m.Name = nil
		if rng.IntN(3) > 0 {
			m.Name = gamelift.String(fmt.Sprintf("name-%d", rng.IntN(5)))
		}
		m.GameProperties = nil
		for _, k := range []string{"mode", "map"} {
			if rng.IntN(4) > 0 {
				m.GameProperties = append(m.GameProperties, gamelift.GameProperty{Key: gamelift.String(k), Value: gamelift.String(fmt.Sprintf("%s-%d", k, rng.IntN(3)))})
			}
		}
		if rng.IntN(10) == 0 {
			delete(live, id)
			x.Remove(id)
		} else {
			live[id] = gs
			x.Put(gs)
		}
		if i%100 != 0 {
			continue
		}
		for _, expr := range []string{"", "gameSessionProperties.mode = 'mode-1'", "gameSessionProperties.mode = 'mode-1' OR gameSessionName = 'name-2'",
			"hasAvailablePlayerSessions = false", "gameSessionId = 'gs-7' OR gameSessionProperties.map = 'map-0' AND maximumSessions > 1",
			"NOT gameSessionProperties.map = 'map-2'"} {
			var f *search.Filter
			if expr != "" {
				var err error
				if f, err = search.ParseFilter(expr); err != nil {
					t.Fatal(err)
				}
			}
			for _, loc := range []string{"", "loc-b"} {
				o, _ := search.ParseSort("playerSessionCount DESC")
				var got []string
				var after *search.Cursor
				for {
					page, last, more := x.Search("fleet-1", loc, f, o, after, 7)
					for _, m := range page {
						got = append(got, gamelift.Value(m.GameSessionId))
					}
					if !more {
						break
					}
					after = &last
				}
				var want []*search.Session
				for _, gs := range live {
					if gamelift.Value(gs.Model.Status) != sessionActive || loc != "" && gamelift.Value(gs.Model.Location) != loc {
						continue
					}
					s := search.Session{ID: gamelift.Value(gs.Model.GameSessionId), Name: gamelift.Value(gs.Model.Name), Properties: propertyMap(gs.Model.GameProperties),
						MaximumSessions: int64(gamelift.Value(gs.Model.MaximumPlayerSessionCount)), PlayerSessionCount: int64(gamelift.Value(gs.Model.CurrentPlayerSessionCount)),
						CreationTimeMillis: gs.Model.CreationTime.UnixMilli()}
					if f.Match(&s) {
						want = append(want, &s)
					}
				}
				slices.SortFunc(want, func(a, b *search.Session) int { return o.Compare(a, o.CursorOf(b)) })
				var wantIDs []string
				for _, s := range want {
					wantIDs = append(wantIDs, s.ID)
				}
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("step %d, %q in %q: index %v, scan %v", i, expr, loc, got, wantIDs)
				}
			}
		}
	}
}
