package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/agent"
	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/control"
)

// LocalComputeName is the compute name of the server's own host in managed fleets.
const LocalComputeName = "hoist-local"

// localAgents runs the embedded host agent: the server's own host is an instance of every
// managed fleet, in the home Region and the locations named by Config.LocalLocations. It
// talks to the server through the GameLift API, as a host agent elsewhere does.
type localAgents struct {
	s        *Server
	client   *gamelift.Client
	http     *http.Client
	env      []string // for every process, besides the SDK's variables
	ip       string
	logDir   string
	buildDir string
	serves   []string // locations this host serves
	dataDir  string
	maxLogs  int64
	initWait time.Duration // agent.Config.SDKInitTimeout

	mu      sync.Mutex
	running map[control.FleetLocationRef]context.CancelFunc
	wg      sync.WaitGroup
}

// startLocalAgents runs the embedded host agent. Over TLS it trusts the server's
// self-signed certificate, and tells the processes it launches to (AWS_CA_BUNDLE).
func (s *Server) startLocalAgents(dataDir string, maxLogs int64, locations []string, initWait time.Duration) error {
	u, _ := url.Parse(s.Endpoint)
	host, _, _ := net.SplitHostPort(u.Host)
	hc, err := certs.HTTPClient(0, s.CABundle)
	if err != nil {
		return fmt.Errorf("local host agent: %w", err)
	}
	la := &localAgents{
		s: s, ip: host, logDir: filepath.Join(dataDir, "process-logs"), buildDir: filepath.Join(dataDir, "host-builds"),
		dataDir: dataDir, maxLogs: maxLogs, initWait: initWait, http: hc,
		running: map[control.FleetLocationRef]context.CancelFunc{}, serves: append([]string{s.Region}, locations...),
		client: gamelift.New(gamelift.Options{
			Region: s.Region, BaseEndpoint: aws.String(s.Endpoint), HTTPClient: hc,
			Credentials: credentials.NewStaticCredentialsProvider(s.Credentials.AccessKeyID, s.Credentials.SecretAccessKey, ""),
		}),
	}
	if s.CABundle != "" {
		la.env = []string{certs.EnvCABundle + "=" + s.CABundle}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopAgents = func() {
		cancel()
		la.wg.Wait()
	}
	la.wg.Add(1)
	go func() {
		defer la.wg.Done()
		la.watch(ctx)
	}()
	return nil
}

// watch starts an agent for each fleet location this host serves, and stops those of
// locations no longer activating or active (deleted, say).
func (la *localAgents) watch(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		refs, err := la.s.service.ManagedFleetLocations(ctx)
		if err == nil {
			la.sync(ctx, refs)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// computeName is this host's compute name in a location: one host registers once per
// fleet location it serves.
func (la *localAgents) computeName(location string) string {
	if location == la.s.Region {
		return LocalComputeName
	}
	return LocalComputeName + "-" + location
}

func (la *localAgents) sync(ctx context.Context, refs []control.FleetLocationRef) {
	la.mu.Lock()
	defer la.mu.Unlock()
	want := map[control.FleetLocationRef]bool{}
	for _, ref := range refs {
		if !slices.Contains(la.serves, ref.Location) {
			continue
		}
		want[ref] = true
		if _, ok := la.running[ref]; ok {
			continue
		}
		actx, cancel := context.WithCancel(ctx)
		la.running[ref] = cancel
		la.wg.Add(1)
		go func() {
			defer la.wg.Done()
			name := la.computeName(ref.Location)
			err := agent.Run(actx, agent.Config{
				FleetID: ref.FleetID, ComputeName: name, LogDir: la.logDir, BuildDir: la.buildDir, Logger: la.s.log,
				// Its processes' logs go up like any host's: the server reads no game
				// server's files itself, and the agent never archives the server's own.
				UploadLogs: true, MaxLogBytes: la.maxLogs, Private: []string{la.dataDir},
				StopTimeout: 10 * time.Second, SDKInitTimeout: la.initWait, Counters: la.s.metrics.Agents().For(ref.FleetID, ref.Location), ProcessEnv: la.env,
				Control: &agent.APIControl{Client: la.client, HTTP: la.http, Endpoint: la.s.Endpoint, FleetID: ref.FleetID, ComputeName: name,
					Location: ref.Location, IPAddress: la.ip},
			})
			if err != nil && actx.Err() == nil {
				la.s.log.Error("local host agent stopped", "fleet", ref.FleetID, "location", ref.Location, "error", err)
			}
			la.mu.Lock()
			delete(la.running, ref)
			la.mu.Unlock()
		}()
	}
	for ref, cancel := range la.running {
		if !want[ref] {
			cancel()
		}
	}
}
