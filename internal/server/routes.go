package server

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/buildsvc"
	"github.com/hoist-dev/hoist/internal/containers"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/matchmaking"
	"github.com/hoist-dev/hoist/internal/queues"
	"github.com/hoist-dev/hoist/internal/scaling"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// services are the packages that answer GameLift's operations: the core and the concepts
// above it.
type services struct {
	core        *control.Service
	scaling     *scaling.Service
	matchmaking *matchmaking.Service
	containers  *containers.Service
	builds      *buildsvc.Service
	queues      *queues.Service
	tags        *tags.Service
}

// operations maps every operation of GameLift's model to what answers it: the service
// method behind it, or the error saying why Hoist does not have it (unsupported.go).
func operations(sv services, keys *access.Keyring) map[string]awsproto.Handler {
	ops := answered(sv)
	maps.Copy(ops, keyOperations(keys))
	maps.Copy(ops, replicaOperations(sv.core))
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

// operationNames are the names a key's allow list may match: GameLift's and Hoist's own,
// reading the metrics among them.
func operationNames() []string {
	return slices.Concat(gamelift.ModelOperations, slices.Collect(maps.Keys(keyOperations(nil))), slices.Collect(maps.Keys(replicaOperations(nil))),
		[]string{MetricsOperation})
}

// AccessKey is how Hoist's key operations show a key; the secret only when it is made.
type AccessKey struct {
	AccessKeyId     string
	SecretAccessKey string `json:",omitempty"`
	Name            string
	Allow           []string
	CreationTime    time.Time
}

// keyOperations are Hoist's own operations for managing access keys (hoist keys). A key
// allowed them manages only keys allowed no more than itself (access.Covers).
func keyOperations(keys *access.Keyring) map[string]awsproto.Handler {
	show := func(k store.AccessKey) AccessKey {
		return AccessKey{AccessKeyId: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Name: k.Name, Allow: k.Allow, CreationTime: k.CreationTime}
	}
	return map[string]awsproto.Handler{
		awsproto.HoistOperation("CreateAccessKey"): func(ctx context.Context, decode func(any) error) (any, error) {
			var in struct {
				Name  string
				Allow []string
			}
			if err := decode(&in); err != nil {
				return nil, err
			}
			k, err := keys.Create(ctx, awsproto.Caller(ctx), in.Name, in.Allow)
			if err != nil {
				return nil, err
			}
			return map[string]any{"AccessKey": show(k)}, nil
		},
		awsproto.HoistOperation("ListAccessKeys"): func(ctx context.Context, decode func(any) error) (any, error) {
			if err := decode(&struct{}{}); err != nil {
				return nil, err
			}
			list, err := keys.List(ctx, awsproto.Caller(ctx))
			if err != nil {
				return nil, err
			}
			out := make([]AccessKey, len(list))
			for i, k := range list {
				out[i] = show(k)
			}
			return map[string]any{"AccessKeys": out}, nil
		},
		awsproto.HoistOperation("DeleteAccessKey"): func(ctx context.Context, decode func(any) error) (any, error) {
			var in struct{ Name string }
			if err := decode(&in); err != nil {
				return nil, err
			}
			return struct{}{}, keys.Delete(ctx, awsproto.Caller(ctx), in.Name)
		},
	}
}

// answered maps each GameLift operation Hoist answers to the service method behind it.
func answered(sv services) map[string]awsproto.Handler {
	s, scaling, mm, ctr, q := sv.core, sv.scaling, sv.matchmaking, sv.containers, sv.queues
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
		"PutScalingPolicy":                 awsproto.Op(scaling.PutScalingPolicy),
		"DescribeScalingPolicies":          awsproto.Op(scaling.DescribeScalingPolicies),
		"DeleteScalingPolicy":              awsproto.Op(scaling.DeleteScalingPolicy),
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

		"CreateBuild":   awsproto.Op(sv.builds.CreateBuild),
		"DescribeBuild": awsproto.Op(sv.builds.DescribeBuild),
		"ListBuilds":    awsproto.Op(sv.builds.ListBuilds),
		"UpdateBuild":   awsproto.Op(sv.builds.UpdateBuild),
		"DeleteBuild":   awsproto.Op(sv.builds.DeleteBuild),

		"CreateGameSession":          awsproto.Op(s.CreateGameSession),
		"DescribeGameSessions":       awsproto.Op(s.DescribeGameSessions),
		"DescribeGameSessionDetails": awsproto.Op(s.DescribeGameSessionDetails),
		"SearchGameSessions":         awsproto.Op(s.SearchGameSessions),
		"UpdateGameSession":          awsproto.Op(s.UpdateGameSession),
		"TerminateGameSession":       awsproto.Op(s.TerminateGameSession),
		"GetGameSessionLogUrl":       awsproto.Op(s.GetGameSessionLogUrl),

		"CreatePlayerSession":        awsproto.Op(s.CreatePlayerSession),
		"CreatePlayerSessions":       awsproto.Op(s.CreatePlayerSessions),
		"DescribePlayerSessions":     awsproto.Op(s.DescribePlayerSessions),
		"GetPlayerConnectionDetails": awsproto.Op(s.GetPlayerConnectionDetails),

		"CreateGameSessionQueue":       awsproto.Op(q.CreateGameSessionQueue),
		"DescribeGameSessionQueues":    awsproto.Op(q.DescribeGameSessionQueues),
		"UpdateGameSessionQueue":       awsproto.Op(q.UpdateGameSessionQueue),
		"DeleteGameSessionQueue":       awsproto.Op(q.DeleteGameSessionQueue),
		"StartGameSessionPlacement":    awsproto.Op(q.StartGameSessionPlacement),
		"DescribeGameSessionPlacement": awsproto.Op(q.DescribeGameSessionPlacement),
		"StopGameSessionPlacement":     awsproto.Op(q.StopGameSessionPlacement),

		"ValidateMatchmakingRuleSet":        awsproto.Op(mm.ValidateMatchmakingRuleSet),
		"CreateMatchmakingRuleSet":          awsproto.Op(mm.CreateMatchmakingRuleSet),
		"DescribeMatchmakingRuleSets":       awsproto.Op(mm.DescribeMatchmakingRuleSets),
		"DeleteMatchmakingRuleSet":          awsproto.Op(mm.DeleteMatchmakingRuleSet),
		"CreateMatchmakingConfiguration":    awsproto.Op(mm.CreateMatchmakingConfiguration),
		"DescribeMatchmakingConfigurations": awsproto.Op(mm.DescribeMatchmakingConfigurations),
		"UpdateMatchmakingConfiguration":    awsproto.Op(mm.UpdateMatchmakingConfiguration),
		"DeleteMatchmakingConfiguration":    awsproto.Op(mm.DeleteMatchmakingConfiguration),
		"StartMatchmaking":                  awsproto.Op(mm.StartMatchmaking),
		"DescribeMatchmaking":               awsproto.Op(mm.DescribeMatchmaking),
		"StopMatchmaking":                   awsproto.Op(mm.StopMatchmaking),
		"AcceptMatch":                       awsproto.Op(mm.AcceptMatch),
		"StartMatchBackfill":                awsproto.Op(mm.StartMatchBackfill),

		"CreateContainerGroupDefinition":       awsproto.Op(ctr.CreateContainerGroupDefinition),
		"DescribeContainerGroupDefinition":     awsproto.Op(ctr.DescribeContainerGroupDefinition),
		"ListContainerGroupDefinitions":        awsproto.Op(ctr.ListContainerGroupDefinitions),
		"ListContainerGroupDefinitionVersions": awsproto.Op(ctr.ListContainerGroupDefinitionVersions),
		"UpdateContainerGroupDefinition":       awsproto.Op(ctr.UpdateContainerGroupDefinition),
		"DeleteContainerGroupDefinition":       awsproto.Op(ctr.DeleteContainerGroupDefinition),
		"CreateContainerFleet":                 awsproto.Op(ctr.CreateContainerFleet),
		"DescribeContainerFleet":               awsproto.Op(ctr.DescribeContainerFleet),
		"ListContainerFleets":                  awsproto.Op(ctr.ListContainerFleets),
		"UpdateContainerFleet":                 awsproto.Op(ctr.UpdateContainerFleet),
		"DeleteContainerFleet":                 awsproto.Op(ctr.DeleteContainerFleet),
		"DescribeFleetDeployment":              awsproto.Op(ctr.DescribeFleetDeployment),
		"ListFleetDeployments":                 awsproto.Op(ctr.ListFleetDeployments),
		"DescribeContainerGroupPortMappings":   awsproto.Op(ctr.DescribeContainerGroupPortMappings),

		"TagResource":         awsproto.Op(sv.tags.TagResource),
		"UntagResource":       awsproto.Op(sv.tags.UntagResource),
		"ListTagsForResource": awsproto.Op(sv.tags.ListTagsForResource),
	}
}
