package control

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// DefaultMaxComputes is how many computes (hosts) may be registered at once across all
// fleets when Config.MaxComputes is zero.
const DefaultMaxComputes = 10000

// checkComputeLimit refuses a new registration (key not registered yet) when the computes
// registered across all fleets are at the limit. The caller holds registerMu.
func (s *Service) checkComputeLimit(ctx context.Context, key string) error {
	if _, err := s.store.Computes().Get(ctx, key); err == nil {
		return nil // a host registering again replaces its registration
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up compute: %w", err)
	}
	page, err := s.store.Computes().List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list computes: %w", err)
	}
	if len(page.Items) >= s.maxComputes {
		return gamelift.LimitExceeded("%d computes are registered, the most this Hoist allows (hoist server --max-computes); deregister one first", len(page.Items))
	}
	return nil
}

// DescribeEC2InstanceLimits reports Hoist's own limit: the computes that may be registered
// at once across all fleets, for each instance type managed fleets use (or the one asked
// for), with the active hosts of managed fleets of that type in the location asked (the
// home Region when none).
func (s *Service) DescribeEC2InstanceLimits(ctx context.Context, in *gamelift.DescribeEC2InstanceLimitsInput) (*gamelift.DescribeEC2InstanceLimitsOutput, error) {
	location := s.region
	if in.Location != nil {
		location = *in.Location
		if location != s.region && !slices.Contains(awsLocations, location) {
			return nil, gamelift.InvalidRequest("Location %s is not an AWS Region where managed fleets run", location)
		}
	}
	fleets, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	current := map[string]int32{}
	var types []string
	for _, f := range fleets.Items {
		t := gamelift.Value(f.Attributes.InstanceType)
		if gamelift.Value(f.Attributes.ComputeType) != ComputeEC2 || t == "" || gamelift.Value(f.Attributes.Status) == FleetTerminated {
			continue
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
		counts, err := s.computeCounts(ctx, gamelift.Value(f.Attributes.FleetId))
		if err != nil {
			return nil, err
		}
		current[t] += counts[location]
	}
	if in.EC2InstanceType != nil {
		types = []string{*in.EC2InstanceType}
	}
	slices.Sort(types)
	limit := int32(min(s.maxComputes, math.MaxInt32))
	out := &gamelift.DescribeEC2InstanceLimitsOutput{EC2InstanceLimits: []gamelift.EC2InstanceLimit{}}
	for _, t := range types {
		out.EC2InstanceLimits = append(out.EC2InstanceLimits, gamelift.EC2InstanceLimit{
			EC2InstanceType: gamelift.String(t), Location: gamelift.String(location),
			InstanceLimit: gamelift.Int32(limit), CurrentInstances: gamelift.Int32(current[t]),
		})
	}
	return out, nil
}
