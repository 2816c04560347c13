package control

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Routing strategy types.
const (
	RoutingSimple   = "SIMPLE"
	RoutingTerminal = "TERMINAL"
)

// checkRouting enforces what each routing type needs: SIMPLE a fleet, TERMINAL none.
func checkRouting(rs *gamelift.RoutingStrategy) error {
	switch gamelift.Value(rs.Type) {
	case RoutingSimple:
		if rs.FleetId == nil {
			return gamelift.InvalidRequest("A SIMPLE routing strategy needs a FleetId")
		}
	case RoutingTerminal:
		if rs.FleetId != nil {
			return gamelift.InvalidRequest("A TERMINAL routing strategy takes no FleetId")
		}
	default:
		return gamelift.InvalidRequest("RoutingStrategy.Type must be SIMPLE or TERMINAL")
	}
	return nil
}

// CreateAlias creates an alias routing to a fleet (SIMPLE) or to a message (TERMINAL).
func (s *Service) CreateAlias(ctx context.Context, in *gamelift.CreateAliasInput) (*gamelift.CreateAliasOutput, error) {
	release, err := s.admit(ctx, KindAliases, countAll(s.aliases, nil))
	if err != nil {
		return nil, err
	}
	defer release()
	if err := checkRouting(in.RoutingStrategy); err != nil {
		return nil, err
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	id := gamelift.NewID("alias")
	now := gamelift.At(s.now())
	a := gamelift.Alias{
		AliasId: &id, AliasArn: gamelift.String(s.arn("alias", id)), Name: in.Name, Description: in.Description,
		RoutingStrategy: in.RoutingStrategy, CreationTime: now, LastUpdatedTime: now,
	}
	if err := s.aliases.Create(ctx, id, "", store.Alias{Model: a, Tags: tagged}); err != nil {
		return nil, fmt.Errorf("create alias: %w", err)
	}
	return &gamelift.CreateAliasOutput{Alias: &a}, nil
}

func (s *Service) getAlias(ctx context.Context, idOrARN *string) (gamelift.Alias, error) {
	id := gamelift.IDOf(idOrARN)
	a, err := s.aliases.Get(ctx, id)
	if err != nil {
		return a.Model, store.NotFoundAs(err, "Alias %s not found", id)
	}
	return a.Model, nil
}

// DescribeAlias returns an alias.
func (s *Service) DescribeAlias(ctx context.Context, in *gamelift.DescribeAliasInput) (*gamelift.DescribeAliasOutput, error) {
	a, err := s.getAlias(ctx, in.AliasId)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeAliasOutput{Alias: &a}, nil
}

// ListAliases lists aliases, optionally by routing type or exact name.
func (s *Service) ListAliases(ctx context.Context, in *gamelift.ListAliasesInput) (*gamelift.ListAliasesOutput, error) {
	page, err := s.aliases.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	var all []gamelift.Alias
	for _, a := range page.Items {
		m := a.Model
		if in.RoutingStrategyType != nil && gamelift.Value(m.RoutingStrategy.Type) != *in.RoutingStrategyType ||
			in.Name != nil && gamelift.Value(m.Name) != *in.Name {
			continue
		}
		all = append(all, m)
	}
	items, token, err := pageSlice(all, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListAliasesOutput{Aliases: nonNil(items), NextToken: token}, nil
}

// UpdateAlias changes an alias's name, description or routing.
func (s *Service) UpdateAlias(ctx context.Context, in *gamelift.UpdateAliasInput) (*gamelift.UpdateAliasOutput, error) {
	if in.RoutingStrategy != nil {
		if err := checkRouting(in.RoutingStrategy); err != nil {
			return nil, err
		}
	}
	id := gamelift.IDOf(in.AliasId)
	a, err := s.aliases.Update(ctx, id, func(a *store.Alias) error {
		set(&a.Model.Name, in.Name)
		setOrClear(&a.Model.Description, in.Description)
		set(&a.Model.RoutingStrategy, in.RoutingStrategy)
		a.Model.LastUpdatedTime = gamelift.At(s.now())
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Alias %s not found", id)
	}
	return &gamelift.UpdateAliasOutput{Alias: &a.Model}, nil
}

// DeleteAlias deletes an alias.
func (s *Service) DeleteAlias(ctx context.Context, in *gamelift.DeleteAliasInput) (*gamelift.DeleteAliasOutput, error) {
	id := gamelift.IDOf(in.AliasId)
	if err := s.aliases.Delete(ctx, id); err != nil {
		return nil, store.NotFoundAs(err, "Alias %s not found", id)
	}
	return &gamelift.DeleteAliasOutput{}, nil
}

// ResolveAlias returns the fleet a SIMPLE alias routes to; a TERMINAL alias answers
// TerminalRoutingStrategyException with its message.
func (s *Service) ResolveAlias(ctx context.Context, in *gamelift.ResolveAliasInput) (*gamelift.ResolveAliasOutput, error) {
	f, err := s.resolveAlias(ctx, in.AliasId)
	if err != nil {
		return nil, err
	}
	return &gamelift.ResolveAliasOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn}, nil
}

// resolveAlias finds the fleet behind an alias, for every operation that takes an AliasId.
func (s *Service) resolveAlias(ctx context.Context, aliasID *string) (store.Fleet, error) {
	a, err := s.getAlias(ctx, aliasID)
	if err != nil {
		return store.Fleet{}, err
	}
	rs := a.RoutingStrategy
	if gamelift.Value(rs.Type) == RoutingTerminal {
		return store.Fleet{}, gamelift.TerminalRoutingStrategy("%s", gamelift.Value(rs.Message))
	}
	return s.getFleet(ctx, rs.FleetId)
}
