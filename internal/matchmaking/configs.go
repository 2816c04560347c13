package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/flexmatch"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// FlexMatch's limits and defaults, as GameLift has them.
const (
	maxRuleSets, maxMatchConfigs = 1000, 1000
	minRequestTimeout            = 1
	maxRequestTimeout            = 43200
	minAcceptanceTimeout         = 1
	maxAcceptanceTimeout         = 600
	flexMatchWithQueue           = "WITH_QUEUE"
	flexMatchStandalone          = "STANDALONE"
	backfillManual               = "MANUAL"
	backfillAutomatic            = "AUTOMATIC"
)

// nameOf turns a name or an ARN (arn:...:<kind>/<name>) into the name.
func nameOf(nameOrARN *string, kind string) string {
	v := gamelift.Value(nameOrARN)
	if i := strings.LastIndex(v, ":"+kind+"/"); strings.HasPrefix(v, "arn:") && i >= 0 {
		return v[i+len(kind)+2:]
	}
	return v
}

// parseRuleSet checks a rule set body as ValidateMatchmakingRuleSet does: the error says
// where it is wrong.
func parseRuleSet(body string) (*flexmatch.RuleSet, error) {
	rs, err := flexmatch.Parse([]byte(body))
	if err != nil {
		return nil, gamelift.InvalidRequest("Invalid rule set: %v", err)
	}
	return rs, nil
}

// ValidateMatchmakingRuleSet checks a rule set body.
func (s *Service) ValidateMatchmakingRuleSet(ctx context.Context, in *gamelift.ValidateMatchmakingRuleSetInput) (*gamelift.ValidateMatchmakingRuleSetOutput, error) {
	if _, err := parseRuleSet(gamelift.Value(in.RuleSetBody)); err != nil {
		return nil, err
	}
	return &gamelift.ValidateMatchmakingRuleSetOutput{Valid: gamelift.Bool(true)}, nil
}

// CreateMatchmakingRuleSet stores a valid rule set under a new name.
func (s *Service) CreateMatchmakingRuleSet(ctx context.Context, in *gamelift.CreateMatchmakingRuleSetInput) (*gamelift.CreateMatchmakingRuleSetOutput, error) {
	release, err := s.core.Admit(ctx, control.KindRuleSets, countAll(s.store.RuleSets()))
	if err != nil {
		return nil, err
	}
	defer release()
	if _, err := parseRuleSet(gamelift.Value(in.RuleSetBody)); err != nil {
		return nil, err
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	page, err := s.store.RuleSets().List(ctx, store.Query{Limit: maxRuleSets})
	if err != nil {
		return nil, fmt.Errorf("count rule sets: %w", err)
	}
	if len(page.Items) >= maxRuleSets {
		return nil, gamelift.LimitExceeded("Hoist keeps at most %d matchmaking rule sets", maxRuleSets)
	}
	name := gamelift.Value(in.Name)
	rs := gamelift.MatchmakingRuleSet{RuleSetName: in.Name, RuleSetArn: gamelift.String(s.core.ARN("matchmakingruleset", name)),
		RuleSetBody: in.RuleSetBody, CreationTime: gamelift.At(s.now())}
	if err := s.store.RuleSets().Create(ctx, name, "", store.RuleSet{Model: rs, Tags: tagged}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("A matchmaking rule set named %s exists", name)
		}
		return nil, fmt.Errorf("create rule set: %w", err)
	}
	return &gamelift.CreateMatchmakingRuleSetOutput{RuleSet: &rs}, nil
}

func (s *Service) getRuleSet(ctx context.Context, nameOrARN *string) (store.RuleSet, error) {
	name := nameOf(nameOrARN, "matchmakingruleset")
	rs, err := s.store.RuleSets().Get(ctx, name)
	if err != nil {
		return rs, store.NotFoundAs(err, "Matchmaking rule set %s not found", name)
	}
	return rs, nil
}

