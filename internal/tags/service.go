package tags

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
)

// Config is what a Service needs: whose ARNs it answers for.
type Config struct {
	// Region and Account are those of the ARNs Hoist issues
	// (arn:aws:gamelift:<region>:<account>:<type>/<id>); an ARN of another names nothing.
	Region  string
	Account string
}

// Service answers TagResource, UntagResource and ListTagsForResource.
type Service struct {
	region, account string
	kinds           map[string]Table // ARN resource type -> where those resources keep their tags
}

// New makes a Service with no taggable kinds; Add registers them.
func New(c Config) *Service {
	return &Service{region: c.Region, account: c.Account, kinds: map[string]Table{}}
}

// Add makes the resources of an ARN resource type (kind) taggable, reached through t; it
// is called before the service answers calls.
func (s *Service) Add(kind string, t Table) { s.kinds[kind] = t }

// taggedResource finds the table and ID an ARN names. A string that is not a GameLift
// resource ARN is an InvalidRequestException; a well-formed one that names nothing Hoist
// keeps (another Region or account, a type Hoist does not tag) is a NotFoundException.
func (s *Service) taggedResource(arn string) (Table, string, error) {
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
	table, known := s.kinds[kind]
	if parts[1] != "aws" || parts[3] != s.region || parts[4] != s.account || !known {
		return nil, "", gamelift.NotFound("Resource %s not found", arn)
	}
	return table, id, nil
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
	return &gamelift.ListTagsForResourceResponse{Tags: paging.NonNil(tags)}, nil
}
