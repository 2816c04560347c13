package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Sentinel errors every implementation returns, wrapped or not; compare with errors.Is.
var (
	// ErrNotFound: no record has that key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: Create found a record with that key already.
	ErrExists = errors.New("store: already exists")
	// ErrBadToken: a page token this store did not issue.
	ErrBadToken = errors.New("store: invalid page token")
)

// Store is Hoist's durable state. Every write is durable when the call returns.
type Store interface {
	Locations() Table[Location]
	Fleets() Table[Fleet]
	FleetEvents() Table[gamelift.Event]
	Aliases() Table[Alias]
	Computes() Table[Compute]
	AuthTokens() Table[AuthToken]
	// GameSessions are keyed by game session ID (an ARN), with the fleet ID as parent.
	GameSessions() Table[GameSession]
	Builds() Table[Build]
	// AccessKeys are keyed by access key ID.
	AccessKeys() Table[AccessKey]
	// Queues are game session queues, keyed by name.
	Queues() Table[Queue]
	// Placements are game session placements, keyed by placement ID.
	Placements() Table[Placement]
	// Creators are the recent game session creations of each CreatorId, keyed by
	// fleet ID and CreatorId, for servers that share the store to count them together.
	Creators() Table[Creator]
	// Replicas are the servers sharing this store, keyed by replica ID.
	Replicas() Table[Replica]
	// RuleSets are FlexMatch rule sets, keyed by name.
	RuleSets() Table[RuleSet]
	// MatchConfigs are FlexMatch matchmaking configurations, keyed by name.
	MatchConfigs() Table[MatchConfig]
	// ContainerGroupDefinitions are container group definitions with all their versions,
	// keyed by name, with their ContainerGroupType as parent.
	ContainerGroupDefinitions() Table[ContainerGroupDefinition]
	// Tickets are matchmaking tickets, keyed by ticket ID, with their configuration's name
	// as parent.
	Tickets() Table[Ticket]
	// Processes are the server processes that called ProcessReady and have not ended,
	// keyed by ProcessKey, with the fleet ID as parent.
	Processes() Table[Process]
	Close() error
}

// Table is one kind of record, kept by key. Records may belong to a parent (a compute to
// its fleet), which List can filter on.
type Table[T any] interface {
	// Create stores a new record; ErrExists if the key is taken.
	Create(ctx context.Context, key, parent string, v T) error
	// Get returns the record; ErrNotFound if absent.
	Get(ctx context.Context, key string) (T, error)
	// Update applies fn to the record inside one transaction and stores the result, which
	// it returns. ErrNotFound if absent; an error from fn aborts the update and is returned
	// as is. Concurrent updates of one key are serialized: none is lost. fn may read the
	// store but not write to it.
	Update(ctx context.Context, key string, fn func(*T) error) (T, error)
	// Delete removes the record; ErrNotFound if absent.
	Delete(ctx context.Context, key string) error
	// List returns records in creation order, a page at a time.
	List(ctx context.Context, q Query) (Page[T], error)
}

// Query selects a page of a table.
type Query struct {
	// Parent, when set, keeps only records created with that parent.
	Parent string
	// Limit is the page size; 0 means no limit.
	Limit int
	// Token continues after the page that returned it; "" starts at the beginning.
	Token string
}

// Page is one page of records; Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// Location is a custom location (CreateLocation).
type Location struct {
	Model gamelift.LocationModel
	Tags  []gamelift.Tag `json:",omitempty"`
}

// Fleet is a fleet and everything GameLift reports about it.
type Fleet struct {
	Attributes gamelift.FleetAttributes
	Runtime    gamelift.RuntimeConfiguration
	// InboundPermissions are the fleet's port settings (UpdateFleetPortSettings).
	InboundPermissions []gamelift.IpPermission `json:",omitempty"`
	// Locations holds the home Region first, then remote or custom locations.
	Locations []FleetLocation
	// Tags are the fleet's tags, in the order first set. Each taggable record keeps its own,
	// so they are written with it and go when it does.
	Tags []gamelift.Tag `json:",omitempty"`
	// ScalingPolicies are the fleet's auto scaling policies (PutScalingPolicy), in the
	// order first put. Each is in force in every location of the fleet; Location and
	// Status are not kept.
	ScalingPolicies []gamelift.ScalingPolicy `json:",omitempty"`
	// Container is set for a container fleet (CreateContainerFleet, ComputeType CONTAINER).
	Container *ContainerFleet `json:",omitempty"`
}

