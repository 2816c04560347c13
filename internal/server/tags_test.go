package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"
)

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

// tagsOf lists a resource's tags as "key=value" strings, in the order the server keeps them.
// (The SDK decodes an empty list as nil; TestJSONProtocol checks the wire has [].)
func tagsOf(t *testing.T, c *gl.Client, arn string) []string {
	t.Helper()
	out := must(c.ListTagsForResource(context.Background(), &gl.ListTagsForResourceInput{ResourceARN: &arn}))(t)
	s := []string{}
	for _, tg := range out.Tags {
		s = append(s, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	return s
}

func manyTags(prefix string, n int) []types.Tag {
	tags := make([]types.Tag, n)
	for i := range tags {
		tags[i] = tag(fmt.Sprintf("%s%d", prefix, i), "v")
	}
	return tags
}

// taggedResources creates one resource of every taggable kind, each with the tags given,
// and returns their ARNs by kind.
func taggedResources(t *testing.T, c *gl.Client, location string, tags []types.Tag) map[string]string {
	t.Helper()
	ctx := context.Background()
	loc := must(c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(location), Tags: tags}))(t).Location
	fleet := must(c.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("tagged"), ComputeType: types.ComputeTypeAnywhere, Tags: tags,
		Locations: []types.LocationConfiguration{{Location: aws.String(location)}},
	}))(t).FleetAttributes
	alias := must(c.CreateAlias(ctx, &gl.CreateAliasInput{
		Name: aws.String("tagged"), Tags: tags,
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: fleet.FleetId},
	}))(t).Alias
	build := must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("tagged"), Tags: tags}))(t).Build
	return map[string]string{
		"location": aws.ToString(loc.LocationArn), "fleet": aws.ToString(fleet.FleetArn),
		"alias": aws.ToString(alias.AliasArn), "build": aws.ToString(build.BuildArn),
	}
}

// Every taggable kind takes tags at creation, and TagResource, UntagResource and
// ListTagsForResource work on it by ARN; the tags survive a restart.
func TestTagsOnEveryResourceKind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, c := start(t, dir)
	arns := taggedResources(t, c, "custom-tags-1", []types.Tag{tag("team", "net"), tag("stage", "")})

	for kind, arn := range arns {
		if got, want := tagsOf(t, c, arn), []string{"team=net", "stage="}; !slices.Equal(got, want) {
			t.Errorf("%s created with tags: %v, want %v", kind, got, want)
		}
		// A key already there takes the new value in place; new keys follow; the last of
		// two values for one key in a request wins.
		must(c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{
			tag("region", "eu"), tag("team", "game"), tag("owner", "a"), tag("owner", "b"),
		}}))(t)
		if got, want := tagsOf(t, c, arn), []string{"team=game", "stage=", "region=eu", "owner=b"}; !slices.Equal(got, want) {
			t.Errorf("%s after TagResource: %v, want %v", kind, got, want)
		}
		// Keys it does not have are no error.
		must(c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"stage", "never-set", "owner"}}))(t)
		if got, want := tagsOf(t, c, arn), []string{"team=game", "region=eu"}; !slices.Equal(got, want) {
			t.Errorf("%s after UntagResource: %v, want %v", kind, got, want)
		}
		// An empty list of tags or keys changes nothing.
		must(c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{}}))(t)
		must(c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{}}))(t)
		if got := tagsOf(t, c, arn); len(got) != 2 {
			t.Errorf("%s after empty calls: %v", kind, got)
		}
	}

	// Other changes to a resource leave its tags alone.
	fleetID := arns["fleet"][strings.LastIndex(arns["fleet"], "/")+1:]
	must(c.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: &fleetID, Name: aws.String("renamed")}))(t)
	must(c.UpdateAlias(ctx, &gl.UpdateAliasInput{AliasId: aws.String(arns["alias"]), Name: aws.String("renamed")}))(t)
	must(c.UpdateBuild(ctx, &gl.UpdateBuildInput{BuildId: aws.String(arns["build"]), Name: aws.String("renamed")}))(t)

	srv.Close(ctx)
	_, c = start(t, dir)
	for kind, arn := range arns {
		if got, want := tagsOf(t, c, arn), []string{"team=game", "region=eu"}; !slices.Equal(got, want) {
			t.Errorf("%s after a restart: %v, want %v", kind, got, want)
		}
	}

	// A resource created without tags lists none.
	plain := must(c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("plain"),
		RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("closed")}}))(t).Alias
	if got := tagsOf(t, c, aws.ToString(plain.AliasArn)); len(got) != 0 {
		t.Errorf("untagged alias lists %v", got)
	}
}

