package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// seedSessions writes a fleet with n game sessions into the data directory's store, as a
// long-running server leaves it: one in ten live (ACTIVE, with two players), the rest
// TERMINATED.
func seedSessions(b *testing.B, dataDir string, n int) string {
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
	now := time.Now()
	var wg sync.WaitGroup
	const writers = 64
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				id := fmt.Sprintf("arn:aws:gamelift:us-west-2::gamesession/%s/gsess-%d", fleetID, i)
				gs := store.GameSession{Model: gamelift.GameSession{
					GameSessionId: &id, FleetId: &fleetID, Location: gamelift.String("custom-seeded"), CreationTime: gamelift.At(now),
					Status: gamelift.String("TERMINATED"), TerminationTime: gamelift.At(now), MaximumPlayerSessionCount: gamelift.Int32(8),
					CurrentPlayerSessionCount: gamelift.Int32(0), IpAddress: gamelift.String("10.0.0.1"), Port: gamelift.Int32(7777),
				}, ProcessID: fmt.Sprintf("proc-%d", i), ComputeName: fmt.Sprintf("host-%d", i%100)}
				if i%10 == 0 {
					gs.Model.Status, gs.Model.TerminationTime, gs.Model.CurrentPlayerSessionCount = gamelift.String("ACTIVE"), nil, gamelift.Int32(2)
					for p := range 2 {
						gs.Players = append(gs.Players, gamelift.PlayerSession{
							PlayerSessionId: gamelift.String(fmt.Sprintf("psess-%d-%d", i, p)), PlayerId: gamelift.String(fmt.Sprintf("player-%d-%d", i, p)),
							GameSessionId: &id, FleetId: &fleetID, Status: gamelift.String("ACTIVE"), CreationTime: gamelift.At(now),
						})
					}
				}
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

// BenchmarkRestartWith100kSessions measures a restart to serving: server.Start on a data
// directory holding 100,000 game sessions (10,000 live) until an API call is answered.
func BenchmarkRestartWith100kSessions(b *testing.B) {
	dataDir := b.TempDir()
	seedSessions(b, dataDir, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(), NoLocalAgent: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := client(srv.Endpoint, testCreds.SecretAccessKey).ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		srv.Close(ctx)
		b.StartTimer()
	}
}

// BenchmarkDescribeGameSessionsPageOf100k measures one page (Limit 100) of
// DescribeGameSessions in a fleet of 100,000 sessions, deep into the paging.
func BenchmarkDescribeGameSessionsPageOf100k(b *testing.B) {
	dataDir := b.TempDir()
	fleetID := seedSessions(b, dataDir, 100_000)
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(), NoLocalAgent: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(ctx)
	c := client(srv.Endpoint, testCreds.SecretAccessKey)
	var token *string
	for range 500 { // half way through
		out, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: &fleetID, Limit: gamelift.Int32(100), NextToken: token})
		if err != nil {
			b.Fatal(err)
		}
		token = out.NextToken
	}
	b.ResetTimer()
	for range b.N {
		if _, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{FleetId: &fleetID, Limit: gamelift.Int32(100), NextToken: token}); err != nil {
			b.Fatal(err)
		}
	}
}
