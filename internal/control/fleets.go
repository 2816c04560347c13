package control

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Fleet statuses and compute types, as GameLift names them.
const (
	FleetNew         = "NEW"
	FleetDownloading = "DOWNLOADING"
	FleetValidating  = "VALIDATING"
	FleetBuilding    = "BUILDING"
	FleetActivating  = "ACTIVATING"
	FleetActive      = "ACTIVE"
	FleetDeleting    = "DELETING"
	FleetError       = "ERROR"

	ComputeEC2       = "EC2"
	ComputeAnywhere  = "ANYWHERE"
	ComputeContainer = "CONTAINER"
)

// Runtime configuration defaults and limits GameLift applies.
const (
	defaultActivationTimeout = 600
	defaultMaxActivations    = 2147483647
	maxProcessesPerInstance  = 50
	defaultProtectionPolicy  = "NoProtection"
	defaultCertificateType   = "DISABLED"
	defaultMetricGroup       = "default"
	defaultFleetType         = "ON_DEMAND"
	defaultAnywhereOS        = "AMAZON_LINUX_2023"
	locationStatusActive     = "ACTIVE"
	locationStatusNew        = "NEW"
	locationStatusDeleting   = "DELETING"
	eventFleetCreated        = "FLEET_CREATED"
	eventFleetStatePrefix    = "FLEET_STATE_"
	eventLocationStatePrefix = "LOCATION_STATE_"
	eventGeneric             = "GENERIC_EVENT"
	eventFleetDeleted        = "FLEET_DELETED"
)

// provisioningSteps is the path of a managed fleet from NEW to ACTIVATING.
var provisioningSteps = []string{FleetDownloading, FleetValidating, FleetBuilding, FleetActivating}

// isContainer tells whether a fleet is a container fleet (internal/containers): its
// game servers run in pods an engine starts.
func isContainer(f store.Fleet) bool { return f.Container != nil }

// managed tells whether Hoist (not the studio) decides how many instances a fleet has: a
// managed EC2 fleet (whose hosts agents bring) or a container fleet (whose pods the engine starts).
func managed(f store.Fleet) bool {
	ct := gamelift.Value(f.Attributes.ComputeType)
	return ct == ComputeEC2 || ct == ComputeContainer
}

func locationOf(f *store.Fleet, name string) *store.FleetLocation {
	for i := range f.Locations {
		if f.Locations[i].Name == name {
			return &f.Locations[i]
		}
	}
	return nil
}

// getFleet loads a fleet by ID or ARN.
func (s *Service) getFleet(ctx context.Context, idOrARN *string) (store.Fleet, error) {
	id := gamelift.IDOf(idOrARN)
	f, err := s.fleets.Get(ctx, id)
	if err != nil {
		return f, store.NotFoundAs(err, "Fleet %s not found", id)
	}
	return f, nil
}

