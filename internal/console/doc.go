// Package console is Hoist's web console: server-rendered pages of fleets, game sessions,
// queues and placements, signed in with an access key pair and scoped by its allow list.
package console
