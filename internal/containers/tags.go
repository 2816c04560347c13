package containers

import (
	"context"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Tagged are the container group definitions, by ARN resource type, for
// TagResource (tags.Service.Add). Tags belong to a definition as a whole, so its
// ARN may name a version.
func (s *Service) Tagged() map[string]tags.Table {
	return map[string]tags.Table{
		"containergroupdefinition": unversioned{tags.In(s.defs, func(d *store.ContainerGroupDefinition) *[]gamelift.Tag { return &d.Tags })},
	}
}

// unversioned makes a definition taggable by its ARN with or without a version.
type unversioned struct{ tags.Table }

func (u unversioned) id(id string) string {
	name, _, _ := strings.Cut(id, ":")
	return name
}

func (u unversioned) Tags(ctx context.Context, id string) ([]gamelift.Tag, error) {
	return u.Table.Tags(ctx, u.id(id))
}

func (u unversioned) UpdateTags(ctx context.Context, id string, fn func([]gamelift.Tag) ([]gamelift.Tag, error)) error {
	return u.Table.UpdateTags(ctx, u.id(id), fn)
}