// CreateFleet creates an Anywhere fleet (ACTIVE at once) or a managed EC2 fleet whose
// processes Hoist runs on its own hosts (NEW, then provisioned to ACTIVE).
func (s *Service) CreateFleet(ctx context.Context, in *gamelift.CreateFleetInput) (*gamelift.CreateFleetOutput, error) {
	release, err := s.admit(ctx, KindFleets, countAll(s.fleets, liveFleet))
	if err != nil {
		return nil, err
	}
	defer release()
	computeType := gamelift.Value(in.ComputeType)
	if computeType == "" {
		computeType = ComputeEC2
	}
	if in.BuildId != nil && in.ScriptId != nil {
		return nil, gamelift.InvalidRequest("Specify a BuildId or a ScriptId, not both")
	}
	if in.ScriptId != nil {
		return nil, gamelift.InvalidRequest("Realtime script fleets are not supported by Hoist; use a build or a launch path")
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	var build gamelift.Build
	if in.BuildId != nil {
		if build, err = s.build(ctx, in.BuildId); err != nil {
			return nil, err
		}
		if st := gamelift.Value(build.Status); st != buildReady {
			return nil, gamelift.InvalidRequest("Build %s is %s, not READY: upload its files first", gamelift.Value(build.BuildId), st)
		}
	}

	runtime, err := runtimeFromCreate(in, computeType)
	if err != nil {
		return nil, err
	}
	if computeType == ComputeAnywhere && len(in.EC2InboundPermissions) > 0 {
		return nil, gamelift.InvalidRequest("EC2InboundPermissions apply to managed (EC2) fleets; an Anywhere fleet's hosts set their own ports")
	}
	perms, err := inboundPermissions(in.EC2InboundPermissions)
	if err != nil {
		return nil, err
	}
	locations, err := s.fleetLocations(ctx, computeType, in.Locations, nil)
	if err != nil {
		return nil, err
	}

	id := gamelift.NewID("fleet")
	now := gamelift.At(s.now())
	attrs := gamelift.FleetAttributes{
		FleetId:                        &id,
		FleetArn:                       gamelift.String(s.arn("fleet", id)),
		Name:                           in.Name,
		Description:                    in.Description,
		ComputeType:                    &computeType,
		CreationTime:                   now,
		ServerLaunchPath:               in.ServerLaunchPath,
		ServerLaunchParameters:         in.ServerLaunchParameters,
		LogPaths:                       in.LogPaths,
		NewGameSessionProtectionPolicy: orDefault(in.NewGameSessionProtectionPolicy, defaultProtectionPolicy),
		ResourceCreationLimitPolicy:    in.ResourceCreationLimitPolicy,
		MetricGroups:                   in.MetricGroups,
		InstanceRoleArn:                in.InstanceRoleArn,
		CertificateConfiguration:       in.CertificateConfiguration,
		PlayerGatewayMode:              in.PlayerGatewayMode,
		PlayerGatewayConfiguration:     in.PlayerGatewayConfiguration,
	}
	if attrs.CertificateConfiguration == nil {
		attrs.CertificateConfiguration = &gamelift.CertificateConfiguration{CertificateType: gamelift.String(defaultCertificateType)}
	}
	if len(attrs.MetricGroups) == 0 {
		attrs.MetricGroups = []string{defaultMetricGroup}
	}
	status := FleetNew
	switch computeType {
	case ComputeAnywhere:
		status = FleetActive
		attrs.AnywhereConfiguration = in.AnywhereConfiguration
		attrs.OperatingSystem = gamelift.String(defaultAnywhereOS)
		for i := range locations {
			locations[i].Status = locationStatusActive
		}
	default:
		attrs.BuildId, attrs.BuildArn, attrs.OperatingSystem = build.BuildId, build.BuildArn, build.OperatingSystem
		attrs.FleetType = orDefault(in.FleetType, defaultFleetType)
		attrs.InstanceType = in.EC2InstanceType
		attrs.InstanceRoleCredentialsProvider = in.InstanceRoleCredentialsProvider
	}
	attrs.Status = &status

	f := store.Fleet{Attributes: attrs, Runtime: runtime, InboundPermissions: perms, Locations: locations, Tags: tagged}
	if err := s.fleets.Create(ctx, id, "", f); err != nil {
		return nil, fmt.Errorf("create fleet: %w", err)
	}
	s.event(ctx, id, eventFleetCreated, "Fleet "+id+" created")
	if status == FleetActive {
		s.event(ctx, id, eventFleetStatePrefix+FleetActive, "Fleet "+id+" changed status to ACTIVE")
	} else {
		s.provision(id)
	}
	return &gamelift.CreateFleetOutput{FleetAttributes: &f.Attributes, LocationStates: locationStates(f.Locations)}, nil
}

func orDefault(p *string, def string) *string {
	if p == nil {
		return &def
	}
	return p
}

// runtimeFromCreate builds the runtime configuration from CreateFleet's members: either
// RuntimeConfiguration or the older ServerLaunchPath/ServerLaunchParameters.
func runtimeFromCreate(in *gamelift.CreateFleetInput, computeType string) (gamelift.RuntimeConfiguration, error) {
	if in.RuntimeConfiguration != nil && in.ServerLaunchPath != nil {
		return gamelift.RuntimeConfiguration{}, gamelift.InvalidRequest("Specify RuntimeConfiguration or ServerLaunchPath, not both")
	}
	var rc gamelift.RuntimeConfiguration
	switch {
	case in.RuntimeConfiguration != nil:
		rc = *in.RuntimeConfiguration
	case in.ServerLaunchPath != nil:
		rc.ServerProcesses = []gamelift.ServerProcess{{
			LaunchPath: in.ServerLaunchPath, Parameters: in.ServerLaunchParameters, ConcurrentExecutions: gamelift.Int32(1),
		}}
	case computeType == ComputeEC2:
		return rc, gamelift.InvalidRequest("A managed (EC2) fleet needs a RuntimeConfiguration with at least one server process")
	}
	return withRuntimeDefaults(rc, computeType)
}

// withRuntimeDefaults checks a runtime configuration against GameLift's rules and fills
// in the defaults GameLift reports.
func withRuntimeDefaults(rc gamelift.RuntimeConfiguration, computeType string) (gamelift.RuntimeConfiguration, error) {
	if rc.GameSessionActivationTimeoutSeconds == nil {
		rc.GameSessionActivationTimeoutSeconds = gamelift.Int32(defaultActivationTimeout)
	}
	if rc.MaxConcurrentGameSessionActivations == nil {
		rc.MaxConcurrentGameSessionActivations = gamelift.Int32(defaultMaxActivations)
	}
	total := 0
	for i, p := range rc.ServerProcesses {
		total += int(gamelift.Value(p.ConcurrentExecutions))
		path := gamelift.Value(p.LaunchPath)
		if computeType == ComputeEC2 && !filepath.IsAbs(path) && !strings.HasPrefix(path, `C:\game\`) {
			return rc, gamelift.InvalidRequest("RuntimeConfiguration.ServerProcesses[%d].LaunchPath must be an absolute path (/local/game/... for a build, or any absolute path on the host)", i)
		}
	}
	if total > maxProcessesPerInstance {
		return rc, gamelift.InvalidRequest("RuntimeConfiguration runs %d concurrent processes; the limit is %d per instance", total, maxProcessesPerInstance)
	}
	return rc, nil
}

// fleetLocations checks requested locations and returns them as fleet locations: for a
// managed fleet the home Region first, then AWS Regions; for an Anywhere fleet, existing
// custom locations. existing are the fleet's current locations, which may not repeat.
func (s *Service) fleetLocations(ctx context.Context, computeType string, req []gamelift.LocationConfiguration, existing []store.FleetLocation) ([]store.FleetLocation, error) {
	var out []store.FleetLocation
	if existing == nil && computeType == ComputeEC2 {
		out = append(out, newManagedLocation(s.region))
	}
	if computeType == ComputeAnywhere && existing == nil && len(req) == 0 {
		return nil, gamelift.InvalidRequest("An Anywhere fleet needs at least one custom location in Locations")
	}
	for _, l := range req {
		name := gamelift.Value(l.Location)
		dup := func(fl store.FleetLocation) bool { return fl.Name == name }
		if slices.ContainsFunc(out, dup) || slices.ContainsFunc(existing, dup) {
			return nil, gamelift.InvalidRequest("Location %s is listed more than once or already belongs to the fleet", name)
		}
		switch {
		case computeType == ComputeAnywhere:
			if !isCustomLocation(name) {
				return nil, gamelift.InvalidRequest("An Anywhere fleet takes custom locations (custom-...), not %s", name)
			}
			if _, err := s.store.Locations().Get(ctx, name); err != nil {
				return nil, store.NotFoundAs(err, "Location %s not found", name)
			}
		case isCustomLocation(name):
			return nil, gamelift.InvalidRequest("Custom location %s can only be used by an Anywhere fleet", name)
		case !slices.Contains(awsLocations, name):
			return nil, gamelift.UnsupportedRegion("Location %s is not a supported location", name)
		}
		if computeType == ComputeEC2 {
			out = append(out, newManagedLocation(name))
		} else {
			out = append(out, store.FleetLocation{Name: name, Status: locationStatusNew})
		}
	}
	return out, nil
}

func locationStates(ls []store.FleetLocation) []gamelift.LocationState {
	out := make([]gamelift.LocationState, 0, len(ls))
	for _, l := range ls {
		out = append(out, gamelift.LocationState{Location: gamelift.String(l.Name), Status: gamelift.String(l.Status)})
	}
	return out
}

// provision walks a managed fleet from its current status to ACTIVATING in the
// background, recording each step as a fleet event. Hoist's hosts need no image build, so
// each step completes as soon as it is recorded; each host downloads and installs the
// build itself. The fleet's locations then wait for a ready process (activation.go).
func (s *Service) provision(id string) {
	s.bg.Go(func() {
		ctx := s.bg.Context()
		for {
			if ctx.Err() != nil {
				return
			}
			f, err := s.fleets.Update(ctx, id, func(f *store.Fleet) error {
				i := slices.Index(provisioningSteps, gamelift.Value(f.Attributes.Status))
				if gamelift.Value(f.Attributes.Status) != FleetNew && i < 0 || i == len(provisioningSteps)-1 {
					return errProvisioned
				}
				next := provisioningSteps[i+1]
				f.Attributes.Status = &next
				if next == FleetActivating {
					for j := range f.Locations {
						if f.Locations[j].Status == locationStatusNew {
							f.Locations[j].Status = locationStatusActivate
						}
					}
				}
				return nil
			})
			if errors.Is(err, errProvisioned) || errors.Is(err, store.ErrNotFound) {
				return
			}
			if err != nil {
				s.log.Error("provision fleet", "fleet", id, "error", err)
				return
			}
			st := gamelift.Value(f.Attributes.Status)
			if st != FleetActivating {
				s.event(ctx, id, eventFleetStatePrefix+st, "Fleet "+id+" changed status to "+st)
				continue
			}
			s.event(ctx, id, eventFleetStatePrefix+st, "Fleet "+id+" changed status to "+st+": waiting for a server process to call ProcessReady")
			if len(f.Locations) > 1 {
				s.activateLocations(ctx, f, f.Locations[1:])
			}
			s.awaitReady(id, locationNames(f.Locations))
		}
	})
}

// activateLocations says, for each remote location, what it waits for: a host that serves it.
func (s *Service) activateLocations(ctx context.Context, f store.Fleet, remote []store.FleetLocation) {
	id := gamelift.Value(f.Attributes.FleetId)
	for _, l := range remote {
		s.event(ctx, id, eventLocationStatePrefix+FleetActivating, fmt.Sprintf(
			"Location %s of fleet %s changed status to ACTIVATING: it waits for a host that serves it (hoist agent --fleet-id %s --location %s, or hoist server --local-locations %s)",
			l.Name, id, id, l.Name, l.Name))
	}
}

func locationNames(ls []store.FleetLocation) []string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return names
}

var errProvisioned = errors.New("fleet needs no provisioning")

// resumeProvisioning restarts provisioning of fleets an earlier run left half way.
func (s *Service) resumeProvisioning(ctx context.Context) error {
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list fleets: %w", err)
	}
	for _, f := range page.Items {
		id := gamelift.Value(f.Attributes.FleetId)
		switch st := gamelift.Value(f.Attributes.Status); {
		case st == FleetNew || slices.Contains(provisioningSteps[:len(provisioningSteps)-1], st):
			s.provision(id)
			continue
		case st == FleetDeleting:
			s.finishDeletion(id, nil)
			continue
		}
		counts, err := s.computeCounts(ctx, id)
		if err != nil {
			return err
		}
		var deleting []string
		for _, l := range f.Locations {
			switch l.Status {
			case locationStatusActivate:
				s.awaitReady(id, []string{l.Name})
				if counts[l.Name] > 0 {
					s.hostRegistered(id, l.Name)
				}
			case locationStatusDeleting:
				deleting = append(deleting, l.Name)
			}
		}
		if len(deleting) > 0 {
			s.finishDeletion(id, deleting)
		}
	}
	return nil
}

// event records a fleet event. Events are a record of what happened; failing to write one
// does not fail the operation that caused it.
func (s *Service) event(ctx context.Context, fleetID, code, msg string) {
	id := gamelift.NewID("event")
	e := gamelift.Event{
		EventId: &id, ResourceId: &fleetID, EventCode: &code, Message: &msg,
		EventTime: gamelift.At(s.now()),
	}
	if err := s.store.FleetEvents().Create(ctx, id, fleetID, e); err != nil {
		s.log.Error("record fleet event", "fleet", fleetID, "code", code, "error", err)
		return
	}
	if s.eventTrims.record(fleetID) {
		s.bg.Go(func() { s.trimFleetEvents(s.bg.Context(), fleetID) })
	}
}

// DescribeFleetAttributes describes the fleets asked for, or all fleets a page at a time.
func (s *Service) DescribeFleetAttributes(ctx context.Context, in *gamelift.DescribeFleetAttributesInput) (*gamelift.DescribeFleetAttributesOutput, error) {
	fleets, token, err := s.fleetsFor(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetAttributesOutput{FleetAttributes: []gamelift.FleetAttributes{}, NextToken: token}
	for _, f := range fleets {
		out.FleetAttributes = append(out.FleetAttributes, f.Attributes)
	}
	return out, nil
}

// fleetsFor returns the fleets named (IDs or ARNs), or, when none are named, a page of
// all fleets. A fleet named that does not exist is left out, as GameLift's describe calls
// do ("returned for each fleet requested, unless the fleet identifier is not found"), so
// a dashboard polling a fixed list goes on working when one of them is deleted. Limit and
// NextToken apply only to all fleets: with a list, GameLift ignores them.
func (s *Service) fleetsFor(ctx context.Context, ids []string, limit *int32, token *string) ([]store.Fleet, *string, error) {
	if len(ids) > 0 {
		var fleets []store.Fleet
		for _, id := range ids {
			f, err := s.getFleet(ctx, &id)
			if gamelift.IsCode(err, "NotFoundException") {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			fleets = append(fleets, f)
		}
		return fleets, nil, nil
	}
	page, err := s.fleets.List(ctx, paging.Query("", pageLimit(limit), token))
	if err != nil {
		return nil, nil, store.PageError(err)
	}
	return page.Items, paging.Next(page.Next), nil
}

// ListFleets lists fleet IDs, optionally those of one build.
func (s *Service) ListFleets(ctx context.Context, in *gamelift.ListFleetsInput) (*gamelift.ListFleetsOutput, error) {
	if in.ScriptId != nil {
		return &gamelift.ListFleetsOutput{FleetIds: []string{}}, nil
	}
	build := gamelift.IDOf(in.BuildId)
	var ids []string
	if build == "" {
		page, err := s.fleets.List(ctx, paging.Query("", pageLimit(in.Limit), in.NextToken))
		if err != nil {
			return nil, store.PageError(err)
		}
		for _, f := range page.Items {
			if gamelift.Value(f.Attributes.Status) != FleetTerminated {
				ids = append(ids, gamelift.Value(f.Attributes.FleetId))
			}
		}
		return &gamelift.ListFleetsOutput{FleetIds: nonNil(ids), NextToken: paging.Next(page.Next)}, nil
	}
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, err
	}
	for _, f := range page.Items {
		if gamelift.Value(f.Attributes.BuildId) == build && gamelift.Value(f.Attributes.Status) != FleetTerminated {
			ids = append(ids, gamelift.Value(f.Attributes.FleetId))
		}
	}
	items, token, err := pageSlice(ids, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListFleetsOutput{FleetIds: nonNil(items), NextToken: token}, nil
}

// updateFleet applies fn to a live fleet (not being deleted).
func (s *Service) updateFleet(ctx context.Context, idOrARN *string, fn func(*store.Fleet) error) (store.Fleet, error) {
	id := gamelift.IDOf(idOrARN)
	f, err := s.fleets.Update(ctx, id, func(f *store.Fleet) error {
		if st := gamelift.Value(f.Attributes.Status); st == FleetDeleting || st == FleetError || st == FleetTerminated {
			return gamelift.InvalidFleetStatus("Fleet %s is %s", id, st)
		}
		return fn(f)
	})
	if err != nil {
		return f, store.NotFoundAs(err, "Fleet %s not found", id)
	}
	return f, nil
}

// UpdateFleetAttributes changes a fleet's name, description and policies; a new game
// session protection policy is a fleet event, as in GameLift.
func (s *Service) UpdateFleetAttributes(ctx context.Context, in *gamelift.UpdateFleetAttributesInput) (*gamelift.UpdateFleetAttributesOutput, error) {
	var oldPolicy string
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		a := &f.Attributes
		if in.AnywhereConfiguration != nil && gamelift.Value(a.ComputeType) != ComputeAnywhere {
			return gamelift.InvalidRequest("AnywhereConfiguration applies to Anywhere fleets only")
		}
		oldPolicy = gamelift.Value(a.NewGameSessionProtectionPolicy)
		set(&a.Name, in.Name)
		setOrClear(&a.Description, in.Description)
		set(&a.NewGameSessionProtectionPolicy, in.NewGameSessionProtectionPolicy)
		set(&a.ResourceCreationLimitPolicy, in.ResourceCreationLimitPolicy)
		set(&a.AnywhereConfiguration, in.AnywhereConfiguration)
		if in.MetricGroups != nil {
			a.MetricGroups = in.MetricGroups
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.protectionPolicyChanged(ctx, f, oldPolicy)
	return &gamelift.UpdateFleetAttributesOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn}, nil
}

func set[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// setOrClear is set for a string an empty value clears (gamelift's emptyMeansNone).
func setOrClear(dst **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*dst = nil
	default:
		*dst = v
	}
}

// CreateFleetLocations adds remote (managed fleets) or custom (Anywhere fleets) locations.
func (s *Service) CreateFleetLocations(ctx context.Context, in *gamelift.CreateFleetLocationsInput) (*gamelift.CreateFleetLocationsOutput, error) {
	var added []store.FleetLocation
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		ct := gamelift.Value(f.Attributes.ComputeType)
		var err error
		if added, err = s.fleetLocations(ctx, ct, in.Locations, f.Locations); err != nil {
			return err
		}
		if st := gamelift.Value(f.Attributes.Status); st == FleetActive || st == FleetActivating {
			for i := range added {
				added[i].Status = locationStatusActive
				if ct == ComputeEC2 {
					added[i].Status = locationStatusActivate
				}
			}
		}
		f.Locations = append(f.Locations, added...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(added) > 0 && added[0].Status == locationStatusActivate {
		s.activateLocations(ctx, f, added)
		s.awaitReady(gamelift.Value(f.Attributes.FleetId), locationNames(added))
	}
	return &gamelift.CreateFleetLocationsOutput{FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, LocationStates: locationStates(added)}, nil
}

// DescribeFleetLocationAttributes describes a fleet's locations.
func (s *Service) DescribeFleetLocationAttributes(ctx context.Context, in *gamelift.DescribeFleetLocationAttributesInput) (*gamelift.DescribeFleetLocationAttributesOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	var attrs []gamelift.LocationAttributes
	for _, l := range f.Locations {
		if len(in.Locations) > 0 && !slices.Contains(in.Locations, l.Name) {
			continue
		}
		attrs = append(attrs, gamelift.LocationAttributes{
			LocationState:  &gamelift.LocationState{Location: gamelift.String(l.Name), Status: gamelift.String(l.Status)},
			StoppedActions: l.StoppedActions,
		})
	}
	items, token, err := pageSlice(attrs, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeFleetLocationAttributesOutput{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, LocationAttributes: nonNil(items), NextToken: token,
	}, nil
}

// DescribeRuntimeConfiguration returns how the fleet's hosts run server processes.
func (s *Service) DescribeRuntimeConfiguration(ctx context.Context, in *gamelift.DescribeRuntimeConfigurationInput) (*gamelift.DescribeRuntimeConfigurationOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeRuntimeConfigurationOutput{RuntimeConfiguration: &f.Runtime}, nil
}

// UpdateRuntimeConfiguration replaces the fleet's runtime configuration; hosts follow it.
func (s *Service) UpdateRuntimeConfiguration(ctx context.Context, in *gamelift.UpdateRuntimeConfigurationInput) (*gamelift.UpdateRuntimeConfigurationOutput, error) {
	f, err := s.updateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		rc, err := withRuntimeDefaults(*in.RuntimeConfiguration, gamelift.Value(f.Attributes.ComputeType))
		if err != nil {
			return err
		}
		f.Runtime = rc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &gamelift.UpdateRuntimeConfigurationOutput{RuntimeConfiguration: &f.Runtime}, nil
}

// DescribeFleetEvents lists a fleet's events, optionally within a time range.
func (s *Service) DescribeFleetEvents(ctx context.Context, in *gamelift.DescribeFleetEventsInput) (*gamelift.DescribeFleetEventsOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	page, err := s.store.FleetEvents().List(ctx, store.Query{Parent: gamelift.Value(f.Attributes.FleetId)})
	if err != nil {
		return nil, fmt.Errorf("list fleet events: %w", err)
	}
	var events []gamelift.Event
	for _, e := range page.Items {
		t := e.EventTime.Time
		if in.StartTime != nil && t.Before(in.StartTime.Time) || in.EndTime != nil && t.After(in.EndTime.Time) {
			continue
		}
		events = append(events, e)
	}
	items, token, err := pageSlice(events, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeFleetEventsOutput{Events: nonNil(items), NextToken: token}, nil
}

// FleetLocationRef names one location of a fleet.
type FleetLocationRef struct {
	FleetID, Location string
}

// ManagedFleetLocations lists the locations of managed (EC2) fleets whose hosts run
// processes now: those ACTIVATING or ACTIVE, of fleets ACTIVATING or ACTIVE.
func (s *Service) ManagedFleetLocations(ctx context.Context) ([]FleetLocationRef, error) {
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	var refs []FleetLocationRef
	for _, f := range page.Items {
		st := gamelift.Value(f.Attributes.Status)
		if gamelift.Value(f.Attributes.ComputeType) != ComputeEC2 || st != FleetActive && st != FleetActivating {
			continue
		}
		for _, l := range f.Locations {
			if l.Status == locationStatusActive || l.Status == locationStatusActivate {
				refs = append(refs, FleetLocationRef{gamelift.Value(f.Attributes.FleetId), l.Name})
			}
		}
	}
	return refs, nil
}
