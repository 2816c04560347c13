package control_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// The target fleet must be ACTIVE: a fleet still being provisioned (or in error) takes no
// game session. The fleet is put in the store in that state, as a crash mid-provisioning
// would leave it.
func TestCreateGameSessionNeedsAnActiveFleet(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, status := range []string{control.FleetBuilding, control.FleetError} {
		id := "fleet-" + status
		f := store.Fleet{Attributes: gamelift.FleetAttributes{FleetId: &id, Status: gamelift.String(status), ComputeType: gamelift.String(control.ComputeEC2)}}
		if err := st.Fleets().Create(ctx, id, "", f); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := control.New(ctx, control.Config{Store: st, Region: "us-west-2", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, err = svc.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: gamelift.String("fleet-ERROR"), MaximumPlayerSessionCount: gamelift.Int32(2)})
	if !gamelift.IsCode(err, "InvalidFleetStatusException") {
		t.Errorf("fleet in ERROR: %v, want InvalidFleetStatusException", err)
	}
	// A fleet a crash left BUILDING is provisioned on from there when the service starts.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := st.Fleets().Get(ctx, "fleet-BUILDING")
		if err != nil {
			t.Fatal(err)
		}
		if gamelift.Value(f.Attributes.Status) == control.FleetActivating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fleet left BUILDING is %s, not provisioned on to ACTIVATING", gamelift.Value(f.Attributes.Status))
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = svc.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: gamelift.String("fleet-BUILDING"), MaximumPlayerSessionCount: gamelift.Int32(2)})
	if !gamelift.IsCode(err, "InvalidFleetStatusException") {
		t.Errorf("ACTIVATING fleet (no process ready yet): %v, want InvalidFleetStatusException", err)
	}
}
