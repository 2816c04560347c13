package control

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
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
	id := gamelift.IDOf(idOrARN)
	f, err := s.fleets.Update(ctx, id, fn)
	if err != nil {
		return f, store.NotFoundAs(err, "Fleet %s not found", id)
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
// changed (the FleetListener: a container fleet's engine starts or stops pods). Host
// agents are started by people, so for other fleets there is no one to tell.
func (s *Service) CapacityChanged(f store.Fleet) { s.capacityChanged(f) }

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

// Tagged are the core's taggable resources, by ARN resource type, for TagResource
// (tags.Service.Add). A new taggable resource of the core is one line here.
func (s *Service) Tagged() map[string]tags.Table {
	return map[string]tags.Table{
		"fleet":    tags.InUnless(s.fleets, func(f *store.Fleet) *[]gamelift.Tag { return &f.Tags }, fleetIsTerminated),
		"alias":    tags.In(s.aliases, func(a *store.Alias) *[]gamelift.Tag { return &a.Tags }),
		"location": tags.In(s.store.Locations(), func(l *store.Location) *[]gamelift.Tag { return &l.Tags }),
	}
}

// A TERMINATED fleet still answers Describe calls for a while, but it has no tags to list
// or change: GameLift answers NotFoundException for it.
func fleetIsTerminated(f *store.Fleet) bool {
	return gamelift.Value(f.Attributes.Status) == FleetTerminated
}

// What internal/containers uses of the core, besides Admit and ARN: container fleets are
// fleets the core keeps, whose computes (pods) an engine starts and stops.

// LocationNew is the status of a fleet location that has not begun to activate.
const LocationNew = locationStatusNew

// Compute statuses an engine's computes go through besides PENDING.
const (
	ComputeActive      = computeActive
	ComputeTerminating = computeTerminating
)

// FleetListener is told of changes to fleets that a package above the core acts on: the
// containers package has its engine start and stop a container fleet's pods. Its methods
// are called on the goroutine that made the change and must not block.
type FleetListener interface {
	// CapacityChanged: a fleet's desired instances changed on this server
	// (UpdateFleetCapacity, the auto scaler).
	CapacityChanged(f store.Fleet)
	// FleetChanged: another replica changed the fleet's record.
	FleetChanged(fleetID string)
}

// SetFleetListener sets who is told of fleet changes (none until it is set).
func (s *Service) SetFleetListener(l FleetListener) { s.listener.Store(&l) }

// Region is the home Region of every fleet.
func (s *Service) Region() string { return s.region }

// SDKEndpoint is the WebSocket URL game server processes connect to.
func (s *Service) SDKEndpoint() string { return s.sdkEndpoint }

// AdmitFleet is Admit for one more fleet: fleets count until they are TERMINATED.
func (s *Service) AdmitFleet(ctx context.Context) (release func(), err error) {
	return s.admit(ctx, KindFleets, countAll(s.fleets, liveFleet))
}

// AddFleet stores a new fleet a package above the core made (a container fleet), with
// its status and locations as given. It gives the fleet its ID, ARN and creation time,
// and GameLift's defaults for what it leaves out (protection policy, metric groups,
// certificate configuration, runtime configuration); records FLEET_CREATED; and returns
// the fleet as stored.
func (s *Service) AddFleet(ctx context.Context, f store.Fleet) (store.Fleet, error) {
	id := gamelift.NewID("fleet")
	a := &f.Attributes
	a.FleetId, a.FleetArn, a.CreationTime = &id, gamelift.String(s.arn("fleet", id)), gamelift.At(s.now())
	a.NewGameSessionProtectionPolicy = orDefault(a.NewGameSessionProtectionPolicy, defaultProtectionPolicy)
	if len(a.MetricGroups) == 0 {
		a.MetricGroups = []string{defaultMetricGroup}
	}
	if a.CertificateConfiguration == nil {
		a.CertificateConfiguration = &gamelift.CertificateConfiguration{CertificateType: gamelift.String(defaultCertificateType)}
	}
	runtime, err := withRuntimeDefaults(f.Runtime, gamelift.Value(a.ComputeType))
	if err != nil {
		return f, err
	}
	f.Runtime = runtime
	if err := s.fleets.Create(ctx, id, "", f); err != nil {
		return f, fmt.Errorf("create fleet: %w", err)
	}
	s.event(ctx, id, eventFleetCreated, "Fleet "+id+" created")
	return f, nil
}

// ProtectionPolicyChanged records, as GameLift does, that a fleet's
// NewGameSessionProtectionPolicy is no longer was.
func (s *Service) ProtectionPolicyChanged(ctx context.Context, f store.Fleet, was string) {
	s.protectionPolicyChanged(ctx, f, was)
}

// AwaitReady makes the fleet's locations wait for their first ProcessReady, which makes
// them ACTIVE (and the fleet, with its home Region); see activation.go.
func (s *Service) AwaitReady(fleetID string, locations ...string) { s.awaitReady(fleetID, locations) }

// NewManagedLocation is a new location of a managed fleet (NEW), with GameLift's capacity
// settings for one: one instance desired, at least none, at most one.
func NewManagedLocation(name string) store.FleetLocation { return newManagedLocation(name) }

// InboundPermissions checks a fleet's inbound permissions and returns those to keep.
func InboundPermissions(ps []gamelift.IpPermission) ([]gamelift.IpPermission, error) {
	return inboundPermissions(ps)
}

// CheckPermissions checks the inbound permissions a request member gives.
func CheckPermissions(member string, ps []gamelift.IpPermission) error {
	return checkPermissions(member, ps)
}

// ComputeRecord loads a compute of a fleet by name or ARN, with its port mappings; an
// unknown one is NotFoundException.
func (s *Service) ComputeRecord(ctx context.Context, fleetID string, nameOrARN *string) (store.Compute, error) {
	name := computeName(nameOrARN)
	rec, err := s.store.Computes().Get(ctx, computeKey(fleetID, name))
	if err != nil {
		return rec, store.NotFoundAs(err, "Compute %s not found in fleet %s", name, fleetID)
	}
	return rec, nil
}

// FleetComputes lists a fleet's computes.
func (s *Service) FleetComputes(ctx context.Context, fleetID string) ([]store.Compute, error) {
	page, err := s.store.Computes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	return page.Items, nil
}

// PutCompute records a compute an engine runs (a pod), creating or replacing its record
// (keeping when it was first recorded, and its port mappings when rec has none). Its
// processes get its IpAddress once it has one, and an ACTIVE one is its location's host
// for the fleet's activation. Engine computes count against no compute limit.
func (s *Service) PutCompute(ctx context.Context, rec store.Compute) error {
	return s.putCompute(ctx, rec)
}

// IssueAuthToken makes and keeps an auth token for a compute, good for ttl: a pod may
// wait to be scheduled a while before its game server connects with it.
func (s *Service) IssueAuthToken(ctx context.Context, fleetID, compute string, ttl time.Duration) (string, error) {
	tok, err := s.newAuthToken(ctx, fleetID, compute, ttl)
	return tok.Token, err
}

// CloseCompute lets a compute that is shutting down end well, as GameLift does: its
// processes take no new game sessions, and its game sessions, this server's and the
// ACTIVE ones of any replica, are TERMINATING, to end INTERRUPTED when the game server
// calls ProcessEnding (or when ComputeGone). Its processes stay connected and its auth
// tokens good.
func (s *Service) CloseCompute(ctx context.Context, fleetID, compute string) error {
	return s.closeCompute(ctx, fleetID, compute)
}

// ComputeGone deregisters a compute that is no longer there: its processes are
// forgotten, its game sessions end INTERRUPTED, its auth tokens are revoked.
func (s *Service) ComputeGone(ctx context.Context, fleetID, compute string) error {
	return s.computeGone(ctx, fleetID, compute)
}

// ComputeUses reports what runs on each of a fleet's computes: the processes connected to
// this server (and with replicas, the ready ones the store records for the others), and
// the ACTIVE game sessions, with their protection, on any replica's.
func (s *Service) ComputeUses(ctx context.Context, fleetID string) (map[string]ComputeUse, error) {
	return s.computeUses(ctx, fleetID)
}

// DrainCompute asks a compute's game server processes to end (TerminateProcess), on this
// server or the replica holding them, and stops giving them sessions.
func (s *Service) DrainCompute(fleetID, compute string) { s.drainCompute(fleetID, compute) }

// What internal/buildsvc uses of the core, besides Admit, ARN, Fleet and Now; and what the
// core asks of it.

// AuthorizeCompute checks a host agent's compute auth token: good, and issued to that
// compute of that fleet, which is still registered (UnauthorizedException otherwise).
func (s *Service) AuthorizeCompute(ctx context.Context, token, fleetID, compute string) error {
	_, err := s.checkAuthToken(ctx, token, fleetID, compute)
	return err
}

// BuildReader reads the builds a managed fleet is created with, which a package above the
// core keeps (internal/buildsvc) and internal/server sets with SetBuildReader.
type BuildReader interface {
	// Build loads a build by ID or ARN; an unknown one is NotFoundException.
	Build(ctx context.Context, idOrARN *string) (gamelift.Build, error)
}

// buildReady is GameLift's status of a build whose files are uploaded: only such a build
// makes a fleet.
const buildReady = "READY"

// SetBuildReader sets where the core reads builds. Until it is set, there are none: a
// fleet given a build is refused as a build not found.
func (s *Service) SetBuildReader(r BuildReader) { s.builds.Store(&r) }

// build loads a build by ID or ARN from the BuildReader.
func (s *Service) build(ctx context.Context, idOrARN *string) (gamelift.Build, error) {
	r := s.builds.Load()
	if r == nil {
		return gamelift.Build{}, notFoundf("Build %s not found", gamelift.IDOf(idOrARN))
	}
	return (*r).Build(ctx, idOrARN)
}

// What internal/queues uses of the core, besides Fleet, GameSession, Admit, ARN and Now.

// Alias loads an alias by ID or ARN; an unknown one is NotFoundException.
func (s *Service) Alias(ctx context.Context, idOrARN *string) (gamelift.Alias, error) {
	return s.getAlias(ctx, idOrARN)
}

// AliasFleet loads the fleet an alias routes to: TerminalRoutingStrategyException for a
// TERMINAL alias, NotFoundException for an unknown alias or fleet.
func (s *Service) AliasFleet(ctx context.Context, aliasID *string) (store.Fleet, error) {
	return s.resolveAlias(ctx, aliasID)
}

// SessionRequest is a new game session a placement asks PlaceSession for.
type SessionRequest struct {
	Name, Data, MatchmakerData *string
	MaxPlayers                 int32
	Properties                 []gamelift.GameProperty
	// PlacementID names the placement the session is made for: the Placer is told when
	// the session becomes ACTIVE or ends.
	PlacementID string
	// CapacitySince, when not 0, refuses capacity that appeared after that
	// CapacityGeneration: PlaceSession fails with ErrCapacityChanged then.
	CapacitySince uint64
}

// ErrCapacityChanged is PlaceSession's error when capacity appeared since the request's
// CapacitySince.
var ErrCapacityChanged = errCapacityChanged

// CapacityGeneration counts the moments capacity may have appeared on this replica (the
// moments the Placer is told CapacityFreed), from 1.
func (s *Service) CapacityGeneration() uint64 { return s.procs.generation() }

// PlaceSession makes a new game session, with an ID of its own, on a free process of the
// fleet location, this replica's or else another's, and tells the process to start it.
// FleetCapacityExceededException when no process there is free.
func (s *Service) PlaceSession(ctx context.Context, f store.Fleet, location string, req SessionRequest, now time.Time) (store.GameSession, error) {
	return s.placeSession(ctx, f, location, sessionSpec{
		id: s.sessionARN(gamelift.Value(f.Attributes.FleetId), "gsess-"+uuid.NewString()), name: req.Name, data: req.Data,
		matchmakerData: req.MatchmakerData, maxPlayers: req.MaxPlayers, properties: req.Properties,
		placementID: req.PlacementID, capacitySince: req.CapacitySince,
	}, now)
}

// EndSession ends a game session PlaceSession made that is not wanted after all (its
// placement ended meanwhile): TERMINATED, and its process is asked to end.
func (s *Service) EndSession(ctx context.Context, gs store.GameSession) {
	s.endSession(ctx, gamelift.Value(gs.Model.GameSessionId), "")
	s.askProcessToEnd(keyOf(gs))
}

// ReserveDesiredPlayers is ReservePlayers for players given with their PlayerData (a
// placement's DesiredPlayerSessions).
func (s *Service) ReserveDesiredPlayers(ctx context.Context, sessionID string, desired []gamelift.DesiredPlayerSession) ([]gamelift.PlayerSession, error) {
	players := make([]newPlayer, len(desired))
	for i, d := range desired {
		players[i] = newPlayer{id: gamelift.Value(d.PlayerId), data: gamelift.Value(d.PlayerData)}
	}
	return s.reservePlayers(ctx, sessionID, players)
}

// ReplicaID is this server's ID among the replicas sharing its store.
func (s *Service) ReplicaID() string { return s.replicas.id }

// LiveReplicas returns the IDs of the replicas alive now, this one included; nil when
// this server is alone on its store.
func (s *Service) LiveReplicas(ctx context.Context) (map[string]bool, error) {
	if !s.replicated() {
		return nil, nil
	}
	return s.liveReplicas(ctx)
}
