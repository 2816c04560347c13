package queues

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Several servers (replicas) may share one store. Each waiting placement is placed by the
// replica that holds it (store.Placement.Replica): the one it was made on, or the one that
// took it over when that one stopped, which claims it in the store so that only one does.
// The placement's session may go on any replica's process (the core's PlaceSession).

// The kinds of record this package keeps that other replicas change (the stores' table
// names), as the core's change feed tells them (Changed).
const (
	kindQueue     = "queue"
	kindPlacement = "placement"
)

// CapacityFreed asks for a pass over the waiting placements: a process may be free for
// one (control.Placer).
func (s *Service) CapacityFreed() { s.placer.wake() }

// Changed follows a change another replica made to a queue or a placement, or, for kind
// "", changes that may have been missed (control.Placer).
func (s *Service) Changed(kind, key string) {
	switch kind {
	case "":
		s.queues.InvalidateAll()
		s.placer.wake()
	case kindQueue:
		s.queues.Invalidate(key)
		s.placer.wake()
	case kindPlacement:
		s.placementChanged(s.bg.Context(), key)
	}
}

// ReplicasStopped has upkeep take over the waiting placements of replicas that stopped
// (control.Placer).
func (s *Service) ReplicasStopped(ids []string) { s.stopped.add(ids) }

// stoppedReplicas are the replicas that stopped whose waiting placements are yet to be
// taken over: an ID stays until its placements are.
type stoppedReplicas struct {
	mu     sync.Mutex
	ids    map[string]bool
	wakeup chan struct{}
}

func newStoppedReplicas() stoppedReplicas {
	return stoppedReplicas{ids: map[string]bool{}, wakeup: make(chan struct{}, 1)}
}

func (r *stoppedReplicas) add(ids []string) {
	r.mu.Lock()
	for _, id := range ids {
		r.ids[id] = true
	}
	r.mu.Unlock()
	select {
	case r.wakeup <- struct{}{}:
	default:
	}
}

func (r *stoppedReplicas) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.ids))
	for id := range r.ids {
		out = append(out, id)
	}
	return out
}

func (r *stoppedReplicas) done(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		delete(r.ids, id)
	}
}

// takeOver claims the waiting placements of the replicas that stopped, each for one live
// replica, which then places them.
func (s *Service) takeOver(ctx context.Context) error {
	dead := s.stopped.list()
	if len(dead) == 0 {
		return nil
	}
	placements, err := s.store.Placements().List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list placements: %w", err)
	}
	for _, pl := range placements.Items {
		if gamelift.Value(pl.Model.Status) != PlacementPending || pl.Model.GameSessionId != nil || !slices.Contains(dead, pl.Replica) {
			continue
		}
		claimed, ok, err := s.claimPlacement(ctx, gamelift.Value(pl.Model.PlacementId), pl.Replica)
		if err != nil {
			return err
		}
		if ok {
			s.placer.add(claimed)
			s.placer.wake()
		}
	}
	s.stopped.done(dead)
	return nil
}

var errClaimed = errors.New("game session placement claimed by another replica, or no longer waiting")

// claimPlacement makes this replica the one placing a waiting placement that replica from
// had; ok is false when another claimed it first, or it is no longer waiting.
func (s *Service) claimPlacement(ctx context.Context, id, from string) (pl store.Placement, ok bool, err error) {
	pl, err = s.store.Placements().Update(ctx, id, func(pl *store.Placement) error {
		if pl.Replica != from || gamelift.Value(pl.Model.Status) != PlacementPending || pl.Model.GameSessionId != nil {
			return errClaimed
		}
		pl.Replica = s.core.ReplicaID()
		return nil
	})
	switch {
	case errors.Is(err, errClaimed) || errors.Is(err, store.ErrNotFound):
		return pl, false, nil
	case err != nil:
		return pl, false, fmt.Errorf("claim placement %s: %w", id, err)
	}
	return pl, true, nil
}

// placementChanged follows a change another replica made to a placement: one no longer
// waiting, or now another's, leaves this replica's waiting list.
func (s *Service) placementChanged(ctx context.Context, id string) {
	if !s.placer.isWaiting(id) {
		return
	}
	pl, err := s.store.Placements().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (gamelift.Value(pl.Model.Status) != PlacementPending ||
		pl.Model.GameSessionId != nil || pl.Replica != s.core.ReplicaID())) {
		s.placer.drop(id)
	}
}
