package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"k8s.io/client-go/rest"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/buildsvc"
	"github.com/hoist-dev/hoist/internal/connlimit"
	"github.com/hoist-dev/hoist/internal/console"
	"github.com/hoist-dev/hoist/internal/containers"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/kube"
	"github.com/hoist-dev/hoist/internal/matchmaking"
	"github.com/hoist-dev/hoist/internal/metrics"
	"github.com/hoist-dev/hoist/internal/queues"
	"github.com/hoist-dev/hoist/internal/scaling"
	"github.com/hoist-dev/hoist/internal/sdkhost"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
	"github.com/hoist-dev/hoist/internal/webhook"
)

// Config describes a server to start.
type Config struct {
	// Addr is the host:port to listen on; port 0 picks a free one.
	Addr string
	// TLS, when set, serves everything on Addr over TLS (https:// and wss://) instead of
	// plain HTTP.
	TLS *TLSConfig
	// DataDir holds the generated credentials, builds and game session logs, and the
	// SQLite database unless Store names another.
	DataDir string
	// Store is the URL of the database state is kept in: postgres://... (or postgresql://)
	// for PostgreSQL; empty for SQLite in DataDir.
	Store string
	// AdvertiseURL is where the other replicas on a shared store reach this server's API;
	// its own listening address when empty.
	AdvertiseURL string
	// SDKEndpoint is the ws:// or wss:// URL computes are told to connect their processes to
	// (RegisterCompute's GameLiftServiceSdkEndpoint): with replicas, the load balancer's or
	// DNS name's; this server's own when empty.
	SDKEndpoint string
	// Region is the home Region of every fleet and appears in every ARN.
	Region string
	// Credentials, when set, are an admin key pair, always accepted; otherwise the pair
	// kept in DataDir is the first admin key, made on first start. Other keys are made
	// with the hoist:CreateAccessKey operation (hoist keys create) and kept in the store.
	Credentials Credentials
	// EventWebhooks receive game session placement events (what GameLift sends a queue's
	// SNS topic); none are sent when empty.
	EventWebhooks []webhook.Target
	// RateLimits are per-key rate limits on API calls (access.ParseLimits); none when zero.
	RateLimits access.Limits
	// Clock is the service's clock; the system clock when nil.
	Clock  control.Clock
	Logger *slog.Logger
	// Process timing (see control.Config); zero values take GameLift's.
	HeartbeatTimeout, ReconnectGrace, SweepInterval time.Duration
	// MetricsAddr, when set, is a host:port to serve the Prometheus metrics on without
	// authentication, for a private network or loopback; on the main listener they need
	// an access key allowed MetricsOperation.
	MetricsAddr string
	// NoLocalAgent stops the server's own host from running managed fleets' processes.
	NoLocalAgent bool
	// LocalLocations are the remote locations (AWS Region names) whose managed fleet
	// processes the server's own host runs too; it always serves the home Region.
	LocalLocations []string
	// SDKInitTimeout is how long a process the server's own host launches has to connect
	// (InitSDK) before it is stopped; 5 minutes when zero (agent.Config.SDKInitTimeout).
	SDKInitTimeout time.Duration
	// FleetActivationTimeout and DeletionGrace: see control.Config; zero takes the defaults.
	FleetActivationTimeout, DeletionGrace time.Duration

	// Limits on what peers, authenticated or not, can hold; zero values take the defaults.
	//
	// BodyBudget bounds the memory all request bodies being read take together, in bytes
	// (DefaultBodyBudget); it must hold one largest body (awsproto.MaxBodyBytes).
	BodyBudget int64
	// MaxConns bounds the open HTTP connections (DefaultMaxConns); MaxSDKConns those
	// upgraded to the SDK's WebSocket, each a game server process (DefaultMaxSDKConns).
	MaxConns, MaxSDKConns int
	// MaxSessionLogBytes bounds one game session's log archive; 64 MiB when zero.
	MaxSessionLogBytes int64
	// MaxComputes bounds the computes (hosts) registered at once across all fleets;
	// control.DefaultMaxComputes when zero.
	MaxComputes int
	// MaxResources bounds the resources of each kind that may exist at once (fleets,
	// builds, aliases, ...: control.ResourceKinds, "*" for all not named);
	// control.DefaultMaxResources for a kind not given.
	MaxResources map[string]int

	// ConsoleSecureCookies marks the web console's session cookie Secure on plain HTTP
	// too: for a console reached through a proxy that terminates TLS.
	ConsoleSecureCookies bool
	// ConsoleSessionTTL is how long a console sign-in lasts; console.DefaultSessionTTL
	// when zero.
	ConsoleSessionTTL time.Duration
	// ConsoleTrustedProxies are the proxies (a TLS terminator, a load balancer) whose
	// X-Forwarded-For names a console sign-in's address, which failed sign-ins are counted
	// by; from other peers the header is ignored.
	ConsoleTrustedProxies []netip.Prefix
	// Kubernetes, when set, runs container fleets as pods on that cluster.
	Kubernetes *KubernetesConfig
}

