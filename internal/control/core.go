package control

import (
	"context"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"

	"github.com/hoist-dev/hoist/internal/store"
)

// What the packages above the core (internal/scaling, ...) use of it. Each declares the
// part it needs as an interface of its own; these are the methods behind them.

// LocationActive is the status of a fleet location that hosts game sessions.
const LocationActive = locationStatusActive

// FleetActionAutoScaling is the fleet action StopFleetActions suspends auto scaling with.
const FleetActionAutoScaling = "AUTO_SCALING"

// Fleet loads a fleet by ID or ARN; an unknown one is NotFoundException.
func (s *Service) Fleet(ctx context.Context, idOrARN *string) (store.Fleet, error) {
	return s.getFleet(ctx, idOrARN)
}

// Fleets lists every fleet, TERMINATED ones included.
func (s *Service) Fleets(ctx context.Context) ([]store.Fleet, error) {
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, err
	}
	return page.Items, nil
}

// UpdateFleet applies fn to a fleet that is not being deleted, in ERROR or TERMINATED
// (InvalidFleetStatusException).
func (s *Service) UpdateFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error) {
	return s.updateFleet(ctx, idOrARN, fn)
}

// UpdateAnyFleet applies fn to a fleet whatever its status.
func (s *Service) UpdateAnyFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error) {
	id := idOf(idOrARN)
	f, err := s.fleets.Update(ctx, id, fn)
	if err != nil {
		return f, notFound(err, "Fleet %s not found", id)
	}
	return f, nil
}

// HostCounts counts a fleet's active hosts per location.
func (s *Service) HostCounts(ctx context.Context, fleetID string) (map[string]int32, error) {
	return s.computeCounts(ctx, fleetID)
}

// Metrics measures a fleet location now, across replicas, with hosts as its host count.
func (s *Service) Metrics(ctx context.Context, fleetID, location string, hosts int32) FleetMetrics {
	return s.fleetMetrics(ctx, fleetID, location, hosts)
}

// RecordEvent records a fleet event.
func (s *Service) RecordEvent(ctx context.Context, fleetID, code, msg string) {
	s.event(ctx, fleetID, code, msg)
}

// Leads tells whether this server does the work one server of a store does for all of
// them (auto scaling): alone on its store it does; among replicas, the live one with the
// lowest ID does.
func (s *Service) Leads(ctx context.Context) bool { return s.leads(ctx) }

// CapacityChanged tells whoever runs the fleet's instances that its desired capacity
// changed: a container fleet's engine, which starts or stops pods. Host agents are
// started by people, so for other fleets there is no one to tell.
func (s *Service) CapacityChanged(f store.Fleet) { s.containersChanged(f) }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Managed tells whether Hoist decides how many instances a fleet has (EC2 and container
// fleets), so that scaling policies apply to it.
func Managed(f store.Fleet) bool { return managed(f) }

// IsContainer tells whether f is a container fleet.
func IsContainer(f store.Fleet) bool { return isContainer(f) }

// LocationOf is the fleet's location named, or nil.
func LocationOf(f *store.Fleet, name string) *store.FleetLocation { return locationOf(f, name) }

// What internal/matchmaking uses of the core, besides Now.

// Queue loads a game session queue by name or ARN; an unknown one is NotFoundException.
func (s *Service) Queue(ctx context.Context, nameOrARN *string) (store.Queue, error) {
	return s.getQueue(ctx, nameOrARN)
}

// StartPlacement stores a new PENDING placement, made by this replica, and has it placed
// as StartGameSessionPlacement's are.
func (s *Service) StartPlacement(ctx context.Context, pl store.Placement) error {
	pl.Replica = s.replicas.id
	if err := s.store.Placements().Create(ctx, gamelift.Value(pl.Model.PlacementId), "", pl); err != nil {
		return err
	}
	s.placer.add(pl)
	s.placer.wake()
	return nil
}

// GameSession loads a game session by ID (ARN); an unknown one is NotFoundException.
func (s *Service) GameSession(ctx context.Context, idOrARN *string) (store.GameSession, error) {
	return s.getSession(ctx, idOrARN)
}

// ReservePlayers adds a RESERVED player session for each player to an ACTIVE session with
// room for all of them, and returns them.
func (s *Service) ReservePlayers(ctx context.Context, sessionID string, playerIDs []string) ([]gamelift.PlayerSession, error) {
	players := make([]newPlayer, len(playerIDs))
	for i, id := range playerIDs {
		players[i] = newPlayer{id: id}
	}
	return s.reservePlayers(ctx, sessionID, players)
}

// SetMatchmakerData replaces a game session's MatchmakerData.
func (s *Service) SetMatchmakerData(ctx context.Context, sessionID, data string) (store.GameSession, error) {
	return s.gameSessions.Update(ctx, sessionID, func(gs *store.GameSession) error {
		gs.Model.MatchmakerData = &data
		return nil
	})
}

// PushSessionUpdate tells the process hosting a session, when this replica holds its
// connection, that the session changed (the SDK's UpdateGameSession, with reason and the
// backfill ticket behind it).
func (s *Service) PushSessionUpdate(ctx context.Context, sessionID, reason, ticketID string) {
	s.pushSessionUpdate(ctx, sessionID, reason, ticketID)
}

// Admit lets one more resource of kind (KindRuleSets, ...) be created, or refuses it with
// LimitExceededException when count finds the kind at its limit. The caller creates the
// resource, then calls release.
func (s *Service) Admit(ctx context.Context, kind string, count func(context.Context) (int, error)) (release func(), err error) {
	return s.admit(ctx, kind, count)
}

// ARN is the ARN of a resource of kind (its ARN resource type) with that ID or name.
func (s *Service) ARN(kind, id string) string { return s.arn(kind, id) }

// CreateTags checks the tags a Create call gives, as TagResource does.
func CreateTags(tags []gamelift.Tag) ([]gamelift.Tag, error) { return createTags(tags) }

// TaggedTable is a table of taggable resources seen through their tags alone, which
// TagResource, UntagResource and ListTagsForResource reach by ARN.
type TaggedTable interface{ taggedTable }

// TagsIn makes a TaggedTable of a table whose records keep their tags where tagsOf points.
func TagsIn[T any](table store.Table[T], tagsOf func(*T) *[]gamelift.Tag) TaggedTable {
	return tagsIn(table, tagsOf, nil)
}

// AddTagged makes the resources of an ARN resource type taggable; it is called before the
// service answers calls.
func (s *Service) AddTagged(kind string, t TaggedTable) { s.tagged[kind] = t }
