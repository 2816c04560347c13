package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Deleting a fleet or some of its locations is GameLift's: DELETING at once, then in the
// background the game sessions there end (INTERRUPTED), their processes are told to end
// and given a grace to, the hosts are deregistered, and the fleet is TERMINATED with
// FLEET_DELETED (or the locations are gone). A TERMINATED fleet still answers describe
// and list calls for terminatedFleetRetention, then it is gone, with its events, as in
// GameLift: tools that wait for a deleted fleet (Terraform's AWS provider) wait until
// describe calls stop returning it.
const (
	FleetTerminated          = "TERMINATED"
	locationStatusTerminated = "TERMINATED"
	defaultDeletionGrace     = 30 * time.Second
	terminatedFleetRetention = 30 * time.Second
	// fleetPurgeInterval is how often fleets past their retention are looked for, so a
	// deleted fleet is gone within a minute of its deletion completing.
	fleetPurgeInterval = 10 * time.Second
)

// DeleteFleet starts deleting a fleet: DELETING now, TERMINATED when its sessions,
// processes and hosts are gone.
func (s *Service) DeleteFleet(ctx context.Context, in *gamelift.DeleteFleetInput) (*gamelift.DeleteFleetOutput, error) {
	id := gamelift.IDOf(in.FleetId)
	f, err := s.fleets.Update(ctx, id, func(f *store.Fleet) error {
		switch st := gamelift.Value(f.Attributes.Status); st {
		case FleetTerminated:
			return store.ErrNotFound
		case FleetDeleting:
			return gamelift.InvalidFleetStatus("Fleet %s is already DELETING", id)
		}
		f.Attributes.Status = gamelift.String(FleetDeleting)
		for i := range f.Locations {
			f.Locations[i].Status = locationStatusDeleting
		}
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Fleet %s not found", id)
	}
	// GameLift's event codes have no FLEET_STATE_DELETING: the deletion's start is a
	// generic event, each location's is LOCATION_STATE_DELETING, its end FLEET_DELETED.
	s.event(ctx, id, eventGeneric, "Fleet "+id+" changed status to DELETING")
	for _, l := range f.Locations {
		s.event(ctx, id, eventLocationStatePrefix+locationStatusDeleting, fmt.Sprintf("Location %s of fleet %s changed status to DELETING", l.Name, id))
	}
	s.finishDeletion(id, nil)
	return &gamelift.DeleteFleetOutput{}, nil
}

// DeleteFleetLocations starts removing remote or custom locations from a fleet (never its
// home Region): DELETING now, gone when their sessions, processes and hosts are.
func (s *Service) DeleteFleetLocations(ctx context.Context, in *gamelift.DeleteFleetLocationsInput) (*gamelift.DeleteFleetLocationsOutput, error) {
	var removed []store.FleetLocation
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		removed = nil
		for _, name := range in.Locations {
			if name == s.region && gamelift.Value(f.Attributes.ComputeType) == ComputeEC2 {
				return gamelift.InvalidRequest("Location %s is the fleet's home Region and cannot be removed", name)
			}
			l := locationOf(f, name)
			if l == nil {
				return gamelift.InvalidRequest("Location %s does not belong to fleet %s", name, gamelift.Value(f.Attributes.FleetId))
			}
			if l.Status == locationStatusDeleting {
				return gamelift.InvalidRequest("Location %s of fleet %s is already DELETING", name, gamelift.Value(f.Attributes.FleetId))
			}
			l.Status = locationStatusDeleting
			removed = append(removed, *l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	id := gamelift.Value(f.Attributes.FleetId)
	names := locationNames(removed)
	for _, name := range names {
		s.event(ctx, id, eventLocationStatePrefix+locationStatusDeleting, fmt.Sprintf("Location %s of fleet %s changed status to DELETING", name, id))
	}
	s.finishDeletion(id, names)
	return &gamelift.DeleteFleetLocationsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, LocationStates: locationStates(removed)}, nil
}

// finishDeletion ends what runs in the fleet's locations (all of them when locations is
// nil) in the background, then completes the deletion. It is resumed after a restart.
func (s *Service) finishDeletion(fleetID string, locations []string) {
	in := func(location string) bool { return locations == nil || slices.Contains(locations, location) }
	s.bg.Go(func() {
		ctx := s.bg.Context()
		s.acts.mu.Lock()
		for k := range s.acts.waiting {
			if k.fleet == fleetID && in(k.location) {
				delete(s.acts.waiting, k)
			}
		}
		s.acts.mu.Unlock()

		if err := s.endFleetSessions(ctx, fleetID, in); err != nil {
			s.log.Error("delete fleet: end game sessions", "fleet", fleetID, "error", err)
			return
		}
		s.stopFleetProcesses(ctx, fleetID, in)
		if err := s.deregisterComputes(ctx, fleetID, in); err != nil {
			s.log.Error("delete fleet: deregister computes", "fleet", fleetID, "error", err)
			return
		}
		if ctx.Err() != nil {
			return // resumed at the next start
		}
		now := gamelift.At(s.now())
		var deleted []string
		_, err := s.fleets.Update(ctx, fleetID, func(f *store.Fleet) error {
			deleted = nil
			for _, l := range f.Locations {
				if in(l.Name) {
					deleted = append(deleted, l.Name)
				}
			}
			if locations != nil {
				f.Locations = slices.DeleteFunc(f.Locations, func(l store.FleetLocation) bool { return in(l.Name) })
				return nil
			}
			f.Attributes.Status, f.Attributes.TerminationTime = gamelift.String(FleetTerminated), now
			for i := range f.Locations {
				f.Locations[i].Status = locationStatusTerminated
			}
			return nil
		})
		if err != nil {
			s.log.Error("delete fleet", "fleet", fleetID, "error", err)
			return
		}
		for _, name := range deleted {
			s.event(ctx, fleetID, eventLocationStatePrefix+"DELETED", fmt.Sprintf("Location %s of fleet %s is deleted", name, fleetID))
		}
		if locations == nil {
			s.event(ctx, fleetID, eventFleetDeleted, "Fleet "+fleetID+" deleted")
		}
		s.log.Info("fleet deleted", "fleet", fleetID, "locations", locations)
	})
}

// endFleetSessions ends the live game sessions in the fleet's locations chosen by in.
func (s *Service) endFleetSessions(ctx context.Context, fleetID string, in func(string) bool) error {
	page, err := s.gameSessions.List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return fmt.Errorf("list game sessions: %w", err)
	}
	for _, gs := range page.Items {
		st := gamelift.Value(gs.Model.Status)
		if st != SessionTerminated && st != SessionError && in(gamelift.Value(gs.Model.Location)) {
			s.endSession(ctx, gamelift.Value(gs.Model.GameSessionId), ReasonInterrupted)
		}
	}
	return nil
}

// stopFleetProcesses tells the fleet's processes in the chosen locations to end
// (TerminateProcess), waits up to the deletion grace for them to go, then disconnects
// those left.
func (s *Service) stopFleetProcesses(ctx context.Context, fleetID string, in func(string) bool) {
	mine := func(p *process) bool { return p.fleetID == fleetID && in(p.location) }
	s.procs.mu.Lock()
	var keys []procKey
	for _, p := range s.procs.byKey {
		if mine(p) {
			p.ready = false // hosts nothing new
			s.procs.sync(p)
			keys = append(keys, p.key())
		}
	}
	s.procs.mu.Unlock()
	for _, k := range keys {
		s.askProcessToEnd(k)
	}
	deadline := time.Now().Add(s.deletionGrace)
	for {
		left := 0
		s.procs.mu.Lock()
		for _, p := range s.procs.byKey {
			if mine(p) && p.peer != nil {
				left++
			}
		}
		s.procs.mu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	for _, p := range s.procs.byKey {
		if mine(p) {
			s.forgetProcessLocked(p, "its fleet location was deleted")
		}
	}
}

// deregisterComputes removes the fleet's hosts in the chosen locations.
func (s *Service) deregisterComputes(ctx context.Context, fleetID string, in func(string) bool) error {
	computes, err := s.store.Computes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return fmt.Errorf("list computes: %w", err)
	}
	stays := map[string]bool{}
	for _, c := range computes.Items {
		name := gamelift.Value(c.Model.ComputeName)
		if !in(gamelift.Value(c.Model.Location)) {
			stays[name] = true
			continue
		}
		if err := s.store.Computes().Delete(ctx, computeKey(fleetID, name)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("deregister compute: %w", err)
		}
		s.forgetEventBudgets(fleetID, name)
	}
	if err := s.forgetProcessesOf(ctx, fleetID, func(name string) bool { return !stays[name] }); err != nil {
		return err
	}
	// Their tokens go with them (and those of computes deregistered before), in one pass.
	tokens, err := s.store.AuthTokens().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return fmt.Errorf("list auth tokens: %w", err)
	}
	for _, t := range tokens.Items {
		if stays[t.ComputeName] {
			continue
		}
		if err := s.store.AuthTokens().Delete(ctx, t.Token); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke auth token: %w", err)
		}
	}
	return nil
}

