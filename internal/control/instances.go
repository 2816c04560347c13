package control

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// instanceOf describes a managed fleet's host as the instance GameLift would report.
func instanceOf(f store.Fleet, c gamelift.Compute) gamelift.Instance {
	status := gamelift.Value(c.ComputeStatus)
	switch status {
	case "PENDING", "ACTIVE", "TERMINATING":
	default:
		status = "ACTIVE" // IMPAIRED: the instance still runs
	}
	return gamelift.Instance{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, InstanceId: c.ComputeName,
		IpAddress: c.IpAddress, DnsName: c.DnsName, OperatingSystem: c.OperatingSystem, Type: f.Attributes.InstanceType,
		Status: &status, CreationTime: c.CreationTime, Location: c.Location,
	}
}

// DescribeInstances lists a managed fleet's hosts as instances (the instance ID is the
// compute name): one instance wherever it is, or those of one location, the home Region
// when none is given. An Anywhere fleet has no instances: GameLift refuses it, pointing to
// ListCompute.
func (s *Service) DescribeInstances(ctx context.Context, in *gamelift.DescribeInstancesInput) (*gamelift.DescribeInstancesOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	id := gamelift.Value(f.Attributes.FleetId)
	if !managed(f) {
		return nil, gamelift.InvalidRequest("Fleet %s is an Anywhere fleet, which has computes, not instances: call ListCompute", id)
	}
	location := gamelift.Value(in.Location)
	if location != "" && locationOf(&f, location) == nil {
		return nil, gamelift.InvalidRequest("Location %s is not a location of fleet %s", location, id)
	}
	if location == "" && in.InstanceId == nil && len(f.Locations) > 0 {
		location = f.Locations[0].Name
	}
	page, err := s.store.Computes().List(ctx, store.Query{Parent: id})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	var all []gamelift.Instance
	seen := map[string]int{} // a container fleet's instance -> its index in all
	for _, c := range page.Items {
		inst := instanceOf(f, c.Model)
		if isContainer(f) {
			// A container fleet's instance is its pods with one instance ID: running
			// when one of them runs, from the first one's creation.
			inst.InstanceId = c.Model.InstanceId
			if i, ok := seen[gamelift.Value(inst.InstanceId)]; ok {
				if gamelift.Value(c.Model.ComputeStatus) == computeActive {
					all[i].Status, all[i].IpAddress = inst.Status, inst.IpAddress
				}
				if c.Model.CreationTime.Before(all[i].CreationTime.Time) {
					all[i].CreationTime = c.Model.CreationTime
				}
				continue
			}
		}
		if location != "" && gamelift.Value(c.Model.Location) != location ||
			in.InstanceId != nil && gamelift.Value(inst.InstanceId) != *in.InstanceId {
			continue
		}
		seen[gamelift.Value(inst.InstanceId)] = len(all)
		all = append(all, inst)
	}
	if in.InstanceId != nil && len(all) == 0 {
		return nil, gamelift.NotFound("Instance %s not found in fleet %s", *in.InstanceId, id)
	}
	items, token, err := pageSlice(all, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeInstancesOutput{Instances: nonNil(items), NextToken: token}, nil
}
