// Package control is the GameLift service itself: one file per resource (locations, fleets,
// aliases, computes), each operation validated against GameLift's rules and kept in a Store.
package control
