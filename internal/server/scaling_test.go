package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
)

func ruleBased(fleetID *string, name, metric string, op types.ComparisonOperatorType, threshold float64, periods int32, kind types.ScalingAdjustmentType, by int32) *gl.PutScalingPolicyInput {
	return &gl.PutScalingPolicyInput{
		FleetId: fleetID, Name: aws.String(name), PolicyType: types.PolicyTypeRuleBased, MetricName: types.MetricName(metric),
		ComparisonOperator: op, Threshold: aws.Float64(threshold), EvaluationPeriods: aws.Int32(periods),
		ScalingAdjustmentType: kind, ScalingAdjustment: aws.Int32(by),
	}
}

func targetBased(fleetID *string, name string, target float64) *gl.PutScalingPolicyInput {
	return &gl.PutScalingPolicyInput{
		FleetId: fleetID, Name: aws.String(name), PolicyType: types.PolicyTypeTargetBased,
		MetricName: types.MetricNamePercentAvailableGameSessions, TargetConfiguration: &types.TargetConfiguration{TargetValue: aws.Float64(target)},
	}
}

// Scaling policies of both kinds are put, replaced by name, listed per location with
// their status and paged, and deleted; inputs GameLift refuses are refused.
func TestScalingPolicies(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	fleet := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("scaled"), RuntimeConfiguration: runtimeOf(gameServerBinary(t), 1)}))(t).FleetAttributes
	id := fleet.FleetId

	must(c.PutScalingPolicy(ctx, targetBased(id, "buffer", 20)))(t)
	must(c.PutScalingPolicy(ctx, ruleBased(id, "idle", "PercentIdleInstances", types.ComparisonOperatorTypeGreaterThanThreshold, 20, 15, types.ScalingAdjustmentTypePercentChangeInCapacity, -10)))(t)
	must(c.PutScalingPolicy(ctx, targetBased(id, "buffer", 30)))(t) // replaces

	got := must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id}))(t).ScalingPolicies
	if len(got) != 2 {
		t.Fatalf("DescribeScalingPolicies = %d policies, want 2", len(got))
	}
	buffer, idle := got[0], got[1]
	if aws.ToString(buffer.Name) != "buffer" || buffer.PolicyType != types.PolicyTypeTargetBased || aws.ToFloat64(buffer.TargetConfiguration.TargetValue) != 30 ||
		buffer.Status != types.ScalingStatusTypeActive || aws.ToString(buffer.Location) != "us-west-2" || aws.ToString(buffer.FleetId) != aws.ToString(id) {
		t.Errorf("target-based policy = %+v", buffer)
	}
	if aws.ToString(idle.Name) != "idle" || idle.PolicyType != types.PolicyTypeRuleBased || idle.MetricName != types.MetricNamePercentIdleInstances ||
		aws.ToInt32(idle.EvaluationPeriods) != 15 || aws.ToInt32(idle.ScalingAdjustment) != -10 || idle.TargetConfiguration != nil {
		t.Errorf("rule-based policy = %+v", idle)
	}
	page := must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id, Limit: aws.Int32(1)}))(t)
	if len(page.ScalingPolicies) != 1 || page.NextToken == nil {
		t.Errorf("a page of 1 = %d policies, next %v", len(page.ScalingPolicies), page.NextToken)
	}
	next := must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id, Limit: aws.Int32(1), NextToken: page.NextToken}))(t)
	if len(next.ScalingPolicies) != 1 || aws.ToString(next.ScalingPolicies[0].Name) != "idle" || next.NextToken != nil {
		t.Errorf("the next page = %+v", next)
	}
	if n := len(must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id, StatusFilter: types.ScalingStatusTypeDeleted}))(t).ScalingPolicies); n != 0 {
		t.Errorf("StatusFilter DELETED finds %d", n)
	}
	if n := len(must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id, Location: aws.String("us-west-2")}))(t).ScalingPolicies); n != 2 {
		t.Errorf("Location us-west-2 finds %d", n)
	}

	anywhere := anywhereFleet(t, c, "custom-scaling-1")
	noThreshold := ruleBased(id, "bad", "ActiveGameSessions", types.ComparisonOperatorTypeGreaterThanThreshold, 1, 1, types.ScalingAdjustmentTypeChangeInCapacity, 1)
	noThreshold.Threshold = nil
	targetWithRule := targetBased(id, "bad", 20)
	targetWithRule.EvaluationPeriods = aws.Int32(2)
	zeroPeriods := ruleBased(id, "bad", "ActiveGameSessions", types.ComparisonOperatorTypeGreaterThanThreshold, 1, 0, types.ScalingAdjustmentTypeChangeInCapacity, 1)
	for name, in := range map[string]*gl.PutScalingPolicyInput{
		"target-based on another metric": {FleetId: id, Name: aws.String("bad"), PolicyType: types.PolicyTypeTargetBased, MetricName: types.MetricNameActiveGameSessions,
			TargetConfiguration: &types.TargetConfiguration{TargetValue: aws.Float64(5)}},
		"target-based without a target":   {FleetId: id, Name: aws.String("bad"), PolicyType: types.PolicyTypeTargetBased, MetricName: types.MetricNamePercentAvailableGameSessions},
		"target-based with rule settings": targetWithRule,
		"target of 100 percent":           targetBased(id, "bad", 100),
		"rule-based without a threshold":  noThreshold,
		"zero evaluation periods":         zeroPeriods,
		"an unknown metric":               ruleBased(id, "bad", "Players", types.ComparisonOperatorTypeGreaterThanThreshold, 1, 1, types.ScalingAdjustmentTypeChangeInCapacity, 1),
		"an unknown comparison":           ruleBased(id, "bad", "ActiveGameSessions", "Above", 1, 1, types.ScalingAdjustmentTypeChangeInCapacity, 1),
		"negative exact capacity":         ruleBased(id, "bad", "ActiveGameSessions", types.ComparisonOperatorTypeGreaterThanThreshold, 1, 1, types.ScalingAdjustmentTypeExactCapacity, -1),
		"an Anywhere fleet":               targetBased(anywhere.FleetId, "bad", 20),
	} {
		var bad *types.InvalidRequestException
		if _, err := c.PutScalingPolicy(ctx, in); !errors.As(err, &bad) {
			t.Errorf("%s: err = %v, want InvalidRequestException", name, err)
		}
	}
	var notFound *types.NotFoundException
	if _, err := c.PutScalingPolicy(ctx, targetBased(aws.String("fleet-nope"), "x", 10)); !errors.As(err, &notFound) {
		t.Errorf("put on an unknown fleet: err = %v", err)
	}
	if _, err := c.DeleteScalingPolicy(ctx, &gl.DeleteScalingPolicyInput{FleetId: id, Name: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Errorf("delete an unknown policy: err = %v", err)
	}
	if _, err := c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id, Location: aws.String("eu-west-1")}); !errors.As(err, &notFound) {
		t.Errorf("describe in a location not of the fleet: err = %v", err)
	}

	must(c.DeleteScalingPolicy(ctx, &gl.DeleteScalingPolicyInput{FleetId: id, Name: aws.String("buffer")}))(t)
	got = must(c.DescribeScalingPolicies(ctx, &gl.DescribeScalingPoliciesInput{FleetId: id}))(t).ScalingPolicies
	if len(got) != 1 || aws.ToString(got[0].Name) != "idle" {
		t.Errorf("after delete: %+v", got)
	}
}

