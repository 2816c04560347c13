// Package sdkhost is the service side of the GameLift Server SDK 5 WebSocket: it accepts
// game server processes' connections, checks who they are, correlates their requests with
// answers, and carries pushes to them. What each action means is the Backend's business.
package sdkhost
