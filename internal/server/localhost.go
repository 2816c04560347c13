package server

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/agent"
)

// LocalComputeName is the compute name of the server's own host in managed fleets.
const LocalComputeName = "hoist-local"

// localAgents runs the embedded host agent: the server's own host is an instance of every
// ACTIVE managed fleet. It talks to the server through the GameLift API, as a host agent
// elsewhere does.
type localAgents struct {
	s        *Server
	client   *gamelift.Client
	ip       string
	logDir   string
	buildDir string
	dataDir  string
	maxLogs  int64

	mu      sync.Mutex
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
}

func (s *Server) startLocalAgents(dataDir string, maxLogs int64) {
	u, _ := url.Parse(s.Endpoint)
	host, _, _ := net.SplitHostPort(u.Host)
	la := &localAgents{
		s: s, ip: host, logDir: filepath.Join(dataDir, "process-logs"), buildDir: filepath.Join(dataDir, "host-builds"),
		dataDir: dataDir, maxLogs: maxLogs,
		running: map[string]context.CancelFunc{},
		client: gamelift.New(gamelift.Options{
			Region: s.Region, BaseEndpoint: aws.String(s.Endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(s.Credentials.AccessKeyID, s.Credentials.SecretAccessKey, ""),
		}),
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
}

// watch starts an agent for each new managed fleet and stops those of deleted fleets.
func (la *localAgents) watch(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		ids, err := la.s.service.ManagedFleets(ctx)
		if err == nil {
			la.sync(ctx, ids)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (la *localAgents) sync(ctx context.Context, ids []string) {
	la.mu.Lock()
	defer la.mu.Unlock()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if _, ok := la.running[id]; ok {
			continue
		}
		actx, cancel := context.WithCancel(ctx)
		la.running[id] = cancel
		la.wg.Add(1)
		go func() {
			defer la.wg.Done()
			err := agent.Run(actx, agent.Config{
				FleetID: id, ComputeName: LocalComputeName, LogDir: la.logDir, BuildDir: la.buildDir, Logger: la.s.log,
				// Its processes' logs go up like any host's: the server reads no game
				// server's files itself, and the agent never archives the server's own.
				UploadLogs: true, MaxLogBytes: la.maxLogs, Private: []string{la.dataDir},
				StopTimeout: 10 * time.Second,
				Control:     &agent.APIControl{Client: la.client, Endpoint: la.s.Endpoint, FleetID: id, ComputeName: LocalComputeName, IPAddress: la.ip},
			})
			if err != nil && actx.Err() == nil {
				la.s.log.Error("local host agent stopped", "fleet", id, "error", err)
			}
			la.mu.Lock()
			delete(la.running, id)
			la.mu.Unlock()
		}()
	}
	for id, cancel := range la.running {
		if !want[id] {
			cancel()
		}
	}
}
