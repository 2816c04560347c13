package queues

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/internal/background"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/cache"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Core is what queues and placements use of the core service (internal/control's Service).
type Core interface {
	// Fleet loads a fleet by ID or ARN; Alias an alias; AliasFleet the fleet an alias
	// routes to (TerminalRoutingStrategyException for a TERMINAL one). NotFoundException
	// if there is none.
	Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error)
	Alias(ctx context.Context, idOrARN *string) (gamelift.Alias, error)
	AliasFleet(ctx context.Context, aliasID *string) (store.Fleet, error)
	// CapacityGeneration counts the moments capacity may have appeared; a SessionRequest
	// given one refuses capacity that appeared since (control.ErrCapacityChanged).
	CapacityGeneration() uint64
	// PlaceSession makes a game session on a free process of the fleet location, here or
	// on another replica; FleetCapacityExceededException when none is free. The core tells
	// SessionActive and SessionEnded of it (control.Placer).
	PlaceSession(ctx context.Context, f store.Fleet, location string, req control.SessionRequest, now time.Time) (store.GameSession, error)
	// EndSession ends a session PlaceSession made whose placement ended meanwhile.
	EndSession(ctx context.Context, gs store.GameSession)
	// GameSession loads a game session by ID (ARN); NotFoundException if there is none.
	GameSession(ctx context.Context, idOrARN *string) (store.GameSession, error)
	// ReserveDesiredPlayers adds a player session for each player, with its PlayerData,
	// to an ACTIVE session with room for all of them.
	ReserveDesiredPlayers(ctx context.Context, sessionID string, players []gamelift.DesiredPlayerSession) ([]gamelift.PlayerSession, error)
	// ReplicaID is this server's ID among the replicas; LiveReplicas those alive now (nil
	// when the server is alone on its store).
	ReplicaID() string
	LiveReplicas(ctx context.Context) (map[string]bool, error)
	// Admit counts a resource kind against its limit before one is created; release once
	// it is.
	Admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error)
	// ARN is the ARN of a resource of an ARN resource type with that name.
	ARN(kind, name string) string
	// Now is the core's clock.
	Now() time.Time
}

// Store is where queues and placements are kept: its tables of the store.
type Store interface {
	Queues() store.Table[store.Queue]
	Placements() store.Table[store.Placement]
}

// Events receives the events GameLift sends to a queue's SNS topic (PlacementFulfilled and
// the like), as JSON, keyed by the queue's ARN. Publish must not block.
type Events interface {
	Publish(queueArn string, event []byte)
}

// Observer is told what metrics count that no state keeps. It is called on the goroutine
// that made the change, so it must not block.
type Observer interface {
	// PlacementEnded: a game session placement of queue ended with status after wait.
	PlacementEnded(queue, status string, wait time.Duration)
}

// Matchmaker is told when a placement made for a match ends: FlexMatch matchmaking
// (internal/matchmaking), which is built after this Service and set with SetMatchmaker.
type Matchmaker interface {
	// PlacementEnded is told that a placement with MatchTickets ended, FULFILLED or not.
	// It is called on the goroutine that ended it, so it must not block.
	PlacementEnded(pl store.Placement)
}

// Config holds what a Service needs.
type Config struct {
	Core  Core
	Store Store
	// Events receives placement events; none are sent when nil.
	Events Events
	// Observer is told how long placements waited; nil tells no one.
	Observer Observer
	// Region is the Region of the destinations a queue may have, and of its events.
	Region string
	// Interval is how often upkeep looks for its work (the placements of stopped replicas,
	// the hourly purge of ended ones); it bounds the time between two passes over the
	// waiting placements too, with a second the most. control.DefaultSweepInterval when
	// zero.
	Interval time.Duration
	Logger   *slog.Logger
}

// Service answers the game session queue and placement operations and places the waiting
// placements.
type Service struct {
	core     Core
	store    Store
	queues   *cache.Table[store.Queue] // read on every pass over the waiting placements
	placer   placer
	events   Events
	observer Observer
	region   string
	log      *slog.Logger
	// matchHooks tells matchmaking of the match placements that ended (SetMatchmaker).
	matchHooks matchHooks
	// stopped holds the replicas that stopped whose waiting placements are yet to be
	// taken over (ReplicasStopped), and wakes upkeep.
	stopped stoppedReplicas

	// bg runs the background work; Close waits for it.
	bg *background.Group
}

var _ control.Placer = (*Service)(nil)

// New returns a Service and resumes the placements an earlier run left waiting; its
// passes over them run until Close. It is to be set as the core's Placer
// (control.Service.SetPlacer) at once.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.Core == nil || c.Store == nil {
		return nil, errors.New("queues: Core and Store are required")
	}
	interval := cmp.Or(c.Interval, control.DefaultSweepInterval)
	s := &Service{
		core: c.Core, store: c.Store, queues: cache.New(c.Store.Queues()), placer: newPlacer(), events: c.Events, observer: c.Observer,
		region: c.Region, log: cmp.Or(c.Logger, slog.Default()), stopped: newStoppedReplicas(), bg: background.New(ctx),
	}
	if err := s.restorePlacements(ctx); err != nil {
		s.bg.Close()
		return nil, err
	}
	s.runPlacements(min(interval, maxPlacementTick))
	s.runUpkeep(interval)
	return s, nil
}

// Close stops the passes and the work under way, and waits for them. What the core tells
// afterwards is left for the next start to settle from the store.
func (s *Service) Close() {
	s.bg.Close()
}

// Tagged are the taggable resources of this package, by ARN resource type, for
// TagResource (tags.Service.Add).
func (s *Service) Tagged() map[string]tags.Table {
	return map[string]tags.Table{
		"gamesessionqueue": tags.In(s.queues, func(q *store.Queue) *[]gamelift.Tag { return &q.Tags }),
	}
}

// SetMatchmaker sets who is told of the match placements that ended. Those that ended
// before it was set (placements restored at start) are told then.
func (s *Service) SetMatchmaker(m Matchmaker) {
	s.matchHooks.mu.Lock()
	defer s.matchHooks.mu.Unlock()
	s.matchHooks.m = m
	for _, pl := range s.matchHooks.ended {
		m.PlacementEnded(pl)
	}
	s.matchHooks.ended = nil
}

// matchHooks holds the Matchmaker, and what it is to be told once it is set.
type matchHooks struct {
	mu    sync.Mutex
	m     Matchmaker
	ended []store.Placement
}

// matchPlacementEnded tells matchmaking that a placement it made for a match ended.
func (s *Service) matchPlacementEnded(pl store.Placement) {
	if len(pl.MatchTickets) == 0 {
		return
	}
	s.matchHooks.mu.Lock()
	defer s.matchHooks.mu.Unlock()
	if s.matchHooks.m == nil {
		s.matchHooks.ended = append(s.matchHooks.ended, pl)
		return
	}
	s.matchHooks.m.PlacementEnded(pl)
}

func (s *Service) now() time.Time { return s.core.Now().UTC() }

// countAll counts the records of t, for Admit.
func countAll[T any](t store.Table[T]) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		page, err := t.List(ctx, store.Query{})
		if err != nil {
			return 0, err
		}
		return len(page.Items), nil
	}
}
