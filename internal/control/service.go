package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hoist-dev/hoist/internal/background"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/sessionindex"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/cache"
)

// AccountID is the AWS account ID in every ARN Hoist issues. Hoist has one tenant, so
// the ID is fixed; it is the ID AWS documents as its example account.
const AccountID = "123456789012"

// Clock tells the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Config holds what a Service needs.
type Config struct {
	Store store.Store
	// Region is the home Region of every fleet; it appears in every ARN.
	Region string
	// SDKEndpoint is the WebSocket URL game server processes connect to
	// (RegisterCompute's GameLiftServiceSdkEndpoint).
	SDKEndpoint string
	// AuthTokenTTL is how long a compute auth token is valid; 15 minutes when zero.
	AuthTokenTTL time.Duration
	// HeartbeatTimeout is how long a connected process may stay silent; 90 s when zero.
	HeartbeatTimeout time.Duration
	// ReconnectGrace is how long a disconnected process is kept for its reconnect; 30 s when zero.
	ReconnectGrace time.Duration
	// SweepInterval is how often those limits are checked; 5 s when zero.
	SweepInterval time.Duration
	// FleetActivationTimeout is how long the hosts of a managed fleet location have, from
	// the first one registering, to start a process that calls ProcessReady before the
	// location goes to ERROR; 5 minutes when zero.
	FleetActivationTimeout time.Duration
	// DeletionGrace is how long the processes of a fleet (or location) being deleted have
	// to end after they are told to, before they are disconnected; 30 s when zero.
	DeletionGrace time.Duration
	// LogDir keeps game session log archives; LogURL is where they are downloaded from
	// (the prefix served by LogArchives). Without LogDir, no logs are kept.
	LogDir, LogURL string
	// MaxSessionLogBytes bounds the log content a host agent uploads for one game
	// session; DefaultMaxSessionLogBytes when zero.
	MaxSessionLogBytes int64
	// MaxComputes bounds the computes (hosts) registered at once across all fleets;
	// DefaultMaxComputes when zero. DescribeEC2InstanceLimits reports it as the limit.
	MaxComputes int
	// MaxResources bounds how many resources of each kind (ResourceKinds; "*" for every
	// kind not named) may exist at once; DefaultMaxResources for a kind not given.
	MaxResources map[string]int
	// Peers, when set, reaches the other replicas sharing Store: this replica records
	// itself as ReplicaID at ReplicaURL and places sessions on the others' processes when
	// it has none free. Nil for a server alone on its store.
	Peers                 Peers
	ReplicaID, ReplicaURL string
	Clock                 Clock
	Logger                *slog.Logger
}

// Service answers the GameLift operations.
type Service struct {
	store   store.Store
	fleets  *cache.Table[store.Fleet] // read on every CreateGameSession: kept in memory
	aliases *cache.Table[store.Alias]
	// gameSessions is the store's table of game sessions; its writes keep searchIndex.
	gameSessions *indexedSessions
	searchIndex  *sessionindex.Index
	region       string
	sdkEndpoint  string
	tokenTTL     time.Duration
	clock        Clock
	log          *slog.Logger

	logDir, logURL     string
	maxSessionLogBytes int64
	maxComputes        int
	registerMu         sync.Mutex // one RegisterCompute at a time counts and adds
	limits             resourceLimits

	listener atomic.Pointer[FleetListener] // told of fleet changes (SetFleetListener)
	builds   atomic.Pointer[BuildReader]   // reads the builds fleets run (SetBuildReader)
	replicas replicas
	// placerHook tells game session placements what they follow (SetPlacer), matchHooks
	// FlexMatch matchmaking (SetMatchmaker).
	placerHook placerHook
	matchHooks matchHooks

	procs                            processes
	acts                             activations
	activationTimeout, deletionGrace time.Duration
	heartbeatTimeout                 time.Duration
	reconnectGrace                   time.Duration

	creatorsMu sync.Mutex
	creators   map[string][]time.Time // fleet/creator -> recent creations

	playersMu sync.Mutex
	players   playerIndex

	eventsMu     sync.Mutex
	eventBudgets map[string]*eventBudget // fleet/compute -> what its agent may still report
	eventTrims   eventTrims              // keeps each fleet's events bounded

	// bg runs the background work (fleet provisioning, the sweeps, replica heartbeats);
	// Close waits for it.
	bg *background.Group
}