// DescribeMatchmakingRuleSets lists rule sets, or those named.
func (s *Service) DescribeMatchmakingRuleSets(ctx context.Context, in *gamelift.DescribeMatchmakingRuleSetsInput) (*gamelift.DescribeMatchmakingRuleSetsOutput, error) {
	out := &gamelift.DescribeMatchmakingRuleSetsOutput{RuleSets: []gamelift.MatchmakingRuleSet{}}
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			rs, err := s.getRuleSet(ctx, &n)
			if err != nil {
				return nil, err
			}
			out.RuleSets = append(out.RuleSets, rs.Model)
		}
		return out, nil
	}
	page, err := s.store.RuleSets().List(ctx, paging.Query("", paging.Limit(in.Limit), in.NextToken))
	if err != nil {
		return nil, store.PageError(err)
	}
	for _, rs := range page.Items {
		out.RuleSets = append(out.RuleSets, rs.Model)
	}
	out.NextToken = paging.Next(page.Next)
	return out, nil
}

// liveTicketOf returns the ID of a ticket of the configuration still in progress, or "".
// It reads only the tickets, matchmaking's own state.
func liveTicketOf(ctx context.Context, tickets store.Table[store.Ticket], config string) (string, error) {
	for token := ""; ; {
		page, err := tickets.List(ctx, store.Query{Parent: config, Limit: 1000, Token: token})
		if err != nil {
			return "", fmt.Errorf("list the tickets of matchmaking configuration %s: %w", config, err)
		}
		for _, t := range page.Items {
			if ticketLive(gamelift.Value(t.Model.Status)) {
				return gamelift.Value(t.Model.TicketId), nil
			}
		}
		if token = page.Next; token == "" {
			return "", nil
		}
	}
}

// DeleteMatchmakingRuleSet deletes a rule set no configuration uses.
func (s *Service) DeleteMatchmakingRuleSet(ctx context.Context, in *gamelift.DeleteMatchmakingRuleSetInput) (*gamelift.DeleteMatchmakingRuleSetOutput, error) {
	rs, err := s.getRuleSet(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	name := gamelift.Value(rs.Model.RuleSetName)
	configs, err := s.store.MatchConfigs().List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list matchmaking configurations: %w", err)
	}
	for _, c := range configs.Items {
		if gamelift.Value(c.Model.RuleSetName) == name {
			return nil, gamelift.InvalidRequest("Matchmaking rule set %s is used by matchmaking configuration %s", name, gamelift.Value(c.Model.Name))
		}
	}
	if err := s.store.RuleSets().Delete(ctx, name); err != nil {
		return nil, store.NotFoundAs(err, "Matchmaking rule set %s not found", name)
	}
	return &gamelift.DeleteMatchmakingRuleSetOutput{}, nil
}

// checkMatchConfig validates a configuration beyond the model's constraints, and fills in
// its rule set's ARN.
func (s *Service) checkMatchConfig(ctx context.Context, c *gamelift.MatchmakingConfiguration) error {
	rs, err := s.getRuleSet(ctx, c.RuleSetName)
	if err != nil {
		return err
	}
	c.RuleSetName, c.RuleSetArn = rs.Model.RuleSetName, rs.Model.RuleSetArn
	if t := gamelift.Value(c.RequestTimeoutSeconds); t < minRequestTimeout || t > maxRequestTimeout {
		return gamelift.InvalidRequest("RequestTimeoutSeconds must be between %d and %d, not %d", minRequestTimeout, maxRequestTimeout, t)
	}
	if gamelift.Value(c.AcceptanceRequired) {
		if t := gamelift.Value(c.AcceptanceTimeoutSeconds); t < minAcceptanceTimeout || t > maxAcceptanceTimeout {
			return gamelift.InvalidRequest("AcceptanceTimeoutSeconds must be between %d and %d when AcceptanceRequired is true", minAcceptanceTimeout, maxAcceptanceTimeout)
		}
	}
	if n := gamelift.Value(c.AdditionalPlayerCount); n < 0 {
		return gamelift.InvalidRequest("AdditionalPlayerCount must not be negative")
	}
	switch mode := gamelift.Value(c.FlexMatchMode); mode {
	case flexMatchWithQueue:
		if len(c.GameSessionQueueArns) == 0 {
			return gamelift.InvalidRequest("A WITH_QUEUE matchmaking configuration needs GameSessionQueueArns")
		}
		for _, arn := range c.GameSessionQueueArns {
			if _, err := s.queues.Queue(ctx, &arn); err != nil {
				return err
			}
		}
	case flexMatchStandalone:
		if len(c.GameSessionQueueArns) > 0 || gamelift.Value(c.BackfillMode) == backfillAutomatic {
			return gamelift.InvalidRequest("A STANDALONE matchmaking configuration takes no GameSessionQueueArns and no AUTOMATIC backfill")
		}
	default:
		return gamelift.InvalidRequest("FlexMatchMode must be WITH_QUEUE or STANDALONE, not %q", mode)
	}
	if b := gamelift.Value(c.BackfillMode); !slices.Contains([]string{backfillManual, backfillAutomatic}, b) {
		return gamelift.InvalidRequest("BackfillMode must be MANUAL or AUTOMATIC, not %q", b)
	}
	return nil
}

