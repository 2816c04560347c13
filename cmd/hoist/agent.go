package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hoist-dev/hoist/internal/agent"
	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/metrics"
)

var agentHelp = help{
	name: "hoist agent", purpose: "run a fleet's game server processes on this host, for a Hoist server elsewhere",
	usage:       "--fleet-id ID --compute-name NAME [flags]",
	credentials: serverKeys,
	more: `The agent registers this host in the fleet (RegisterCompute), keeps the fleet's runtime
configuration running here, and on exit (Ctrl-C) drains its processes and deregisters. With
--location custom-... it serves an Anywhere fleet's custom location; with an AWS Region name,
a managed fleet's remote location; without, a managed fleet's home Region.

For a server over TLS with a certificate this host does not trust (a self-signed one), set
AWS_CA_BUNDLE to a copy of it (the server's <data-dir>/tls/cert.pem); the agent's game
server processes inherit it, and Hoist's Go SDK trusts it too.`,
}

// runAgent is ` + "`hoist agent`" + `: this host runs a fleet's processes for a server elsewhere.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hoist agent", flag.ContinueOnError)
	serverURL := fs.String("server", cmp.Or(os.Getenv("AWS_ENDPOINT_URL"), "http://127.0.0.1:9080"), "the Hoist server's API endpoint `URL`, or $AWS_ENDPOINT_URL when set")
	fleetID := fs.String("fleet-id", "", "`ID` of the fleet whose processes this host runs (required)")
	compute := fs.String("compute-name", "", "this host's compute `name` in the fleet (required)")
	location := fs.String("location", "", "`location` this host serves: a custom location (Anywhere fleets) or a remote location (managed fleets); default: the home Region")
	ip := fs.String("ip", "127.0.0.1", "`address` players reach this host's game servers on")
	region := fs.String("region", "us-west-2", "`Region` to sign requests for")
	logDir := fs.String("log-dir", "./hoist-agent/logs", "`directory` where each process's output is kept")
	buildDir := fs.String("build-dir", "./hoist-agent/builds", "`directory` where the fleet's build is unpacked")
	verbose := fs.Bool("v", false, "log at debug level")
	logFormat := logFormatFlag(fs)
	metricsListen := fs.String("metrics-listen", "", "serve this agent's Prometheus metrics (process restarts and crashes) at /metrics on `host:port`, without authentication: keep it on loopback or a private network")
	rest, err := parseFlags(fs, agentHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(agentHelp, rest); err != nil {
		return err
	}
	switch {
	case *fleetID == "" && *compute == "":
		return errors.New("hoist agent: --fleet-id and --compute-name are required (see hoist agent --help)")
	case *fleetID == "":
		return errors.New("hoist agent: --fleet-id is required (see hoist agent --help)")
	case *compute == "":
		return errors.New("hoist agent: --compute-name is required (see hoist agent --help)")
	}
	log, err := newLogger(stderr, *logFormat, *verbose)
	if err != nil {
		return err
	}
	client, _, hc, err := apiClient(*serverURL, *region)
	if err != nil {
		return err
	}
	counters, reg := metrics.NewAgents()
	if *metricsListen != "" {
		stop, err := serveAgentMetrics(*metricsListen, reg, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	err = agent.Run(ctx, agent.Config{
		FleetID: *fleetID, ComputeName: *compute, LogDir: *logDir, BuildDir: *buildDir, UploadLogs: true,
		Logger: log, Counters: counters.For(*fleetID, cmp.Or(*location, *region)),
		Control: &agent.APIControl{Client: client, HTTP: hc, Endpoint: *serverURL, FleetID: *fleetID, ComputeName: *compute,
			Location: *location, IPAddress: *ip},
	})
	return reachable(*serverURL, err)
}

// serveAgentMetrics serves reg at /metrics on addr until stop.
func serveAgentMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("agent: serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}

// apiClient is a GameLift client for a Hoist server, with the keys from the environment,
// and the HTTP client it calls with: one that trusts the certificates in $AWS_CA_BUNDLE
// besides the system's, as AWS clients do.
func apiClient(serverURL, region string) (*gamelift.Client, aws.Credentials, *http.Client, error) {
	creds := aws.Credentials{
		AccessKeyID:     firstSet("HOIST_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
		SecretAccessKey: firstSet("HOIST_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, creds, nil, errors.New("set HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) to the server's keys")
	}
	hc, err := certs.HTTPClient(0)
	if err != nil {
		return nil, creds, nil, err
	}
	client := gamelift.New(gamelift.Options{
		Region: region, BaseEndpoint: aws.String(serverURL), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
	})
	return client, creds, hc, nil
}

func firstSet(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
