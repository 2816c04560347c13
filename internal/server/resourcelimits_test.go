package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/server"
)

// startEdited starts a server on loopback with its configuration edited first.
func startEdited(t *testing.T, edit func(*server.Config)) *gl.Client {
	t.Helper()
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, Logger: slog.New(slog.DiscardHandler)}
	edit(&cfg)
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return client(srv.Endpoint, testCreds.SecretAccessKey)
}

// Every kind of resource a key can create is bounded: with a limit of 2 each, the third
// is LimitExceededException; a terminated fleet no longer counts.
func TestResourcesAreCapped(t *testing.T) {
	ctx := context.Background()
	api := startEdited(t, func(c *server.Config) { c.MaxResources = map[string]int{"*": 2, control.KindLocations: 3} })
	must(api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-cap-0")}))(t)
	must(api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("rules-0"), RuleSetBody: aws.String(twoVersusTwo)}))(t)
	var fleets []string
	creates := map[string]func(i int) error{
		control.KindFleets: func(i int) error {
			out, err := api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
				Locations: []types.LocationConfiguration{{Location: aws.String("custom-cap-0")}}})
			if err == nil {
				fleets = append(fleets, aws.ToString(out.FleetAttributes.FleetId))
			}
			return err
		},
		control.KindBuilds: func(i int) error {
			_, err := api.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("b"), OperatingSystem: types.OperatingSystemAmazonLinux2023})
			return err
		},
		control.KindAliases: func(i int) error {
			_, err := api.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("a"),
				RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("gone")}})
			return err
		},
		control.KindLocations: func(i int) error {
			_, err := api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(fmt.Sprintf("custom-cap-%d", i+1))})
			return err
		},
		control.KindQueues: func(i int) error {
			_, err := api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String(fmt.Sprintf("q-%d", i))})
			return err
		},
		control.KindRuleSets: func(i int) error {
			_, err := api.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String(fmt.Sprintf("rules-%d", i+1)), RuleSetBody: aws.String(twoVersusTwo)})
			return err
		},
		control.KindMatchmakingConfigurations: func(i int) error {
			_, err := api.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String(fmt.Sprintf("mm-%d", i)),
				RuleSetName: aws.String("rules-0"), RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false),
				FlexMatchMode: types.FlexMatchModeStandalone})
			return err
		},
		control.KindContainerGroupDefinitions: func(i int) error {
			_, err := api.CreateContainerGroupDefinition(ctx, gameServerGroup(fmt.Sprintf("group-%d", i)))
			return err
		},
	}
	for _, kind := range control.ResourceKinds {
		create := creates[kind]
		if create == nil {
			t.Fatalf("no test creates %s", kind)
		}
		allowed := 2 // the limit, less what was made above: a location (of 3) and a rule set
		if kind == control.KindRuleSets {
			allowed = 1
		}
		for i := range allowed {
			if err := create(i); err != nil {
				t.Fatalf("%s %d of the limit: %v", kind, i+1, err)
			}
		}
		// (By its code: CreateBuild's model declares no LimitExceededException, so the SDK
		// gives it no type of its own there.)
		var limited smithy.APIError
		if err := create(allowed); !errors.As(err, &limited) || limited.ErrorCode() != "LimitExceededException" {
			t.Errorf("one %s over the limit: %v, want LimitExceededException", kind, err)
		}
	}

	must(api.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: aws.String(fleets[0])}))(t)
	eventually(t, "the deleted fleet is TERMINATED", func() bool { return fleetStatus(t, api, aws.String(fleets[0])) == types.FleetStatusTerminated })
	if err := creates[control.KindFleets](9); err != nil {
		t.Errorf("a fleet after one was deleted: %v", err)
	}
}

