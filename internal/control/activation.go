package control

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// A managed fleet location is ACTIVATING until one of its processes calls ProcessReady,
// as in GameLift; then it is ACTIVE (and the fleet with its home Region). It goes to
// ERROR, with FLEET_ACTIVATION_FAILED, if its hosts cannot start a process that gets
// ready: maxActivationFailures launches that fail or crash, an install script that
// fails, or no ProcessReady within the activation timeout of its first host registering.
// A location no host serves waits for one.
const (
	defaultFleetActivationTimeout = 5 * time.Minute
	maxActivationFailures         = 3

	eventActivationFailed  = "FLEET_ACTIVATION_FAILED"
	eventInstallerFailed   = "FLEET_CREATION_FAILED_INSTALLER"
	eventProcessCrashed    = "SERVER_PROCESS_CRASHED"
	eventProcessBadPath    = "SERVER_PROCESS_INVALID_PATH"
	locationStatusActivate = FleetActivating
)

type fleetLocationKey struct{ fleet, location string }

// waitingLocation is a fleet location waiting for its first ready process.
type waitingLocation struct {
	hostSince time.Time // when its first host registered; zero while it has none
	failures  int
}

// activations tracks the fleet locations that are ACTIVATING. It is rebuilt from the
// store at start.
type activations struct {
	mu      sync.Mutex
	waiting map[fleetLocationKey]*waitingLocation
}

// awaitReady starts waiting for the fleet's locations to get a ready process.
func (s *Service) awaitReady(fleetID string, locations []string) {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	for _, l := range locations {
		k := fleetLocationKey{fleetID, l}
		if s.acts.waiting[k] == nil {
			s.acts.waiting[k] = &waitingLocation{}
		}
	}
}

// hostRegistered starts a waiting location's activation clock at its first host.
func (s *Service) hostRegistered(fleetID, location string) {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	if w := s.acts.waiting[fleetLocationKey{fleetID, location}]; w != nil && w.hostSince.IsZero() {
		w.hostSince = s.now()
	}
}

// take removes a location from the waiting set and tells whether it was there.
func (s *Service) take(k fleetLocationKey) bool {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	_, ok := s.acts.waiting[k]
	delete(s.acts.waiting, k)
	return ok
}

// processReady is called when a process of the fleet location calls ProcessReady: a
// waiting location becomes ACTIVE, and the fleet with its home Region.
func (s *Service) processReady(ctx context.Context, fleetID, location string) {
	k := fleetLocationKey{fleetID, location}
	s.acts.mu.Lock()
	_, waiting := s.acts.waiting[k]
	s.acts.mu.Unlock()
	if waiting {
		s.settleLocation(ctx, k, FleetActive, "")
		return
	}
	// With replicas, another one may be watching the location (its fleet was made there):
	// the store says whether it still waits.
	if s.replicated() {
		if f, err := s.fleets.Get(ctx, fleetID); err == nil {
			if l := locationOf(&f, location); l != nil && l.Status == locationStatusActivate {
				s.settleInStore(ctx, k, FleetActive)
			}
		}
	}
}

// launchFailed counts a failed launch (a bad path, a crash, a failed install script) on
// a host of a waiting location; enough of them put the location in ERROR.
func (s *Service) launchFailed(ctx context.Context, fleetID, computeName, code, msg string) {
	c, err := s.store.Computes().Get(ctx, computeKey(fleetID, computeName))
	if err != nil {
		return
	}
	k := fleetLocationKey{fleetID, gamelift.Value(c.Model.Location)}
	s.acts.mu.Lock()
	w := s.acts.waiting[k]
	fail := false
	if w != nil {
		w.failures++
		fail = code == eventInstallerFailed || w.failures >= maxActivationFailures
	}
	s.acts.mu.Unlock()
	if fail {
		s.settleLocation(ctx, k, FleetError, fmt.Sprintf("no server process in location %s became ready: %s", k.location, msg))
	}
}

// expireActivations puts in ERROR the waiting locations whose hosts have had the whole
// activation timeout to start a process that calls ProcessReady.
func (s *Service) expireActivations(ctx context.Context) {
	now := s.now()
	var expired []fleetLocationKey
	s.acts.mu.Lock()
	for k, w := range s.acts.waiting {
		if !w.hostSince.IsZero() && now.Sub(w.hostSince) > s.activationTimeout {
			expired = append(expired, k)
		}
	}
	s.acts.mu.Unlock()
	for _, k := range expired {
		s.settleLocation(ctx, k, FleetError, fmt.Sprintf("no server process in location %s called ProcessReady within %s", k.location, s.activationTimeout))
	}
}

// settleLocation ends a location's wait: ACTIVE, or ERROR with why. The home Region
// carries the fleet's own status with it.
func (s *Service) settleLocation(ctx context.Context, k fleetLocationKey, status, why string) {
	if !s.take(k) {
		return
	}
	if status == FleetError {
		// The reason is on record before anyone can see the ERROR it explains.
		s.event(ctx, k.fleet, eventActivationFailed, why)
		s.log.Warn("fleet location activation failed", "fleet", k.fleet, "location", k.location, "why", why)
	}
	s.settleInStore(ctx, k, status)
}

// settleInStore moves a fleet location that is ACTIVATING to status, with its event; a
// location settled already (by another replica, say) is left as it is.
func (s *Service) settleInStore(ctx context.Context, k fleetLocationKey, status string) {
	fleetChanged := false
	_, err := s.fleets.Update(ctx, k.fleet, func(f *store.Fleet) error {
		fleetChanged = false
		l := locationOf(f, k.location)
		if l == nil || l.Status != locationStatusActivate {
			return errSettled
		}
		l.Status = status
		if f.Locations[0].Name == k.location && gamelift.Value(f.Attributes.Status) == FleetActivating {
			f.Attributes.Status = gamelift.String(status)
			fleetChanged = true
		}
		return nil
	})
	if err != nil {
		if err != errSettled && ctx.Err() == nil {
			s.log.Error("settle fleet location", "fleet", k.fleet, "location", k.location, "error", err)
		}
		return
	}
	if fleetChanged {
		s.event(ctx, k.fleet, eventFleetStatePrefix+status, "Fleet "+k.fleet+" changed status to "+status)
		return
	}
	s.event(ctx, k.fleet, eventLocationStatePrefix+status, fmt.Sprintf("Location %s of fleet %s changed status to %s", k.location, k.fleet, status))
}

var errSettled = fmt.Errorf("fleet location is no longer activating")
