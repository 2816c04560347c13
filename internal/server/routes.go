package server

import (
	"context"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// operations maps every operation of GameLift's model to what answers it: the service
// method behind it, or the error saying why Hoist does not have it (unsupported.go).
func operations(s *control.Service) map[string]awsproto.Handler {
	ops := answered(s)
	for _, op := range gamelift.ModelOperations {
		if _, ok := ops[op]; !ok {
			why := unsupported[op]
			if why == "" {
				why = "this version of Hoist does not have it"
			}
			ops[op] = func(context.Context, func(any) error) (any, error) { return nil, gamelift.Unsupported(op, why) }
		}
	}
	return ops
}

// answered maps each GameLift operation Hoist answers to the service method behind it.
func answered(s *control.Service) map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"CreateLocation": awsproto.Op(s.CreateLocation),
		"ListLocations":  awsproto.Op(s.ListLocations),
		"DeleteLocation": awsproto.Op(s.DeleteLocation),

		"CreateFleet":                      awsproto.Op(s.CreateFleet),
		"DescribeFleetAttributes":          awsproto.Op(s.DescribeFleetAttributes),
		"ListFleets":                       awsproto.Op(s.ListFleets),
		"UpdateFleetAttributes":            awsproto.Op(s.UpdateFleetAttributes),
		"DeleteFleet":                      awsproto.Op(s.DeleteFleet),
		"CreateFleetLocations":             awsproto.Op(s.CreateFleetLocations),
		"DeleteFleetLocations":             awsproto.Op(s.DeleteFleetLocations),
		"DescribeFleetLocationAttributes":  awsproto.Op(s.DescribeFleetLocationAttributes),
		"DescribeRuntimeConfiguration":     awsproto.Op(s.DescribeRuntimeConfiguration),
		"UpdateRuntimeConfiguration":       awsproto.Op(s.UpdateRuntimeConfiguration),
		"DescribeFleetCapacity":            awsproto.Op(s.DescribeFleetCapacity),
		"DescribeFleetLocationCapacity":    awsproto.Op(s.DescribeFleetLocationCapacity),
		"UpdateFleetCapacity":              awsproto.Op(s.UpdateFleetCapacity),
		"StopFleetActions":                 awsproto.Op(s.StopFleetActions),
		"StartFleetActions":                awsproto.Op(s.StartFleetActions),
		"DescribeFleetUtilization":         awsproto.Op(s.DescribeFleetUtilization),
		"DescribeFleetLocationUtilization": awsproto.Op(s.DescribeFleetLocationUtilization),
		"DescribeFleetEvents":              awsproto.Op(s.DescribeFleetEvents),
		"DescribeFleetPortSettings":        awsproto.Op(s.DescribeFleetPortSettings),
		"UpdateFleetPortSettings":          awsproto.Op(s.UpdateFleetPortSettings),

		"CreateAlias":   awsproto.Op(s.CreateAlias),
		"DescribeAlias": awsproto.Op(s.DescribeAlias),
		"ListAliases":   awsproto.Op(s.ListAliases),
		"UpdateAlias":   awsproto.Op(s.UpdateAlias),
		"DeleteAlias":   awsproto.Op(s.DeleteAlias),
		"ResolveAlias":  awsproto.Op(s.ResolveAlias),

		"RegisterCompute":     awsproto.Op(s.RegisterCompute),
		"DeregisterCompute":   awsproto.Op(s.DeregisterCompute),
		"DescribeCompute":     awsproto.Op(s.DescribeCompute),
		"ListCompute":         awsproto.Op(s.ListCompute),
		"GetComputeAuthToken": awsproto.Op(s.GetComputeAuthToken),

		"DescribeEC2InstanceLimits": awsproto.Op(s.DescribeEC2InstanceLimits),
		"DescribeInstances":         awsproto.Op(s.DescribeInstances),

		"CreateBuild":   awsproto.Op(s.CreateBuild),
		"DescribeBuild": awsproto.Op(s.DescribeBuild),
		"ListBuilds":    awsproto.Op(s.ListBuilds),
		"UpdateBuild":   awsproto.Op(s.UpdateBuild),
		"DeleteBuild":   awsproto.Op(s.DeleteBuild),

		"CreateGameSession":          awsproto.Op(s.CreateGameSession),
		"DescribeGameSessions":       awsproto.Op(s.DescribeGameSessions),
		"DescribeGameSessionDetails": awsproto.Op(s.DescribeGameSessionDetails),
		"UpdateGameSession":          awsproto.Op(s.UpdateGameSession),
		"TerminateGameSession":       awsproto.Op(s.TerminateGameSession),
		"GetGameSessionLogUrl":       awsproto.Op(s.GetGameSessionLogUrl),

		"CreatePlayerSession":        awsproto.Op(s.CreatePlayerSession),
		"CreatePlayerSessions":       awsproto.Op(s.CreatePlayerSessions),
		"DescribePlayerSessions":     awsproto.Op(s.DescribePlayerSessions),
		"GetPlayerConnectionDetails": awsproto.Op(s.GetPlayerConnectionDetails),
	}
}
