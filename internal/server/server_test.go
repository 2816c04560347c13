package server_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/hoist-dev/hoist/internal/server"
)

var testCreds = server.Credentials{AccessKeyID: "AKTEST", SecretAccessKey: "test-secret"}

// start runs a real server on a loopback port over dataDir and returns it with an AWS SDK
// for Go v2 GameLift client (RPC v2 CBOR) pointed at it.
func start(t *testing.T, dataDir string) (*server.Server, *gl.Client) {
	t.Helper()
	return startLogging(t, dataDir, slog.New(slog.DiscardHandler))
}

func startLogging(t *testing.T, dataDir string, log *slog.Logger) (*server.Server, *gl.Client) {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: log,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, client(srv.Endpoint, testCreds.SecretAccessKey)
}

func client(endpoint, secret string) *gl.Client {
	return gl.New(gl.Options{
		Region:           "us-west-2",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// apiError asserts err is the GameLift exception named.
func apiError(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae.ErrorMessage()
}

// must returns v after failing t when err is set: must(client.Call(ctx, in))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var (
	fleetARN = regexp.MustCompile(`^arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-[0-9a-f-]{36}$`)
	aliasARN = regexp.MustCompile(`^arn:aws:gamelift:us-west-2:123456789012:alias/alias-[0-9a-f-]{36}$`)
)

// anywhereFleet creates a custom location and an Anywhere fleet in it.
func anywhereFleet(t testing.TB, c *gl.Client, location string) types.FleetAttributes {
	t.Helper()
	ctx := context.Background()
	must(c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(location)}))(t)
	out := must(c.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("anywhere"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String(location)}},
	}))(t)
	return *out.FleetAttributes
}

