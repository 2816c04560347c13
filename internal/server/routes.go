package server

import (
	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/control"
)

// operations maps each GameLift operation Hoist answers to the service method behind it.
func operations(s *control.Service) map[string]awsproto.Handler {
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
		"DescribeFleetUtilization":         awsproto.Op(s.DescribeFleetUtilization),
		"DescribeFleetLocationUtilization": awsproto.Op(s.DescribeFleetLocationUtilization),
		"DescribeFleetEvents":              awsproto.Op(s.DescribeFleetEvents),

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

		"CreatePlayerSession":    awsproto.Op(s.CreatePlayerSession),
		"CreatePlayerSessions":   awsproto.Op(s.CreatePlayerSessions),
		"DescribePlayerSessions": awsproto.Op(s.DescribePlayerSessions),

		"TagResource":         awsproto.Op(s.TagResource),
		"UntagResource":       awsproto.Op(s.UntagResource),
		"ListTagsForResource": awsproto.Op(s.ListTagsForResource),
	}
}
