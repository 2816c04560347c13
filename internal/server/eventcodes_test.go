package server_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// A fleet's life, from creation with a remote location through removing that location
// to deleting the fleet, records only event codes GameLift's model lists: a location's
// changes are LOCATION_STATE_*, and a deletion is LOCATION_STATE_DELETING and _DELETED
// per location and FLEET_DELETED, never a FLEET_STATE_DELETING the model does not have.
func TestFleetEventCodesAreGameLifts(t *testing.T) {
	ctx := context.Background()
	srv, api := start(t, t.TempDir())
	build := uploadBuild(t, srv, api, map[string][]byte{"server": must(os.ReadFile(gameServerBinary(t)))(t)})
	fleet := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("built"), BuildId: build,
		Locations:            []types.LocationConfiguration{{Location: aws.String("eu-west-1")}},
		RuntimeConfiguration: runtimeOf("/local/game/server", 1)}))(t).FleetAttributes.FleetId
	waitFleetActive(t, api, fleet)
	must(api.DeleteFleetLocations(ctx, &gl.DeleteFleetLocationsInput{FleetId: fleet, Locations: []string{"eu-west-1"}}))(t)
	eventually(t, "the location is removed", func() bool {
		return len(must(api.DescribeFleetLocationAttributes(ctx, &gl.DescribeFleetLocationAttributesInput{FleetId: fleet}))(t).LocationAttributes) == 1
	})
	must(api.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: fleet}))(t)
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, api, fleet) == types.FleetStatusTerminated })
	// FLEET_DELETED is recorded just after the fleet is TERMINATED.
	waitLastEvent(t, api, fleet, types.EventCodeFleetDeleted)

	codes := eventCodes(t, api, fleet)
	known := types.EventCode("").Values()
	for _, c := range codes {
		if !slices.Contains(known, c) {
			t.Errorf("event code %s is not in GameLift's model", c)
		}
	}
	for _, want := range []types.EventCode{types.EventCodeFleetCreated, types.EventCodeLocationStateActivating,
		types.EventCodeLocationStateDeleting, types.EventCodeLocationStateDeleted, types.EventCodeFleetDeleted} {
		if !slices.Contains(codes, want) {
			t.Errorf("events %v have no %s", codes, want)
		}
	}
}
