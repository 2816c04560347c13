// Package matchmaking answers GameLift's FlexMatch operations: matchmaking rule sets and
// configurations (configs.go), tickets and acceptance (StartMatchmaking, AcceptMatch, ...,
// tickets.go) and backfill (backfill.go), and runs the matchmaker, whose passes match the
// searching tickets by their rule set (internal/flexmatch, pure) and place the matches.
//
// It owns the rule sets, configurations and tickets (its Store's tables) and the
// matchmaker's state. It may call the core (internal/control) only through the Core
// interface it declares: to read a game session, reserve its players, replace its
// MatchmakerData and tell its game server, admit a resource under its limit, make ARNs,
// and read the clock; and game session queues (internal/queues) only through the Queues
// interface it declares: to read queues and start a placement for a match. The core tells
// it what its tickets follow through control.Matchmaker, which Service implements (a
// player left a matched session, a game server asked for backfill), and queues through
// queues.Matchmaker (a match's placement ended); internal/server sets it with
// control.Service.SetMatchmaker and queues.Service.SetMatchmaker, and adds its taggable
// resources (Tagged) to internal/tags.
//
// MatchmakerData, the JSON a matched game session carries, is built and read only here
// (matchmakerData, autoBackfill): the core stores and forwards it as an opaque string, so
// its encoding needs no package of its own.
package matchmaking
