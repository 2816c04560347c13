// Package agent is the host agent: it turns a fleet's runtime configuration into game
// server processes on one host, launched with the Server SDK's environment, restarted
// when they exit, scaled as the configuration changes, and drained on shutdown. The same
// code runs embedded in `hoist server` and alone as `hoist agent` on other hosts.
package agent
