// Package placement chooses the server process a new game session goes to: a pure
// function of the candidates and the fleet's limits, with no I/O and no locks of its own.
package placement
