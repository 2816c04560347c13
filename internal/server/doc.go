// Package server assembles a Hoist control-plane server: the store, the GameLift service
// and its HTTP transport on one listener.
package server
