// Package control is the core of the GameLift service: fleets and their locations,
// computes and instances, the game server processes connected over the Server SDK (their
// registry and index, processes.go), game sessions and player sessions, and placing a
// session on a free process. Each operation is validated against GameLift's rules and kept
// in a Store.
//
// The concepts above the core are packages of their own, which the core never imports:
// internal/scaling (scaling policies), internal/matchmaking (FlexMatch),
// internal/containers (container fleets), internal/buildsvc (builds) and internal/queues
// (game session queues and placements). Each declares the part of the core it uses as an
// interface; core.go holds the exported methods behind those interfaces. The core tells
// them what they follow, or asks them what it needs, through interfaces it declares and
// internal/server sets after construction: Matchmaker (matchmaker.go), Placer (placer.go:
// capacity freed, placements' sessions, stopped replicas, others' changes),
// FleetListener, and BuildReader (the build a managed fleet is created with). Its
// taggable resources it hands internal/tags (Tagged), a package below it whose tag rules
// its Create calls apply. Still here, to be moved out the same way: replicas and aliases.
package control
