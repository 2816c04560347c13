package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Tags live in the record of the resource they label (store.Fleet.Tags and the like): a
// Create with Tags is one write, TagResource and UntagResource are one Update of that
// record, serialized with every other change to it, and the tags go when the resource does.
// Describe calls do not return them; only ListTagsForResource does, as in GameLift.

// GameLift's tag rules beyond the model's (key 1-128 and value 0-256 characters, at most
// 200 tags in one request), which gamelift.Validate has already enforced.
//
// Which exception: GameLift's model documents TaggingFailedException as "invalid tag format
// or the maximum tag limit may have been exceeded" and lists it for TagResource,
// UntagResource and every Create that takes Tags, so both the reserved prefix and the
// 50-tag limit answer TaggingFailedException, at creation as in TagResource.
// InvalidRequestException stays for what the model constrains and for a malformed ARN.
const (
	maxTagsPerResource = 50
	reservedTagPrefix  = "aws:"
)

// taggedKinds maps the resource type of a GameLift ARN
// (arn:aws:gamelift:<region>:<account>:<type>/<id>, as s.arn makes them) to the table that
// holds resources of that type. A new taggable resource of the core is one line here; the
// packages above the core add theirs with AddTagged.
func (s *Service) taggedKinds() map[string]taggedTable {
	return map[string]taggedTable{
		"fleet":    tagsIn(s.fleets, func(f *store.Fleet) *[]gamelift.Tag { return &f.Tags }, fleetIsTerminated),
		"alias":    tagsIn(s.aliases, func(a *store.Alias) *[]gamelift.Tag { return &a.Tags }, nil),
		"location": tagsIn(s.store.Locations(), func(l *store.Location) *[]gamelift.Tag { return &l.Tags }, nil),
	}
}

// A TERMINATED fleet still answers Describe calls for a while, but it has no tags to list
// or change: GameLift answers NotFoundException for it.
func fleetIsTerminated(f *store.Fleet) bool {
	return gamelift.Value(f.Attributes.Status) == FleetTerminated
}

// taggedTable is a table of taggable resources seen through their tags alone.
type taggedTable interface {
	// Tags returns the tags of the resource with that ID (what its ARN names after the
	// type); store.ErrNotFound if there is none, or it is gone.
	Tags(ctx context.Context, id string) ([]gamelift.Tag, error)
	// UpdateTags replaces the resource's tags with fn's result in one update of its
	// record; store.ErrNotFound as Tags does, and fn's error as is.
	UpdateTags(ctx context.Context, id string, fn func([]gamelift.Tag) ([]gamelift.Tag, error)) error
}

type recordTags[T any] struct {
	table  store.Table[T]
	tagsOf func(*T) *[]gamelift.Tag
	gone   func(*T) bool
}

// tagsIn makes a taggedTable of a table whose records keep their tags where tagsOf
// points; gone, when not nil, tells a record kept for a resource that no longer exists.
func tagsIn[T any](table store.Table[T], tagsOf func(*T) *[]gamelift.Tag, gone func(*T) bool) taggedTable {
	return recordTags[T]{table: table, tagsOf: tagsOf, gone: gone}
}

func (r recordTags[T]) Tags(ctx context.Context, id string) ([]gamelift.Tag, error) {
	v, err := r.table.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.gone != nil && r.gone(&v) {
		return nil, store.ErrNotFound
	}
	return *r.tagsOf(&v), nil
}

func (r recordTags[T]) UpdateTags(ctx context.Context, id string, fn func([]gamelift.Tag) ([]gamelift.Tag, error)) error {
	_, err := r.table.Update(ctx, id, func(v *T) error {
		if r.gone != nil && r.gone(v) {
			return store.ErrNotFound
		}
		tags, err := fn(*r.tagsOf(v))
		if err != nil {
			return err
		}
		*r.tagsOf(v) = tags
		return nil
	})
	return err
}

// taggedResource finds the table and ID an ARN names. A string that is not a GameLift
// resource ARN is an InvalidRequestException; a well-formed one that names nothing Hoist
// keeps (another Region or account, a type Hoist does not tag) is a NotFoundException.
func (s *Service) taggedResource(arn string) (taggedTable, string, error) {
	// arn:partition:service:region:account:type/id
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" {
		return nil, "", gamelift.InvalidRequest("ResourceARN %q is not an ARN", arn)
	}
	if parts[2] != "gamelift" {
		return nil, "", gamelift.InvalidRequest("ResourceARN %q is not a GameLift resource", arn)
	}
	kind, id, ok := strings.Cut(parts[5], "/")
	if !ok || kind == "" || id == "" {
		return nil, "", gamelift.InvalidRequest("ResourceARN %q names no resource (want <type>/<id> after the account)", arn)
	}
	table, known := s.tagged[kind]
	if parts[1] != "aws" || parts[3] != s.region || parts[4] != AccountID || !known {
		return nil, "", gamelift.NotFound("Resource %s not found", arn)
	}
	return table, id, nil
}

