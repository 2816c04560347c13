package queues

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/placement"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Queue rules, as GameLift has them.
const (
	// defaultQueueTimeout is a queue's TimeoutInSeconds when none is given.
	defaultQueueTimeout = 600
	minQueueTimeout     = 10
	maxQueueTimeout     = 600
	// maxQueues bounds the queues a server keeps.
	maxQueues = 1000
	// maxDestinations bounds a queue's destinations.
	maxDestinations = 100
)

var priorityTypes = []string{placement.ByLatency, placement.ByCost, placement.ByDestination, placement.ByLocation}

// destinationARN matches the ARN of a fleet or alias of any Region: its kind and ID.
var destinationARN = regexp.MustCompile(`^arn:aws:gamelift:([a-z0-9-]+):(\d*):(fleet|alias)/((?:fleet|alias)-[a-zA-Z0-9-]+)$`)

// queueName turns a queue's name or ARN into its name.
func queueName(nameOrARN *string) string {
	v := gamelift.Value(nameOrARN)
	if i := strings.LastIndex(v, ":gamesessionqueue/"); strings.HasPrefix(v, "arn:") && i >= 0 {
		return v[i+len(":gamesessionqueue/"):]
	}
	return v
}

// checkQueue validates what a queue is configured with, beyond the model's constraints.
func (s *Service) checkQueue(ctx context.Context, q *gamelift.GameSessionQueue) error {
	if t := gamelift.Value(q.TimeoutInSeconds); t < minQueueTimeout || t > maxQueueTimeout {
		return gamelift.InvalidRequest("TimeoutInSeconds must be between %d and %d, not %d", minQueueTimeout, maxQueueTimeout, t)
	}
	for i, p := range q.PlayerLatencyPolicies {
		if p.MaximumIndividualPlayerLatencyMilliseconds == nil {
			return gamelift.InvalidRequest("PlayerLatencyPolicies[%d]: every policy needs MaximumIndividualPlayerLatencyMilliseconds", i)
		}
	}
	if len(q.Destinations) > maxDestinations {
		return gamelift.LimitExceeded("a queue has at most %d destinations", maxDestinations)
	}
	seen := map[string]bool{}
	for i, d := range q.Destinations {
		arn := gamelift.Value(d.DestinationArn)
		m := destinationARN.FindStringSubmatch(arn)
		if m == nil {
			return gamelift.InvalidRequest("Destinations[%d]: %q is not the ARN of a fleet or an alias", i, arn)
		}
		if seen[arn] {
			return gamelift.InvalidRequest("Destinations[%d]: %s is listed twice", i, arn)
		}
		seen[arn] = true
		if m[1] != s.region || (m[2] != "" && m[2] != control.AccountID) {
			return gamelift.NotFound("Destinations[%d]: %s is not in this Region's account", i, arn)
		}
		var err error
		if m[3] == "fleet" {
			_, err = s.core.Fleet(ctx, &m[4])
		} else {
			_, err = s.core.Alias(ctx, &m[4])
		}
		if err != nil {
			return err
		}
	}
	if pc := q.PriorityConfiguration; pc != nil {
		for _, t := range pc.PriorityOrder {
			if !slices.Contains(priorityTypes, t) {
				return gamelift.InvalidRequest("PriorityOrder: %q is not one of %v", t, priorityTypes)
			}
		}
		if dupe(pc.PriorityOrder) {
			return gamelift.InvalidRequest("PriorityOrder lists a priority type twice")
		}
		if dupe(pc.LocationOrder) {
			return gamelift.InvalidRequest("LocationOrder lists a location twice")
		}
	}
	return nil
}

func dupe(list []string) bool {
	seen := map[string]bool{}
	for _, v := range list {
		if seen[v] {
			return true
		}
		seen[v] = true
	}
	return false
}