// scalingWorld is a server on a fake clock with an ACTIVE managed fleet whose one host
// (the server's own) runs two game server processes, its capacity 1 desired, 1 to 4.
type scalingWorld struct {
	*sdkWorld
	managed *string
}

func newScalingWorld(t *testing.T) scalingWorld {
	t.Helper()
	ctx := context.Background()
	w := newSDKWorldWith(t, func(c *server.Config) { c.HeartbeatTimeout = 24 * time.Hour })
	id := must(w.api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("scaled"), RuntimeConfiguration: runtimeOf(gameServerBinary(t), 2)}))(t).FleetAttributes.FleetId
	waitFleetActive(t, w.api, id)
	eventually(t, "2 processes are ready", func() bool { return fleetProcesses(t, w.api, id) == 2 })
	must(w.api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, MinSize: aws.Int32(1), MaxSize: aws.Int32(4), DesiredInstances: aws.Int32(1)}))(t)
	return scalingWorld{w, id}
}

// minute moves the clock a minute and waits for the scaling policies to be evaluated.
func (w scalingWorld) minute(t *testing.T) {
	t.Helper()
	before := w.srv.ScalingEvaluations()
	w.clock.Advance(time.Minute)
	eventually(t, "the scaling policies are evaluated", func() bool { return w.srv.ScalingEvaluations() > before })
}

func (w scalingWorld) desired(t *testing.T) int32 {
	t.Helper()
	c := must(w.api.DescribeFleetCapacity(context.Background(), &gl.DescribeFleetCapacityInput{FleetIds: []string{aws.ToString(w.managed)}}))(t)
	return aws.ToInt32(c.FleetCapacity[0].InstanceCounts.DESIRED)
}

