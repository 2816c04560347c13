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

// startNoAgent runs a server whose own host runs no fleet's processes: tests register
// hosts and connect processes themselves.
func startNoAgent(t *testing.T, cfg server.Config) (*server.Server, *gl.Client) {
	t.Helper()
	cfg.Addr, cfg.DataDir, cfg.Credentials, cfg.Logger, cfg.NoLocalAgent = "127.0.0.1:0", t.TempDir(), testCreds, quietLogger(), true
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, client(srv.Endpoint, testCreds.SecretAccessKey)
}

// activeManagedFleet creates a managed fleet with a remote location and makes it ACTIVE
// in its home Region: a registered host there runs a ready process.
func activeManagedFleet(t *testing.T, srv *server.Server, api *gl.Client, in *gl.CreateFleetInput) *string {
	t.Helper()
	ctx := context.Background()
	if in == nil {
		in = &gl.CreateFleetInput{}
	}
	in.Name, in.RuntimeConfiguration = aws.String("managed"), runtimeOf("/opt/game/server", 1)
	if in.Locations == nil {
		in.Locations = []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}
	}
	id := must(api.CreateFleet(ctx, in))(t).FleetAttributes.FleetId
	eventually(t, "the fleet is ACTIVATING", func() bool { return fleetStatus(t, api, id) == types.FleetStatusActivating })
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: id, ComputeName: aws.String("oregon-1"), IpAddress: aws.String("10.0.0.1")}))(t)
	tok := must(api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: id, ComputeName: aws.String("oregon-1")}))(t)
	startProcess(t, &sdkWorld{srv: srv, api: api, fleetID: aws.ToString(id), compute: "oregon-1", tok: aws.ToString(tok.AuthToken)}, "proc-oregon", 7777, true)
	waitFleetActive(t, api, id)
	return id
}

func perm(cidr string, proto types.IpProtocol, from, to int32) types.IpPermission {
	return types.IpPermission{IpRange: aws.String(cidr), Protocol: proto, FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
}

func permsOf(t *testing.T, api *gl.Client, id *string) []types.IpPermission {
	t.Helper()
	return must(api.DescribeFleetPortSettings(context.Background(), &gl.DescribeFleetPortSettingsInput{FleetId: id}))(t).InboundPermissions
}

func samePerms(got []types.IpPermission, want ...types.IpPermission) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if aws.ToString(g.IpRange) != aws.ToString(w.IpRange) || g.Protocol != w.Protocol ||
			aws.ToInt32(g.FromPort) != aws.ToInt32(w.FromPort) || aws.ToInt32(g.ToPort) != aws.ToInt32(w.ToPort) {
			return false
		}
	}
	return true
}

