// Package metrics holds a Hoist server's Prometheus metrics: one registry per server,
// counters and histograms fed by the transport, store, service and host agents, and
// gauges read from the service's process registry at scrape time.
package metrics
