package scaling

import (
	"context"
	"slices"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
)

// Scaling policy types, adjustment types and the one status Hoist's policies have.
const (
	policyTargetBased = "TargetBased"
	policyRuleBased   = "RuleBased"

	adjustChange  = "ChangeInCapacity"
	adjustExact   = "ExactCapacity"
	adjustPercent = "PercentChangeInCapacity"

	metricPercentAvailable = "PercentAvailableGameSessions"

	scalingActive = "ACTIVE"
)

// maxScalingPolicies bounds the scaling policies one fleet keeps: each is kept in the
// fleet's record, which every game session placement reads.
const maxScalingPolicies = 50

// PutScalingPolicy creates or replaces (by name) a scaling policy of a managed fleet. A
// target-based policy tracks PercentAvailableGameSessions toward TargetConfiguration's
// value and takes no rule parameters; a rule-based one (the type when PolicyType is not
// given) needs all of them and no TargetConfiguration. The policy is in force at once, in
// every location of the fleet, unless StopFleetActions suspended auto scaling there.
func (s *Service) PutScalingPolicy(ctx context.Context, in *gamelift.PutScalingPolicyInput) (*gamelift.PutScalingPolicyOutput, error) {
	p, err := scalingPolicyOf(in)
	if err != nil {
		return nil, err
	}
	_, err = s.core.UpdateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		if !control.Managed(*f) {
			return gamelift.InvalidRequest("Fleet %s is an Anywhere fleet: scaling policies apply to managed EC2 and container fleets", gamelift.Value(f.Attributes.FleetId))
		}
		i := slices.IndexFunc(f.ScalingPolicies, func(q gamelift.ScalingPolicy) bool { return gamelift.Value(q.Name) == *in.Name })
		switch {
		case i < 0 && len(f.ScalingPolicies) >= maxScalingPolicies:
			return gamelift.LimitExceeded("Fleet %s has %d scaling policies, the most Hoist keeps for a fleet; delete one first", gamelift.Value(f.Attributes.FleetId), len(f.ScalingPolicies))
		case i < 0:
			f.ScalingPolicies = append(f.ScalingPolicies, p)
		default:
			f.ScalingPolicies[i] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.PutScalingPolicyOutput{Name: in.Name}, nil
}

// scalingPolicyOf checks a policy's parameters against its type, as GameLift documents
// them, and returns the policy to keep.
func scalingPolicyOf(in *gamelift.PutScalingPolicyInput) (gamelift.ScalingPolicy, error) {
	p := gamelift.ScalingPolicy{Name: in.Name, MetricName: in.MetricName, PolicyType: in.PolicyType}
	ruleSet := in.ScalingAdjustment != nil || in.ScalingAdjustmentType != nil || in.Threshold != nil ||
		in.ComparisonOperator != nil || in.EvaluationPeriods != nil
	if gamelift.Value(in.PolicyType) == policyTargetBased {
		switch {
		case *in.MetricName != metricPercentAvailable:
			return p, gamelift.InvalidRequest("A target-based policy tracks MetricName PercentAvailableGameSessions, not %s", *in.MetricName)
		case in.TargetConfiguration == nil:
			return p, gamelift.InvalidRequest("A target-based policy needs a TargetConfiguration")
		case ruleSet:
			return p, gamelift.InvalidRequest("A target-based policy takes no ScalingAdjustment, ScalingAdjustmentType, Threshold, ComparisonOperator or EvaluationPeriods")
		}
		if v := gamelift.Value(in.TargetConfiguration.TargetValue); v < 0 || v >= 100 {
			return p, gamelift.InvalidRequest("TargetValue %g is not a percentage of available game sessions from 0 up to (not including) 100", v)
		}
		p.TargetConfiguration = in.TargetConfiguration
		return p, nil
	}
	p.PolicyType = gamelift.String(policyRuleBased)
	switch {
	case in.TargetConfiguration != nil:
		return p, gamelift.InvalidRequest("A rule-based policy takes no TargetConfiguration")
	case in.ScalingAdjustment == nil || in.ScalingAdjustmentType == nil || in.Threshold == nil ||
		in.ComparisonOperator == nil || in.EvaluationPeriods == nil:
		return p, gamelift.InvalidRequest("A rule-based policy needs ScalingAdjustment, ScalingAdjustmentType, Threshold, ComparisonOperator and EvaluationPeriods")
	case *in.ScalingAdjustmentType == adjustExact && *in.ScalingAdjustment < 0:
		return p, gamelift.InvalidRequest("ScalingAdjustment %d is not an instance count for ExactCapacity", *in.ScalingAdjustment)
	}
	p.ScalingAdjustment, p.ScalingAdjustmentType = in.ScalingAdjustment, in.ScalingAdjustmentType
	p.Threshold, p.ComparisonOperator, p.EvaluationPeriods = in.Threshold, in.ComparisonOperator, in.EvaluationPeriods
	return p, nil
}

// DescribeScalingPolicies lists a fleet's scaling policies once per location they are in
// force in: every location of the fleet, or the one asked for. Hoist applies a change at
// once, so every policy is ACTIVE; a StatusFilter naming another status finds none.
func (s *Service) DescribeScalingPolicies(ctx context.Context, in *gamelift.DescribeScalingPoliciesInput) (*gamelift.DescribeScalingPoliciesOutput, error) {
	f, err := s.core.Fleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	locations := f.Locations
	if in.Location != nil {
		l := control.LocationOf(&f, *in.Location)
		if l == nil {
			return nil, gamelift.NotFound("Location %s not found in fleet %s", *in.Location, gamelift.Value(f.Attributes.FleetId))
		}
		locations = []store.FleetLocation{*l}
	}
	var all []gamelift.ScalingPolicy
	if st := gamelift.Value(in.StatusFilter); st == "" || st == scalingActive {
		for _, l := range locations {
			for _, p := range f.ScalingPolicies {
				p.FleetId, p.FleetArn = f.Attributes.FleetId, f.Attributes.FleetArn
				p.Location, p.Status = gamelift.String(l.Name), gamelift.String(scalingActive)
				all = append(all, p)
			}
		}
	}
	items, token, err := paging.Slice(all, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeScalingPoliciesOutput{ScalingPolicies: paging.NonNil(items), NextToken: token}, nil
}

// DeleteScalingPolicy removes a fleet's scaling policy from every location; it is no
// longer in force from then on.
func (s *Service) DeleteScalingPolicy(ctx context.Context, in *gamelift.DeleteScalingPolicyInput) (*gamelift.DeleteScalingPolicyOutput, error) {
	_, err := s.core.UpdateAnyFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		i := slices.IndexFunc(f.ScalingPolicies, func(q gamelift.ScalingPolicy) bool { return gamelift.Value(q.Name) == *in.Name })
		if i < 0 {
			return gamelift.NotFound("Scaling policy %s not found in fleet %s", *in.Name, gamelift.Value(f.Attributes.FleetId))
		}
		f.ScalingPolicies = slices.Delete(f.ScalingPolicies, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.DeleteScalingPolicyOutput{}, nil
}