// A fleet keeps the inbound permissions it was created with; UpdateFleetPortSettings adds
// and removes them as a set, within GameLift's limit of 50.
func TestFleetPortSettings(t *testing.T) {
	ctx := context.Background()
	_, api := startNoAgent(t, server.Config{})
	game := perm("0.0.0.0/0", types.IpProtocolUdp, 7000, 7100)
	admin := perm("10.0.0.0/8", types.IpProtocolTcp, 22, 22)
	fa := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("ports"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1),
		EC2InboundPermissions: []types.IpPermission{game, admin}, Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}}))(t).FleetAttributes
	id := fa.FleetId

	out := must(api.DescribeFleetPortSettings(ctx, &gl.DescribeFleetPortSettingsInput{FleetId: fa.FleetArn}))(t)
	if !samePerms(out.InboundPermissions, game, admin) || aws.ToString(out.FleetId) != aws.ToString(id) || aws.ToString(out.Location) != "us-west-2" || out.UpdateStatus != "" {
		t.Errorf("port settings = %+v, location %s, status %q", out.InboundPermissions, aws.ToString(out.Location), out.UpdateStatus)
	}
	remote := must(api.DescribeFleetPortSettings(ctx, &gl.DescribeFleetPortSettingsInput{FleetId: id, Location: aws.String("eu-west-1")}))(t)
	if aws.ToString(remote.Location) != "eu-west-1" || remote.UpdateStatus != "" || !samePerms(remote.InboundPermissions, game, admin) {
		t.Errorf("remote port settings = %+v, location %s, status %q", remote.InboundPermissions, aws.ToString(remote.Location), remote.UpdateStatus)
	}
	_, err := api.DescribeFleetPortSettings(ctx, &gl.DescribeFleetPortSettingsInput{FleetId: id, Location: aws.String("ap-south-1")})
	apiError(t, err, "InvalidRequestException")

	// Adding one the fleet has changes nothing; revocations go first.
	tcp := perm("0.0.0.0/0", types.IpProtocolTcp, 7000, 7100)
	must(api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id,
		InboundPermissionAuthorizations: []types.IpPermission{game, tcp}, InboundPermissionRevocations: []types.IpPermission{admin}}))(t)
	if got := permsOf(t, api, id); !samePerms(got, game, tcp) {
		t.Errorf("after update: %+v", got)
	}
	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id, InboundPermissionRevocations: []types.IpPermission{admin}})
	apiError(t, err, "InvalidRequestException") // not a permission of the fleet
	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id, InboundPermissionAuthorizations: []types.IpPermission{perm("everyone", types.IpProtocolTcp, 1, 2)}})
	apiError(t, err, "InvalidRequestException")
	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id, InboundPermissionAuthorizations: []types.IpPermission{perm("0.0.0.0/0", types.IpProtocolTcp, 9, 8)}})
	apiError(t, err, "InvalidRequestException")

	var many []types.IpPermission
	for port := int32(1000); len(many) < 49; port++ {
		many = append(many, perm("0.0.0.0/0", types.IpProtocolUdp, port, port))
	}
	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id, InboundPermissionAuthorizations: many})
	apiError(t, err, "LimitExceededException") // 2 + 49 > 50
	if got := permsOf(t, api, id); !samePerms(got, game, tcp) {
		t.Errorf("a refused update changed the settings: %+v", got)
	}
	must(api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: id, InboundPermissionAuthorizations: many[:48]}))(t)
	if n := len(permsOf(t, api, id)); n != 50 {
		t.Errorf("%d permissions, want 50", n)
	}

	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000"), InboundPermissionAuthorizations: []types.IpPermission{game}})
	apiError(t, err, "NotFoundException")
	_, err = api.DescribeFleetPortSettings(ctx, &gl.DescribeFleetPortSettingsInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000")})
	apiError(t, err, "NotFoundException")

	anyw := anywhereFleet(t, api, "custom-ports-1")
	if got := permsOf(t, api, anyw.FleetId); len(got) != 0 {
		t.Errorf("Anywhere fleet permissions = %+v", got)
	}
	_, err = api.UpdateFleetPortSettings(ctx, &gl.UpdateFleetPortSettingsInput{FleetId: anyw.FleetId, InboundPermissionAuthorizations: []types.IpPermission{game}})
	apiError(t, err, "InvalidRequestException")
}