// TLSConfig is the certificate the server serves TLS with: files given, or a self-signed
// one kept in the data directory.
type TLSConfig struct {
	// CertFile and KeyFile are PEM files: the certificate chain and its private key.
	CertFile, KeyFile string
	// SelfSigned, without the files, makes a self-signed certificate for the listening
	// host, loopback and this machine's name (and the hosts of AdvertiseURL, SDKEndpoint
	// and the Kubernetes SDKEndpoint), kept in DataDir/tls and reused across restarts.
	SelfSigned bool
}

// KubernetesConfig is where and how the Kubernetes engine runs container fleets.
type KubernetesConfig struct {
	REST      *rest.Config
	Namespace string
	// SDKEndpoint is the Server SDK's URL as pods reach this server; the server's own SDK
	// endpoint when empty.
	SDKEndpoint string
	// QPS and Burst bound the engine's API requests; kube.DefaultQPS and DefaultBurst when zero.
	QPS   float32
	Burst int
	// Resync and DrainGrace: see kube.Config.
	Resync, DrainGrace time.Duration
}

// Defaults of the limits in Config.
const (
	DefaultBodyBudget  = awsproto.DefaultBudget
	DefaultMaxConns    = 1024
	DefaultMaxSDKConns = 8192
)

// Timeouts of the HTTP server. A body has its own deadline, moved ahead as an
// authenticated upload keeps coming; a WebSocket has none once upgraded (net/http clears
// the deadlines of a hijacked connection).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = awsproto.DefaultBodyTimeout
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	// logDownloadTimeout bounds sending a game session's log archive (256 MiB at most).
	logDownloadTimeout = 10 * time.Minute
)

// Server is a running Hoist control plane.
type Server struct {
	// Endpoint is the http:// (https:// with TLS) URL AWS clients use.
	Endpoint string
	// SDKEndpoint is the ws:// (wss:// with TLS) URL game server processes connect to.
	SDKEndpoint string
	// CABundle is the self-signed certificate's PEM file, which clients trust the server
	// by (AWS_CA_BUNDLE); "" without one.
	CABundle string
	// Credentials is the key pair clients sign with.
	Credentials Credentials
	// CreatedCredentials tells whether the key pair was made by this start.
	CreatedCredentials bool
	// Region is the Region clients should sign for.
	Region string
	// MetricsEndpoint is the http:// URL of the unauthenticated metrics listener
	// (Config.MetricsAddr), or "".
	MetricsEndpoint string
	// ConsoleURL is the web console's address.
	ConsoleURL string

	http        *http.Server
	metricsHTTP *http.Server // nil without Config.MetricsAddr
	metrics     *metrics.Server
	service     *control.Service
	scaling     *scaling.Service
	matchmaking *matchmaking.Service
	containers  *containers.Service
	queues      *queues.Service
	log         *slog.Logger
	stopAgents  func()
	stopEvents  func()
	stopEngine  func()       // nil without the Kubernetes engine
	kube        *kube.Client // the engine's client, nil without it
	closeOnce   sync.Once
	closeErr    error
	store       store.Store
	done        chan error
}

