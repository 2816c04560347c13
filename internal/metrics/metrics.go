package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/queues"
)

// Result of an API call that succeeded; a failed one's result is its exception's name.
const resultSuccess = "success"

// Source is what the gauges read at scrape time.
type Source struct {
	// Census counts the service's processes, game sessions and player sessions.
	Census func() control.Census
	// SDKConnections counts the game server processes connected over the SDK's WebSocket.
	SDKConnections func() int
	// KubernetesRequests counts the Kubernetes engine's API requests; nil (0) without it.
	KubernetesRequests func() int64
}

// Server is a server's registry and the instruments the rest of the server feeds.
type Server struct {
	Registry *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	placementWait *prometheus.HistogramVec
	commits       *prometheus.HistogramVec
	agents        *Agents
}

// NewServer makes a registry with the server's metrics and Go's runtime and process
// metrics.
func NewServer(src Source) *Server {
	m := &Server{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hoist_api_requests_total",
			Help: "API calls answered, by operation (unknown for a name the server does not answer) and result (success, or the exception's name).",
		}, []string{"operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hoist_api_request_duration_seconds",
			Help:    "Time from an API call's arrival to its answer, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		placementWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hoist_placement_wait_seconds",
			Help:    "Time game session placements waited, from StartGameSessionPlacement to their end, by queue and final status.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"queue", "status"}),
		commits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hoist_store_commit_duration_seconds",
			Help:    "Time a store commit took: a batch of writes on SQLite, one write's transaction on PostgreSQL.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"store"}),
	}
	m.agents = newAgents()
	m.Registry.MustRegister(m.requests, m.duration, m.placementWait, m.commits, census{src.Census},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.agents.register(m.Registry)
	if src.SDKConnections != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hoist_sdk_connections",
			Help: "Game server processes connected over the Server SDK's WebSocket.",
		}, func() float64 { return float64(src.SDKConnections()) }))
	}
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "hoist_kubernetes_api_requests_total",
		Help: "Requests the Kubernetes engine sent to the cluster's API server (0 without --kubernetes); its watch counts once.",
	}, func() float64 {
		if src.KubernetesRequests == nil {
			return 0
		}
		return float64(src.KubernetesRequests())
	}))
	return m
}

// ObserveRequest counts an answered API call: op is "" for an operation the server does
// not answer, code "" for success.
func (m *Server) ObserveRequest(op, code string, elapsed time.Duration) {
	if op == "" {
		op = "unknown"
	}
	result := code
	if result == "" {
		result = resultSuccess
	}
	m.requests.WithLabelValues(op, result).Inc()
	m.duration.WithLabelValues(op).Observe(elapsed.Seconds())
}

// PlacementEnded implements queues.Observer.
func (m *Server) PlacementEnded(queue, status string, wait time.Duration) {
	m.placementWait.WithLabelValues(queue, status).Observe(wait.Seconds())
}

// CommitObserver returns what a store tells each commit's duration to; name is the
// store's kind (sqlite, postgres).
func (m *Server) CommitObserver(name string) func(time.Duration) {
	h := m.commits.WithLabelValues(name)
	return func(d time.Duration) { h.Observe(d.Seconds()) }
}

// Agents returns the counters of the host agents running inside the server.
func (m *Server) Agents() *Agents { return m.agents }

var _ queues.Observer = (*Server)(nil)

// census is the collector of the gauges read from the service's registry at scrape time.
type census struct{ read func() control.Census }

var (
	processesDesc = prometheus.NewDesc("hoist_server_processes",
		"Game server processes known to this server, by fleet, location and state (starting, idle, hosting, unhealthy, ending, disconnected).",
		[]string{"fleet", "location", "state"}, nil)
	gameSessionsDesc = prometheus.NewDesc("hoist_game_sessions",
		"Game sessions hosted by this server's processes, by fleet, location and status (ACTIVATING, ACTIVE, TERMINATING).",
		[]string{"fleet", "location", "status"}, nil)
	playerSessionsDesc = prometheus.NewDesc("hoist_player_sessions",
		"Player sessions of the game sessions this server's processes host, by fleet, location and status (RESERVED, ACTIVE).",
		[]string{"fleet", "location", "status"}, nil)
)

func (c census) Describe(ch chan<- *prometheus.Desc) {
	ch <- processesDesc
	ch <- gameSessionsDesc
	ch <- playerSessionsDesc
}

func (c census) Collect(ch chan<- prometheus.Metric) {
	if c.read == nil {
		return
	}
	n := c.read()
	for _, g := range []struct {
		desc   *prometheus.Desc
		counts map[control.CensusKey]int
	}{{processesDesc, n.Processes}, {gameSessionsDesc, n.GameSessions}, {playerSessionsDesc, n.PlayerSessions}} {
		for k, v := range g.counts {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v), k.Fleet, k.Location, k.State)
		}
	}
}
