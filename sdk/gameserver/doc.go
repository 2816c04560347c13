// Package gameserver is Hoist's Go server SDK: what a game server process calls to talk to
// Hoist (or GameLift) over the Server SDK 5 WebSocket. Its calls and their meaning follow
// the official GameLift Server SDK 5: InitSDK, ProcessReady, ActivateGameSession,
// AcceptPlayerSession, RemovePlayerSession, ProcessEnding and the rest, and it reads the
// same GAMELIFT_SDK_* environment variables.
//
// A Client is one process's connection. The package-level functions use a default Client,
// for game servers written against the official SDK's package-level API.
package gameserver
