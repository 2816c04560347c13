package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Run runs the suite; open returns a new, empty store, which the suite closes.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, fresh(t)) })
	t.Run("CreateGetUpdateDelete", func(t *testing.T) { testCRUD(t, fresh(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, fresh(t)) })
	t.Run("ListPagesInCreationOrder", func(t *testing.T) { testList(t, fresh(t)) })
	t.Run("KindsAreSeparate", func(t *testing.T) { testKinds(t, fresh(t)) })
}

func sampleFleet(id string) store.Fleet {
	return store.Fleet{
		Attributes: gamelift.FleetAttributes{
			FleetId: gamelift.String(id), FleetArn: gamelift.String("arn:aws:gamelift:us-west-2:123456789012:fleet/" + id),
			Name: gamelift.String("fleet " + id), Status: gamelift.String("ACTIVE"), ComputeType: gamelift.String("ANYWHERE"),
			CreationTime: gamelift.At(time.Date(2026, 11, 25, 10, 30, 0, 123_456_789, time.UTC)),
			MetricGroups: []string{"default"},
			ResourceCreationLimitPolicy: &gamelift.ResourceCreationLimitPolicy{
				NewGameSessionsPerCreator: gamelift.Int32(3), PolicyPeriodInMinutes: gamelift.Int32(15),
			},
		},
		Runtime: gamelift.RuntimeConfiguration{
			ServerProcesses:                     []gamelift.ServerProcess{{LaunchPath: gamelift.String("/local/game/server"), ConcurrentExecutions: gamelift.Int32(2)}},
			MaxConcurrentGameSessionActivations: gamelift.Int32(0),
		},
		Locations: []store.FleetLocation{{Name: "custom-a", Status: "ACTIVE", Desired: 1, Max: 1}},
		Tags:      []gamelift.Tag{{Key: gamelift.String("team"), Value: gamelift.String("net")}, {Key: gamelift.String("empty"), Value: gamelift.String("")}},
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := sampleFleet("fleet-1")
	if err := s.Fleets().Create(ctx, "fleet-1", "", f); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fleets().Get(ctx, "fleet-1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Attributes.CreationTime.Equal(f.Attributes.CreationTime.Time) {
		t.Errorf("CreationTime = %v, want %v", got.Attributes.CreationTime, f.Attributes.CreationTime)
	}
	got.Attributes.CreationTime, f.Attributes.CreationTime = nil, nil
	if !reflect.DeepEqual(got, f) {
		t.Errorf("fleet round trip:\n got %+v\nwant %+v", got, f)
	}

	gs := store.GameSession{
		Model: gamelift.GameSession{
			GameSessionId: gamelift.String("arn:aws:gamelift:us-west-2::gamesession/fleet-1/tok"), Status: gamelift.String("ACTIVE"),
			MaximumPlayerSessionCount: gamelift.Int32(4), CurrentPlayerSessionCount: gamelift.Int32(0), Port: gamelift.Int32(7777),
			GameProperties: []gamelift.GameProperty{{Key: gamelift.String("map"), Value: gamelift.String("harbor")}},
		},
		ProtectionPolicy: "FullProtection", ProcessID: "proc-1", ComputeName: "host", IdempotencyToken: "tok",
		Players: []gamelift.PlayerSession{{PlayerSessionId: gamelift.String("psess-1"), PlayerId: gamelift.String("p1"), Status: gamelift.String("RESERVED")}},
	}
	if err := s.GameSessions().Create(ctx, *gs.Model.GameSessionId, "fleet-1", gs); err != nil {
		t.Fatal(err)
	}
	gotGS, err := s.GameSessions().Get(ctx, *gs.Model.GameSessionId)
	if err != nil || !reflect.DeepEqual(gotGS, gs) {
		t.Errorf("game session round trip:\n got %+v\nwant %+v (%v)", gotGS, gs, err)
	}

	tok := store.AuthToken{Token: "tok-1", FleetID: "fleet-1", ComputeName: "host", Expires: time.Date(2026, 11, 25, 10, 45, 0, 0, time.UTC)}
	if err := s.AuthTokens().Create(ctx, tok.Token, tok.FleetID, tok); err != nil {
		t.Fatal(err)
	}
	gotTok, err := s.AuthTokens().Get(ctx, "tok-1")
	if err != nil || !gotTok.Expires.Equal(tok.Expires) || gotTok.ComputeName != "host" {
		t.Errorf("token round trip = %+v, %v", gotTok, err)
	}
}

func testCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := store.Alias{Model: gamelift.Alias{AliasId: gamelift.String("alias-1"), Name: gamelift.String("one")}}
	aliases := s.Aliases()
	if _, err := aliases.Get(ctx, "alias-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of absent key: %v, want ErrNotFound", err)
	}
	if err := aliases.Create(ctx, "alias-1", "", a); err != nil {
		t.Fatal(err)
	}
	if err := aliases.Create(ctx, "alias-1", "", a); !errors.Is(err, store.ErrExists) {
		t.Errorf("second Create: %v, want ErrExists", err)
	}
	updated, err := aliases.Update(ctx, "alias-1", func(a *store.Alias) error {
		a.Model.Name = gamelift.String("renamed")
		return nil
	})
	if err != nil || gamelift.Value(updated.Model.Name) != "renamed" {
		t.Fatalf("Update = %+v, %v", updated, err)
	}
	if got, _ := aliases.Get(ctx, "alias-1"); gamelift.Value(got.Model.Name) != "renamed" {
		t.Errorf("after Update, Get = %+v", got)
	}

	refuse := errors.New("refused")
	_, err = aliases.Update(ctx, "alias-1", func(a *store.Alias) error {
		a.Model.Name = gamelift.String("must not stick")
		return refuse
	})
	if !errors.Is(err, refuse) {
		t.Errorf("Update whose fn fails: %v, want the fn's error", err)
	}
	if got, _ := aliases.Get(ctx, "alias-1"); gamelift.Value(got.Model.Name) != "renamed" {
		t.Errorf("a failed Update changed the record: %+v", got)
	}
	if _, err := aliases.Update(ctx, "alias-2", func(*store.Alias) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update of absent key: %v, want ErrNotFound", err)
	}

	if err := aliases.Delete(ctx, "alias-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := aliases.Get(ctx, "alias-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := aliases.Delete(ctx, "alias-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Fleets().Create(ctx, "fleet-c", "", sampleFleet("fleet-c")); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.Fleets().Update(ctx, "fleet-c", func(f *store.Fleet) error {
				*f.Runtime.MaxConcurrentGameSessionActivations++
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := s.Fleets().Get(ctx, "fleet-c")
	if err != nil {
		t.Fatal(err)
	}
	if got := *f.Runtime.MaxConcurrentGameSessionActivations; got != n {
		t.Errorf("after %d concurrent increments the counter is %d: updates were lost", n, got)
	}
}

func testList(t *testing.T, s store.Store) {
	ctx := context.Background()
	computes := s.Computes()
	var want, wantA []string
	for i := range 7 {
		key, parent := fmt.Sprintf("k%02d", 7-i), "fleet-b" // keys sort the other way from creation
		if i%2 == 0 {
			parent = "fleet-a"
			wantA = append(wantA, key)
		}
		want = append(want, key)
		c := store.Compute{Model: gamelift.Compute{ComputeName: gamelift.String(key)}}
		if err := computes.Create(ctx, key, parent, c); err != nil {
			t.Fatal(err)
		}
	}
	names := func(cs []store.Compute) []string {
		var out []string
		for _, c := range cs {
			out = append(out, gamelift.Value(c.Model.ComputeName))
		}
		return out
	}

	all, err := computes.List(ctx, store.Query{})
	if err != nil || !reflect.DeepEqual(names(all.Items), want) || all.Next != "" {
		t.Errorf("List all = %v next %q (%v), want %v in creation order", names(all.Items), all.Next, err, want)
	}
	onlyA, err := computes.List(ctx, store.Query{Parent: "fleet-a"})
	if err != nil || !reflect.DeepEqual(names(onlyA.Items), wantA) {
		t.Errorf("List parent fleet-a = %v (%v), want %v", names(onlyA.Items), err, wantA)
	}

	var paged []string
	q := store.Query{Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		p, err := computes.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 3 {
			t.Fatalf("page of %d items, limit 3", len(p.Items))
		}
		paged = append(paged, names(p.Items)...)
		if p.Next == "" {
			break
		}
		q.Token = p.Next
	}
	if !reflect.DeepEqual(paged, want) {
		t.Errorf("paged = %v, want %v", paged, want)
	}
	exact, err := computes.List(ctx, store.Query{Limit: 7})
	if err != nil || len(exact.Items) != 7 || exact.Next != "" {
		t.Errorf("a page holding exactly the rest has next %q (%v); want none", exact.Next, err)
	}
	if _, err := computes.List(ctx, store.Query{Token: "not-a-token"}); !errors.Is(err, store.ErrBadToken) {
		t.Errorf("garbage token: %v, want ErrBadToken", err)
	}
	empty, err := s.Aliases().List(ctx, store.Query{Limit: 5})
	if err != nil || len(empty.Items) != 0 || empty.Next != "" {
		t.Errorf("empty table = %+v, %v", empty, err)
	}
}

func testKinds(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Locations().Create(ctx, "same-key", "", store.Location{Model: gamelift.LocationModel{LocationName: gamelift.String("custom-x")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Builds().Create(ctx, "same-key", "", store.Build{Model: gamelift.Build{Status: gamelift.String("READY")}}); err != nil {
		t.Errorf("one key in two kinds: %v", err)
	}
	if err := s.Aliases().Create(ctx, "same-key", "", store.Alias{}); err != nil {
		t.Errorf("one key in two kinds: %v", err)
	}
	key := store.AccessKey{AccessKeyID: "same-key", SecretAccessKey: "s", Name: "backend", Allow: []string{"Describe*"}, CreationTime: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)}
	if err := s.AccessKeys().Create(ctx, "same-key", "", key); err != nil {
		t.Errorf("one key in two kinds: %v", err)
	}
	if got, err := s.AccessKeys().Get(ctx, "same-key"); err != nil || !reflect.DeepEqual(got, key) {
		t.Errorf("access key round trip = %+v, %v", got, err)
	}
	if _, err := s.Computes().Get(ctx, "same-key"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key of another kind is visible: %v", err)
	}
	e := gamelift.Event{EventId: gamelift.String("e1"), EventCode: gamelift.String("FLEET_CREATED")}
	if err := s.FleetEvents().Create(ctx, "e1", "fleet-1", e); err != nil {
		t.Fatal(err)
	}
	p, err := s.FleetEvents().List(ctx, store.Query{Parent: "fleet-1"})
	if err != nil || len(p.Items) != 1 || gamelift.Value(p.Items[0].EventCode) != "FLEET_CREATED" {
		t.Errorf("events = %+v, %v", p.Items, err)
	}
}