func TestAnywhereFleetAliasComputeAndToken(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, t.TempDir())

	loc := must(c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-lab-1")}))(t)
	if got := aws.ToString(loc.Location.LocationArn); got != "arn:aws:gamelift:us-west-2:123456789012:location/custom-lab-1" {
		t.Errorf("LocationArn = %s", got)
	}
	_, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-lab-1")})
	apiError(t, err, "ConflictException")
	locs := must(c.ListLocations(ctx, &gl.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}}))(t)
	if len(locs.Locations) != 1 || aws.ToString(locs.Locations[0].LocationName) != "custom-lab-1" {
		t.Errorf("custom locations = %+v", locs.Locations)
	}

	created := must(c.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("lab"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-lab-1")}},
	}))(t)
	fa := created.FleetAttributes
	if fa.Status != types.FleetStatusActive {
		t.Errorf("Anywhere fleet status = %s, want ACTIVE at once", fa.Status)
	}
	if !fleetARN.MatchString(aws.ToString(fa.FleetArn)) || !strings.HasSuffix(aws.ToString(fa.FleetArn), "/"+aws.ToString(fa.FleetId)) {
		t.Errorf("FleetArn = %s, FleetId = %s", aws.ToString(fa.FleetArn), aws.ToString(fa.FleetId))
	}
	if fa.CreationTime == nil || time.Since(*fa.CreationTime) > time.Minute {
		t.Errorf("CreationTime = %v", fa.CreationTime)
	}
	if len(created.LocationStates) != 1 || aws.ToString(created.LocationStates[0].Location) != "custom-lab-1" {
		t.Errorf("LocationStates = %+v", created.LocationStates)
	}

	// Fleets are found by ID and by ARN.
	for _, ref := range []string{aws.ToString(fa.FleetId), aws.ToString(fa.FleetArn)} {
		d := must(c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{ref}}))(t)
		if len(d.FleetAttributes) != 1 || aws.ToString(d.FleetAttributes[0].Name) != "lab" {
			t.Errorf("describe %s = %+v", ref, d.FleetAttributes)
		}
	}
	list := must(c.ListFleets(ctx, &gl.ListFleetsInput{}))(t)
	if !slices.Equal(list.FleetIds, []string{aws.ToString(fa.FleetId)}) {
		t.Errorf("ListFleets = %v", list.FleetIds)
	}
	_, err = c.DeleteLocation(ctx, &gl.DeleteLocationInput{LocationName: aws.String("custom-lab-1")})
	apiError(t, err, "InvalidRequestException") // in use by the fleet

	// Aliases: SIMPLE resolves to the fleet, by alias ID or ARN; TERMINAL answers its message.
	simple := must(c.CreateAlias(ctx, &gl.CreateAliasInput{
		Name: aws.String("live"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: fa.FleetId},
	}))(t).Alias
	if !aliasARN.MatchString(aws.ToString(simple.AliasArn)) {
		t.Errorf("AliasArn = %s", aws.ToString(simple.AliasArn))
	}
	for _, ref := range []*string{simple.AliasId, simple.AliasArn} {
		r := must(c.ResolveAlias(ctx, &gl.ResolveAliasInput{AliasId: ref}))(t)
		if aws.ToString(r.FleetId) != aws.ToString(fa.FleetId) || aws.ToString(r.FleetArn) != aws.ToString(fa.FleetArn) {
			t.Errorf("ResolveAlias(%s) = %s", aws.ToString(ref), aws.ToString(r.FleetId))
		}
	}
	terminal := must(c.CreateAlias(ctx, &gl.CreateAliasInput{
		Name:            aws.String("closed"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("servers are down for maintenance")},
	}))(t).Alias
	_, err = c.ResolveAlias(ctx, &gl.ResolveAliasInput{AliasId: terminal.AliasId})
	if msg := apiError(t, err, "TerminalRoutingStrategyException"); msg != "servers are down for maintenance" {
		t.Errorf("terminal message = %q", msg)
	}
	upd := must(c.UpdateAlias(ctx, &gl.UpdateAliasInput{AliasId: terminal.AliasId, Description: aws.String("maintenance")}))(t).Alias
	if aws.ToString(upd.Description) != "maintenance" || aws.ToString(upd.Name) != "closed" {
		t.Errorf("UpdateAlias = %+v", upd)
	}
	aliases := must(c.ListAliases(ctx, &gl.ListAliasesInput{RoutingStrategyType: types.RoutingStrategyTypeTerminal}))(t)
	if len(aliases.Aliases) != 1 || aws.ToString(aliases.Aliases[0].AliasId) != aws.ToString(terminal.AliasId) {
		t.Errorf("ListAliases(TERMINAL) = %+v", aliases.Aliases)
	}

	// Computes and auth tokens.
	comp := must(c.RegisterCompute(ctx, &gl.RegisterComputeInput{
		FleetId: fa.FleetId, ComputeName: aws.String("host-1"), IpAddress: aws.String("10.0.0.7"), Location: aws.String("custom-lab-1"),
	}))(t).Compute
	if want := strings.Replace(srv.Endpoint, "http://", "ws://", 1); aws.ToString(comp.GameLiftServiceSdkEndpoint) != want {
		t.Errorf("GameLiftServiceSdkEndpoint = %s, want %s", aws.ToString(comp.GameLiftServiceSdkEndpoint), want)
	}
	if comp.ComputeStatus != types.ComputeStatusActive || aws.ToString(comp.IpAddress) != "10.0.0.7" {
		t.Errorf("compute = %+v", comp)
	}
	desc := must(c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: fa.FleetArn, ComputeName: aws.String("host-1")}))(t).Compute
	if aws.ToString(desc.ComputeArn) != "arn:aws:gamelift:us-west-2:123456789012:compute/host-1" {
		t.Errorf("ComputeArn = %s", aws.ToString(desc.ComputeArn))
	}
	tok := must(c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t)
	if !regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`).MatchString(aws.ToString(tok.AuthToken)) {
		t.Errorf("AuthToken = %q", aws.ToString(tok.AuthToken))
	}
	if ttl := time.Until(*tok.ExpirationTimestamp); ttl < 14*time.Minute || ttl > 16*time.Minute {
		t.Errorf("token expires in %v, want about 15 minutes", ttl)
	}
	tok2 := must(c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t)
	if aws.ToString(tok2.AuthToken) == aws.ToString(tok.AuthToken) {
		t.Error("two tokens are the same; they must be random")
	}
	capacity := must(c.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: []string{aws.ToString(fa.FleetId)}}))(t)
	if n := aws.ToInt32(capacity.FleetCapacity[0].InstanceCounts.ACTIVE); n != 1 {
		t.Errorf("capacity ACTIVE = %d, want 1 registered compute", n)
	}
	util := must(c.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{aws.ToString(fa.FleetId)}}))(t)
	if u := util.FleetUtilization[0]; u.ActiveServerProcessCount == nil || *u.ActiveServerProcessCount != 0 {
		t.Errorf("utilization = %+v, want zero processes", u)
	}

	_, err = c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("no-such-host")})
	apiError(t, err, "NotFoundException")
	must(c.DeregisterCompute(ctx, &gl.DeregisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t)
	_, err = c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")})
	apiError(t, err, "NotFoundException")

	// Deleting the fleet: DELETING, then TERMINATED, which Describe still shows and List
	// does not; then the location can go.
	must(c.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: fa.FleetId}))(t)
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, c, fa.FleetId) == types.FleetStatusTerminated })
	if ids := must(c.ListFleets(ctx, &gl.ListFleetsInput{}))(t).FleetIds; slices.Contains(ids, aws.ToString(fa.FleetId)) {
		t.Errorf("ListFleets still lists the deleted fleet: %v", ids)
	}
	_, err = c.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: fa.FleetId})
	apiError(t, err, "NotFoundException")
	must(c.DeleteLocation(ctx, &gl.DeleteLocationInput{LocationName: aws.String("custom-lab-1")}))(t)
	must(c.DeleteAlias(ctx, &gl.DeleteAliasInput{AliasId: simple.AliasId}))(t)
	_, err = c.DescribeAlias(ctx, &gl.DescribeAliasInput{AliasId: simple.AliasId})
	apiError(t, err, "NotFoundException")
}

func TestManagedFleetIsProvisionedToActive(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	out := must(c.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("managed"), EC2InstanceType: types.EC2InstanceTypeC5Large,
		RuntimeConfiguration: runtimeOf(gameServerBinary(t), 2),
		Locations:            []types.LocationConfiguration{{Location: aws.String("eu-west-1")}},
	}))(t)
	id := out.FleetAttributes.FleetId
	if out.FleetAttributes.Status != types.FleetStatusNew || out.FleetAttributes.ComputeType != types.ComputeTypeEc2 {
		t.Errorf("new managed fleet: status %s, compute type %s", out.FleetAttributes.Status, out.FleetAttributes.ComputeType)
	}
	var locs []string
	for _, l := range out.LocationStates {
		locs = append(locs, aws.ToString(l.Location))
	}
	if !slices.Equal(locs, []string{"us-west-2", "eu-west-1"}) {
		t.Errorf("locations = %v, want home Region first", locs)
	}

	// ACTIVE once a process is ready, and not before.
	var sawReady bool
	eventually(t, "the fleet is ACTIVE", func() bool {
		st := fleetStatus(t, c, id)
		if st == types.FleetStatusActive {
			sawReady = fleetProcesses(t, c, id) > 0
		}
		return st == types.FleetStatusActive
	})
	if !sawReady {
		t.Error("the fleet was ACTIVE with no ready process")
	}
	eventually(t, "FLEET_STATE_ACTIVE is recorded", func() bool {
		return slices.Contains(eventCodes(t, c, id), types.EventCodeFleetStateActive)
	})
	events := must(c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id}))(t)
	var codes []string
	for _, e := range events.Events {
		if strings.HasPrefix(string(e.EventCode), "FLEET_") && !strings.HasPrefix(aws.ToString(e.Message), "Location ") {
			codes = append(codes, string(e.EventCode))
		}
	}
	want := []string{"FLEET_CREATED", "FLEET_STATE_DOWNLOADING", "FLEET_STATE_VALIDATING", "FLEET_STATE_BUILDING", "FLEET_STATE_ACTIVATING", "FLEET_STATE_ACTIVE"}
	if !slices.Equal(codes, want) {
		t.Errorf("events = %v, want %v", codes, want)
	}

	// The remote location has no host: it waits, ACTIVATING, and its event says for what.
	status := func(location string) types.FleetStatus {
		la := must(c.DescribeFleetLocationAttributes(ctx, &gl.DescribeFleetLocationAttributesInput{FleetId: id, Locations: []string{location}}))(t)
		if len(la.LocationAttributes) == 0 {
			return ""
		}
		return la.LocationAttributes[0].LocationState.Status
	}
	if st := status("us-west-2"); st != types.FleetStatusActive {
		t.Errorf("home Region is %s", st)
	}
	if st := status("eu-west-1"); st != types.FleetStatusActivating {
		t.Errorf("eu-west-1, with no host, is %s", st)
	}
	if !slices.ContainsFunc(events.Events, func(e types.Event) bool {
		return strings.Contains(aws.ToString(e.Message), "--location eu-west-1")
	}) {
		t.Error("no event says how to give eu-west-1 a host")
	}
	capacity := must(c.DescribeFleetLocationCapacity(ctx, &gl.DescribeFleetLocationCapacityInput{FleetId: id, Location: aws.String("eu-west-1")}))(t).FleetCapacity
	if n := aws.ToInt32(capacity.InstanceCounts.ACTIVE); n != 0 {
		t.Errorf("eu-west-1 has %d instances", n)
	}

	added := must(c.CreateFleetLocations(ctx, &gl.CreateFleetLocationsInput{FleetId: id, Locations: []types.LocationConfiguration{{Location: aws.String("ap-south-1")}}}))(t)
	if len(added.LocationStates) != 1 || aws.ToString(added.LocationStates[0].Location) != "ap-south-1" || added.LocationStates[0].Status != types.FleetStatusActivating {
		t.Errorf("CreateFleetLocations = %+v", added.LocationStates)
	}
	_, err := c.CreateFleetLocations(ctx, &gl.CreateFleetLocationsInput{FleetId: id, Locations: []types.LocationConfiguration{{Location: aws.String("custom-x1")}}})
	apiError(t, err, "InvalidRequestException")
	_, err = c.DeleteFleetLocations(ctx, &gl.DeleteFleetLocationsInput{FleetId: id, Locations: []string{"us-west-2"}})
	apiError(t, err, "InvalidRequestException")
	deleted := must(c.DeleteFleetLocations(ctx, &gl.DeleteFleetLocationsInput{FleetId: id, Locations: []string{"eu-west-1"}}))(t)
	if deleted.LocationStates[0].Status != types.FleetStatusDeleting {
		t.Errorf("DeleteFleetLocations = %+v", deleted.LocationStates)
	}
	eventually(t, "eu-west-1 is gone", func() bool { return status("eu-west-1") == "" })

	rc := must(c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses:                     []types.ServerProcess{{LaunchPath: aws.String("/local/game/server"), ConcurrentExecutions: aws.Int32(5)}},
		GameSessionActivationTimeoutSeconds: aws.Int32(30),
	}}))(t).RuntimeConfiguration
	got := must(c.DescribeRuntimeConfiguration(ctx, &gl.DescribeRuntimeConfigurationInput{FleetId: id}))(t).RuntimeConfiguration
	if aws.ToInt32(got.ServerProcesses[0].ConcurrentExecutions) != 5 || aws.ToInt32(got.GameSessionActivationTimeoutSeconds) != 30 ||
		aws.ToInt32(rc.MaxConcurrentGameSessionActivations) != aws.ToInt32(got.MaxConcurrentGameSessionActivations) {
		t.Errorf("runtime configuration = %+v", got)
	}
	_, err = c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: &types.RuntimeConfiguration{
		ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/local/game/server"), ConcurrentExecutions: aws.Int32(51)}},
	}})
	apiError(t, err, "InvalidRequestException")

	must(c.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{
		FleetId: id, NewGameSessionProtectionPolicy: types.ProtectionPolicyFullProtection,
		ResourceCreationLimitPolicy: &types.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: aws.Int32(3), PolicyPeriodInMinutes: aws.Int32(15)},
	}))(t)
	fa := must(c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{aws.ToString(id)}}))(t).FleetAttributes[0]
	if fa.NewGameSessionProtectionPolicy != types.ProtectionPolicyFullProtection || aws.ToInt32(fa.ResourceCreationLimitPolicy.NewGameSessionsPerCreator) != 3 {
		t.Errorf("updated attributes = %+v", fa)
	}
	// A new protection policy is a fleet event, as in GameLift; the same one again is not.
	must(c.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: id, NewGameSessionProtectionPolicy: types.ProtectionPolicyFullProtection}))(t)
	if msg := eventMessages(t, c, id, types.EventCodeFleetNewGameSessionProtectionPolicyUpdated); msg != "Fleet "+aws.ToString(id)+"'s NewGameSessionProtectionPolicy changed from NoProtection to FullProtection" {
		t.Errorf("protection policy events: %q", msg)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, c := start(t, dir)
	fa := anywhereFleet(t, c, "custom-home-1")
	alias := must(c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("a"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: fa.FleetId}}))(t).Alias
	must(c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("box"), DnsName: aws.String("box.local"), Location: aws.String("custom-home-1")}))(t)
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}

	_, c = start(t, dir)
	d := must(c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{aws.ToString(fa.FleetId)}}))(t)
	if aws.ToString(d.FleetAttributes[0].FleetArn) != aws.ToString(fa.FleetArn) || !d.FleetAttributes[0].CreationTime.Equal(*fa.CreationTime) {
		t.Errorf("fleet after restart = %+v, want %+v", d.FleetAttributes[0], fa)
	}
	r := must(c.ResolveAlias(ctx, &gl.ResolveAliasInput{AliasId: alias.AliasId}))(t)
	if aws.ToString(r.FleetId) != aws.ToString(fa.FleetId) {
		t.Errorf("alias after restart resolves to %s", aws.ToString(r.FleetId))
	}
	comp := must(c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("box")}))(t).Compute
	if aws.ToString(comp.DnsName) != "box.local" {
		t.Errorf("compute after restart = %+v", comp)
	}
	locs := must(c.ListLocations(ctx, &gl.ListLocationsInput{Filters: []types.LocationFilter{types.LocationFilterCustom}}))(t)
	if len(locs.Locations) != 1 {
		t.Errorf("custom locations after restart = %+v", locs.Locations)
	}
}

func TestGeneratedCredentialsAreKept(t *testing.T) {
	dir := t.TempDir()
	start := func() *server.Server {
		srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	first := start()
	if !first.CreatedCredentials || first.Credentials.AccessKeyID == "" || len(first.Credentials.SecretAccessKey) < 40 {
		t.Fatalf("first start credentials = %+v (created %v)", first.Credentials, first.CreatedCredentials)
	}
	first.Close(context.Background())
	second := start()
	defer second.Close(context.Background())
	if second.CreatedCredentials || second.Credentials != first.Credentials {
		t.Errorf("second start made new credentials")
	}
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(second.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(second.Credentials.AccessKeyID, second.Credentials.SecretAccessKey, "")})
	must(c.ListFleets(context.Background(), &gl.ListFleetsInput{}))(t)
}

func TestBadRequestsGetGameLiftErrors(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, t.TempDir())
	fa := anywhereFleet(t, c, "custom-err-1")

	cases := []struct {
		name string
		call func() error
		code string
		in   string // the message names this
	}{
		{"location name too short", func() error {
			_, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-")})
			return err
		}, "InvalidRequestException", "locationName"},
		{"location without custom- prefix", func() error {
			_, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("lab-location")})
			return err
		}, "InvalidRequestException", "regular expression"},
		{"unknown fleet", func() error {
			_, err := c.DescribeFleetPortSettings(ctx, &gl.DescribeFleetPortSettingsInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000")})
			return err
		}, "NotFoundException", "fleet-00000000"},
		{"malformed fleet ID", func() error {
			_, err := c.DescribeRuntimeConfiguration(ctx, &gl.DescribeRuntimeConfigurationInput{FleetId: aws.String("not a fleet")})
			return err
		}, "InvalidRequestException", "fleetId"},
		{"anywhere fleet with unknown location", func() error {
			_, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("x"), ComputeType: types.ComputeTypeAnywhere,
				Locations: []types.LocationConfiguration{{Location: aws.String("custom-nowhere")}}})
			return err
		}, "NotFoundException", "custom-nowhere"},
		{"anywhere fleet without locations", func() error {
			_, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("x"), ComputeType: types.ComputeTypeAnywhere})
			return err
		}, "InvalidRequestException", "custom location"},
		{"managed fleet without processes", func() error {
			_, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("x")})
			return err
		}, "InvalidRequestException", "RuntimeConfiguration"},
		{"simple alias without fleet", func() error {
			_, err := c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("x"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple}})
			return err
		}, "InvalidRequestException", "FleetId"},
		{"compute in a location the fleet lacks", func() error {
			_, err := c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("h"), IpAddress: aws.String("10.0.0.1"), Location: aws.String("custom-other")})
			return err
		}, "InvalidRequestException", "custom-other"},
		{"compute without address", func() error {
			_, err := c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("h"), Location: aws.String("custom-err-1")})
			return err
		}, "InvalidRequestException", "IpAddress"},
		{"bad page token", func() error {
			_, err := c.ListFleets(ctx, &gl.ListFleetsInput{NextToken: aws.String("garbage")})
			return err
		}, "InvalidRequestException", "NextToken"},
		{"wrong secret", func() error {
			_, err := client(srv.Endpoint, "not-the-secret").ListFleets(ctx, &gl.ListFleetsInput{})
			return err
		}, "InvalidSignatureException", "signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := apiError(t, tc.call(), tc.code)
			if !strings.Contains(msg, tc.in) {
				t.Errorf("message %q does not mention %q", msg, tc.in)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	must(c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-page-1")}))(t)
	var ids []string
	for range 5 {
		out := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("p"), ComputeType: types.ComputeTypeAnywhere,
			Locations: []types.LocationConfiguration{{Location: aws.String("custom-page-1")}}}))(t)
		ids = append(ids, aws.ToString(out.FleetAttributes.FleetId))
	}
	var got []string
	p := gl.NewListFleetsPaginator(c, &gl.ListFleetsInput{Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))(t)
		pages++
		got = append(got, page.FleetIds...)
	}
	if !slices.Equal(got, ids) || pages != 3 {
		t.Errorf("paged %d pages: %v, want %v in 3 pages", pages, got, ids)
	}
	var attrs []string
	dp := gl.NewDescribeFleetAttributesPaginator(c, &gl.DescribeFleetAttributesInput{Limit: aws.Int32(4)})
	for dp.HasMorePages() {
		for _, a := range must(dp.NextPage(ctx))(t).FleetAttributes {
			attrs = append(attrs, aws.ToString(a.FleetId))
		}
	}
	if !slices.Equal(attrs, ids) {
		t.Errorf("DescribeFleetAttributes pages = %v", attrs)
	}
}