// Calls listing every fleet answer a page of 100 when they give no Limit, as GameLift's
// describe calls answer pages; the paginator reads them all.
func TestFleetListsArePaged(t *testing.T) {
	ctx := context.Background()
	api := startEdited(t, func(*server.Config) {})
	must(api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-page-1")}))(t)
	for range control.DefaultPageSize + 1 {
		must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
			Locations: []types.LocationConfiguration{{Location: aws.String("custom-page-1")}}}))(t)
	}
	attrs := must(api.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{}))(t)
	if len(attrs.FleetAttributes) != control.DefaultPageSize || attrs.NextToken == nil {
		t.Errorf("DescribeFleetAttributes without Limit: %d fleets, NextToken %v; want a page of %d and a token", len(attrs.FleetAttributes), attrs.NextToken, control.DefaultPageSize)
	}
	ids := must(api.ListFleets(ctx, &gl.ListFleetsInput{}))(t)
	if len(ids.FleetIds) != control.DefaultPageSize || ids.NextToken == nil {
		t.Errorf("ListFleets without Limit: %d fleets, NextToken %v", len(ids.FleetIds), ids.NextToken)
	}
	all := 0
	for p := gl.NewDescribeFleetAttributesPaginator(api, &gl.DescribeFleetAttributesInput{}); p.HasMorePages(); {
		all += len(must(p.NextPage(ctx))(t).FleetAttributes)
	}
	if all != control.DefaultPageSize+1 {
		t.Errorf("the paginator read %d fleets, want %d", all, control.DefaultPageSize+1)
	}
}

// A fleet keeps at most 50 scaling policies: a 51st name is LimitExceededException, while
// replacing one by name, or putting one after a delete, is accepted.
func TestScalingPoliciesAreCapped(t *testing.T) {
	ctx := context.Background()
	api := startEdited(t, func(c *server.Config) { c.NoLocalAgent = true })
	id := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("scaled"), RuntimeConfiguration: runtimeOf("/opt/game/server", 1)}))(t).FleetAttributes.FleetId
	for i := range 50 {
		must(api.PutScalingPolicy(ctx, targetBased(id, fmt.Sprintf("p-%d", i), 20)))(t)
	}
	var limited smithy.APIError
	if _, err := api.PutScalingPolicy(ctx, targetBased(id, "p-50", 20)); !errors.As(err, &limited) || limited.ErrorCode() != "LimitExceededException" {
		t.Errorf("a 51st scaling policy: %v, want LimitExceededException", err)
	}
	must(api.PutScalingPolicy(ctx, targetBased(id, "p-0", 30)))(t) // replaces
	must(api.DeleteScalingPolicy(ctx, &gl.DeleteScalingPolicyInput{FleetId: id, Name: aws.String("p-1")}))(t)
	must(api.PutScalingPolicy(ctx, targetBased(id, "p-50", 20)))(t)
}

// Calls listing what one fleet holds (its computes, its events) answer a page of 100 too
// when they give no Limit.
func TestFleetChildListsArePaged(t *testing.T) {
	ctx := context.Background()
	srv, api := start(t, t.TempDir())
	must(api.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-page-1")}))(t)
	f := must(api.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-page-1")}}}))(t).FleetAttributes
	for i := range control.DefaultPageSize + 1 {
		must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: f.FleetId, ComputeName: aws.String(fmt.Sprint("host-", i)),
			IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-page-1")}))(t)
	}
	computes := must(api.ListCompute(ctx, &gl.ListComputeInput{FleetId: f.FleetId}))(t)
	if len(computes.ComputeList) != control.DefaultPageSize || computes.NextToken == nil {
		t.Errorf("ListCompute without Limit: %d computes, NextToken %v; want a page of %d and a token", len(computes.ComputeList), computes.NextToken, control.DefaultPageSize)
	}

	// A managed fleet asked for more hosts than it has says so in an event, every time.
	build := uploadBuild(t, srv, api, map[string][]byte{"server": must(os.ReadFile(gameServerBinary(t)))(t)})
	managed := buildFleet(t, api, build, "/local/game/server")
	waitFleetActive(t, api, managed)
	for range control.DefaultPageSize + 1 {
		must(api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: managed, MaxSize: aws.Int32(2), DesiredInstances: aws.Int32(2)}))(t)
	}
	events := must(api.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: managed}))(t)
	if len(events.Events) != control.DefaultPageSize || events.NextToken == nil {
		t.Errorf("DescribeFleetEvents without Limit: %d events, NextToken %v; want a page of %d and a token", len(events.Events), events.NextToken, control.DefaultPageSize)
	}
	all := 0
	for p := gl.NewDescribeFleetEventsPaginator(api, &gl.DescribeFleetEventsInput{FleetId: managed}); p.HasMorePages(); {
		all += len(must(p.NextPage(ctx))(t).Events)
	}
	if all <= control.DefaultPageSize {
		t.Errorf("the paginator read %d events, want more than a page", all)
	}
}
