package control

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
)

// The kinds of resource a key can create that nothing else bounds, as ParseResourceLimits
// and Config.MaxResources name them. (Game sessions are bounded by the processes hosting
// them, player sessions by their game sessions, computes by MaxComputes.)
const (
	KindFleets                    = "fleets" // CreateFleet and CreateContainerFleet
	KindBuilds                    = "builds"
	KindAliases                   = "aliases"
	KindLocations                 = "locations"
	KindQueues                    = "queues"
	KindRuleSets                  = "rule-sets"
	KindMatchmakingConfigurations = "matchmaking-configurations"
	KindContainerGroupDefinitions = "container-group-definitions"
)

// ResourceKinds lists every kind, in the order README gives them.
var ResourceKinds = []string{KindFleets, KindBuilds, KindAliases, KindLocations, KindQueues,
	KindRuleSets, KindMatchmakingConfigurations, KindContainerGroupDefinitions}

// DefaultMaxResources is how many resources of each kind may exist at once when
// Config.MaxResources does not name the kind; a fleet counts until it is TERMINATED.
const DefaultMaxResources = 1000

// ParseResourceLimits reads comma-separated KIND=N (a bare N, or *=N, for every kind not
// named) into limits by kind.
func ParseResourceLimits(spec string) (map[string]int, error) {
	limits := map[string]int{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, n, ok := strings.Cut(part, "=")
		if !ok {
			kind, n = "*", part
		}
		v, err := strconv.Atoi(n)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: the limit must be a positive number", part)
		}
		if kind != "*" && !slices.Contains(ResourceKinds, kind) {
			return nil, fmt.Errorf("%q: the kind must be * or one of %s", part, strings.Join(ResourceKinds, ", "))
		}
		limits[kind] = v
	}
	return limits, nil
}

// resourceLimits bounds each kind; a kind's mutex makes counting and creating one step.
type resourceLimits struct {
	max map[string]int
	mu  map[string]*sync.Mutex
}

func newResourceLimits(configured map[string]int) resourceLimits {
	l := resourceLimits{max: map[string]int{}, mu: map[string]*sync.Mutex{}}
	for _, k := range ResourceKinds {
		l.max[k] = DefaultMaxResources
		if v, ok := configured["*"]; ok {
			l.max[k] = v
		}
		if v, ok := configured[k]; ok {
			l.max[k] = v
		}
		l.mu[k] = new(sync.Mutex)
	}
	return l
}

// admit lets one more resource of kind be created, or refuses it with
// LimitExceededException when count finds the kind at its limit. The caller creates the
// resource, then calls release; creations of one kind wait for each other in between.
func (s *Service) admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error) {
	mu := s.limits.mu[kind]
	mu.Lock()
	n, err := count(ctx)
	if err != nil {
		mu.Unlock()
		return nil, fmt.Errorf("count %s: %w", kind, err)
	}
	if max := s.limits.max[kind]; n >= max {
		mu.Unlock()
		return nil, gamelift.LimitExceeded("%d %s exist, the most this Hoist allows (hoist server --max-resources %s=N); delete one first", n, strings.ReplaceAll(kind, "-", " "), kind)
	}
	return mu.Unlock, nil
}

// countAll returns a function counting the records of t that keep says count (all when
// keep is nil).
func countAll[T any](t interface {
	List(context.Context, store.Query) (store.Page[T], error)
}, keep func(T) bool) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		page, err := t.List(ctx, store.Query{})
		if err != nil {
			return 0, err
		}
		if keep == nil {
			return len(page.Items), nil
		}
		n := 0
		for _, v := range page.Items {
			if keep(v) {
				n++
			}
		}
		return n, nil
	}
}

// liveFleet tells whether a fleet counts against the limit: until it is TERMINATED.
func liveFleet(f store.Fleet) bool { return gamelift.Value(f.Attributes.Status) != FleetTerminated }

// DefaultPageSize is the page a call listing every resource of a kind (DescribeFleetAttributes
// without FleetIds, ListFleets, ListBuilds, ...) answers when it gives no Limit.
const DefaultPageSize = paging.DefaultLimit

// pageLimit is paging.Limit: the page size asked for, or DefaultPageSize.
func pageLimit(limit *int32) *int32 { return paging.Limit(limit) }