// At most MaxComputes hosts are registered at once across all fleets; DescribeEC2InstanceLimits
// reports that limit with the active hosts of managed fleets of each instance type.
func TestComputeLimit(t *testing.T) {
	ctx := context.Background()
	_, api := startNoAgent(t, server.Config{MaxComputes: 3})
	managed := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("limits"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1),
		EC2InstanceType: types.EC2InstanceTypeC5Large, Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}}))(t).FleetAttributes
	eventually(t, "the fleet is ACTIVATING", func() bool { return fleetStatus(t, api, managed.FleetId) == types.FleetStatusActivating })
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: managed.FleetId, ComputeName: aws.String("oregon-1"), IpAddress: aws.String("10.0.0.1")}))(t)
	anyw := anywhereFleet(t, api, "custom-limits-1")
	for _, name := range []string{"lab-1", "lab-2"} {
		must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: anyw.FleetId, ComputeName: aws.String(name), IpAddress: aws.String("10.1.0.1"), Location: aws.String("custom-limits-1")}))(t)
	}
	_, err := api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: anyw.FleetId, ComputeName: aws.String("lab-3"), IpAddress: aws.String("10.1.0.3"), Location: aws.String("custom-limits-1")})
	apiError(t, err, "LimitExceededException")
	// A host registering again is no new compute.
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: anyw.FleetId, ComputeName: aws.String("lab-2"), IpAddress: aws.String("10.1.0.2"), Location: aws.String("custom-limits-1")}))(t)
	must(api.DeregisterCompute(ctx, &gl.DeregisterComputeInput{FleetId: anyw.FleetId, ComputeName: aws.String("lab-1")}))(t)
	must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: anyw.FleetId, ComputeName: aws.String("lab-3"), IpAddress: aws.String("10.1.0.3"), Location: aws.String("custom-limits-1")}))(t)

	limits := must(api.DescribeEC2InstanceLimits(ctx, &gl.DescribeEC2InstanceLimitsInput{}))(t).EC2InstanceLimits
	if len(limits) != 1 || limits[0].EC2InstanceType != types.EC2InstanceTypeC5Large || aws.ToInt32(limits[0].InstanceLimit) != 3 ||
		aws.ToInt32(limits[0].CurrentInstances) != 1 || aws.ToString(limits[0].Location) != "us-west-2" {
		t.Errorf("limits = %+v", limits)
	}
	remote := must(api.DescribeEC2InstanceLimits(ctx, &gl.DescribeEC2InstanceLimitsInput{Location: aws.String("eu-west-1")}))(t).EC2InstanceLimits
	if len(remote) != 1 || aws.ToInt32(remote[0].CurrentInstances) != 0 || aws.ToString(remote[0].Location) != "eu-west-1" {
		t.Errorf("limits in eu-west-1 = %+v", remote)
	}
	other := must(api.DescribeEC2InstanceLimits(ctx, &gl.DescribeEC2InstanceLimitsInput{EC2InstanceType: types.EC2InstanceTypeM5Large}))(t).EC2InstanceLimits
	if len(other) != 1 || other[0].EC2InstanceType != types.EC2InstanceTypeM5Large || aws.ToInt32(other[0].CurrentInstances) != 0 || aws.ToInt32(other[0].InstanceLimit) != 3 {
		t.Errorf("limits of m5.large = %+v", other)
	}
	_, err = api.DescribeEC2InstanceLimits(ctx, &gl.DescribeEC2InstanceLimitsInput{Location: aws.String("custom-limits-1")})
	apiError(t, err, "InvalidRequestException")
}

func counts(t *testing.T, api *gl.Client, id *string, location string) *types.EC2InstanceCounts {
	t.Helper()
	return must(api.DescribeFleetLocationCapacity(context.Background(), &gl.DescribeFleetLocationCapacityInput{FleetId: id, Location: aws.String(location)}))(t).FleetCapacity.InstanceCounts
}

func sameCounts(c *types.EC2InstanceCounts, desired, minSize, maxSize, active int32) bool {
	return aws.ToInt32(c.DESIRED) == desired && aws.ToInt32(c.MINIMUM) == minSize && aws.ToInt32(c.MAXIMUM) == maxSize && aws.ToInt32(c.ACTIVE) == active
}

