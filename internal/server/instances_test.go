package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/server"
)

// A managed fleet's registered hosts are its instances: the home Region's by default, one
// location's, or one instance wherever it is, a page at a time.
func TestDescribeInstances(t *testing.T) {
	ctx := context.Background()
	_, api := startNoAgent(t, server.Config{})
	fa := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("instances"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1),
		EC2InstanceType: types.EC2InstanceTypeC5Large, Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}}))(t).FleetAttributes
	id := fa.FleetId
	eventually(t, "the fleet is ACTIVATING", func() bool { return fleetStatus(t, api, id) == types.FleetStatusActivating })
	for _, in := range []*gl.RegisterComputeInput{
		{ComputeName: aws.String("oregon-1"), IpAddress: aws.String("10.0.0.1")},
		{ComputeName: aws.String("oregon-2"), IpAddress: aws.String("10.0.0.2")},
		{ComputeName: aws.String("dublin-1"), DnsName: aws.String("dublin-1.games.example"), Location: aws.String("eu-west-1")},
	} {
		in.FleetId = id
		must(api.RegisterCompute(ctx, in))(t)
	}

	home := must(api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: fa.FleetArn}))(t)
	if len(home.Instances) != 2 || home.NextToken != nil {
		t.Fatalf("home instances = %+v", home.Instances)
	}
	i := home.Instances[0]
	if aws.ToString(i.InstanceId) != "oregon-1" || aws.ToString(i.IpAddress) != "10.0.0.1" || i.Type != types.EC2InstanceTypeC5Large ||
		i.Status != types.InstanceStatusActive || aws.ToString(i.Location) != "us-west-2" || i.CreationTime == nil ||
		aws.ToString(i.FleetId) != aws.ToString(id) || aws.ToString(i.FleetArn) != aws.ToString(fa.FleetArn) {
		t.Errorf("instance = %+v", i)
	}
	first := must(api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, Limit: aws.Int32(1)}))(t)
	if len(first.Instances) != 1 || first.NextToken == nil {
		t.Fatalf("first page = %+v", first)
	}
	second := must(api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, Limit: aws.Int32(1), NextToken: first.NextToken}))(t)
	if len(second.Instances) != 1 || aws.ToString(second.Instances[0].InstanceId) != "oregon-2" || second.NextToken != nil {
		t.Errorf("second page = %+v", second)
	}
	remote := must(api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, Location: aws.String("eu-west-1")}))(t).Instances
	if len(remote) != 1 || aws.ToString(remote[0].DnsName) != "dublin-1.games.example" || aws.ToString(remote[0].Location) != "eu-west-1" {
		t.Errorf("eu-west-1 instances = %+v", remote)
	}
	one := must(api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, InstanceId: aws.String("dublin-1")}))(t).Instances
	if len(one) != 1 || aws.ToString(one[0].InstanceId) != "dublin-1" {
		t.Errorf("instance dublin-1 = %+v", one)
	}

	_, err := api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, InstanceId: aws.String("oregon-9")})
	apiError(t, err, "NotFoundException")
	_, err = api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id, Location: aws.String("ap-south-1")})
	apiError(t, err, "InvalidRequestException")
	_, err = api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000")})
	apiError(t, err, "NotFoundException")
	anyw := anywhereFleet(t, api, "custom-instances-1")
	_, err = api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: anyw.FleetId})
	if msg := apiError(t, err, "InvalidRequestException"); !strings.Contains(msg, "ListCompute") {
		t.Errorf("Anywhere fleet: %s", msg)
	}
}

// IDLE counts the active hosts hosting no game session, as GameLift documents it: three
// computes, one of them hosting a session, are three ACTIVE and two IDLE, in
// DescribeFleetCapacity and DescribeFleetLocationCapacity alike.
func TestCapacityCountsIdleHosts(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	w.otherCompute(t, "host-2")
	w.otherCompute(t, "host-3")
	counts := func() (fleet, location types.EC2InstanceCounts) {
		c := must(w.api.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: []string{w.fleetID}}))(t).FleetCapacity[0]
		l := must(w.api.DescribeFleetLocationCapacity(ctx, &gl.DescribeFleetLocationCapacityInput{FleetId: aws.String(w.fleetID), Location: aws.String("custom-sdk-1")}))(t).FleetCapacity
		return *c.InstanceCounts, *l.InstanceCounts
	}
	if c, l := counts(); aws.ToInt32(c.ACTIVE) != 3 || aws.ToInt32(c.IDLE) != 3 || aws.ToInt32(l.IDLE) != 3 {
		t.Fatalf("with no session: ACTIVE %d IDLE %d (location IDLE %d), want 3 3 3", aws.ToInt32(c.ACTIVE), aws.ToInt32(c.IDLE), aws.ToInt32(l.IDLE))
	}
	p := startProcess(t, w, "p-idle", 7100, true)
	gs := must(w.createSession(ctx, "", 4))(t)
	received(t, p)
	w.waitStatus(t, gs.GameSessionId, types.GameSessionStatusActive)
	if c, l := counts(); aws.ToInt32(c.ACTIVE) != 3 || aws.ToInt32(c.IDLE) != 2 || aws.ToInt32(l.IDLE) != 2 {
		t.Errorf("with one host busy: ACTIVE %d IDLE %d (location IDLE %d), want 3 2 2", aws.ToInt32(c.ACTIVE), aws.ToInt32(c.IDLE), aws.ToInt32(l.IDLE))
	}
	if err := p.sdk.ProcessEnding(ctx); err != nil { // the game ends, and its session with it
		t.Fatal(err)
	}
	eventually(t, "the host is idle again", func() bool { c, _ := counts(); return aws.ToInt32(c.IDLE) == 3 })
}
