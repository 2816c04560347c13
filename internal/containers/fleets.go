package containers

import (
	"context"
	"fmt"
	"slices"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// A container fleet is a fleet (ComputeType CONTAINER) whose game servers run in
// containers an engine starts: Hoist's Kubernetes engine runs each game server container
// group as a pod. Its status, capacity, events, game sessions and scaling policies are
// those of any fleet; what it adds (definitions, deployments) is in store.ContainerFleet.
const (
	// Container fleet statuses GameLift adds to a fleet's.
	containerCreated  = "CREATED"
	containerUpdating = "UPDATING"

	// Deployment statuses.
	DeploymentInProgress         = "IN_PROGRESS"
	DeploymentImpaired           = "IMPAIRED"
	DeploymentComplete           = "COMPLETE"
	DeploymentRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	DeploymentRollbackComplete   = "ROLLBACK_COMPLETE"
	DeploymentCancelled          = "CANCELLED"

	// GameLift's defaults and limits for container fleets.
	defaultConnectionFromPort   = 4192
	reservedPortsFrom           = 4092
	reservedPortsTo             = 4191
	defaultMinHealthyPercentage = 75
	defaultContainerInstance    = "c5.large"
	defaultBillingType          = "ON_DEMAND"
	containerOS                 = "AMAZON_LINUX_2023"
	// maxGroupsPerInstance is what Hoist reports as MaximumGameServerContainerGroupsPerInstance:
	// Kubernetes, not an instance type, decides what fits where, so the model's upper bound.
	maxGroupsPerInstance = 5000
	maxDeploymentsKept   = 100
	// defaultInstancesInRange is how many instances a calculated connection port range
	// holds; maxConnectionPort is the highest port GameLift allows.
	defaultInstancesInRange = 100
	maxConnectionPort       = 60000
	eventDeploymentStart    = "FLEET_DEPLOYMENT_STARTED" // hoist's own event codes name deployments
	eventFleetActivating    = "FLEET_STATE_ACTIVATING"
)

// ErrNoContainerEngine's message is the answer to a container fleet request on a server
// without an engine.
const noContainerEngine = "Container fleets need Hoist's Kubernetes engine: start hoist server with --kubernetes " +
	"(in a cluster, or with --kubeconfig PATH), so their game servers run as pods"

// groupRef is a resolved reference to one version of a container group definition.
type groupRef struct {
	name    string
	version int32
	def     gamelift.ContainerGroupDefinition
}

// resolveGroup finds the definition version a request names (the latest when it names
// none) and checks its type.
func (s *Service) resolveGroup(ctx context.Context, nameOrARN *string, wantType, member string) (groupRef, error) {
	name, n, err := containerGroupRef(nameOrARN)
	if err != nil {
		return groupRef{}, err
	}
	rec, err := s.defs.Get(ctx, name)
	if err != nil {
		return groupRef{}, store.NotFoundAs(err, "%s: container group definition %s not found", member, name)
	}
	d, err := version(rec, name, n)
	if err != nil {
		return groupRef{}, err
	}
	if t := gamelift.Value(d.ContainerGroupType); t != wantType {
		return groupRef{}, gamelift.InvalidRequest("%s: container group definition %s is %s, not %s", member, name, t, wantType)
	}
	return groupRef{name: name, version: gamelift.Value(d.VersionNumber), def: d}, nil
}

// portsOf counts the container ports a definition's containers declare.
func portsOf(d *gamelift.ContainerGroupDefinition) int32 {
	if d == nil {
		return 0
	}
	var n int32
	count := func(pc *gamelift.ContainerPortConfiguration) {
		if pc == nil {
			return
		}
		seen := map[int32]bool{}
		for _, r := range pc.ContainerPortRanges {
			for p := gamelift.Value(r.FromPort); p <= gamelift.Value(r.ToPort); p++ {
				if !seen[p] {
					seen[p] = true
					n++
				}
			}
		}
	}
	if gs := d.GameServerContainerDefinition; gs != nil {
		count(gs.PortConfiguration)
	}
	for i := range d.SupportContainerDefinitions {
		count(d.SupportContainerDefinitions[i].PortConfiguration)
	}
	return n
}

// containerSpec is a container fleet's definitions and sizing, checked together.
type containerSpec struct {
	gameServer, perInstance *groupRef
	perInstanceCount        int32 // game server container groups per instance
	from, to                int32 // connection port range
	portsSet                bool  // the range was given, not calculated
}

func (c *containerSpec) portsPerInstance() int32 {
	var n int32
	if c.gameServer != nil {
		n += c.perInstanceCount * portsOf(&c.gameServer.def)
	}
	if c.perInstance != nil {
		n += portsOf(&c.perInstance.def)
	}
	return n
}

// check validates the port range against what the definitions need, or calculates it
// as GameLift does when it was not given.
func (c *containerSpec) check() error {
	var gsPorts, piPorts int32
	if c.gameServer != nil {
		gsPorts = portsOf(&c.gameServer.def)
	}
	if c.perInstance != nil {
		piPorts = portsOf(&c.perInstance.def)
	}
	need := c.perInstanceCount*gsPorts + piPorts
	if !c.portsSet {
		// Each pod has host ports of its own (see internal/kube), so the range holds a
		// block per instance: by default room for defaultInstancesInRange instances.
		c.from, c.to = defaultConnectionFromPort, min(defaultConnectionFromPort+max(need, 1)*defaultInstancesInRange-1, maxConnectionPort)
		return nil
	}
	if c.from > c.to {
		return gamelift.InvalidRequest("InstanceConnectionPortRange FromPort %d is above ToPort %d", c.from, c.to)
	}
	if c.from <= reservedPortsTo && c.to >= reservedPortsFrom {
		return gamelift.InvalidRequest("InstanceConnectionPortRange %d-%d overlaps the reserved range %d-%d", c.from, c.to, reservedPortsFrom, reservedPortsTo)
	}
	if have := c.to - c.from + 1; have < need {
		return gamelift.InvalidRequest("InstanceConnectionPortRange %d-%d has %d ports; the fleet's containers need %d per instance "+
			"(%d game server container groups of %d ports, and %d per-instance ports)", c.from, c.to, have, need, c.perInstanceCount, gsPorts, piPorts)
	}
	return nil
}

// CreateContainerFleet creates a container fleet in the home Region (Hoist's engine runs
// one cluster). With a game server container group definition it is ACTIVATING at once,
// with its first deployment, and ACTIVE when its first game server calls ProcessReady;
// without one it is CREATED, waiting for UpdateContainerFleet to give it one.
func (s *Service) CreateContainerFleet(ctx context.Context, in *gamelift.CreateContainerFleetInput) (*gamelift.CreateContainerFleetOutput, error) {
	release, err := s.core.AdmitFleet(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if s.engine == nil {
		return nil, gamelift.UnsupportedRegion("%s", noContainerEngine)
	}
	region := s.core.Region()
	for _, l := range in.Locations {
		if gamelift.Value(l.Location) != region {
			return nil, gamelift.InvalidRequest("Location %s: Hoist runs a container fleet in one location, its home Region %s (the Kubernetes cluster it manages)", gamelift.Value(l.Location), region)
		}
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	spec := containerSpec{perInstanceCount: max(gamelift.Value(in.GameServerContainerGroupsPerInstance), 1)}
	if in.GameServerContainerGroupDefinitionName != nil {
		g, err := s.resolveGroup(ctx, in.GameServerContainerGroupDefinitionName, "GAME_SERVER", "GameServerContainerGroupDefinitionName")
		if err != nil {
			return nil, err
		}
		spec.gameServer = &g
	}
	if in.PerInstanceContainerGroupDefinitionName != nil {
		g, err := s.resolveGroup(ctx, in.PerInstanceContainerGroupDefinitionName, "PER_INSTANCE", "PerInstanceContainerGroupDefinitionName")
		if err != nil {
			return nil, err
		}
		spec.perInstance = &g
	}
	if r := in.InstanceConnectionPortRange; r != nil {
		spec.from, spec.to, spec.portsSet = gamelift.Value(r.FromPort), gamelift.Value(r.ToPort), true
	}
	if err := spec.check(); err != nil {
		return nil, err
	}
	perms := in.InstanceInboundPermissions
	if len(perms) == 0 {
		perms = []gamelift.IpPermission{{FromPort: &spec.from, ToPort: &spec.to, IpRange: gamelift.String("0.0.0.0/0"), Protocol: gamelift.String("UDP")}}
	} else if perms, err = control.InboundPermissions(perms); err != nil {
		return nil, err
	}

	model := gamelift.ContainerFleet{
		FleetRoleArn: in.FleetRoleArn, BillingType: orDefault(in.BillingType, defaultBillingType),
		GameServerContainerGroupsPerInstance:        &spec.perInstanceCount,
		MaximumGameServerContainerGroupsPerInstance: gamelift.Int32(maxGroupsPerInstance),
		InstanceConnectionPortRange:                 &gamelift.ConnectionPortRange{FromPort: &spec.from, ToPort: &spec.to},
		InstanceType:                                orDefault(in.InstanceType, defaultContainerInstance),
		LogConfiguration:                            in.LogConfiguration,
		PlayerGatewayMode:                           in.PlayerGatewayMode,
		GameSessionCreationLimitPolicy:              in.GameSessionCreationLimitPolicy,
	}
	cf := &store.ContainerFleet{Model: model}
	setGroups(cf, spec)
	status := control.FleetNew
	if spec.gameServer != nil {
		status = control.FleetActivating
	}
	// The core gives the fleet its ID, ARN, creation time and the defaults of any fleet
	// (protection policy, metric groups, certificate and runtime configuration).
	attrs := gamelift.FleetAttributes{
		ComputeType: gamelift.String(control.ComputeContainer), Description: in.Description, Status: &status,
		NewGameSessionProtectionPolicy: in.NewGameSessionProtectionPolicy,
		MetricGroups:                   in.MetricGroups, FleetType: model.BillingType, InstanceType: model.InstanceType,
		OperatingSystem:   gamelift.String(containerOS),
		PlayerGatewayMode: in.PlayerGatewayMode,
	}
	if p := in.GameSessionCreationLimitPolicy; p != nil {
		attrs.ResourceCreationLimitPolicy = &gamelift.ResourceCreationLimitPolicy{
			NewGameSessionsPerCreator: p.NewGameSessionsPerCreator, PolicyPeriodInMinutes: p.PolicyPeriodInMinutes,
		}
	}
	home := control.NewManagedLocation(region)
	if status == control.FleetActivating {
		home.Status = control.FleetActivating
		s.startDeployment(cf, nil)
	}
	f := store.Fleet{Attributes: attrs, InboundPermissions: perms, Locations: []store.FleetLocation{home}, Tags: tagged, Container: cf}
	if f, err = s.core.AddFleet(ctx, f); err != nil {
		return nil, fmt.Errorf("create container fleet: %w", err)
	}
	id := gamelift.Value(f.Attributes.FleetId)
	if status == control.FleetActivating {
		s.core.RecordEvent(ctx, id, eventFleetActivating, "Fleet "+id+" changed status to ACTIVATING: deploying its game server container groups as pods")
		s.core.AwaitReady(id, region)
	}
	s.engine.FleetChanged(id)
	out := s.containerFleet(f)
	return &gamelift.CreateContainerFleetOutput{ContainerFleet: &out}, nil
}

// setGroups records a spec's definitions and sizing in the fleet's model.
func setGroups(cf *store.ContainerFleet, spec containerSpec) {
	cf.Model.GameServerContainerGroupDefinitionName, cf.Model.GameServerContainerGroupDefinitionArn = nil, nil
	cf.Model.PerInstanceContainerGroupDefinitionName, cf.Model.PerInstanceContainerGroupDefinitionArn = nil, nil
	cf.GameServerVersion, cf.PerInstanceVersion = 0, 0
	if g := spec.gameServer; g != nil {
		cf.Model.GameServerContainerGroupDefinitionName = &g.name
		cf.Model.GameServerContainerGroupDefinitionArn = g.def.ContainerGroupDefinitionArn
		cf.GameServerVersion = g.version
	}
	if g := spec.perInstance; g != nil {
		cf.Model.PerInstanceContainerGroupDefinitionName = &g.name
		cf.Model.PerInstanceContainerGroupDefinitionArn = g.def.ContainerGroupDefinitionArn
		cf.PerInstanceVersion = g.version
	}
	cf.Model.GameServerContainerGroupsPerInstance = gamelift.Int32(spec.perInstanceCount)
	cf.PortsPerInstance = spec.portsPerInstance()
	cf.Model.InstanceConnectionPortRange = &gamelift.ConnectionPortRange{FromPort: gamelift.Int32(spec.from), ToPort: gamelift.Int32(spec.to)}
}

// startDeployment adds a deployment of what the fleet now names; from is the deployment
// it replaces (nil for the first).
func (s *Service) startDeployment(cf *store.ContainerFleet, cfg *gamelift.DeploymentConfiguration) {
	id := gamelift.NewID("deployment")
	c := gamelift.DeploymentConfiguration{
		ProtectionStrategy: gamelift.String("WITH_PROTECTION"), MinimumHealthyPercentage: gamelift.Int32(defaultMinHealthyPercentage),
		ImpairmentStrategy: gamelift.String("MAINTAIN"),
	}
	if cfg != nil {
		set(&c.ProtectionStrategy, cfg.ProtectionStrategy)
		set(&c.MinimumHealthyPercentage, cfg.MinimumHealthyPercentage)
		set(&c.ImpairmentStrategy, cfg.ImpairmentStrategy)
	}
	d := store.ContainerDeployment{
		Model: gamelift.FleetDeployment{
			DeploymentId: &id, CreationTime: gamelift.At(s.now()), DeploymentStatus: gamelift.String(DeploymentInProgress),
			DeploymentConfiguration: &c,
			GameServerBinaryArn:     cf.Model.GameServerContainerGroupDefinitionArn,
			PerInstanceBinaryArn:    cf.Model.PerInstanceContainerGroupDefinitionArn,
		},
		GameServerVersion: cf.GameServerVersion, PerInstanceVersion: cf.PerInstanceVersion,
	}
	if n := len(cf.Deployments); n > 0 {
		prev := cf.Deployments[n-1]
		d.FromGameServerVersion, d.FromPerInstanceVersion = prev.GameServerVersion, prev.PerInstanceVersion
		d.Model.RollbackGameServerBinaryArn, d.Model.RollbackPerInstanceBinaryArn = prev.Model.GameServerBinaryArn, prev.Model.PerInstanceBinaryArn
		if st := gamelift.Value(prev.Model.DeploymentStatus); st == DeploymentInProgress || st == DeploymentRollbackInProgress {
			cf.Deployments[n-1].Model.DeploymentStatus = gamelift.String(DeploymentCancelled)
		}
	}
	cf.Deployments = append(cf.Deployments, d)
	if len(cf.Deployments) > maxDeploymentsKept {
		cf.Deployments = slices.Delete(cf.Deployments, 0, len(cf.Deployments)-maxDeploymentsKept)
	}
}

// latestDeployment returns the fleet's latest deployment, if it has one.
func latestDeployment(cf *store.ContainerFleet) *store.ContainerDeployment {
	if cf == nil || len(cf.Deployments) == 0 {
		return nil
	}
	return &cf.Deployments[len(cf.Deployments)-1]
}

// containerStatus is a container fleet's status as GameLift names it.
func containerStatus(f store.Fleet) string {
	st := gamelift.Value(f.Attributes.Status)
	switch st {
	case control.FleetNew:
		return containerCreated
	case control.FleetActive:
		if d := latestDeployment(f.Container); d != nil && len(f.Container.Deployments) > 1 {
			if ds := gamelift.Value(d.Model.DeploymentStatus); ds == DeploymentInProgress || ds == DeploymentRollbackInProgress {
				return containerUpdating
			}
		}
	}
	return st
}

// containerFleet describes a container fleet.
func (s *Service) containerFleet(f store.Fleet) gamelift.ContainerFleet {
	m := f.Container.Model
	m.FleetId, m.FleetArn, m.CreationTime = f.Attributes.FleetId, f.Attributes.FleetArn, f.Attributes.CreationTime
	m.Description, m.MetricGroups = f.Attributes.Description, f.Attributes.MetricGroups
	m.NewGameSessionProtectionPolicy = f.Attributes.NewGameSessionProtectionPolicy
	m.InstanceInboundPermissions = paging.NonNil(f.InboundPermissions)
	m.Status = gamelift.String(containerStatus(f))
	if d := latestDeployment(f.Container); d != nil {
		m.DeploymentDetails = &gamelift.DeploymentDetails{LatestDeploymentId: d.Model.DeploymentId}
	}
	for _, l := range f.Locations {
		m.LocationAttributes = append(m.LocationAttributes, gamelift.ContainerFleetLocationAttributes{
			Location: gamelift.String(l.Name), Status: gamelift.String(containerLocationStatus(f, l)),
		})
	}
	return m
}

func containerLocationStatus(f store.Fleet, l store.FleetLocation) string {
	if l.Status == control.LocationNew && gamelift.Value(f.Attributes.Status) == control.FleetNew {
		return containerCreated
	}
	if l.Status == control.LocationActive && containerStatus(f) == containerUpdating {
		return containerUpdating
	}
	return l.Status
}

// getContainerFleet loads a container fleet; another fleet is not found, as in GameLift.
func (s *Service) getContainerFleet(ctx context.Context, idOrARN *string) (store.Fleet, error) {
	f, err := s.core.Fleet(ctx, idOrARN)
	if err != nil {
		return f, err
	}
	if !control.IsContainer(f) || gamelift.Value(f.Attributes.Status) == control.FleetTerminated {
		return f, gamelift.NotFound("Container fleet %s not found", gamelift.IDOf(idOrARN))
	}
	return f, nil
}

// DescribeContainerFleet describes a container fleet.
func (s *Service) DescribeContainerFleet(ctx context.Context, in *gamelift.DescribeContainerFleetInput) (*gamelift.DescribeContainerFleetOutput, error) {
	f, err := s.getContainerFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	out := s.containerFleet(f)
	return &gamelift.DescribeContainerFleetOutput{ContainerFleet: &out}, nil
}

// ListContainerFleets lists container fleets, optionally those that run a definition.
func (s *Service) ListContainerFleets(ctx context.Context, in *gamelift.ListContainerFleetsInput) (*gamelift.ListContainerFleetsOutput, error) {
	var name string
	if in.ContainerGroupDefinitionName != nil {
		var err error
		if name, _, err = containerGroupRef(in.ContainerGroupDefinitionName); err != nil {
			return nil, err
		}
	}
	fleets, err := s.core.Fleets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	var all []gamelift.ContainerFleet
	for _, f := range fleets {
		if !control.IsContainer(f) || gamelift.Value(f.Attributes.Status) == control.FleetTerminated {
			continue
		}
		m := f.Container.Model
		if name != "" && gamelift.Value(m.GameServerContainerGroupDefinitionName) != name && gamelift.Value(m.PerInstanceContainerGroupDefinitionName) != name {
			continue
		}
		all = append(all, s.containerFleet(f))
	}
	items, token, err := paging.Slice(all, paging.Limit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListContainerFleetsOutput{ContainerFleets: paging.NonNil(items), NextToken: token}, nil
}

// UpdateContainerFleet changes a container fleet. A change of its definitions, game server
// container groups per instance or connection port range starts a deployment that
// replaces its pods (DeploymentConfiguration says how); the rest applies at once.
func (s *Service) UpdateContainerFleet(ctx context.Context, in *gamelift.UpdateContainerFleetInput) (*gamelift.UpdateContainerFleetOutput, error) {
	if s.engine == nil {
		return nil, gamelift.UnsupportedRegion("%s", noContainerEngine)
	}
	cur, err := s.getContainerFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	// Resolve the definitions outside the fleet's update: they live in another table.
	var gs, pi *groupRef
	if in.GameServerContainerGroupDefinitionName != nil {
		g, err := s.resolveGroup(ctx, in.GameServerContainerGroupDefinitionName, "GAME_SERVER", "GameServerContainerGroupDefinitionName")
		if err != nil {
			return nil, err
		}
		gs = &g
	}
	removePI := slices.Contains(in.RemoveAttributes, "PER_INSTANCE_CONTAINER_GROUP_DEFINITION")
	if in.PerInstanceContainerGroupDefinitionName != nil {
		if removePI {
			return nil, gamelift.InvalidRequest("Give PerInstanceContainerGroupDefinitionName or remove it (RemoveAttributes), not both")
		}
		g, err := s.resolveGroup(ctx, in.PerInstanceContainerGroupDefinitionName, "PER_INSTANCE", "PerInstanceContainerGroupDefinitionName")
		if err != nil {
			return nil, err
		}
		pi = &g
	}
	current := func(cf *store.ContainerFleet, name *string, v int32, wantType string) (*groupRef, error) {
		if name == nil {
			return nil, nil
		}
		g, err := s.resolveGroup(ctx, gamelift.String(s.containerGroupVersionARN(*name, v)), wantType, "fleet")
		if err != nil {
			return nil, gamelift.InvalidRequest("The fleet's container group definition %s version %d is gone: name a definition to deploy", *name, v)
		}
		return &g, nil
	}
	if gs == nil {
		if gs, err = current(cur.Container, cur.Container.Model.GameServerContainerGroupDefinitionName, cur.Container.GameServerVersion, "GAME_SERVER"); err != nil && in.GameServerContainerGroupDefinitionName == nil {
			return nil, err
		}
	}
	if pi == nil && !removePI {
		if pi, err = current(cur.Container, cur.Container.Model.PerInstanceContainerGroupDefinitionName, cur.Container.PerInstanceVersion, "PER_INSTANCE"); err != nil {
			return nil, err
		}
	}
	perms := in.InstanceInboundPermissionAuthorizations
	if _, err := control.InboundPermissions(perms); err != nil {
		return nil, err
	}
	if err := control.CheckPermissions("InstanceInboundPermissionRevocations", in.InstanceInboundPermissionRevocations); err != nil {
		return nil, err
	}

	var deployed, activating bool
	var oldPolicy string
	f, err := s.core.UpdateFleet(ctx, in.FleetId, func(f *store.Fleet) error {
		deployed, activating = false, false
		id := gamelift.Value(f.Attributes.FleetId)
		st := gamelift.Value(f.Attributes.Status)
		if !control.IsContainer(*f) {
			return gamelift.NotFound("Container fleet %s not found", id)
		}
		if st != control.FleetActive && st != control.FleetNew {
			return gamelift.InvalidFleetStatus("Container fleet %s is %s, not ACTIVE", id, containerStatus(*f))
		}
		cf := f.Container
		spec := containerSpec{gameServer: gs, perInstance: pi, perInstanceCount: gamelift.Value(cf.Model.GameServerContainerGroupsPerInstance)}
		spec.from, spec.to, spec.portsSet = gamelift.Value(cf.Model.InstanceConnectionPortRange.FromPort), gamelift.Value(cf.Model.InstanceConnectionPortRange.ToPort), true
		if in.GameServerContainerGroupsPerInstance != nil {
			spec.perInstanceCount = *in.GameServerContainerGroupsPerInstance
		}
		if r := in.InstanceConnectionPortRange; r != nil {
			spec.from, spec.to = gamelift.Value(r.FromPort), gamelift.Value(r.ToPort)
		}
		if err := spec.check(); err != nil {
			return err
		}
		changed := spec.perInstanceCount != gamelift.Value(cf.Model.GameServerContainerGroupsPerInstance) ||
			spec.from != gamelift.Value(cf.Model.InstanceConnectionPortRange.FromPort) || spec.to != gamelift.Value(cf.Model.InstanceConnectionPortRange.ToPort) ||
			versionOf(gs) != cf.GameServerVersion || groupName(gs) != gamelift.Value(cf.Model.GameServerContainerGroupDefinitionName) ||
			versionOf(pi) != cf.PerInstanceVersion || groupName(pi) != gamelift.Value(cf.Model.PerInstanceContainerGroupDefinitionName)
		if changed {
			if d := latestDeployment(cf); d != nil && st == control.FleetActive {
				if ds := gamelift.Value(d.Model.DeploymentStatus); ds == DeploymentInProgress || ds == DeploymentRollbackInProgress {
					return gamelift.InvalidFleetStatus("Container fleet %s is UPDATING: deployment %s is %s", id, gamelift.Value(d.Model.DeploymentId), ds)
				}
			}
			setGroups(cf, spec)
			if gs != nil {
				s.startDeployment(cf, in.DeploymentConfiguration)
				deployed = true
				if st == control.FleetNew {
					f.Attributes.Status = gamelift.String(control.FleetActivating)
					f.Locations[0].Status = control.FleetActivating
					activating = true
				}
			}
		}
		set(&f.Attributes.Description, in.Description)
		oldPolicy = gamelift.Value(f.Attributes.NewGameSessionProtectionPolicy)
		set(&f.Attributes.NewGameSessionProtectionPolicy, in.NewGameSessionProtectionPolicy)
		if in.MetricGroups != nil {
			f.Attributes.MetricGroups = in.MetricGroups
		}
		if in.LogConfiguration != nil {
			cf.Model.LogConfiguration = in.LogConfiguration
		}
		if p := in.GameSessionCreationLimitPolicy; p != nil {
			cf.Model.GameSessionCreationLimitPolicy = p
			f.Attributes.ResourceCreationLimitPolicy = &gamelift.ResourceCreationLimitPolicy{
				NewGameSessionsPerCreator: p.NewGameSessionsPerCreator, PolicyPeriodInMinutes: p.PolicyPeriodInMinutes,
			}
		}
		f.InboundPermissions = applyPermissions(f.InboundPermissions, perms, in.InstanceInboundPermissionRevocations)
		return nil
	})
	if err != nil {
		return nil, err
	}
	id := gamelift.Value(f.Attributes.FleetId)
	s.core.ProtectionPolicyChanged(ctx, f, oldPolicy)
	if activating {
		s.core.RecordEvent(ctx, id, eventFleetActivating, "Fleet "+id+" changed status to ACTIVATING: deploying its game server container groups as pods")
		s.core.AwaitReady(id, s.core.Region())
	}
	if deployed {
		d := latestDeployment(f.Container)
		s.core.RecordEvent(ctx, id, eventDeploymentStart, fmt.Sprintf("Deployment %s of fleet %s started: game server definition version %d, per-instance version %d",
			gamelift.Value(d.Model.DeploymentId), id, d.GameServerVersion, d.PerInstanceVersion))
	}
	s.engine.FleetChanged(id)
	out := s.containerFleet(f)
	return &gamelift.UpdateContainerFleetOutput{ContainerFleet: &out}, nil
}

func versionOf(g *groupRef) int32 {
	if g == nil {
		return 0
	}
	return g.version
}

func groupName(g *groupRef) string {
	if g == nil {
		return ""
	}
	return g.name
}

// applyPermissions adds the authorized port settings and removes the revoked ones.
func applyPermissions(cur, add, revoke []gamelift.IpPermission) []gamelift.IpPermission {
	same := func(a, b gamelift.IpPermission) bool {
		return gamelift.Value(a.FromPort) == gamelift.Value(b.FromPort) && gamelift.Value(a.ToPort) == gamelift.Value(b.ToPort) &&
			gamelift.Value(a.IpRange) == gamelift.Value(b.IpRange) && gamelift.Value(a.Protocol) == gamelift.Value(b.Protocol)
	}
	out := slices.DeleteFunc(slices.Clone(cur), func(p gamelift.IpPermission) bool {
		return slices.ContainsFunc(revoke, func(r gamelift.IpPermission) bool { return same(p, r) })
	})
	for _, p := range add {
		if !slices.ContainsFunc(out, func(q gamelift.IpPermission) bool { return same(p, q) }) {
			out = append(out, p)
		}
	}
	return out
}

// DeleteContainerFleet deletes a container fleet as DeleteFleet does; the engine removes
// its pods.
func (s *Service) DeleteContainerFleet(ctx context.Context, in *gamelift.DeleteContainerFleetInput) (*gamelift.DeleteContainerFleetOutput, error) {
	if _, err := s.getContainerFleet(ctx, in.FleetId); err != nil {
		return nil, err
	}
	if _, err := s.core.DeleteFleet(ctx, &gamelift.DeleteFleetInput{FleetId: in.FleetId}); err != nil {
		return nil, err
	}
	s.fleetChanged(gamelift.IDOf(in.FleetId))
	return &gamelift.DeleteContainerFleetOutput{}, nil
}

// fleetDeployment describes a deployment.
func fleetDeployment(f store.Fleet, d store.ContainerDeployment) gamelift.FleetDeployment {
	m := d.Model
	m.FleetId = f.Attributes.FleetId
	return m
}

// DescribeFleetDeployment describes a container fleet's deployment, its latest when no
// DeploymentId is given.
func (s *Service) DescribeFleetDeployment(ctx context.Context, in *gamelift.DescribeFleetDeploymentInput) (*gamelift.DescribeFleetDeploymentOutput, error) {
	f, err := s.getContainerFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	var found *store.ContainerDeployment
	for i := range f.Container.Deployments {
		d := &f.Container.Deployments[i]
		if in.DeploymentId == nil || gamelift.Value(d.Model.DeploymentId) == *in.DeploymentId {
			found = d
		}
	}
	if found == nil {
		if in.DeploymentId != nil {
			return nil, gamelift.NotFound("Deployment %s not found in fleet %s", *in.DeploymentId, gamelift.Value(f.Attributes.FleetId))
		}
		return nil, gamelift.NotFound("Fleet %s has no deployment", gamelift.Value(f.Attributes.FleetId))
	}
	d := fleetDeployment(f, *found)
	return &gamelift.DescribeFleetDeploymentOutput{
		FleetDeployment:       &d,
		LocationalDeployments: map[string]gamelift.LocationalDeployment{s.core.Region(): {DeploymentStatus: d.DeploymentStatus}},
	}, nil
}

// ListFleetDeployments lists the deployments of a container fleet, or of all, newest first.
func (s *Service) ListFleetDeployments(ctx context.Context, in *gamelift.ListFleetDeploymentsInput) (*gamelift.ListFleetDeploymentsOutput, error) {
	var fleets []store.Fleet
	if in.FleetId != nil {
		f, err := s.getContainerFleet(ctx, in.FleetId)
		if err != nil {
			return nil, err
		}
		fleets = append(fleets, f)
	} else {
		all, err := s.core.Fleets(ctx)
		if err != nil {
			return nil, fmt.Errorf("list fleets: %w", err)
		}
		for _, f := range all {
			if control.IsContainer(f) && gamelift.Value(f.Attributes.Status) != control.FleetTerminated {
				fleets = append(fleets, f)
			}
		}
	}
	var all []gamelift.FleetDeployment
	for _, f := range fleets {
		for i := len(f.Container.Deployments) - 1; i >= 0; i-- {
			all = append(all, fleetDeployment(f, f.Container.Deployments[i]))
		}
	}
	items, token, err := paging.Slice(all, paging.Limit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListFleetDeploymentsOutput{FleetDeployments: paging.NonNil(items), NextToken: token}, nil
}

// DescribeContainerGroupPortMappings says which connection port each container port of a
// compute (a pod) is reached at.
func (s *Service) DescribeContainerGroupPortMappings(ctx context.Context, in *gamelift.DescribeContainerGroupPortMappingsInput) (*gamelift.DescribeContainerGroupPortMappingsOutput, error) {
	f, err := s.getContainerFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	id := gamelift.Value(f.Attributes.FleetId)
	if in.ComputeName == nil {
		return nil, gamelift.InvalidRequest("ComputeName is required: Hoist maps ports per pod (compute)")
	}
	rec, err := s.core.ComputeRecord(ctx, id, in.ComputeName)
	if err != nil {
		return nil, err
	}
	groupType := gamelift.Value(in.ContainerGroupType)
	if groupType == "" {
		groupType = "GAME_SERVER"
	}
	var def *gamelift.ContainerGroupDefinition
	name, v := f.Container.Model.GameServerContainerGroupDefinitionName, f.Container.GameServerVersion
	if groupType == "PER_INSTANCE" {
		name, v = f.Container.Model.PerInstanceContainerGroupDefinitionName, f.Container.PerInstanceVersion
	}
	if name != nil {
		if g, err := s.resolveGroup(ctx, gamelift.String(s.containerGroupVersionARN(*name, v)), groupType, "ContainerGroupType"); err == nil {
			def = &g.def
		}
	}
	out := &gamelift.DescribeContainerGroupPortMappingsOutput{
		FleetId: &id, ComputeName: rec.Model.ComputeName, InstanceId: rec.Model.InstanceId, Location: rec.Model.Location,
		ContainerGroupType: &groupType, ContainerGroupPortMappings: []gamelift.ContainerGroupPortMapping{},
	}
	if def == nil {
		return out, nil
	}
	out.ContainerGroupDefinitionArn = def.ContainerGroupDefinitionArn
	add := func(container *string, pc *gamelift.ContainerPortConfiguration) {
		if in.ContainerName != nil && gamelift.Value(container) != *in.ContainerName || pc == nil {
			return
		}
		m := gamelift.ContainerGroupPortMapping{ContainerName: container, ContainerPortMappings: []gamelift.ContainerPortMapping{}}
		for _, r := range pc.ContainerPortRanges {
			for p := gamelift.Value(r.FromPort); p <= gamelift.Value(r.ToPort); p++ {
				if cp, ok := rec.Ports[p]; ok {
					m.ContainerPortMappings = append(m.ContainerPortMappings, gamelift.ContainerPortMapping{
						ContainerPort: gamelift.Int32(p), ConnectionPort: gamelift.Int32(cp), Protocol: r.Protocol,
					})
				}
			}
		}
		for _, a := range rec.Model.ContainerAttributes {
			if gamelift.Value(a.ContainerName) == gamelift.Value(container) {
				m.ContainerRuntimeId = a.ContainerRuntimeId
			}
		}
		out.ContainerGroupPortMappings = append(out.ContainerGroupPortMappings, m)
	}
	if gs := def.GameServerContainerDefinition; gs != nil {
		add(gs.ContainerName, gs.PortConfiguration)
	}
	for i := range def.SupportContainerDefinitions {
		add(def.SupportContainerDefinitions[i].ContainerName, def.SupportContainerDefinitions[i].PortConfiguration)
	}
	return out, nil
}