// A managed fleet location starts as GameLift's do (1 desired, 0 to 1); UpdateFleetCapacity
// records settings within min <= desired <= max for an ACTIVE fleet location, and the
// capacity operations report them with the hosts registered.
func TestUpdateFleetCapacity(t *testing.T) {
	ctx := context.Background()
	srv, api := startNoAgent(t, server.Config{MaxComputes: 10})
	pending := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("pending"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1)}))(t).FleetAttributes.FleetId
	if c := counts(t, api, pending, "us-west-2"); !sameCounts(c, 1, 0, 1, 0) {
		t.Errorf("new fleet counts = %+v", *c)
	}
	id := activeManagedFleet(t, srv, api, nil)
	if c := counts(t, api, id, "eu-west-1"); !sameCounts(c, 1, 0, 1, 0) {
		t.Errorf("new remote location counts = %+v", *c)
	}

	out := must(api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, DesiredInstances: aws.Int32(3), MaxSize: aws.Int32(5),
		ManagedCapacityConfiguration: &types.ManagedCapacityConfiguration{ZeroCapacityStrategy: types.ZeroCapacityStrategyManual}}))(t)
	if aws.ToString(out.Location) != "us-west-2" || aws.ToString(out.FleetId) != aws.ToString(id) || out.ManagedCapacityConfiguration == nil {
		t.Errorf("UpdateFleetCapacity = %+v", out)
	}
	// Desired 3 with 1 host: the shortfall is a fleet event, not counted as instances.
	if msg := eventMessages(t, api, id, types.EventCodeFleetScalingEvent); !strings.Contains(msg, "1 host(s) are registered there: start 2 more") {
		t.Errorf("no event about the missing hosts: %q", msg)
	}
	home := must(api.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: []string{aws.ToString(id)}}))(t).FleetCapacity[0]
	if c := home.InstanceCounts; !sameCounts(c, 3, 0, 5, 1) || home.ManagedCapacityConfiguration.ZeroCapacityStrategy != types.ZeroCapacityStrategyManual {
		t.Errorf("home capacity = %+v, %+v", *c, home.ManagedCapacityConfiguration)
	}
	must(api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, MinSize: aws.Int32(2)}))(t)
	if c := counts(t, api, id, "us-west-2"); !sameCounts(c, 3, 2, 5, 1) {
		t.Errorf("after MinSize 2: %+v", *c)
	}

	for _, bad := range []*gl.UpdateFleetCapacityInput{
		{FleetId: id, DesiredInstances: aws.Int32(6)},                                     // above MaxSize 5
		{FleetId: id, DesiredInstances: aws.Int32(1)},                                     // below MinSize 2
		{FleetId: id, MinSize: aws.Int32(4), MaxSize: aws.Int32(3)},                       // min above max
		{FleetId: id, DesiredInstances: aws.Int32(1), Location: aws.String("ap-south-1")}, // not a location of the fleet
		{FleetId: id, MinSize: aws.Int32(0), ManagedCapacityConfiguration: &types.ManagedCapacityConfiguration{ZeroCapacityStrategy: types.ZeroCapacityStrategyScaleToAndFromZero}},
	} {
		_, err := api.UpdateFleetCapacity(ctx, bad)
		apiError(t, err, "InvalidRequestException")
	}
	_, err := api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, DesiredInstances: aws.Int32(11), MaxSize: aws.Int32(20)})
	apiError(t, err, "LimitExceededException") // above the instance limit of 10
	_, err = api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, DesiredInstances: aws.Int32(1), Location: aws.String("eu-west-1")})
	apiError(t, err, "InvalidFleetStatusException") // the location has no host yet: ACTIVATING
	_, err = api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: pending, DesiredInstances: aws.Int32(1)})
	apiError(t, err, "InvalidFleetStatusException")
	_, err = api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000"), DesiredInstances: aws.Int32(1)})
	apiError(t, err, "NotFoundException")
	anyw := anywhereFleet(t, api, "custom-capacity-1")
	_, err = api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: anyw.FleetId, DesiredInstances: aws.Int32(1)})
	apiError(t, err, "InvalidRequestException")
	if c := counts(t, api, id, "us-west-2"); !sameCounts(c, 3, 2, 5, 1) {
		t.Errorf("refused updates changed the settings: %+v", *c)
	}
}

func locationStopped(t *testing.T, api *gl.Client, id *string) map[string][]types.FleetAction {
	t.Helper()
	out := must(api.DescribeFleetLocationAttributes(context.Background(), &gl.DescribeFleetLocationAttributesInput{FleetId: id}))(t)
	m := map[string][]types.FleetAction{}
	for _, la := range out.LocationAttributes {
		m[aws.ToString(la.LocationState.Location)] = la.StoppedActions
		if la.UpdateStatus != "" {
			t.Errorf("location %s UpdateStatus = %s", aws.ToString(la.LocationState.Location), la.UpdateStatus)
		}
	}
	return m
}

