// Package awsproto is the HTTP transport of the GameLift API: it routes AWS JSON 1.1 and
// Smithy RPC v2 CBOR requests to operations, verifies their SigV4 signatures, decodes and
// validates inputs, and encodes outputs and exceptions as AWS clients expect. It knows
// nothing of game sessions.
package awsproto