// At most 50 tags on a resource, counting those it has; keys with the aws: prefix are
// AWS's. Both answer TaggingFailedException, on Create as on TagResource; what the model
// constrains (lengths, 200 tags in a request) answers InvalidRequestException.
func TestTagLimits(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())

	for _, tags := range [][]types.Tag{manyTags("k", 51), {tag("aws:owner", "me")}, {tag("AWS:owner", "me")}} {
		_, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-limits-x"), Tags: tags})
		apiError(t, err, "TaggingFailedException")
		_, err = c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("x"), ComputeType: types.ComputeTypeAnywhere, Tags: tags,
			Locations: []types.LocationConfiguration{{Location: aws.String("custom-limits-x")}}})
		apiError(t, err, "TaggingFailedException")
		_, err = c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("x"), Tags: tags,
			RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("x")}})
		apiError(t, err, "TaggingFailedException")
		_, err = c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("x"), Tags: tags})
		apiError(t, err, "TaggingFailedException")
	}
	// Nothing was created by the refused calls.
	if l := must(c.ListAliases(ctx, &gl.ListAliasesInput{}))(t).Aliases; len(l) != 0 {
		t.Errorf("aliases after refused creates: %d", len(l))
	}
	if b := must(c.ListBuilds(ctx, &gl.ListBuildsInput{}))(t).Builds; len(b) != 0 {
		t.Errorf("builds after refused creates: %d", len(b))
	}

	arns := taggedResources(t, c, "custom-limits-1", manyTags("k", 50))
	for kind, arn := range arns {
		_, err := c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("one-more", "v")}})
		apiError(t, err, "TaggingFailedException")
		// Replacing values adds no tag: allowed at 50.
		must(c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("k0", "new"), tag("k49", "new")}}))(t)
		must(c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"k1"}}))(t)
		// Now one fits, but not two.
		_, err = c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("x", ""), tag("y", "")}})
		apiError(t, err, "TaggingFailedException")
		must(c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("x", "")}}))(t)
		got := tagsOf(t, c, arn)
		if len(got) != 50 || got[0] != "k0=new" || got[48] != "k49=new" || got[49] != "x=" {
			t.Errorf("%s: %d tags %v ... %v", kind, len(got), got[:2], got[len(got)-2:])
		}

		_, err = c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("Aws:x", "v")}})
		apiError(t, err, "TaggingFailedException")
		_, err = c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"aws:x"}})
		apiError(t, err, "TaggingFailedException")

		for _, tags := range [][]types.Tag{
			{tag(strings.Repeat("k", 129), "v")}, {tag("", "v")}, {tag("k", strings.Repeat("v", 257))},
			manyTags("k", 201),
		} {
			_, err = c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: tags})
			apiError(t, err, "InvalidRequestException")
		}
		_, err = c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{strings.Repeat("k", 129)}})
		apiError(t, err, "InvalidRequestException")
		if got := tagsOf(t, c, arn); len(got) != 50 {
			t.Errorf("%s: refused calls changed the tags: %d", kind, len(got))
		}
	}
	// At the bounds: a 128-character key, a 256-character value; and "aws" without the
	// colon starts an ordinary key.
	tags := []types.Tag{tag(strings.Repeat("k", 128), strings.Repeat("v", 256)), tag("awsome", "v")}
	b := must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("long"), Tags: tags}))(t).Build
	if got := tagsOf(t, c, aws.ToString(b.BuildArn)); len(got) != 2 || got[1] != "awsome=v" {
		t.Errorf("build tags %v", got)
	}
}

// An ARN that is not one answers InvalidRequestException; a well-formed one that names no
// resource here (unknown ID, another Region or account, a kind Hoist does not keep, a
// deleted resource or a TERMINATED fleet) answers NotFoundException.
func TestTagsOfUnknownAndDeletedResources(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	arns := taggedResources(t, c, "custom-gone-1", []types.Tag{tag("team", "net")})

	calls := map[string]func(arn string) error{
		"TagResource": func(arn string) error {
			_, err := c.TagResource(ctx, &gl.TagResourceInput{ResourceARN: &arn, Tags: []types.Tag{tag("a", "b")}})
			return err
		},
		"UntagResource": func(arn string) error {
			_, err := c.UntagResource(ctx, &gl.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"team"}})
			return err
		},
		"ListTagsForResource": func(arn string) error {
			_, err := c.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: &arn})
			return err
		},
	}
	expect := func(arn, code string) {
		t.Helper()
		for name, call := range calls {
			var ae smithy.APIError
			if err := call(arn); !errors.As(err, &ae) || ae.ErrorCode() != code {
				t.Errorf("%s %q: %v, want %s", name, arn, err, code)
			}
		}
	}

	fleetID := arns["fleet"][strings.LastIndex(arns["fleet"], "/")+1:]
	for _, arn := range []string{
		fleetID, // an ID, not an ARN
		"arn:aws:s3:::bucket/key",
		"arn:aws:gamelift:us-west-2:123456789012:fleet",
		"arn:aws:gamelift:us-west-2:123456789012:fleet/",
		"arn:aws:gamelift:us-west-2:123456789012:/" + fleetID,
		"arn::gamelift:us-west-2:123456789012:fleet/" + fleetID,
		"gamelift:us-west-2:123456789012:fleet/" + fleetID,
	} {
		expect(arn, "InvalidRequestException")
	}
	for _, arn := range []string{
		"arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-00000000-0000-0000-0000-000000000000",
		strings.Replace(arns["fleet"], "us-west-2", "eu-west-1", 1),
		strings.Replace(arns["alias"], "123456789012", "210987654321", 1),
		strings.Replace(arns["build"], "arn:aws:", "arn:aws-cn:", 1),
		"arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/" + fleetID,
		"arn:aws:gamelift:us-west-2:123456789012:alias/" + fleetID, // a fleet's ID as an alias
	} {
		expect(arn, "NotFoundException")
	}

	// Deleted resources: their tags are gone with them.
	must(c.DeleteAlias(ctx, &gl.DeleteAliasInput{AliasId: aws.String(arns["alias"])}))(t)
	must(c.DeleteBuild(ctx, &gl.DeleteBuildInput{BuildId: aws.String(arns["build"])}))(t)
	must(c.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: &fleetID}))(t)
	eventually(t, "the fleet is TERMINATED", func() bool { return fleetStatus(t, c, &fleetID) == types.FleetStatusTerminated })
	must(c.DeleteLocation(ctx, &gl.DeleteLocationInput{LocationName: aws.String("custom-gone-1")}))(t)
	for _, arn := range arns {
		expect(arn, "NotFoundException")
	}
	// A location made again under the same name starts without the old one's tags.
	must(c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-gone-1")}))(t)
	if got := tagsOf(t, c, arns["location"]); len(got) != 0 {
		t.Errorf("re-created location has tags %v", got)
	}
}
