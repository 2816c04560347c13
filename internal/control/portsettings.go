package control

import (
	"context"
	"net/netip"
	"slices"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// maxInboundPermissions is how many inbound permissions a fleet holds at most: the
// model's bound on CreateFleet's EC2InboundPermissions.
const maxInboundPermissions = 50

// checkPermissions checks what the model cannot: the range is CIDR and the ports ascend.
func checkPermissions(member string, ps []gamelift.IpPermission) error {
	for i, p := range ps {
		if _, err := netip.ParsePrefix(gamelift.Value(p.IpRange)); err != nil {
			return gamelift.InvalidRequest("%s[%d].IpRange %q is not a CIDR range such as 0.0.0.0/0", member, i, gamelift.Value(p.IpRange))
		}
		if gamelift.Value(p.FromPort) > gamelift.Value(p.ToPort) {
			return gamelift.InvalidRequest("%s[%d]: FromPort %d is above ToPort %d", member, i, gamelift.Value(p.FromPort), gamelift.Value(p.ToPort))
		}
	}
	return nil
}

func samePermission(a, b gamelift.IpPermission) bool {
	return gamelift.Value(a.IpRange) == gamelift.Value(b.IpRange) && gamelift.Value(a.Protocol) == gamelift.Value(b.Protocol) &&
		gamelift.Value(a.FromPort) == gamelift.Value(b.FromPort) && gamelift.Value(a.ToPort) == gamelift.Value(b.ToPort)
}

// inboundPermissions returns ps without repeats, checked, for a new fleet.
func inboundPermissions(ps []gamelift.IpPermission) ([]gamelift.IpPermission, error) {
	if err := checkPermissions("EC2InboundPermissions", ps); err != nil {
		return nil, err
	}
	var out []gamelift.IpPermission
	for _, p := range ps {
		if !slices.ContainsFunc(out, func(q gamelift.IpPermission) bool { return samePermission(p, q) }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// DescribeFleetPortSettings returns the inbound permissions of a fleet. Hoist applies an
// update to every location at once, so no location is ever PENDING_UPDATE.
func (s *Service) DescribeFleetPortSettings(ctx context.Context, in *gamelift.DescribeFleetPortSettingsInput) (*gamelift.DescribeFleetPortSettingsOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetPortSettingsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, InboundPermissions: nonNil(f.InboundPermissions)}
	if in.Location != nil {
		if locationOf(&f, *in.Location) == nil {
			return nil, gamelift.InvalidRequest("Location %s is not a location of fleet %s", *in.Location, gamelift.Value(f.Attributes.FleetId))
		}
		out.Location = in.Location
	} else if len(f.Locations) > 0 {
		out.Location = gamelift.String(f.Locations[0].Name)
	}
	if gamelift.Value(f.Attributes.Status) == FleetTerminated {
		out.InboundPermissions = []gamelift.IpPermission{}
	}
	return out, nil
}

// UpdateFleetPortSettings adds and removes inbound permissions of a managed fleet, as a
// set: adding one the fleet has changes nothing; removing one it lacks is refused.
func (s *Service) UpdateFleetPortSettings(ctx context.Context, in *gamelift.UpdateFleetPortSettingsInput) (*gamelift.UpdateFleetPortSettingsOutput, error) {
	if len(in.InboundPermissionAuthorizations) == 0 && len(in.InboundPermissionRevocations) == 0 {
		return nil, gamelift.InvalidRequest("Specify InboundPermissionAuthorizations, InboundPermissionRevocations or both")
	}
	if err := checkPermissions("InboundPermissionAuthorizations", in.InboundPermissionAuthorizations); err != nil {
		return nil, err
	}
	if err := checkPermissions("InboundPermissionRevocations", in.InboundPermissionRevocations); err != nil {
		return nil, err
	}
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		if gamelift.Value(f.Attributes.ComputeType) == ComputeAnywhere {
			return gamelift.InvalidRequest("Fleet %s is an Anywhere fleet: its hosts' ports are set on the hosts", gamelift.Value(f.Attributes.FleetId))
		}
		perms := slices.Clone(f.InboundPermissions)
		for i, r := range in.InboundPermissionRevocations {
			n := len(perms)
			perms = slices.DeleteFunc(perms, func(p gamelift.IpPermission) bool { return samePermission(p, r) })
			if len(perms) == n {
				return gamelift.InvalidRequest("InboundPermissionRevocations[%d] matches no inbound permission of fleet %s", i, gamelift.Value(f.Attributes.FleetId))
			}
		}
		for _, a := range in.InboundPermissionAuthorizations {
			if !slices.ContainsFunc(perms, func(p gamelift.IpPermission) bool { return samePermission(p, a) }) {
				perms = append(perms, a)
			}
		}
		if len(perms) > maxInboundPermissions {
			return gamelift.LimitExceeded("Fleet %s would have %d inbound permissions; the limit is %d", gamelift.Value(f.Attributes.FleetId), len(perms), maxInboundPermissions)
		}
		f.InboundPermissions = perms
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.UpdateFleetPortSettingsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn}, nil
}
