package console

import (
	"errors"
	"net/http"
	"reflect"
	"slices"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Bounds on what one page shows.
const (
	maxFleets       = 100
	maxEvents       = 50
	maxSessions     = 100 // in all, over the fleets shown
	maxPlayers      = 100
	maxPlacements   = 50
	sessionsOfFleet = 50
)

type fleetRow struct {
	gamelift.FleetAttributes
	Locations   []gamelift.LocationAttributes
	Capacity    *gamelift.FleetCapacity
	Utilization *gamelift.FleetUtilization
}

type fleetsData struct {
	Listed          bool // the key may list fleets
	Fleets          []fleetRow
	More            bool
	SeeLocations    bool
	SeeCapacity     bool
	SeeUtilization  bool
	SeeGameSessions bool
}

func (c *Console) fleets(r *http.Request, v *view) error {
	v.Title = "Fleets"
	d := &fleetsData{}
	v.Data = d
	ok, err := c.may(r, v, "DescribeFleetAttributes", "fleets")
	if !ok {
		return err
	}
	ctx := r.Context()
	attrs, err := c.svc.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{Limit: gamelift.Int32(maxFleets)})
	if err != nil {
		return err
	}
	d.Listed, d.More = true, attrs.NextToken != nil
	for _, fa := range attrs.FleetAttributes {
		d.Fleets = append(d.Fleets, fleetRow{FleetAttributes: fa})
	}
	if d.SeeCapacity, err = c.may(r, v, "DescribeFleetCapacity", "fleets' capacities"); err != nil {
		return err
	}
	if d.SeeUtilization, err = c.may(r, v, "DescribeFleetUtilization", "fleets' utilization"); err != nil {
		return err
	}
	if d.SeeLocations, err = c.may(r, v, "DescribeFleetLocationAttributes", "fleets' locations"); err != nil {
		return err
	}
	d.SeeGameSessions = c.quietlyMay(r, "DescribeGameSessions")
	for i := range d.Fleets {
		f := &d.Fleets[i]
		ids := []string{gamelift.Value(f.FleetId)}
		if d.SeeCapacity {
			out, err := c.svc.DescribeFleetCapacity(ctx, &gamelift.DescribeFleetCapacityInput{FleetIds: ids})
			if err != nil {
				return err
			}
			if len(out.FleetCapacity) > 0 {
				f.Capacity = &out.FleetCapacity[0]
			}
		}
		if d.SeeUtilization {
			out, err := c.svc.DescribeFleetUtilization(ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: ids})
			if err != nil {
				return err
			}
			if len(out.FleetUtilization) > 0 {
				f.Utilization = &out.FleetUtilization[0]
			}
		}
		if d.SeeLocations {
			out, err := c.svc.DescribeFleetLocationAttributes(ctx, &gamelift.DescribeFleetLocationAttributesInput{FleetId: f.FleetId})
			if err != nil {
				return err
			}
			f.Locations = out.LocationAttributes
		}
	}
	return nil
}

type fleetData struct {
	Fleet     *fleetRow
	Events    []gamelift.Event // newest first
	Runtime   *gamelift.RuntimeConfiguration
	Computes  []gamelift.Compute
	Processes []control.ProcessView
	SeeGameSessions,
	SeeComputes bool
}

func (c *Console) fleet(r *http.Request, v *view) error {
	id := r.PathValue("id")
	v.Title, v.Nav = "Fleet "+id, "fleets"
	d := &fleetData{}
	v.Data = d
	ok, err := c.may(r, v, "DescribeFleetAttributes", "fleets")
	if !ok {
		return err
	}
	ctx := r.Context()
	in := &gamelift.DescribeFleetAttributesInput{FleetIds: []string{id}}
	if err := gamelift.Validate(in); err != nil {
		return err
	}
	attrs, err := c.svc.DescribeFleetAttributes(ctx, in)
	if err != nil {
		return err
	}
	if len(attrs.FleetAttributes) == 0 {
		return gamelift.NotFound("No fleet %s", id)
	}
	d.Fleet = &fleetRow{FleetAttributes: attrs.FleetAttributes[0]}
	ref := d.Fleet.FleetId
	ids := []string{gamelift.Value(ref)}
	if ok, err := c.may(r, v, "DescribeFleetLocationAttributes", "the fleet's locations"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeFleetLocationAttributes(ctx, &gamelift.DescribeFleetLocationAttributesInput{FleetId: ref})
		if err != nil {
			return err
		}
		d.Fleet.Locations = out.LocationAttributes
	}
	if ok, err := c.may(r, v, "DescribeFleetCapacity", "the fleet's capacity"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeFleetCapacity(ctx, &gamelift.DescribeFleetCapacityInput{FleetIds: ids})
		if err != nil {
			return err
		}
		if len(out.FleetCapacity) > 0 {
			d.Fleet.Capacity = &out.FleetCapacity[0]
		}
	}
	if ok, err := c.may(r, v, "DescribeFleetUtilization", "the fleet's utilization"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeFleetUtilization(ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: ids})
		if err != nil {
			return err
		}
		if len(out.FleetUtilization) > 0 {
			d.Fleet.Utilization = &out.FleetUtilization[0]
		}
	}
	if ok, err := c.may(r, v, "DescribeFleetEvents", "the fleet's events"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeFleetEvents(ctx, &gamelift.DescribeFleetEventsInput{FleetId: ref})
		if err != nil {
			return err
		}
		events := out.Events[max(0, len(out.Events)-maxEvents):]
		d.Events = slices.Clone(events)
		slices.Reverse(d.Events)
	}
	if ok, err := c.may(r, v, "DescribeRuntimeConfiguration", "the fleet's runtime configuration"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeRuntimeConfiguration(ctx, &gamelift.DescribeRuntimeConfigurationInput{FleetId: ref})
		if err != nil {
			return err
		}
		d.Runtime = out.RuntimeConfiguration
	}
	if d.SeeComputes, err = c.may(r, v, "ListCompute", "the fleet's computes and processes"); err != nil {
		return err
	} else if d.SeeComputes {
		out, err := c.svc.ListCompute(ctx, &gamelift.ListComputeInput{FleetId: ref, Limit: gamelift.Int32(100)})
		if err != nil {
			return err
		}
		d.Computes = out.ComputeList
		d.Processes = c.svc.FleetProcesses(gamelift.Value(ref))
	}
	d.SeeGameSessions = c.quietlyMay(r, "DescribeGameSessions")
	return nil
}

