// Command hoist is a self-hosted game server hosting service that speaks Amazon
// GameLift's APIs.
//
//	hoist quickstart [--addr 127.0.0.1:9080]
//	hoist server [--addr 127.0.0.1:9080] [--tls-self-signed | --tls-cert FILE --tls-key FILE] [--data-dir ./hoist-data] [--store postgres://...] [--region us-west-2] [--metrics-listen ADDR] [--log-format text|json] [--console-secure-cookies] [--kubernetes [--kubeconfig FILE]] [...]
//	hoist agent --server URL --fleet-id ID --compute-name NAME [--location L] [--ip ADDR] [--metrics-listen ADDR]
//	hoist status [--endpoint URL]
//	hoist build upload [--server URL] --name NAME [--build-version V] DIR
//	hoist keys [--data-dir ./hoist-data]
//	hoist bench [--procs N] [--sessions N] [--clients C] [--fleets F] [--endpoint URL]
//	hoist version
//
// hoist <command> --help tells each command's flags.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/kube"
	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/webhook"
)

const version = "0.1.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hoist:", err)
		os.Exit(1)
	}
}

const usage = `hoist: a self-hosted game server hosting service that speaks Amazon GameLift's APIs

usage: hoist <command> [flags]

commands:
  quickstart    run a server with a local fleet of example game servers, and play a session
  server        run the GameLift-compatible service: the API and the game servers' SDK endpoint
  agent         run a fleet's game server processes on this host, for a server elsewhere
  build upload  upload a directory as a game server build
  keys          print a server's key pair as AWS_* variables: eval "$(hoist keys)"
  status        print a running server's fleets, processes and game sessions as tables
  bench         measure CreateGameSession throughput and latency with simulated game servers
  version       print the version

hoist <command> --help tells a command's flags and the credentials it needs.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stdout, stderr)
	case "quickstart":
		return runQuickstart(ctx, args[1:], stdout, stderr)
	case "agent":
		return runAgent(ctx, args[1:], stdout, stderr)
	case "build":
		return runBuild(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout)
	case exampleGameServer:
		return runExampleGameServer(ctx, args[1:], stderr)
	case "version", "--version", "-version":
		if len(args) > 1 {
			return fmt.Errorf("hoist version takes no arguments, got %q", strings.Join(args[1:], " "))
		}
		fmt.Fprintln(stdout, "hoist", version)
		return nil
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[0] == "help" {
			return dispatch(ctx, append(args[1:], "--help"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q: the commands are quickstart, server, agent, build upload, keys, status, bench and version (see hoist --help)", args[0])
}

var serverHelp = help{
	name: "hoist server", purpose: "run the GameLift-compatible service: the API and the game servers' SDK endpoint on one port",
	usage:       "[flags]",
	credentials: "none to start. The first start makes an admin access key pair, keeps it in the data directory and prints it; HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY, when set, are an admin key pair instead. More keys, each allowed only some operations: hoist keys create",
	more: `By default this host also runs every managed fleet's game server processes (compute hoist-local) in the home Region.

