// Package bench is the load generator behind `hoist bench`: simulated game server
// processes on the SDK 5 WebSocket wire, and concurrent signed CreateGameSession clients.
package bench