// quietlyMay tells whether the key may call op, to show a link or not.
func (c *Console) quietlyMay(r *http.Request, op string) bool {
	return c.cfg.Keys.Authorize(r.Context(), sessionOf(r).keyID, op) == nil
}

type sessionsData struct {
	Fleet, Status, Filter, Sort string
	Fleets                      []gamelift.FleetAttributes // to choose from
	Sessions                    []gamelift.GameSession
	Listed, More                bool
	SeeLogs                     bool
}

// Game session statuses to filter on.
var sessionStatuses = []string{"ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"}

func (c *Console) gameSessions(r *http.Request, v *view) error {
	q := r.URL.Query()
	d := &sessionsData{Fleet: q.Get("fleet"), Status: q.Get("status"), Filter: q.Get("filter"), Sort: q.Get("sort")}
	v.Title, v.Data = "Game sessions", d
	if d.Status != "" && !slices.Contains(sessionStatuses, d.Status) {
		return gamelift.InvalidRequest("status must be one of %v", sessionStatuses)
	}
	search := d.Filter != "" || d.Sort != ""
	op := "DescribeGameSessions"
	if search {
		op = "SearchGameSessions"
	}
	ok, err := c.may(r, v, op, "game sessions")
	if !ok {
		return err
	}
	ctx := r.Context()
	fleets := []string{d.Fleet}
	if ok, err := c.may(r, v, "DescribeFleetAttributes", "fleets to choose from"); err != nil {
		return err
	} else if ok {
		out, err := c.svc.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{Limit: gamelift.Int32(maxFleets)})
		if err != nil {
			return err
		}
		d.Fleets = out.FleetAttributes
		if d.Fleet == "" {
			fleets = fleets[:0]
			for _, f := range d.Fleets {
				fleets = append(fleets, gamelift.Value(f.FleetId))
			}
		}
	} else if d.Fleet == "" {
		return gamelift.InvalidRequest("Give a fleet ID: this key may not list fleets")
	}
	d.SeeLogs, d.Listed = c.quietlyMay(r, "GetGameSessionLogUrl"), true
	for _, fleet := range fleets {
		if len(d.Sessions) >= maxSessions {
			d.More = true
			break
		}
		var found []gamelift.GameSession
		var next *string
		if search {
			in := &gamelift.SearchGameSessionsInput{FleetId: gamelift.String(fleet), Limit: gamelift.Int32(20)}
			if d.Filter != "" {
				in.FilterExpression = gamelift.String(d.Filter)
			}
			if d.Sort != "" {
				in.SortExpression = gamelift.String(d.Sort)
			}
			if err := gamelift.Validate(in); err != nil {
				return err
			}
			out, err := c.svc.SearchGameSessions(ctx, in)
			if err != nil {
				return err
			}
			found, next = out.GameSessions, out.NextToken
		} else {
			in := &gamelift.DescribeGameSessionsInput{FleetId: gamelift.String(fleet), Limit: gamelift.Int32(sessionsOfFleet)}
			if d.Status != "" {
				in.StatusFilter = gamelift.String(d.Status)
			}
			if err := gamelift.Validate(in); err != nil {
				return err
			}
			out, err := c.svc.DescribeGameSessions(ctx, in)
			if err != nil {
				return err
			}
			found, next = out.GameSessions, out.NextToken
		}
		d.More = d.More || next != nil
		d.Sessions = append(d.Sessions, found...)
	}
	if !search { // newest first
		slices.SortStableFunc(d.Sessions, func(a, b gamelift.GameSession) int {
			return b.CreationTime.Compare(a.CreationTime.Time)
		})
	}
	if len(d.Sessions) > maxSessions {
		d.Sessions, d.More = d.Sessions[:maxSessions], true
	}
	return nil
}