// purgeAuthTokens deletes expired compute auth tokens: they are refused already, and a
// process refreshing its token every few minutes would otherwise grow the store forever.
func (s *Service) purgeAuthTokens(ctx context.Context) {
	page, err := s.store.AuthTokens().List(ctx, store.Query{})
	if err != nil {
		s.log.Error("list auth tokens to purge", "error", err)
		return
	}
	now := s.now()
	for _, t := range page.Items {
		if !now.Before(t.Expires) {
			if err := s.store.AuthTokens().Delete(ctx, t.Token); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Error("purge auth token", "error", err)
			}
		}
	}
}

// purgeFleets deletes fleets TERMINATED longer ago than the retention, with their events.
func (s *Service) purgeFleets(ctx context.Context) {
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		s.log.Error("list fleets to purge", "error", err)
		return
	}
	cutoff := s.now().Add(-terminatedFleetRetention)
	for _, f := range page.Items {
		t := f.Attributes.TerminationTime
		if gamelift.Value(f.Attributes.Status) != FleetTerminated || t == nil || !t.Before(cutoff) {
			continue
		}
		id := gamelift.Value(f.Attributes.FleetId)
		events, err := s.store.FleetEvents().List(ctx, store.Query{Parent: id})
		if err != nil {
			s.log.Error("list fleet events to purge", "fleet", id, "error", err)
			continue
		}
		for _, e := range events.Items {
			s.store.FleetEvents().Delete(ctx, gamelift.Value(e.EventId))
		}
		if err := s.fleets.Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("purge fleet", "fleet", id, "error", err)
		}
		s.eventTrims.forget(id)
	}
}
