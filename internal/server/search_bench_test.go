package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/search"
	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// seedSearchable writes a fleet with n ACTIVE game sessions into the data directory's
// store, each with a name, two properties (mode: one of 10, map: one of 7) and some
// players: the worst case for a search, where every session is live.
func seedSearchable(b *testing.B, dataDir string, n int) string {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "hoist.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fleetID := "fleet-seeded"
	f := store.Fleet{
		Attributes: gamelift.FleetAttributes{FleetId: &fleetID, Status: gamelift.String("ACTIVE"), ComputeType: gamelift.String("ANYWHERE")},
		Runtime:    gamelift.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: gamelift.Int32(600)},
		Locations:  []store.FleetLocation{{Name: "custom-seeded", Status: "ACTIVE"}},
	}
	if err := st.Fleets().Create(ctx, fleetID, "", f); err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	var wg sync.WaitGroup
	const writers = 64
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				id := fmt.Sprintf("arn:aws:gamelift:us-west-2::gamesession/%s/gsess-%d", fleetID, i)
				maxPlayers := int32(8 + 8*(i%2))
				gs := store.GameSession{Model: gamelift.GameSession{
					GameSessionId: &id, FleetId: &fleetID, Location: gamelift.String("custom-seeded"), Name: gamelift.String(fmt.Sprintf("room-%d", i)),
					CreationTime: gamelift.At(start.Add(time.Duration(i) * time.Millisecond)), Status: gamelift.String("ACTIVE"),
					MaximumPlayerSessionCount: &maxPlayers, CurrentPlayerSessionCount: gamelift.Int32(int32(i % 9)),
					GameProperties: []gamelift.GameProperty{
						{Key: gamelift.String("mode"), Value: gamelift.String(fmt.Sprintf("mode-%d", i%10))},
						{Key: gamelift.String("map"), Value: gamelift.String(fmt.Sprintf("map-%d", i%7))},
					},
					IpAddress: gamelift.String("10.0.0.1"), Port: gamelift.Int32(7777),
				}, ProcessID: fmt.Sprintf("proc-%d", i), ComputeName: fmt.Sprintf("host-%d", i%100)}
				if err := st.GameSessions().Create(ctx, id, fleetID, gs); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return fleetID
}

// The search the benchmarks run: about 1 session in 70 matches (one mode of 10, one map
// of 7, a free slot), sorted by players, a page of 20.
const (
	benchFilter = "gameSessionProperties.mode = 'mode-3' AND gameSessionProperties.map = 'map-5' AND hasAvailablePlayerSessions = true"
	benchSort   = "playerSessionCount DESC"
)

// BenchmarkSearchGameSessions100k measures SearchGameSessions through the whole server
// (the AWS SDK for Go v2 on loopback) in a fleet of 100,000 ACTIVE sessions.
func BenchmarkSearchGameSessions100k(b *testing.B) {
	dataDir := b.TempDir()
	fleetID := seedSearchable(b, dataDir, 100_000)
	ctx := context.Background()
	// The restored sessions wait for their processes to reconnect; an hour is longer than
	// the benchmark.
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(),
		NoLocalAgent: true, ReconnectGrace: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(ctx)
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	for _, bc := range []struct{ name, filter, sort string }{
		{"selective-filter-sorted", benchFilter, benchSort},
		{"broad-filter-sorted", "hasAvailablePlayerSessions = true", benchSort},
		{"no-filter-newest-first", "", "creationTimeMillis DESC"},
	} {
		in := &gl.SearchGameSessionsInput{FleetId: &fleetID, SortExpression: aws.String(bc.sort), Limit: aws.Int32(20)}
		if bc.filter != "" {
			in.FilterExpression = aws.String(bc.filter)
		}
		out, err := c.SearchGameSessions(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if len(out.GameSessions) != 20 || out.NextToken == nil {
			b.Fatalf("%s: %d sessions, more: %v", bc.name, len(out.GameSessions), out.NextToken != nil)
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.SearchGameSessions(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearchNaiveScan100k is what the same selective search costs answered by a
// scan of the stored rows instead of the index: read the fleet's 100,000 sessions from
// the store, then filter and sort them. In process, without HTTP.
func BenchmarkSearchNaiveScan100k(b *testing.B) {
	dataDir := b.TempDir()
	fleetID := seedSearchable(b, dataDir, 100_000)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "hoist.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f, err := search.ParseFilter(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	o, err := search.ParseSort(benchSort)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		page, err := st.GameSessions().List(ctx, store.Query{Parent: fleetID})
		if err != nil {
			b.Fatal(err)
		}
		all := func(yield func(*search.Session) bool) {
			for _, gs := range page.Items {
				m := gs.Model
				if gamelift.Value(m.Status) != "ACTIVE" {
					continue
				}
				props := map[string]string{}
				for _, p := range m.GameProperties {
					props[gamelift.Value(p.Key)] = gamelift.Value(p.Value)
				}
				s := &search.Session{ID: gamelift.Value(m.GameSessionId), Name: gamelift.Value(m.Name), Properties: props,
					MaximumSessions: int64(gamelift.Value(m.MaximumPlayerSessionCount)), PlayerSessionCount: int64(gamelift.Value(m.CurrentPlayerSessionCount)),
					CreationTimeMillis: m.CreationTime.UnixMilli()}
				if !yield(s) {
					return
				}
			}
		}
		if found, _ := search.Select(all, f, o, nil, 20); len(found) != 20 {
			b.Fatalf("%d found", len(found))
		}
	}
}
