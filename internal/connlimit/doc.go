// Package connlimit caps the connections a server holds open, in two pools: short-lived
// HTTP connections (API calls, uploads) and the long-lived ones upgraded to WebSockets
// (game server processes), so that neither kind can starve the other of descriptors.
package connlimit