// CreateGameSessionQueue makes a queue that places game sessions on its destinations.
func (s *Service) CreateGameSessionQueue(ctx context.Context, in *gamelift.CreateGameSessionQueueInput) (*gamelift.CreateGameSessionQueueOutput, error) {
	release, err := s.core.Admit(ctx, control.KindQueues, countAll(s.queues))
	if err != nil {
		return nil, err
	}
	defer release()
	name := gamelift.Value(in.Name)
	q := gamelift.GameSessionQueue{
		Name: in.Name, GameSessionQueueArn: gamelift.String(s.core.ARN("gamesessionqueue", name)),
		TimeoutInSeconds: in.TimeoutInSeconds, PlayerLatencyPolicies: in.PlayerLatencyPolicies,
		Destinations: paging.NonNil(in.Destinations), FilterConfiguration: in.FilterConfiguration,
		PriorityConfiguration: in.PriorityConfiguration, CustomEventData: in.CustomEventData,
		NotificationTarget: in.NotificationTarget,
	}
	if q.TimeoutInSeconds == nil {
		q.TimeoutInSeconds = gamelift.Int32(defaultQueueTimeout)
	}
	if err := s.checkQueue(ctx, &q); err != nil {
		return nil, err
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	page, err := s.queues.List(ctx, store.Query{Limit: maxQueues})
	if err != nil {
		return nil, fmt.Errorf("count queues: %w", err)
	}
	if len(page.Items) >= maxQueues {
		return nil, gamelift.LimitExceeded("Hoist keeps at most %d game session queues", maxQueues)
	}
	if err := s.queues.Create(ctx, name, "", store.Queue{Model: q, Tags: tagged}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("A game session queue named %s exists", name)
		}
		return nil, fmt.Errorf("create queue: %w", err)
	}
	s.placer.wake()
	return &gamelift.CreateGameSessionQueueOutput{GameSessionQueue: &q}, nil
}

// Queue loads a game session queue by name or ARN; an unknown one is NotFoundException.
func (s *Service) Queue(ctx context.Context, nameOrARN *string) (store.Queue, error) {
	name := queueName(nameOrARN)
	q, err := s.queues.Get(ctx, name)
	if err != nil {
		return q, store.NotFoundAs(err, "Game session queue %s not found", name)
	}
	return q, nil
}

// DescribeGameSessionQueues lists queues, or those named (by name or ARN) that exist: as
// in GameLift, a name not found is left out.
func (s *Service) DescribeGameSessionQueues(ctx context.Context, in *gamelift.DescribeGameSessionQueuesInput) (*gamelift.DescribeGameSessionQueuesOutput, error) {
	out := &gamelift.DescribeGameSessionQueuesOutput{GameSessionQueues: []gamelift.GameSessionQueue{}}
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			q, err := s.Queue(ctx, &n)
			if gamelift.IsCode(err, "NotFoundException") {
				continue
			}
			if err != nil {
				return nil, err
			}
			out.GameSessionQueues = append(out.GameSessionQueues, q.Model)
		}
		return out, nil
	}
	page, err := s.queues.List(ctx, store.Query{Limit: int(gamelift.Value(paging.Limit(in.Limit))), Token: gamelift.Value(in.NextToken)})
	if err != nil {
		return nil, store.PageError(err)
	}
	for _, q := range page.Items {
		out.GameSessionQueues = append(out.GameSessionQueues, q.Model)
	}
	out.NextToken = paging.Next(page.Next)
	return out, nil
}

// UpdateGameSessionQueue changes the members given; a list given replaces the queue's.
func (s *Service) UpdateGameSessionQueue(ctx context.Context, in *gamelift.UpdateGameSessionQueueInput) (*gamelift.UpdateGameSessionQueueOutput, error) {
	name := queueName(in.Name)
	have, err := s.Queue(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	q := have.Model
	if in.TimeoutInSeconds != nil {
		q.TimeoutInSeconds = in.TimeoutInSeconds
	}
	if in.PlayerLatencyPolicies != nil {
		q.PlayerLatencyPolicies = in.PlayerLatencyPolicies
	}
	if in.Destinations != nil {
		q.Destinations = in.Destinations
	}
	if in.FilterConfiguration != nil {
		q.FilterConfiguration = in.FilterConfiguration
	}
	if in.PriorityConfiguration != nil {
		q.PriorityConfiguration = in.PriorityConfiguration
	}
	if in.CustomEventData != nil {
		q.CustomEventData = in.CustomEventData
	}
	if in.NotificationTarget != nil {
		q.NotificationTarget = in.NotificationTarget
	}
	if err := s.checkQueue(ctx, &q); err != nil {
		return nil, err
	}
	updated, err := s.queues.Update(ctx, name, func(stored *store.Queue) error {
		stored.Model = q
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Game session queue %s not found", name)
	}
	s.placer.wake()
	return &gamelift.UpdateGameSessionQueueOutput{GameSessionQueue: &updated.Model}, nil
}

// DeleteGameSessionQueue deletes a queue; its placements still PENDING fail.
func (s *Service) DeleteGameSessionQueue(ctx context.Context, in *gamelift.DeleteGameSessionQueueInput) (*gamelift.DeleteGameSessionQueueOutput, error) {
	name := queueName(in.Name)
	if err := s.queues.Delete(ctx, name); err != nil {
		return nil, store.NotFoundAs(err, "Game session queue %s not found", name)
	}
	s.placer.wake() // its pending placements fail on the next pass
	return &gamelift.DeleteGameSessionQueueOutput{}, nil
}
