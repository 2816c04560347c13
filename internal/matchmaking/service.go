package matchmaking

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/hoist-dev/hoist/internal/background"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/queues"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Core is what matchmaking uses of the core service (internal/control's Service).
type Core interface {
	// GameSession loads a game session by ID (ARN); NotFoundException if there is none.
	GameSession(ctx context.Context, idOrARN *string) (store.GameSession, error)
	// ReservePlayers adds a player session for each player to an ACTIVE session with
	// room for all of them.
	ReservePlayers(ctx context.Context, sessionID string, playerIDs []string) ([]gamelift.PlayerSession, error)
	// SetMatchmakerData replaces a game session's MatchmakerData.
	SetMatchmakerData(ctx context.Context, sessionID, data string) (store.GameSession, error)
	// PushSessionUpdate tells the game server hosting a session that it changed.
	PushSessionUpdate(ctx context.Context, sessionID, reason, ticketID string)
	// Admit counts a resource kind against its limit before one is created; release
	// once it is.
	Admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error)
	// ARN is the ARN of a resource of an ARN resource type with that name.
	ARN(kind, name string) string
	// Now is the core's clock.
	Now() time.Time
}

// Queues is what matchmaking uses of game session queues and placements
// (internal/queues' Service).
type Queues interface {
	// Queue loads a game session queue by name or ARN; NotFoundException if there is none.
	Queue(ctx context.Context, nameOrARN *string) (store.Queue, error)
	// StartPlacement stores a PENDING placement and has it placed; when it ends, it tells
	// PlacementEnded.
	StartPlacement(ctx context.Context, pl store.Placement) error
}

// Store is where matchmaking keeps its state: its tables of the store.
type Store interface {
	RuleSets() store.Table[store.RuleSet]
	MatchConfigs() store.Table[store.MatchConfig]
	Tickets() store.Table[store.Ticket]
}

// Events receives FlexMatch events, keyed by their configuration's ARN.
type Events interface {
	Publish(configArn string, event []byte)
}

// Config holds what a Service needs.
type Config struct {
	Core Core
	// Queues places the matches of WITH_QUEUE configurations.
	Queues Queues
	Store  Store
	// Events receives matchmaking events; none are sent when nil.
	Events Events
	// Region is the Region in the events.
	Region string
	// Interval bounds the time between two matchmaking passes, with a second the most.
	Interval time.Duration
	Logger   *slog.Logger
}

// Service answers the FlexMatch operations and runs the matchmaker.
type Service struct {
	core    Core
	queues  Queues
	store   Store
	events  Events
	region  string
	log     *slog.Logger
	matcher matcher

	// bg runs the background work; Close waits for it.
	bg *background.Group
}

// New returns a Service whose matchmaker passes run until Close.
func New(c Config) *Service {
	s := &Service{
		core: c.Core, queues: c.Queues, store: c.Store, events: c.Events, region: c.Region, log: cmp.Or(c.Logger, slog.Default()),
		matcher: newMatcher(), bg: background.New(context.Background()),
	}
	s.runMatchmaking(min(cmp.Or(c.Interval, matchTick), matchTick))
	return s
}

// Close stops the matchmaker and the work under way, and waits for them.
func (s *Service) Close() {
	s.bg.Close()
}

// Tagged are matchmaking's taggable resources, by ARN resource type, for
// TagResource (tags.Service.Add).
func (s *Service) Tagged() map[string]tags.Table {
	return map[string]tags.Table{
		"matchmakingruleset":       tags.In(s.store.RuleSets(), func(r *store.RuleSet) *[]gamelift.Tag { return &r.Tags }),
		"matchmakingconfiguration": tags.In(s.store.MatchConfigs(), func(c *store.MatchConfig) *[]gamelift.Tag { return &c.Tags }),
	}
}

// PlacementEnded settles the tickets of a match whose placement ended (queues.Matchmaker).
func (s *Service) PlacementEnded(pl store.Placement) {
	s.bg.Go(func() { s.matchPlaced(s.bg.Context(), pl) })
}

// PlayerLeft starts an automatic backfill of a session a player left (control.Matchmaker).
func (s *Service) PlayerLeft(gs store.GameSession) {
	s.bg.Go(func() { s.autoBackfill(s.bg.Context(), gs) })
}

var (
	_ control.Matchmaker = (*Service)(nil)
	_ queues.Matchmaker  = (*Service)(nil)
)

func (s *Service) now() time.Time { return s.core.Now().UTC() }

func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

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