// ContainerFleet is what a container fleet adds to a fleet: the container group
// definitions it runs and its deployments. Its status, name and description live in the
// fleet's Attributes.
type ContainerFleet struct {
	// Model holds the container fleet's own settings as last set; Status, FleetId, FleetArn,
	// CreationTime and DeploymentDetails are filled in when it is described.
	Model gamelift.ContainerFleet
	// GameServerVersion and PerInstanceVersion are the definition versions the fleet runs:
	// those of the latest deployment that did not roll back. 0 with no such definition.
	GameServerVersion, PerInstanceVersion int32
	// PortsPerInstance is how many connection ports one instance's pods take.
	PortsPerInstance int32 `json:",omitempty"`
	// Deployments are the fleet's deployments, oldest first; the last is the latest.
	Deployments []ContainerDeployment `json:",omitempty"`
}

// ContainerDeployment is one deployment of a container fleet: the definition versions it
// rolls out, and those it replaces (to roll back to).
type ContainerDeployment struct {
	Model                                 gamelift.FleetDeployment
	GameServerVersion, PerInstanceVersion int32
	// FromGameServerVersion and FromPerInstanceVersion are what ran before it.
	FromGameServerVersion, FromPerInstanceVersion int32
}

// FleetLocation is one location of a fleet with its state and capacity settings.
type FleetLocation struct {
	Name   string
	Status string
	// Desired, Min and Max are the capacity settings (UpdateFleetCapacity), recorded and
	// reported: Hoist does not start or stop hosts.
	Desired         int32
	Min, Max        int32
	ManagedCapacity *gamelift.ManagedCapacityConfiguration `json:",omitempty"`
	// StoppedActions are the fleet actions stopped in this location (StopFleetActions).
	StoppedActions []string `json:",omitempty"`
}

// Alias is a fleet alias.
type Alias struct {
	Model gamelift.Alias
	Tags  []gamelift.Tag `json:",omitempty"`
}

// Compute is a registered compute (an Anywhere host or a managed instance).
type Compute struct {
	Model gamelift.Compute
	// CertificatePath is where the compute keeps its TLS certificate, as registered.
	CertificatePath string `json:",omitempty"`
	// Ports maps a container fleet compute's (a pod's) container ports to the connection
	// ports it is reached at (one connection port per container port number, for TCP and
	// UDP alike). A game server reports its container port in ProcessReady; its sessions
	// get the connection port.
	Ports map[int32]int32 `json:",omitempty"`
}

// AuthToken is a compute auth token handed out by GetComputeAuthToken.
type AuthToken struct {
	Token       string
	FleetID     string
	ComputeName string
	Expires     time.Time
}

// GameSession is a game session, with the players it holds and where it runs.
type GameSession struct {
	Model            gamelift.GameSession
	ProtectionPolicy string
	// ProcessID is the server process hosting the session; ComputeName its host.
	ProcessID   string
	ComputeName string
	// Replica is the server whose process registry holds its process, when several share
	// the store.
	Replica string `json:",omitempty"`
	// PlacementID is the game session placement that made it, if one did.
	PlacementID string `json:",omitempty"`
	// IdempotencyToken is the token (or deprecated GameSessionId) it was created with.
	IdempotencyToken string `json:",omitempty"`
	// LogPaths are the files the process listed, kept for GetGameSessionLogUrl.
	LogPaths []string `json:",omitempty"`
	// LogArchive names the archive of those files made when the session ended.
	LogArchive string `json:",omitempty"`
	// Players are the session's player sessions, oldest first.
	Players []gamelift.PlayerSession `json:",omitempty"`
}