// StopFleetActions and StartFleetActions record, per location, whether auto scaling is
// stopped; the home Region's setting is the fleet's StoppedActions.
func TestFleetActions(t *testing.T) {
	ctx := context.Background()
	_, api := startNoAgent(t, server.Config{})
	id := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("actions"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1),
		Locations: []types.LocationConfiguration{{Location: aws.String("eu-west-1")}}}))(t).FleetAttributes.FleetId
	scaling := []types.FleetAction{types.FleetActionAutoScaling}

	stopped := func() []types.FleetAction {
		return must(api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{aws.ToString(id)}}))(t).FleetAttributes[0].StoppedActions
	}
	out := must(api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: id, Actions: scaling, Location: aws.String("eu-west-1")}))(t)
	if aws.ToString(out.FleetId) != aws.ToString(id) || !fleetARN.MatchString(aws.ToString(out.FleetArn)) {
		t.Errorf("StopFleetActions = %+v", out)
	}
	if got := locationStopped(t, api, id); len(got["eu-west-1"]) != 1 || len(got["us-west-2"]) != 0 || len(stopped()) != 0 {
		t.Errorf("after stopping in eu-west-1: locations %v, fleet %v", got, stopped())
	}
	must(api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: id, Actions: scaling}))(t)
	must(api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: id, Actions: scaling}))(t) // again: no repeat
	if got := stopped(); len(got) != 1 || got[0] != types.FleetActionAutoScaling {
		t.Errorf("fleet StoppedActions = %v", got)
	}
	must(api.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: id, Actions: scaling, Location: aws.String("eu-west-1")}))(t)
	if got := locationStopped(t, api, id); len(got["eu-west-1"]) != 0 || len(got["us-west-2"]) != 1 {
		t.Errorf("after starting in eu-west-1: %v", got)
	}
	must(api.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: id, Actions: scaling}))(t)
	if got := stopped(); len(got) != 0 {
		t.Errorf("fleet StoppedActions after StartFleetActions = %v", got)
	}

	_, err := api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: id, Actions: scaling, Location: aws.String("ap-south-1")})
	apiError(t, err, "InvalidRequestException")
	_, err = api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: id, Actions: []types.FleetAction{"REBOOT"}})
	apiError(t, err, "InvalidRequestException")
	_, err = api.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000"), Actions: scaling})
	apiError(t, err, "NotFoundException")
	anyw := anywhereFleet(t, api, "custom-actions-1")
	_, err = api.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: anyw.FleetId, Actions: scaling})
	apiError(t, err, "InvalidRequestException")
}

// An empty Description on an update clears it, as GameLift takes it: Terraform's AWS
// provider sends Description "" on every update of a fleet or alias that has none.
func TestEmptyDescriptionClears(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	must(w.api.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: &w.fleetID, Description: aws.String("lobby servers")}))(t)
	must(w.api.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: &w.fleetID, Description: aws.String(""), Name: aws.String("renamed")}))(t)
	fa := must(w.api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{w.fleetID}}))(t).FleetAttributes[0]
	if fa.Description != nil || aws.ToString(fa.Name) != "renamed" {
		t.Errorf("after Description \"\": description %q, name %q", aws.ToString(fa.Description), aws.ToString(fa.Name))
	}
	alias := must(w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("live"), Description: aws.String("the live one"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: &w.fleetID}}))(t).Alias
	must(w.api.UpdateAlias(ctx, &gl.UpdateAliasInput{AliasId: alias.AliasId, Description: aws.String("")}))(t)
	if a := must(w.api.DescribeAlias(ctx, &gl.DescribeAliasInput{AliasId: alias.AliasId}))(t).Alias; a.Description != nil {
		t.Errorf("after Description \"\" the alias's is %q", aws.ToString(a.Description))
	}
	// Elsewhere the model's minimum holds.
	_, err := w.api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("x"), Description: aws.String(""),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: &w.fleetID}})
	apiError(t, err, "InvalidRequestException")
}