// CreateMatchmakingConfiguration makes a matchmaking configuration on a rule set.
func (s *Service) CreateMatchmakingConfiguration(ctx context.Context, in *gamelift.CreateMatchmakingConfigurationInput) (*gamelift.CreateMatchmakingConfigurationOutput, error) {
	release, err := s.core.Admit(ctx, control.KindMatchmakingConfigurations, countAll(s.store.MatchConfigs()))
	if err != nil {
		return nil, err
	}
	defer release()
	name := gamelift.Value(in.Name)
	c := gamelift.MatchmakingConfiguration{
		Name: in.Name, ConfigurationArn: gamelift.String(s.core.ARN("matchmakingconfiguration", name)), Description: in.Description,
		GameSessionQueueArns: in.GameSessionQueueArns, RequestTimeoutSeconds: in.RequestTimeoutSeconds,
		AcceptanceTimeoutSeconds: in.AcceptanceTimeoutSeconds, AcceptanceRequired: in.AcceptanceRequired,
		RuleSetName: in.RuleSetName, NotificationTarget: in.NotificationTarget, AdditionalPlayerCount: in.AdditionalPlayerCount,
		CustomEventData: in.CustomEventData, CreationTime: gamelift.At(s.now()), GameProperties: in.GameProperties,
		GameSessionData: in.GameSessionData, BackfillMode: in.BackfillMode, FlexMatchMode: in.FlexMatchMode,
	}
	if c.FlexMatchMode == nil {
		c.FlexMatchMode = gamelift.String(flexMatchWithQueue)
	}
	if c.BackfillMode == nil {
		c.BackfillMode = gamelift.String(backfillManual)
	}
	if c.AdditionalPlayerCount == nil {
		c.AdditionalPlayerCount = gamelift.Int32(0)
	}
	if err := s.checkMatchConfig(ctx, &c); err != nil {
		return nil, err
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	page, err := s.store.MatchConfigs().List(ctx, store.Query{Limit: maxMatchConfigs})
	if err != nil {
		return nil, fmt.Errorf("count matchmaking configurations: %w", err)
	}
	if len(page.Items) >= maxMatchConfigs {
		return nil, gamelift.LimitExceeded("Hoist keeps at most %d matchmaking configurations", maxMatchConfigs)
	}
	if err := s.store.MatchConfigs().Create(ctx, name, "", store.MatchConfig{Model: c, Tags: tagged}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("A matchmaking configuration named %s exists", name)
		}
		return nil, fmt.Errorf("create matchmaking configuration: %w", err)
	}
	return &gamelift.CreateMatchmakingConfigurationOutput{Configuration: &c}, nil
}

func (s *Service) getMatchConfig(ctx context.Context, nameOrARN *string) (store.MatchConfig, error) {
	name := nameOf(nameOrARN, "matchmakingconfiguration")
	c, err := s.store.MatchConfigs().Get(ctx, name)
	if err != nil {
		return c, store.NotFoundAs(err, "Matchmaking configuration %s not found", name)
	}
	return c, nil
}