type sessionData struct {
	Session  *gamelift.GameSession
	Players  []gamelift.PlayerSession
	SeeLogs  bool
	MorePlrs bool
}

func (c *Console) gameSession(r *http.Request, v *view) error {
	id := r.URL.Query().Get("id")
	d := &sessionData{}
	v.Title, v.Nav, v.Data = "Game session", "sessions", d
	ok, err := c.may(r, v, "DescribeGameSessions", "game sessions")
	if !ok {
		return err
	}
	ctx := r.Context()
	in := &gamelift.DescribeGameSessionsInput{GameSessionId: gamelift.String(id)}
	if err := gamelift.Validate(in); err != nil {
		return err
	}
	out, err := c.svc.DescribeGameSessions(ctx, in)
	if err != nil {
		return err
	}
	if len(out.GameSessions) == 0 {
		return gamelift.NotFound("No game session %s", id)
	}
	d.Session = &out.GameSessions[0]
	d.SeeLogs = c.quietlyMay(r, "GetGameSessionLogUrl")
	if ok, err := c.may(r, v, "DescribePlayerSessions", "player sessions"); err != nil {
		return err
	} else if ok {
		ps, err := c.svc.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: d.Session.GameSessionId, Limit: gamelift.Int32(maxPlayers)})
		if err != nil {
			return err
		}
		d.Players, d.MorePlrs = ps.PlayerSessions, ps.NextToken != nil
	}
	return nil
}

// sessionLogs sends the browser to an ended session's log archive.
func (c *Console) sessionLogs(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Game session logs", Nav: "sessions", KeyID: sessionOf(r).keyID, CSRF: sessionOf(r).csrf}
	ok, err := c.may(r, v, "GetGameSessionLogUrl", "game session logs")
	if err == nil && ok {
		in := &gamelift.GetGameSessionLogUrlInput{GameSessionId: gamelift.String(r.URL.Query().Get("id"))}
		if err = gamelift.Validate(in); err == nil {
			var out *gamelift.GetGameSessionLogUrlOutput
			if out, err = c.svc.GetGameSessionLogUrl(r.Context(), in); err == nil {
				http.Redirect(w, r, gamelift.Value(out.PreSignedUrl), http.StatusSeeOther)
				return
			}
		}
	}
	if ge := (*gamelift.Error)(nil); errors.As(err, &ge) {
		v.Error = ge.Message
	} else if err != nil {
		v.Error = "internal error"
	}
	w.WriteHeader(http.StatusNotFound)
	c.render(w, "session", v, false)
}

type queuesData struct {
	Queues     []gamelift.GameSessionQueue
	Pending    []gamelift.GameSessionPlacement
	Placement  string
	Found      *gamelift.GameSessionPlacement
	SeePending bool
}

func (c *Console) queues(r *http.Request, v *view) error {
	d := &queuesData{Placement: r.URL.Query().Get("placement")}
	v.Title, v.Data = "Queues and placements", d
	ctx := r.Context()
	if ok, err := c.may(r, v, "DescribeGameSessionQueues", "queues"); err != nil {
		return err
	} else if ok {
		out, err := c.queueSvc.DescribeGameSessionQueues(ctx, &gamelift.DescribeGameSessionQueuesInput{Limit: gamelift.Int32(100)})
		if err != nil {
			return err
		}
		d.Queues = out.GameSessionQueues
	}
	ok, err := c.may(r, v, "DescribeGameSessionPlacement", "placements")
	if !ok {
		return err
	}
	d.SeePending = true
	d.Pending = c.queueSvc.PendingPlacements(maxPlacements)
	if d.Placement != "" {
		in := &gamelift.DescribeGameSessionPlacementInput{PlacementId: gamelift.String(d.Placement)}
		if err := gamelift.Validate(in); err != nil {
			return err
		}
		out, err := c.queueSvc.DescribeGameSessionPlacement(ctx, in)
		if err != nil {
			return err
		}
		d.Found = out.GameSessionPlacement
	}
	return nil
}

// deref is the template's v: the value a pointer points to, "" for nil; a timestamp as
// UTC time to the second.
func deref(x any) any {
	if ts, ok := x.(*gamelift.Timestamp); ok {
		return when(ts)
	}
	rv := reflect.ValueOf(x)
	if !rv.IsValid() {
		return ""
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		return rv.Elem().Interface()
	}
	return x
}

func when(ts *gamelift.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.UTC().Format("2006-01-02 15:04:05Z")
}