// Build is an uploaded game server build.
type Build struct {
	Model gamelift.Build
	Tags  []gamelift.Tag `json:",omitempty"`
}

// AccessKey is a key pair API callers sign requests with, and what its holder may call.
type AccessKey struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	// Name is unique among keys; the first key is named "admin".
	Name string
	// Allow lists the operations the key may call: names, names ending in * (a prefix), or
	// * for every operation (an admin key).
	Allow        []string
	CreationTime time.Time
}

// Queue is a game session queue.
type Queue struct {
	Model gamelift.GameSessionQueue
	Tags  []gamelift.Tag `json:",omitempty"`
}

// Placement is a game session placement (StartGameSessionPlacement) and what it needs to
// finish: the players to make player sessions for once its session is ACTIVE.
type Placement struct {
	Model gamelift.GameSessionPlacement
	// QueueArn is the queue it was made in; Model has only the queue's name.
	QueueArn       string
	DesiredPlayers []gamelift.DesiredPlayerSession `json:",omitempty"`
	// Replica is the server that tries to place it, when several share the store.
	Replica string `json:",omitempty"`
	// MatchTickets are the matchmaking tickets whose match it places, if FlexMatch made it.
	MatchTickets []string `json:",omitempty"`
}

// Replica is a server sharing the store with others: where the others reach it, and when
// it last said it was alive.
type Replica struct {
	ID        string
	URL       string
	Heartbeat time.Time
}

// Process is a server process that is ready to host game sessions: what a server that did
// not see it call ProcessReady (after a restart, or another replica) needs to know when it
// connects again.
type Process struct {
	FleetID, ComputeName, ProcessID string
	Port                            int32
	LogPaths                        []string `json:",omitempty"`
}

// ProcessKey is the key of a process in Processes: process IDs are unique within their
// fleet and compute only.
func ProcessKey(fleetID, computeName, processID string) string {
	return fmt.Sprintf("%s/%d:%s/%s", fleetID, len(computeName), computeName, processID)
}

// Creator is when a CreatorId made its recent game sessions in a fleet.
type Creator struct {
	Times []time.Time
}

// RuleSet is a FlexMatch rule set.
type RuleSet struct {
	Model gamelift.MatchmakingRuleSet
	Tags  []gamelift.Tag `json:",omitempty"`
}

// MatchConfig is a FlexMatch matchmaking configuration.
type MatchConfig struct {
	Model gamelift.MatchmakingConfiguration
	Tags  []gamelift.Tag `json:",omitempty"`
}

// ContainerGroupDefinition is a container group definition: the versions kept, oldest
// first, and the tags of the definition as a whole.
type ContainerGroupDefinition struct {
	Versions []gamelift.ContainerGroupDefinition
	// LastVersion is the highest version number given out, kept so that a number is never
	// given twice, even once its version is deleted.
	LastVersion int32
	Tags        []gamelift.Tag `json:",omitempty"`
}

// Ticket is a matchmaking ticket, with the match it is in while one is proposed or placed.
type Ticket struct {
	Model gamelift.MatchmakingTicket
	// MatchID names the match the ticket is in (REQUIRES_ACCEPTANCE, PLACING, COMPLETED).
	MatchID string `json:",omitempty"`
	// MatchTickets are all the tickets of that match, this one included.
	MatchTickets []string `json:",omitempty"`
	// Accepted holds the players of the ticket who accepted the proposed match.
	Accepted []string `json:",omitempty"`
	// Rejected holds the players of the ticket who rejected the proposed match, so events tell
	// them from those who have not answered.
	Rejected []string `json:",omitempty"`
	// AcceptBy is when a proposed match's acceptance times out.
	AcceptBy time.Time `json:",omitzero"`
	// MatchmakerData is the match's, as the game server gets it.
	MatchmakerData string `json:",omitempty"`
	// BackfillSession is the game session a backfill ticket finds players for.
	BackfillSession string `json:",omitempty"`
}