Plain HTTP (http://, ws://) unless a --tls-* flag is given; then TLS only on --addr
(https://, wss://), which the official C++ Server SDK (every Unreal game server) needs: it
always speaks TLS.`,
}

// parsePrefix reads a CIDR, or one address as a prefix holding only it.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("%q is not an address or CIDR", s)
	}
	return p.Masked(), nil
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hoist server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9080", "`host:port` to listen on for the API and the SDK endpoint")
	tlsConfig := tlsFlags(fs)
	dataDir := fs.String("data-dir", "./hoist-data", "`directory` for the generated credentials, builds, logs and the SQLite database")
	storeURL := fs.String("store", "", "`URL` of a PostgreSQL database to keep state in: postgres://user:password@host:5432/hoist (HOIST_STORE when not given); SQLite in the data directory when neither is set")
	advertiseURL := fs.String("advertise-url", "", "with replicas on a shared store: the `URL` the other replicas reach this one's API at (default: its own listening address)")
	sdkEndpoint := fs.String("sdk-endpoint", "", "the ws:// or wss:// `URL` computes are told to connect their game server processes to (RegisterCompute's GameLiftServiceSdkEndpoint); with replicas, the load balancer's or DNS name's (default: this server's own)")
	region := fs.String("region", "us-west-2", "home `Region` of fleets; appears in every ARN")
	verbose := fs.Bool("v", false, "log at debug level: every API request, and every game session's changes")
	logFormat := logFormatFlag(fs)
	metricsListen := fs.String("metrics-listen", "", "also serve /metrics on `host:port` without authentication, for loopback or a private network (on --addr it needs a key allowed hoist:GetMetrics)")
	noAgent := fs.Bool("no-local-agent", false, "do not run managed fleets' processes on this host")
	localLocations := fs.String("local-locations", "", "comma-separated remote `locations` (AWS Region names) whose managed fleet processes this host runs too")
	budgetMiB := fs.Int64("body-budget-mib", server.DefaultBodyBudget>>20, "`MiB` all request bodies being read may take together; requests beyond wait briefly, then get ThrottlingException")
	maxConns := fs.Int("max-conns", server.DefaultMaxConns, "open HTTP connections (API calls, uploads) at most")
	maxSDKConns := fs.Int("max-sdk-conns", server.DefaultMaxSDKConns, "game server processes connected over the SDK's WebSocket at most")
	rateLimit := fs.String("rate-limit", "", "per-key API rate limits, off when empty: comma-separated `PATTERN=CALLS_PER_SECOND` (an operation, a prefix ending in *, or * for all of a key's calls), e.g. 'CreateGameSession=20,*=100'; over it a call gets ThrottlingException")
	consoleSecure := fs.Bool("console-secure-cookies", false, "mark the web console's session cookie Secure on plain HTTP too: for a console reached through a proxy that terminates TLS")
	maxComputes := fs.Int("max-computes", control.DefaultMaxComputes, "computes (hosts) registered at once across all fleets at most; DescribeEC2InstanceLimits reports it")
	maxResources := fs.String("max-resources", "", "resources of each kind that may exist at once, "+strconv.Itoa(control.DefaultMaxResources)+" of each when not given: comma-separated `KIND=N` (kinds: "+strings.Join(control.ResourceKinds, ", ")+"; * or a bare N for every kind not named), e.g. 'fleets=2000,builds=500'; one more is LimitExceededException")
	kubernetes := fs.Bool("kubernetes", false, "run container fleets' game servers as pods on a Kubernetes cluster (in-cluster, or the cluster --kubeconfig names)")
	kubeconfig := fs.String("kubeconfig", "", "with --kubernetes: the kubeconfig `file` to reach the cluster with (default: the pod's service account, in a cluster)")
	kubeNamespace := fs.String("kube-namespace", "", "with --kubernetes: the `namespace` game server pods run in (default: Hoist's own pod's namespace in a cluster, else default)")
	kubeSDKEndpoint := fs.String("kube-sdk-endpoint", "", "with --kubernetes: the ws:// or wss:// `URL` game server pods reach Hoist's SDK endpoint at, e.g. ws://hoist.hoist.svc:9080 (default: --sdk-endpoint)")
	var trustedProxies []netip.Prefix
	fs.Func("trusted-proxy", "a proxy's address or `CIDR` (comma-separated, or repeated) whose X-Forwarded-For names the web console's clients: failed sign-ins are counted by that address", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			p, err := parsePrefix(strings.TrimSpace(s))
			if err != nil {
				return err
			}
			trustedProxies = append(trustedProxies, p)
		}
		return nil
	})
	var webhooks []webhook.Target
	fs.Func("event-webhook", "POST game session placement events (the bodies GameLift sends a queue's SNS topic) to `[QUEUE=]URL`, for that queue or every queue; may be repeated", func(v string) error {
		t, err := webhook.ParseTarget(v)
		webhooks = append(webhooks, t)
		return err
	})
	rest, err := parseFlags(fs, serverHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(serverHelp, rest); err != nil {
		return err
	}
	if *budgetMiB <= 0 || *maxConns <= 0 || *maxSDKConns <= 0 || *maxComputes <= 0 {
		return errors.New("--body-budget-mib, --max-conns, --max-sdk-conns and --max-computes must be positive")
	}
	tlsConf, err := tlsConfig()
	if err != nil {
		return err
	}
	limits, err := access.ParseLimits(*rateLimit)
	if err != nil {
		return fmt.Errorf("--rate-limit: %w", err)
	}
	resourceLimits, err := control.ParseResourceLimits(*maxResources)
	if err != nil {
		return fmt.Errorf("--max-resources: %w", err)
	}
	log, err := newLogger(stderr, *logFormat, *verbose)
	if err != nil {
		return err
	}

	if soft, hard, err := raiseFileLimit(); err != nil {
		log.Warn("could not raise the open file limit", "soft", soft, "hard", hard, "error", err)
	} else if need := uint64(*maxConns + *maxSDKConns + reservedFiles); soft < need {
		log.Warn("the open file limit is below what the connection caps need; lower --max-conns and --max-sdk-conns or raise the hard limit (ulimit -Hn)",
			"limit", soft, "need", need)
	}

	if *storeURL == "" {
		*storeURL = os.Getenv("HOIST_STORE") // in the environment, a password stays out of ps
	}
	cfg := server.Config{Addr: *addr, TLS: tlsConf, DataDir: *dataDir, Store: *storeURL, Region: *region, Logger: log, NoLocalAgent: *noAgent,
		BodyBudget: *budgetMiB << 20, MaxConns: *maxConns, MaxSDKConns: *maxSDKConns, MaxComputes: *maxComputes, MaxResources: resourceLimits, RateLimits: limits, EventWebhooks: webhooks,
		AdvertiseURL: *advertiseURL, SDKEndpoint: *sdkEndpoint, MetricsAddr: *metricsListen, ConsoleSecureCookies: *consoleSecure,
		ConsoleTrustedProxies: trustedProxies}
	if *localLocations != "" {
		cfg.LocalLocations = strings.Split(*localLocations, ",")
	}
	if *kubernetes {
		routeKlog(log)
		rc, err := kube.RESTConfig(*kubeconfig)
		if err != nil {
			return err
		}
		cfg.Kubernetes = &server.KubernetesConfig{REST: rc, Namespace: cmp.Or(*kubeNamespace, kube.OwnNamespace()), SDKEndpoint: *kubeSDKEndpoint}
	} else if *kubeconfig != "" || *kubeNamespace != "" || *kubeSDKEndpoint != "" {
		return errors.New("--kubeconfig, --kube-namespace and --kube-sdk-endpoint need --kubernetes")
	}
	id, secret := os.Getenv("HOIST_ACCESS_KEY_ID"), os.Getenv("HOIST_SECRET_ACCESS_KEY")
	if (id == "") != (secret == "") {
		return errors.New("set both HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY, or neither")
	}
	cfg.Credentials = server.Credentials{AccessKeyID: id, SecretAccessKey: secret}

	srv, err := server.Start(ctx, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("port %s is taken: is another Hoist running? Pick another with --addr", *addr)
		}
		return err
	}
	printWelcome(stdout, srv, *dataDir)

	select {
	case <-ctx.Done():
	case err := <-srv.Done():
		return err
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Close(shutdown)
}

func printWelcome(w io.Writer, srv *server.Server, dataDir string) {
	fmt.Fprintf(w, "Hoist %s serving the GameLift API at %s (region %s)\n", version, srv.Endpoint, srv.Region)
	if srv.MetricsEndpoint != "" {
		fmt.Fprintf(w, "Prometheus metrics at %s/metrics\n", srv.MetricsEndpoint)
	}
	fmt.Fprintf(w, "Web console at %s (sign in with an access key pair)\n", srv.ConsoleURL)
	if srv.CABundle != "" {
		fmt.Fprintf(w, "TLS with a self-signed certificate: clients trust it with AWS_CA_BUNDLE=%s\n", srv.CABundle)
	}
	if srv.CreatedCredentials {
		fmt.Fprintf(w, "Made a new access key pair, kept in %s/credentials.json\n", dataDir)
	}
	c := srv.Credentials
	fmt.Fprintf(w, `
Point the AWS CLI or an SDK at it:

  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s
  export AWS_DEFAULT_REGION=%s
%s  aws gamelift list-fleets --endpoint-url %s

`, c.AccessKeyID, c.SecretAccessKey, srv.Region, caBundleExport(srv.CABundle), srv.Endpoint)
}
