package buildsvc

import (
	"context"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Core is what the build service uses of the core service (internal/control's Service).
type Core interface {
	// Admit lets one more resource of a kind (control.KindBuilds) be created, until
	// release; LimitExceededException when count finds the kind at its limit.
	Admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error)
	// ARN is the ARN of a resource of an ARN resource type with that ID.
	ARN(kind, id string) string
	// AuthorizeCompute checks a host agent's compute auth token for that fleet and
	// compute; UnauthorizedException if it is not good.
	AuthorizeCompute(ctx context.Context, token, fleetID, compute string) error
	// Fleet loads a fleet by ID or ARN; NotFoundException if there is none.
	Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error)
	// Now is the core's clock.
	Now() time.Time
}

// Config holds what a Service needs.
type Config struct {
	Core Core
	// Builds is the store's table of builds.
	Builds store.Table[store.Build]
	// Archives keeps the builds' uploaded archives.
	Archives Archives
}

// Service answers the build operations, takes uploaded archives and hands them to hosts.
type Service struct {
	core     Core
	builds   store.Table[store.Build]
	archives Archives
}

// New returns a Service.
func New(c Config) *Service {
	return &Service{core: c.Core, builds: c.Builds, archives: c.Archives}
}

// Tagged are the builds, by ARN resource type, for TagResource
// (tags.Service.Add).
func (s *Service) Tagged() map[string]tags.Table {
	return map[string]tags.Table{
		"build": tags.In(s.builds, func(b *store.Build) *[]gamelift.Tag { return &b.Tags }),
	}
}

func (s *Service) now() time.Time { return s.core.Now().UTC() }

func set[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func orDefault(p *string, def string) *string {
	if p == nil {
		return &def
	}
	return p
}