// Start opens the data directory, listens on cfg.Addr and serves until Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-west-2"
	}
	cfg.BodyBudget = cmp.Or(cfg.BodyBudget, DefaultBodyBudget)
	cfg.MaxConns = cmp.Or(cfg.MaxConns, DefaultMaxConns)
	cfg.MaxSDKConns = cmp.Or(cfg.MaxSDKConns, DefaultMaxSDKConns)
	if cfg.BodyBudget < awsproto.MaxBodyBytes {
		return nil, fmt.Errorf("body budget of %d bytes cannot hold one request body of %d bytes", cfg.BodyBudget, awsproto.MaxBodyBytes)
	}
	if cfg.MaxConns < 0 || cfg.MaxSDKConns < 0 {
		return nil, errors.New("connection caps must be positive")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	creds, created, given := cfg.Credentials, false, cfg.Credentials.AccessKeyID != ""
	if !given {
		var err error
		if creds, created, err = loadOrCreateCredentials(cfg.DataDir); err != nil {
			return nil, err
		}
	}

	tcp, err := connlimit.Listen(ctx, cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	addr := advertised(tcp.Addr().(*net.TCPAddr))
	tlsConf, caBundle, err := serverTLS(cfg, time.Now())
	if err != nil {
		tcp.Close()
		return nil, err
	}
	ln := connlimit.NewListener(tcp, cfg.MaxConns, cfg.MaxSDKConns)
	var served net.Listener = ln
	httpScheme, wsScheme := "http://", "ws://"
	if tlsConf != nil {
		served = tls.NewListener(ln, tlsConf)
		httpScheme, wsScheme = "https://", "wss://"
	}
	var refused atomic.Int64
	ln.OnRefuse(func() {
		if refused.Add(1)%1000 == 1 { // a line per thousand, not a line per connection
			cfg.Logger.Warn("refusing connections: every HTTP connection has a request under way", "max_conns", cfg.MaxConns, "refused", refused.Load())
		}
	})

	st, err := openStore(ctx, cfg.Store, cfg.DataDir)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Each server has a registry of its own, so servers sharing a process (tests) do not
	// count into each other's.
	var svc *control.Service
	var kubeClient *kube.Client // set below with --kubernetes, before anything scrapes
	met := metrics.NewServer(metrics.Source{
		Census:         func() control.Census { return svc.Census() },
		SDKConnections: func() int { return ln.Open(connlimit.Upgraded) },
		KubernetesRequests: func() int64 {
			if kubeClient == nil {
				return 0
			}
			return kubeClient.Requests()
		},
	})
	if o, ok := st.(interface{ ObserveCommits(func(time.Duration)) }); ok {
		o.ObserveCommits(met.CommitObserver(storeKind(cfg.Store)))
	}
	keys, err := openKeys(ctx, st, creds, given, cfg)
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	// On a shared store the server is one of several replicas: it records itself there,
	// and places sessions on the others' processes when it has none free.
	var peers control.Peers
	replicaID, replicaURL := uuid.NewString(), cmp.Or(cfg.AdvertiseURL, httpScheme+addr)
	if cfg.Store != "" {
		key, err := keys.Named(ctx, replicaKeyName, []string{replicaOpAllow})
		if err != nil {
			st.Close()
			ln.Close()
			return nil, err
		}
		if peers, err = newPeerClient(key, cfg.Region, caBundle); err != nil {
			st.Close()
			ln.Close()
			return nil, err
		}
	}
	sdkEndpoint := cmp.Or(cfg.SDKEndpoint, wsScheme+addr)
	var events queues.Events
	var sender *webhook.Sender
	if len(cfg.EventWebhooks) > 0 {
		sender = webhook.New(cfg.EventWebhooks, webhook.Options{Logger: cfg.Logger})
		events = sender
	}
	var engine *kube.Engine
	if k := cfg.Kubernetes; k != nil {
		if kubeClient, err = kube.NewClient(k.REST, cmp.Or(k.QPS, kube.DefaultQPS), cmp.Or(k.Burst, kube.DefaultBurst)); err != nil {
			st.Close()
			ln.Close()
			return nil, err
		}
		engine = kube.New(kube.Config{
			Client: kubeClient, Namespace: cmp.Or(k.Namespace, "default"), SDKEndpoint: cmp.Or(k.SDKEndpoint, sdkEndpoint),
			Logger: cfg.Logger, Resync: k.Resync, DrainGrace: k.DrainGrace,
		})
	}
	svc, err = control.New(ctx, control.Config{
		Store: st, Region: cfg.Region, SDKEndpoint: sdkEndpoint, Clock: cfg.Clock, Logger: cfg.Logger,
		Peers: peers, ReplicaID: replicaID, ReplicaURL: replicaURL,
		LogDir: filepath.Join(cfg.DataDir, "logs"), LogURL: httpScheme + addr + logsPath, MaxSessionLogBytes: cfg.MaxSessionLogBytes,
		MaxComputes: cfg.MaxComputes, MaxResources: cfg.MaxResources,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ReconnectGrace: cfg.ReconnectGrace, SweepInterval: cfg.SweepInterval,
		FleetActivationTimeout: cfg.FleetActivationTimeout, DeletionGrace: cfg.DeletionGrace,
	})
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	stopEvents := func() {}
	if sender != nil {
		stopEvents = sender.Close
	}
	// Signatures are checked against the wall clock, which clients sign with; the
	// injected clock drives the service's own rules.
	budget := awsproto.NewBudget(cfg.BodyBudget, awsproto.DefaultBudgetWait)
	// Queues and placements: the core places their sessions and tells them (its Placer)
	// when capacity may have freed, a placement's session changed or a replica stopped.
	placements, err := queues.New(ctx, queues.Config{Core: svc, Store: st, Events: events, Observer: met, Region: cfg.Region,
		Interval: cmp.Or(cfg.SweepInterval, control.DefaultSweepInterval), Logger: cfg.Logger})
	if err != nil {
		svc.Close()
		stopEvents()
		st.Close()
		ln.Close()
		return nil, err
	}
	svc.SetPlacer(placements)
	autoScaler := scaling.New(svc, cfg.Logger, cmp.Or(cfg.SweepInterval, control.DefaultSweepInterval))
	matcher := matchmaking.New(matchmaking.Config{Core: svc, Queues: placements, Store: st, Events: events, Region: cfg.Region,
		Interval: cmp.Or(cfg.SweepInterval, control.DefaultSweepInterval), Logger: cfg.Logger})
	svc.SetMatchmaker(matcher)
	placements.SetMatchmaker(matcher)
	// Container definitions and fleets: the core tells them when a fleet's capacity
	// changes or another replica changed a fleet, and they tell the engine.
	var containerEngine containers.Engine
	if engine != nil {
		containerEngine = engine
	}
	ctr := containers.New(containers.Config{Core: svc, Definitions: st.ContainerGroupDefinitions(), Engine: containerEngine})
	svc.SetFleetListener(ctr)
	// Builds: the core reads them when a managed fleet is created; their archives are
	// uploaded to and downloaded from buildDir (buildFiles).
	buildDir := filepath.Join(cfg.DataDir, "builds")
	bld := buildsvc.New(buildsvc.Config{Core: svc, Builds: st.Builds(), Archives: buildsvc.Dir(buildDir)})
	svc.SetBuildReader(bld)
	// Tags: every owner of taggable resources hands over its kinds.
	tagger := tags.New(tags.Config{Region: cfg.Region, Account: control.AccountID})
	for _, tagged := range []map[string]tags.Table{svc.Tagged(), placements.Tagged(), matcher.Tagged(), ctr.Tagged(), bld.Tagged()} {
		for kind, t := range tagged {
			tagger.Add(kind, t)
		}
	}
	api := awsproto.New(operations(services{core: svc, scaling: autoScaler, matchmaking: matcher, containers: ctr, builds: bld, queues: placements, tags: tagger}, keys), keys, awsproto.Options{Logger: cfg.Logger, Budget: budget, Observe: met.ObserveRequest})
	scrape := metricsHandler(met.Registry, cfg.Logger)
	authScrape := authenticated(keys, scrape)

	sdk := sdkhost.New(svc, cfg.Logger)
	// One listener: WebSocket upgrades are game server processes, the rest is the API.
	logs := http.StripPrefix(logsPath, svc.LogArchives())
	web := console.New(console.Config{Service: svc, Queues: placements, Keys: keys, SecureCookies: cfg.ConsoleSecureCookies,
		SessionTTL: cfg.ConsoleSessionTTL, TrustedProxies: cfg.ConsoleTrustedProxies, Logger: cfg.Logger})
	buildFiles := buildFiles{svc: bld, api: api, dir: buildDir, log: cfg.Logger}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case sdkhost.IsUpgrade(r):
			// A process's connection counts against the SDK's cap, not the API's.
			if !ln.Upgrade(r.Context()) {
				http.Error(w, "too many game server processes are connected", http.StatusServiceUnavailable)
				return
			}
			// A refused upgrade does not keep the connection (accepted, the WebSocket's
			// own Connection header replaces this one).
			w.Header().Set("Connection", "close")
			sdk.ServeHTTP(w, r)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, logsPath):
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(logDownloadTimeout))
			logs.ServeHTTP(w, r)
		case r.Method == http.MethodPost && r.URL.Path == AgentPath:
			serveAgentCall(w, r, svc, budget, cfg.Logger)
		case r.Method == http.MethodPut && r.URL.Path == AgentLogsPath:
			serveAgentLogs(w, r, svc, cfg.Logger)
		case r.URL.Path == console.Path || strings.HasPrefix(r.URL.Path, console.Path+"/"):
			web.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, builds.UploadPath):
			buildFiles.ServeHTTP(w, r)
		case r.URL.Path == MetricsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			authScrape.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
	s := &Server{
		Endpoint: httpScheme + addr, ConsoleURL: httpScheme + addr + console.Path + "/", SDKEndpoint: sdkEndpoint, CABundle: caBundle, Credentials: creds, CreatedCredentials: created, Region: cfg.Region,
		service: svc, scaling: autoScaler, matchmaking: matcher, queues: placements, containers: ctr, metrics: met, store: st, stopEvents: stopEvents, done: make(chan error, 1), log: cfg.Logger, stopAgents: func() {},
		http: &http.Server{
			Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout,
			ConnState: ln.ConnState, ConnContext: ln.ConnContext, Protocols: http1Only(),
			ErrorLog: httpErrorLog(cfg.Logger),
		},
	}
	if cfg.MetricsAddr != "" {
		addr, err := s.serveMetrics(cfg.MetricsAddr, scrape)
		if err != nil {
			matcher.Close()
			placements.Close()
			autoScaler.Close()
			svc.Close()
			stopEvents()
			st.Close()
			ln.Close()
			return nil, fmt.Errorf("metrics listener on %s: %w", cfg.MetricsAddr, err)
		}
		s.MetricsEndpoint = "http://" + addr
	}
	if err := recordReach(cfg.DataDir, Reach{Endpoint: s.Endpoint, CABundle: caBundle}); err != nil {
		cfg.Logger.Warn("hoist keys will not know this server's endpoint", "error", err)
	}
	go func() {
		err := s.http.Serve(served)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	if !cfg.NoLocalAgent {
		if err := s.startLocalAgents(cfg.DataDir, cfg.MaxSessionLogBytes, cfg.LocalLocations, cfg.SDKInitTimeout); err != nil {
			s.Close(ctx)
			return nil, err
		}
	}
	if engine != nil {
		s.kube = kubeClient
		ectx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		s.stopEngine = func() { stop(); <-done }
		go func() {
			defer close(done)
			if err := engine.Run(ectx, ctr); err != nil {
				cfg.Logger.Error("kubernetes engine stopped", "error", err)
			}
		}()
	}
	return s, nil
}

