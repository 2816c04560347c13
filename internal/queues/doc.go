// Package queues answers GameLift's game session queue operations
// (Create/Describe/Update/DeleteGameSessionQueue, queues.go) and placements
// (Start/Describe/StopGameSessionPlacement, placements.go), and runs the placer: its
// passes try the waiting placements, oldest first, on the fleet locations their queue
// ranks best (internal/placement, pure), until each is placed, times out or loses its
// queue; its upkeep deletes ended placements after 30 days.
//
// It owns the queues and placements (its Store's tables), the cache of queues, the
// placements waiting on this replica, and the events and metric of ended placements (its
// Events and Observer). It may call the core (internal/control) only through the Core
// interface it declares: to read fleets and aliases, place a game session on a free
// process (the core's PlaceSession: which process, here or on another replica, is the
// core's to decide) and end one its placement no longer wants, read a game session and
// reserve its players, know this replica and the live ones, admit a queue under its
// limit, make ARNs, and read the clock. The core tells it, as its control.Placer (set
// with control.Service.SetPlacer), when capacity may have freed, when a placement's
// session became ACTIVE or ended, which replicas stopped, and the changes other replicas
// made to queues and placements. It tells matchmaking (its Matchmaker, set with
// SetMatchmaker) when a match's placement ends; matchmaking starts those placements with
// StartPlacement.
//
// Replicas: which replica places a waiting placement is a fact of the placement's record
// (store.Placement.Replica), so claiming the placements of a stopped replica is this
// package's (replicas.go); the core only says which replicas stopped. The game sessions
// placements make are the core's, wherever their process is.
package queues
