package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// awsLocations are the AWS Regions GameLift lists as locations. Hoist hosts every location
// on its own machines; the names keep clients' location logic working unchanged.
var awsLocations = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
	"eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

func isCustomLocation(name string) bool { return strings.HasPrefix(name, "custom-") }

// CreateLocation registers a custom location for Anywhere fleets.
func (s *Service) CreateLocation(ctx context.Context, in *gamelift.CreateLocationInput) (*gamelift.CreateLocationOutput, error) {
	release, err := s.admit(ctx, KindLocations, countAll(s.store.Locations(), nil))
	if err != nil {
		return nil, err
	}
	defer release()
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	name := gamelift.Value(in.LocationName)
	loc := gamelift.LocationModel{LocationName: &name, LocationArn: gamelift.String(s.arn("location", name))}
	if err := s.store.Locations().Create(ctx, name, "", store.Location{Model: loc, Tags: tagged}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.Conflict("Location %s already exists", name)
		}
		return nil, fmt.Errorf("create location: %w", err)
	}
	return &gamelift.CreateLocationOutput{Location: &loc}, nil
}

// ListLocations lists AWS locations, custom locations, or both.
func (s *Service) ListLocations(ctx context.Context, in *gamelift.ListLocationsInput) (*gamelift.ListLocationsOutput, error) {
	want := func(kind string) bool { return len(in.Filters) == 0 || slices.Contains(in.Filters, kind) }
	for _, f := range in.Filters {
		if f != "AWS" && f != "CUSTOM" {
			return nil, gamelift.InvalidRequest("Filters must be AWS or CUSTOM, not %q", f)
		}
	}
	var all []gamelift.LocationModel
	if want("AWS") {
		for _, name := range awsLocations {
			all = append(all, gamelift.LocationModel{LocationName: gamelift.String(name)})
		}
	}
	if want("CUSTOM") {
		page, err := s.store.Locations().List(ctx, store.Query{})
		if err != nil {
			return nil, fmt.Errorf("list locations: %w", err)
		}
		for _, l := range page.Items {
			all = append(all, l.Model)
		}
	}
	items, token, err := pageSlice(all, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListLocationsOutput{Locations: nonNil(items), NextToken: token}, nil
}

// DeleteLocation removes a custom location that no fleet uses.
func (s *Service) DeleteLocation(ctx context.Context, in *gamelift.DeleteLocationInput) (*gamelift.DeleteLocationOutput, error) {
	name := gamelift.IDOf(in.LocationName)
	if _, err := s.store.Locations().Get(ctx, name); err != nil {
		return nil, store.NotFoundAs(err, "Location %s not found", name)
	}
	fleets, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	for _, f := range fleets.Items {
		if locationOf(&f, name) != nil && gamelift.Value(f.Attributes.Status) != FleetTerminated {
			return nil, gamelift.InvalidRequest("Location %s is in use by fleet %s; remove it from the fleet first", name, gamelift.Value(f.Attributes.FleetId))
		}
	}
	if err := s.store.Locations().Delete(ctx, name); err != nil {
		return nil, store.NotFoundAs(err, "Location %s not found", name)
	}
	return &gamelift.DeleteLocationOutput{}, nil
}

// pageSlice is paging.Slice: a page of all, and the next page's token.
func pageSlice[T any](all []T, limit *int32, token *string) ([]T, *string, error) {
	return paging.Slice(all, limit, token)
}