// openKeys opens the access keys kept in st. The first start stores creds as the admin
// key; a key pair given in the configuration is made sure to be an admin key at every
// start, while one kept in the data directory is not brought back once deleted (rotated
// away with hoist keys delete).
func openKeys(ctx context.Context, st store.Store, creds Credentials, given bool, cfg Config) (*access.Keyring, error) {
	first := store.AccessKey{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}
	keys, err := access.Open(ctx, access.Config{
		Keys: st.AccessKeys(), Operations: operationNames(), Limits: cfg.RateLimits,
		Account: control.AccountID, Logger: cfg.Logger,
	}, first)
	if err != nil {
		return nil, err
	}
	if given {
		return keys, keys.Ensure(ctx, first)
	}
	if _, ok := keys.Secret(creds.AccessKeyID); !ok {
		cfg.Logger.Warn("the key pair in the data directory was deleted: sign with a key made by hoist keys create", "access_key_id", creds.AccessKeyID,
			"file", filepath.Join(cfg.DataDir, credentialsFile))
	}
	return keys, nil
}

// logsPath is where game session log archives are downloaded (GetGameSessionLogUrl).
const logsPath = "/logs/"

// advertised is the address clients reach a listener on: a wildcard listener is
// reached on loopback.
func advertised(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	}
	return a.String()
}

// Done is closed with the serve error (nil after Close) when the server stops serving.
func (s *Server) Done() <-chan error { return s.done }

// Close drains the local host's processes, stops accepting requests, lets those under
// way finish (until ctx ends), then stops background work and closes the store. Closing
// twice is harmless.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopAgents() // the local host's processes end first, while the server still answers
		if s.stopEngine != nil {
			s.stopEngine() // pods stay: a restarted server adopts them
		}
		err := s.http.Shutdown(ctx)
		if s.metricsHTTP != nil {
			err = errors.Join(err, s.metricsHTTP.Shutdown(ctx))
		}
		s.matchmaking.Close()
		s.queues.Close()
		s.scaling.Close()
		s.service.Close()
		s.stopEvents()
		s.closeErr = errors.Join(err, s.store.Close())
	})
	return s.closeErr
}

// KubernetesRequests counts the Kubernetes API requests the engine has sent; 0 without it.
func (s *Server) KubernetesRequests() int64 {
	if s.kube == nil {
		return 0
	}
	return s.kube.Requests()
}