// DescribeMatchmakingConfigurations lists configurations: those named, those on a rule
// set, or all.
func (s *Service) DescribeMatchmakingConfigurations(ctx context.Context, in *gamelift.DescribeMatchmakingConfigurationsInput) (*gamelift.DescribeMatchmakingConfigurationsOutput, error) {
	out := &gamelift.DescribeMatchmakingConfigurationsOutput{Configurations: []gamelift.MatchmakingConfiguration{}}
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			c, err := s.getMatchConfig(ctx, &n)
			if errors.Is(err, store.ErrNotFound) || gamelift.IsCode(err, "NotFoundException") {
				continue // GameLift lists the ones it has
			}
			if err != nil {
				return nil, err
			}
			out.Configurations = append(out.Configurations, c.Model)
		}
		return out, nil
	}
	page, err := s.store.MatchConfigs().List(ctx, paging.Query("", paging.Limit(in.Limit), in.NextToken))
	if err != nil {
		return nil, store.PageError(err)
	}
	rs := nameOf(in.RuleSetName, "matchmakingruleset")
	for _, c := range page.Items {
		if rs == "" || gamelift.Value(c.Model.RuleSetName) == rs {
			out.Configurations = append(out.Configurations, c.Model)
		}
	}
	out.NextToken = paging.Next(page.Next)
	return out, nil
}

// UpdateMatchmakingConfiguration changes the members given.
func (s *Service) UpdateMatchmakingConfiguration(ctx context.Context, in *gamelift.UpdateMatchmakingConfigurationInput) (*gamelift.UpdateMatchmakingConfigurationOutput, error) {
	have, err := s.getMatchConfig(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	c := have.Model
	set := func(dst **string, v *string) {
		if v != nil {
			*dst = v
		}
	}
	set(&c.Description, in.Description)
	set(&c.RuleSetName, in.RuleSetName)
	set(&c.NotificationTarget, in.NotificationTarget)
	set(&c.CustomEventData, in.CustomEventData)
	set(&c.GameSessionData, in.GameSessionData)
	set(&c.BackfillMode, in.BackfillMode)
	set(&c.FlexMatchMode, in.FlexMatchMode)
	if in.GameSessionQueueArns != nil {
		c.GameSessionQueueArns = in.GameSessionQueueArns
	}
	if in.RequestTimeoutSeconds != nil {
		c.RequestTimeoutSeconds = in.RequestTimeoutSeconds
	}
	if in.AcceptanceTimeoutSeconds != nil {
		c.AcceptanceTimeoutSeconds = in.AcceptanceTimeoutSeconds
	}
	if in.AcceptanceRequired != nil {
		c.AcceptanceRequired = in.AcceptanceRequired
	}
	if in.AdditionalPlayerCount != nil {
		c.AdditionalPlayerCount = in.AdditionalPlayerCount
	}
	if in.GameProperties != nil {
		c.GameProperties = in.GameProperties
	}
	if err := s.checkMatchConfig(ctx, &c); err != nil {
		return nil, err
	}
	updated, err := s.store.MatchConfigs().Update(ctx, gamelift.Value(c.Name), func(stored *store.MatchConfig) error {
		stored.Model = c
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Matchmaking configuration %s not found", gamelift.Value(c.Name))
	}
	return &gamelift.UpdateMatchmakingConfigurationOutput{Configuration: &updated.Model}, nil
}

// DeleteMatchmakingConfiguration deletes a configuration; its tickets still searching are
// cancelled by the matchmaker's next pass.
func (s *Service) DeleteMatchmakingConfiguration(ctx context.Context, in *gamelift.DeleteMatchmakingConfigurationInput) (*gamelift.DeleteMatchmakingConfigurationOutput, error) {
	name := nameOf(in.Name, "matchmakingconfiguration")
	// The pass holds its tickets still while it decides; a ticket started meanwhile fails
	// on the next pass, as one whose configuration is gone.
	s.matcher.pass.Lock()
	defer s.matcher.pass.Unlock()
	if id, err := liveTicketOf(ctx, s.store.Tickets(), name); err != nil {
		return nil, err
	} else if id != "" {
		return nil, gamelift.InvalidRequest("Matchmaking configuration %s is used by ticket %s, which is in progress; it can be deleted once no ticket of it is", name, id)
	}
	if err := s.store.MatchConfigs().Delete(ctx, name); err != nil {
		return nil, store.NotFoundAs(err, "Matchmaking configuration %s not found", name)
	}
	s.matcher.wake()
	return &gamelift.DeleteMatchmakingConfigurationOutput{}, nil
}
