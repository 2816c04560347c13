package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// Describe calls given a list of fleets or queues answer for those that exist and leave
// the others out, as GameLift's reference says, rather than failing the whole call: a
// backend polling a fixed list goes on working when one is deleted. With a list, Limit is
// ignored.
func TestDescribeListsLeaveOutUnknownIDs(t *testing.T) {
	ctx := context.Background()
	_, api := start(t, t.TempDir())
	must(api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-list-1")}))(t)
	var fleets []string
	for range 2 {
		f := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
			Locations: []types.LocationConfiguration{{Location: aws.String("custom-list-1")}}}))(t).FleetAttributes
		fleets = append(fleets, aws.ToString(f.FleetId))
	}
	unknown := "fleet-00000000-0000-0000-0000-000000000000"
	ids := []string{fleets[0], unknown, fleets[1]}

	attrs := must(api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: ids, Limit: aws.Int32(1)}))(t)
	if got := len(attrs.FleetAttributes); got != 2 || attrs.NextToken != nil {
		t.Errorf("DescribeFleetAttributes of 2 fleets and an unknown one, Limit 1: %d fleets, NextToken %v; want both, no token", got, attrs.NextToken)
	}
	capacity := must(api.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: ids}))(t)
	if got := len(capacity.FleetCapacity); got != 2 {
		t.Errorf("DescribeFleetCapacity of 2 fleets and an unknown one: %d, want 2", got)
	}
	use := must(api.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: ids}))(t)
	if got := len(use.FleetUtilization); got != 2 {
		t.Errorf("DescribeFleetUtilization of 2 fleets and an unknown one: %d, want 2", got)
	}
	none := must(api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{unknown}}))(t)
	if len(none.FleetAttributes) != 0 {
		t.Errorf("DescribeFleetAttributes of an unknown fleet: %d fleets, want none", len(none.FleetAttributes))
	}

	must(api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("main")}))(t)
	queues := must(api.DescribeGameSessionQueues(ctx, &gl.DescribeGameSessionQueuesInput{Names: []string{"gone", "main"}}))(t)
	if len(queues.GameSessionQueues) != 1 || aws.ToString(queues.GameSessionQueues[0].Name) != "main" {
		t.Errorf("DescribeGameSessionQueues of main and an unknown queue: %+v, want main alone", queues.GameSessionQueues)
	}
}
