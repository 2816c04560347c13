// Package gamelift is the GameLift API model as Hoist answers it: the request and response
// shapes with GameLift's member names, validation of every constraint in the public service
// model, and the exceptions GameLift returns.
//
// model_gen.go is generated from the service model that botocore ships; regenerate it with
//
//	go generate ./internal/gamelift
package gamelift

//go:generate go run ./gen -out model_gen.go