func (w scalingWorld) activeSession(t *testing.T) *types.GameSession {
	t.Helper()
	ctx := context.Background()
	gs := must(w.api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: w.managed, MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	eventually(t, "the session is ACTIVE", func() bool {
		d := must(w.api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSessionId}))(t).GameSessions
		return d[0].Status == types.GameSessionStatusActive
	})
	return gs
}

// A target-based policy keeping half the game session capacity available raises the
// desired instances when sessions fill the processes, says that hosts are missing, and
// lowers them again when the sessions end.
func TestTargetBasedScaling(t *testing.T) {
	ctx := context.Background()
	w := newScalingWorld(t)
	must(w.api.PutScalingPolicy(ctx, targetBased(w.managed, "half-free", 50)))(t)
	w.minute(t)
	if d := w.desired(t); d != 1 {
		t.Fatalf("with no sessions desired = %d, want 1 (MinSize)", d)
	}

	a, b := w.activeSession(t), w.activeSession(t)
	w.minute(t)
	// 2 sessions need 4 session slots to leave half free: 2 hosts of 2 processes.
	if d := w.desired(t); d != 2 {
		t.Fatalf("with both processes busy desired = %d, want 2", d)
	}
	if msg := eventMessages(t, w.api, w.managed, types.EventCodeFleetScalingEvent); !strings.Contains(msg, "from 1 to 2") || !strings.Contains(msg, "start 1 more") {
		t.Errorf("FLEET_SCALING_EVENT messages: %q", msg)
	}

	for _, gs := range []*types.GameSession{a, b} {
		must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeForceTerminate}))(t)
	}
	eventually(t, "no session is left and 2 processes are ready", func() bool {
		u := must(w.api.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{aws.ToString(w.managed)}}))(t).FleetUtilization[0]
		return aws.ToInt32(u.ActiveGameSessionCount) == 0 && aws.ToInt32(u.ActiveServerProcessCount) == 2
	})
	w.minute(t)
	if d := w.desired(t); d != 1 {
		t.Errorf("after the sessions end desired = %d, want 1", d)
	}
}

// A rule-based policy acts after its rule held for EvaluationPeriods minutes, within
// MaxSize; StopFleetActions(AUTO_SCALING) pauses it and StartFleetActions resumes it.
func TestRuleBasedScaling(t *testing.T) {
	ctx := context.Background()
	w := newScalingWorld(t)
	w.activeSession(t)
	must(w.api.PutScalingPolicy(ctx, ruleBased(w.managed, "busy", "ActiveGameSessions", types.ComparisonOperatorTypeGreaterThanOrEqualToThreshold,
		1, 3, types.ScalingAdjustmentTypeChangeInCapacity, 1)))(t)

	for range 2 {
		w.minute(t)
	}
	if d := w.desired(t); d != 1 {
		t.Fatalf("after 2 of 3 breaching minutes desired = %d, want 1", d)
	}
	w.minute(t)
	if d := w.desired(t); d != 2 {
		t.Fatalf("after 3 breaching minutes desired = %d, want 2", d)
	}

	must(w.api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: w.managed, Actions: []types.FleetAction{types.FleetActionAutoScaling}}))(t)
	for range 4 {
		w.minute(t)
	}
	if d := w.desired(t); d != 2 {
		t.Fatalf("with auto scaling stopped desired = %d, want 2", d)
	}
	must(w.api.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: w.managed, Actions: []types.FleetAction{types.FleetActionAutoScaling}}))(t)
	for range 2 {
		w.minute(t)
	}
	if d := w.desired(t); d != 2 {
		t.Fatalf("2 minutes after resuming desired = %d, want 2", d)
	}
	w.minute(t)
	if d := w.desired(t); d != 3 {
		t.Fatalf("3 minutes after resuming desired = %d, want 3", d)
	}

	// ExactCapacity above MaxSize stops at MaxSize.
	must(w.api.PutScalingPolicy(ctx, ruleBased(w.managed, "busy", "ActiveGameSessions", types.ComparisonOperatorTypeGreaterThanOrEqualToThreshold,
		1, 1, types.ScalingAdjustmentTypeExactCapacity, 9)))(t)
	w.minute(t)
	if d := w.desired(t); d != 4 {
		t.Errorf("ExactCapacity 9 with MaxSize 4: desired = %d", d)
	}
}
