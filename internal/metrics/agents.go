package metrics

import "github.com/prometheus/client_golang/prometheus"

// Agents counts what host agents do to their processes, by fleet and location.
type Agents struct {
	restarts, crashes *prometheus.CounterVec
}

func newAgents() *Agents {
	return &Agents{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hoist_agent_process_restarts_total",
			Help: "Game server processes a host agent launched to replace one that exited on its own (ended its game or crashed), by fleet and location.",
		}, []string{"fleet", "location"}),
		crashes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hoist_agent_process_crashes_total",
			Help: "Game server processes that exited with a failure the host agent had not asked for, by fleet and location.",
		}, []string{"fleet", "location"}),
	}
}

func (a *Agents) register(r prometheus.Registerer) { r.MustRegister(a.restarts, a.crashes) }

// NewAgents makes the agent counters in a registry of their own, for hoist agent's own
// metrics listener.
func NewAgents() (*Agents, *prometheus.Registry) {
	r := prometheus.NewRegistry()
	a := newAgents()
	a.register(r)
	return a, r
}

// For returns the counters of the agent of one fleet location (agent.Counters).
func (a *Agents) For(fleet, location string) AgentCounters {
	return AgentCounters{restarts: a.restarts.WithLabelValues(fleet, location), crashes: a.crashes.WithLabelValues(fleet, location)}
}

// AgentCounters are one agent's counters.
type AgentCounters struct {
	restarts, crashes prometheus.Counter
}

// ProcessRestarted counts a launch that replaces a process that exited on its own.
func (c AgentCounters) ProcessRestarted() { c.restarts.Inc() }

// ProcessCrashed counts a process that exited with a failure it was not asked to.
func (c AgentCounters) ProcessCrashed() { c.crashes.Inc() }