// New returns a Service and resumes work an earlier run left unfinished (fleets still
// being provisioned).
func New(ctx context.Context, c Config) (*Service, error) {
	if c.Store == nil || c.Region == "" {
		return nil, errors.New("control: Store and Region are required")
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AuthTokenTTL == 0 {
		c.AuthTokenTTL = 15 * time.Minute
	}
	c.HeartbeatTimeout = cmp.Or(c.HeartbeatTimeout, defaultHeartbeatTimeout)
	c.ReconnectGrace = cmp.Or(c.ReconnectGrace, defaultReconnectGrace)
	c.SweepInterval = cmp.Or(c.SweepInterval, DefaultSweepInterval)
	c.FleetActivationTimeout = cmp.Or(c.FleetActivationTimeout, defaultFleetActivationTimeout)
	c.DeletionGrace = cmp.Or(c.DeletionGrace, defaultDeletionGrace)
	bg := background.New(ctx)
	s := &Service{
		store: c.Store, fleets: cache.New(c.Store.Fleets()), aliases: cache.New(c.Store.Aliases()), region: c.Region, sdkEndpoint: c.SDKEndpoint, tokenTTL: c.AuthTokenTTL,
		clock: c.Clock, log: c.Logger, bg: bg, logDir: c.LogDir, logURL: c.LogURL,
		maxSessionLogBytes: cmp.Or(c.MaxSessionLogBytes, DefaultMaxSessionLogBytes),
		maxComputes:        cmp.Or(c.MaxComputes, DefaultMaxComputes),
		limits:             newResourceLimits(c.MaxResources),
		procs:              newProcesses(),
		replicas:           replicas{id: c.ReplicaID, url: c.ReplicaURL, peers: c.Peers},
		acts:               activations{waiting: map[fleetLocationKey]*waitingLocation{}},
		activationTimeout:  c.FleetActivationTimeout, deletionGrace: c.DeletionGrace,
		creators:         map[string][]time.Time{},
		players:          playerIndex{sessionOf: map[string]string{}, reserved: map[string]time.Time{}},
		eventBudgets:     map[string]*eventBudget{},
		heartbeatTimeout: c.HeartbeatTimeout, reconnectGrace: c.ReconnectGrace,
	}
	s.searchIndex = sessionindex.New()
	s.gameSessions = newIndexedSessions(c.Store.GameSessions(), s.searchIndex, c.Logger)
	s.procs.freed = s.capacityFreed
	if err := s.resumeProvisioning(ctx); err != nil {
		bg.Close()
		return nil, err
	}
	if err := s.restoreSessions(ctx); err != nil {
		bg.Close()
		return nil, err
	}
	if err := s.runReplicaHeartbeat(ctx); err != nil {
		bg.Close()
		return nil, err
	}
	s.followChanges()
	s.watchProcesses(c.SweepInterval)
	return s, nil
}

// Close stops background work, closes every process connection, and waits.
func (s *Service) Close() {
	s.bg.Stop()
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.peer != nil {
			p.peer.Close("server shutting down")
		}
	}
	s.procs.mu.Unlock()
	s.bg.Wait()
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// fleetListener is who SetFleetListener set, or nil.
func (s *Service) fleetListener() FleetListener {
	if l := s.listener.Load(); l != nil {
		return *l
	}
	return nil
}

func (s *Service) arn(kind, id string) string {
	return fmt.Sprintf("arn:aws:gamelift:%s:%s:%s/%s", s.region, AccountID, kind, id)
}

// nonNil is paging.NonNil: an empty list encodes as [].
func nonNil[T any](s []T) []T { return paging.NonNil(s) }

func invalidf(format string, args ...any) error  { return gamelift.InvalidRequest(format, args...) }
func notFoundf(format string, args ...any) error { return gamelift.NotFound(format, args...) }