// checkTagKey refuses the prefix AWS reserves for its own tags, in any case: such tags can
// be neither set nor removed.
func checkTagKey(key string) error {
	if len(key) >= len(reservedTagPrefix) && strings.EqualFold(key[:len(reservedTagPrefix)], reservedTagPrefix) {
		return gamelift.TaggingFailed("Tag key %q: the prefix %q is reserved for AWS", key, reservedTagPrefix)
	}
	return nil
}

// withTags returns have with add applied: a key already there takes the new value in
// place, a new key is appended. Within one request the last value given for a key wins.
// The result may hold at most 50 tags. have is not changed.
func withTags(have, add []gamelift.Tag) ([]gamelift.Tag, error) {
	out := slices.Clone(have)
	for _, t := range add {
		key := gamelift.Value(t.Key)
		if err := checkTagKey(key); err != nil {
			return nil, err
		}
		tag := gamelift.Tag{Key: gamelift.String(key), Value: gamelift.String(gamelift.Value(t.Value))}
		if i := slices.IndexFunc(out, func(o gamelift.Tag) bool { return gamelift.Value(o.Key) == key }); i >= 0 {
			out[i] = tag
		} else {
			out = append(out, tag)
		}
	}
	if len(out) > maxTagsPerResource {
		return nil, gamelift.TaggingFailed("A resource can have at most %d tags; this request would leave it with %d", maxTagsPerResource, len(out))
	}
	return out, nil
}

// createTags checks the Tags of a Create call and returns them as the new record keeps them.
func createTags(tags []gamelift.Tag) ([]gamelift.Tag, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	return withTags(nil, tags)
}

// tagErr maps a resource that is not there to NotFoundException; other errors pass wrapped.
func tagErr(err error, arn string) error {
	if errors.Is(err, store.ErrNotFound) {
		return gamelift.NotFound("Resource %s not found", arn)
	}
	var e *gamelift.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("tags of %s: %w", arn, err)
}

// TagResource adds tags to a resource, or gives keys it has a new value.
func (s *Service) TagResource(ctx context.Context, in *gamelift.TagResourceRequest) (*gamelift.TagResourceResponse, error) {
	arn := gamelift.Value(in.ResourceARN)
	table, id, err := s.taggedResource(arn)
	if err != nil {
		return nil, err
	}
	err = table.UpdateTags(ctx, id, func(have []gamelift.Tag) ([]gamelift.Tag, error) { return withTags(have, in.Tags) })
	if err != nil {
		return nil, tagErr(err, arn)
	}
	return &gamelift.TagResourceResponse{}, nil
}

// UntagResource removes tags by key; a key the resource does not have is no error.
func (s *Service) UntagResource(ctx context.Context, in *gamelift.UntagResourceRequest) (*gamelift.UntagResourceResponse, error) {
	arn := gamelift.Value(in.ResourceARN)
	table, id, err := s.taggedResource(arn)
	if err != nil {
		return nil, err
	}
	for _, key := range in.TagKeys {
		if err := checkTagKey(key); err != nil {
			return nil, err
		}
	}
	err = table.UpdateTags(ctx, id, func(have []gamelift.Tag) ([]gamelift.Tag, error) {
		return slices.DeleteFunc(slices.Clone(have), func(t gamelift.Tag) bool {
			return slices.Contains(in.TagKeys, gamelift.Value(t.Key))
		}), nil
	})
	if err != nil {
		return nil, tagErr(err, arn)
	}
	return &gamelift.UntagResourceResponse{}, nil
}

// ListTagsForResource returns a resource's tags: an empty list when it has none.
func (s *Service) ListTagsForResource(ctx context.Context, in *gamelift.ListTagsForResourceRequest) (*gamelift.ListTagsForResourceResponse, error) {
	arn := gamelift.Value(in.ResourceARN)
	table, id, err := s.taggedResource(arn)
	if err != nil {
		return nil, err
	}
	tags, err := table.Tags(ctx, id)
	if err != nil {
		return nil, tagErr(err, arn)
	}
	return &gamelift.ListTagsForResourceResponse{Tags: nonNil(tags)}, nil
}
