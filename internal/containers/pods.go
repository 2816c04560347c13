package containers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// What a container engine asks of the service: the plan of each container fleet, and the
// pods it starts and sees go, each a compute of its fleet (compute name = pod name), which
// the core keeps with the processes and game sessions on it.

// podTokenTTL is how long the auth token a pod is created with stays good: a pod may wait
// to be scheduled a while before its game server connects with it. Once connected, the
// process gets fresh tokens as any other (RefreshConnection), and the token goes with
// the pod's compute.
const podTokenTTL = 24 * time.Hour

// ContainerPlan is what an engine runs for one container fleet.
type ContainerPlan struct {
	FleetID string
	// Gone: the fleet is deleted or being deleted; its pods go.
	Gone bool
	// Instances is the desired instance count of the fleet's home location; each instance
	// is GroupsPerInstance game server container groups and one per-instance group.
	Instances, GroupsPerInstance int
	GameServer, PerInstance      *gamelift.ContainerGroupDefinition
	// PortFrom and PortTo are the connection port range of an instance.
	PortFrom, PortTo int32
	// Revision names what pods run (definitions, versions, sizing): a pod of another
	// revision is replaced by the rollout.
	Revision string
	// Deployment is the latest deployment, and how it rolls out.
	Deployment         string
	DeploymentActive   bool // IN_PROGRESS or ROLLBACK_IN_PROGRESS
	MinHealthyPercent  int
	IgnoreProtection   bool
	RollbackIfImpaired bool
}

// ContainerPlans returns the plan of every container fleet, deleted ones included until
// their pods are gone (they are Gone).
func (s *Service) ContainerPlans(ctx context.Context) ([]ContainerPlan, error) {
	fleets, err := s.core.Fleets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	var plans []ContainerPlan
	for _, f := range fleets {
		if !control.IsContainer(f) {
			continue
		}
		p, err := s.containerPlan(ctx, f)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// ContainerPlan returns one container fleet's plan; a fleet that is not there is Gone.
func (s *Service) ContainerPlan(ctx context.Context, fleetID string) (ContainerPlan, error) {
	f, err := s.core.Fleet(ctx, &fleetID)
	if isNotFound(err) {
		return ContainerPlan{FleetID: fleetID, Gone: true}, nil
	}
	if err != nil {
		return ContainerPlan{}, fmt.Errorf("read fleet %s: %w", fleetID, err)
	}
	if !control.IsContainer(f) {
		return ContainerPlan{FleetID: fleetID, Gone: true}, nil
	}
	return s.containerPlan(ctx, f)
}

func (s *Service) containerPlan(ctx context.Context, f store.Fleet) (ContainerPlan, error) {
	cf := f.Container
	p := ContainerPlan{FleetID: gamelift.Value(f.Attributes.FleetId)}
	switch gamelift.Value(f.Attributes.Status) {
	case control.FleetDeleting, control.FleetTerminated:
		p.Gone = true
		return p, nil
	case control.FleetNew:
		return p, nil // no game server definition yet: nothing runs
	}
	if len(f.Locations) > 0 {
		p.Instances = int(f.Locations[0].Desired)
	}
	p.GroupsPerInstance = int(gamelift.Value(cf.Model.GameServerContainerGroupsPerInstance))
	p.PortFrom, p.PortTo = gamelift.Value(cf.Model.InstanceConnectionPortRange.FromPort), gamelift.Value(cf.Model.InstanceConnectionPortRange.ToPort)
	load := func(name *string, v int32, t string) (*gamelift.ContainerGroupDefinition, error) {
		if name == nil {
			return nil, nil
		}
		g, err := s.resolveGroup(ctx, gamelift.String(s.containerGroupVersionARN(*name, v)), t, "fleet")
		if err != nil {
			return nil, fmt.Errorf("fleet %s: definition %s version %d: %w", p.FleetID, *name, v, err)
		}
		return &g.def, nil
	}
	var err error
	if p.GameServer, err = load(cf.Model.GameServerContainerGroupDefinitionName, cf.GameServerVersion, "GAME_SERVER"); err != nil {
		return p, err
	}
	if p.PerInstance, err = load(cf.Model.PerInstanceContainerGroupDefinitionName, cf.PerInstanceVersion, "PER_INSTANCE"); err != nil {
		return p, err
	}
	p.Revision = fmt.Sprintf("%s.%d.%s.%d.%d.%d-%d", gamelift.Value(cf.Model.GameServerContainerGroupDefinitionName), cf.GameServerVersion,
		gamelift.Value(cf.Model.PerInstanceContainerGroupDefinitionName), cf.PerInstanceVersion, p.GroupsPerInstance, p.PortFrom, p.PortTo)
	if d := latestDeployment(cf); d != nil {
		p.Deployment = gamelift.Value(d.Model.DeploymentId)
		st := gamelift.Value(d.Model.DeploymentStatus)
		p.DeploymentActive = st == DeploymentInProgress || st == DeploymentRollbackInProgress
		c := d.Model.DeploymentConfiguration
		p.MinHealthyPercent = int(gamelift.Value(c.MinimumHealthyPercentage))
		p.IgnoreProtection = gamelift.Value(c.ProtectionStrategy) == "IGNORE_PROTECTION"
		p.RollbackIfImpaired = gamelift.Value(c.ImpairmentStrategy) == "ROLLBACK" && st == DeploymentInProgress
	}
	return p, nil
}

// Pod describes a pod to the service, as its compute.
type Pod struct {
	FleetID, Name, InstanceID string
	// Ports maps container ports to connection (host) ports.
	Ports map[int32]int32
	// Containers maps container names to their runtime IDs, once running.
	Containers map[string]string
	HostIP     string
	// Running: scheduled and its containers started; otherwise PENDING.
	Running bool
	// Terminating: deleted, its containers in their grace period (TERMINATING).
	Terminating bool
}

// PodCreating registers a pod the engine is about to create as a compute of its fleet
// (PENDING until it runs) and returns the auth token its game server connects with.
func (s *Service) PodCreating(ctx context.Context, p Pod) (string, error) {
	f, err := s.core.Fleet(ctx, &p.FleetID)
	if err != nil {
		return "", fmt.Errorf("read fleet %s: %w", p.FleetID, err)
	}
	if err := s.putPod(ctx, f, p); err != nil {
		return "", err
	}
	return s.core.IssueAuthToken(ctx, p.FleetID, p.Name, podTokenTTL)
}

// PodChanged records what the engine observed of a pod it created: scheduled on a node
// (its IP) and running, or not yet.
func (s *Service) PodChanged(ctx context.Context, p Pod) error {
	f, err := s.core.Fleet(ctx, &p.FleetID)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read fleet %s: %w", p.FleetID, err)
	}
	return s.putPod(ctx, f, p)
}

func (s *Service) putPod(ctx context.Context, f store.Fleet, p Pod) error {
	status := "PENDING"
	switch {
	case p.Terminating:
		status = control.ComputeTerminating
	case p.Running:
		status = control.ComputeActive
	}
	c := gamelift.Compute{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, ComputeName: gamelift.String(p.Name),
		ComputeArn: gamelift.String(s.core.ARN("compute", p.Name)), ComputeStatus: &status, Location: gamelift.String(s.core.Region()),
		CreationTime: gamelift.At(s.now()), OperatingSystem: f.Attributes.OperatingSystem, Type: gamelift.String(control.ComputeContainer),
		InstanceId: gamelift.String(p.InstanceID), GameLiftServiceSdkEndpoint: gamelift.String(s.core.SDKEndpoint()),
		GameServerContainerGroupDefinitionArn: f.Container.Model.GameServerContainerGroupDefinitionArn,
	}
	if p.HostIP != "" {
		c.IpAddress = gamelift.String(p.HostIP)
	}
	for name, id := range p.Containers {
		c.ContainerAttributes = append(c.ContainerAttributes, gamelift.ContainerAttribute{ContainerName: gamelift.String(name), ContainerRuntimeId: gamelift.String(id)})
	}
	// The core gives the pod's processes its node's IP (a game server may connect before
	// the engine has seen where its pod runs, and its sessions need the address), and
	// counts a running pod as a host for the fleet's activation.
	if err := s.core.PutCompute(ctx, store.Compute{Model: c, Ports: p.Ports}); err != nil {
		return fmt.Errorf("record pod %s: %w", p.Name, err)
	}
	return nil
}

// PodTerminating records that a pod is being deleted while its containers still run, in
// the grace Kubernetes gives them between SIGTERM and SIGKILL. As GameLift does with a
// compute it shuts down, it lets the pod's game server end well: the compute is
// TERMINATING, its processes take no new game sessions, and its game sessions are
// TERMINATING, to end INTERRUPTED when the game server calls ProcessEnding (or when the
// pod is gone). The processes stay connected and the pod's auth token good until PodGone.
func (s *Service) PodTerminating(ctx context.Context, p Pod) error {
	p.Terminating = true
	if err := s.PodChanged(ctx, p); err != nil {
		return err
	}
	return s.core.CloseCompute(ctx, p.FleetID, p.Name)
}

// PodGone deregisters a pod that is no longer there. Its game sessions end now,
// INTERRUPTED: whatever ran them is gone with the pod.
func (s *Service) PodGone(ctx context.Context, fleetID, pod string) error {
	return s.core.ComputeGone(ctx, fleetID, pod)
}

// PodUse is what runs on a pod: its game server processes, ready ones, and whether one
// hosts a game session, a protected one.
type PodUse struct {
	Processes, Ready int
	Busy, Protected  bool
}

// PodUses reports what runs on a fleet's pods: the processes connected to this server
// (and with replicas, the ready ones the store records for the others), and the ACTIVE
// game sessions, with their protection, on any replica's.
func (s *Service) PodUses(ctx context.Context, fleetID string) (map[string]PodUse, error) {
	uses, err := s.core.ComputeUses(ctx, fleetID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]PodUse, len(uses))
	for pod, u := range uses {
		out[pod] = PodUse(u)
	}
	return out, nil
}

// DrainPod asks a pod's game server processes to end (TerminateProcess), and stops giving
// them sessions; the engine deletes the pod when they have, or after a grace period.
func (s *Service) DrainPod(fleetID, pod string) { s.core.DrainCompute(fleetID, pod) }

// DeploymentProgress records how a fleet's latest deployment went: done (every pod runs
// it) or impaired (its pods fail). An impaired deployment with the ROLLBACK strategy
// rolls back to what ran before; a rollback that is done is ROLLBACK_COMPLETE.
func (s *Service) DeploymentProgress(ctx context.Context, fleetID, deploymentID string, done bool, why string) error {
	var event, msg string
	_, err := s.core.UpdateAnyFleet(ctx, &fleetID, func(f *store.Fleet) error {
		event, msg = "", ""
		d := latestDeployment(f.Container)
		if d == nil || gamelift.Value(d.Model.DeploymentId) != deploymentID {
			return errNoChange
		}
		st := gamelift.Value(d.Model.DeploymentStatus)
		switch {
		case done && st == DeploymentInProgress:
			d.Model.DeploymentStatus = gamelift.String(DeploymentComplete)
			event, msg = "FLEET_DEPLOYMENT_COMPLETE", fmt.Sprintf("Deployment %s of fleet %s is complete", deploymentID, fleetID)
		case done && st == DeploymentRollbackInProgress:
			d.Model.DeploymentStatus = gamelift.String(DeploymentRollbackComplete)
			event, msg = "FLEET_DEPLOYMENT_ROLLBACK_COMPLETE", fmt.Sprintf("Deployment %s of fleet %s rolled back", deploymentID, fleetID)
		case !done && st == DeploymentInProgress && gamelift.Value(d.Model.DeploymentConfiguration.ImpairmentStrategy) == "ROLLBACK" && d.FromGameServerVersion != 0:
			d.Model.DeploymentStatus = gamelift.String(DeploymentRollbackInProgress)
			f.Container.GameServerVersion, f.Container.PerInstanceVersion = d.FromGameServerVersion, d.FromPerInstanceVersion
			m := &f.Container.Model
			m.GameServerContainerGroupDefinitionArn, m.GameServerContainerGroupDefinitionName = d.Model.RollbackGameServerBinaryArn, nameInARN(d.Model.RollbackGameServerBinaryArn)
			m.PerInstanceContainerGroupDefinitionArn, m.PerInstanceContainerGroupDefinitionName = d.Model.RollbackPerInstanceBinaryArn, nameInARN(d.Model.RollbackPerInstanceBinaryArn)
			event, msg = "FLEET_DEPLOYMENT_ROLLBACK_STARTED", fmt.Sprintf("Deployment %s of fleet %s is impaired (%s); rolling back", deploymentID, fleetID, why)
		case !done && st == DeploymentInProgress:
			d.Model.DeploymentStatus = gamelift.String(DeploymentImpaired)
			event, msg = "FLEET_DEPLOYMENT_IMPAIRED", fmt.Sprintf("Deployment %s of fleet %s is impaired: %s", deploymentID, fleetID, why)
		default:
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) || isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record deployment %s: %w", deploymentID, err)
	}
	s.core.RecordEvent(ctx, fleetID, event, msg)
	if event == "FLEET_DEPLOYMENT_ROLLBACK_STARTED" {
		s.fleetChanged(fleetID)
	}
	return nil
}

// FleetEvent records a fleet event on behalf of an engine (pods that cannot be scheduled,
// containers that fail).
func (s *Service) FleetEvent(ctx context.Context, fleetID, code, msg string) {
	s.core.RecordEvent(ctx, fleetID, code, msg)
}

var errNoChange = errors.New("no change")

// nameInARN returns the definition name a versioned definition ARN names; nil for none.
func nameInARN(arn *string) *string {
	if arn == nil {
		return nil
	}
	name, _, err := containerGroupRef(arn)
	if err != nil {
		return nil
	}
	return &name
}

// FleetPods lists the pods a container fleet has as computes.
func (s *Service) FleetPods(ctx context.Context, fleetID string) ([]string, error) {
	computes, err := s.core.FleetComputes(ctx, fleetID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range computes {
		if gamelift.Value(c.Model.Type) == control.ComputeContainer {
			names = append(names, gamelift.Value(c.Model.ComputeName))
		}
	}
	return names, nil
}

// LeadsEngine tells whether this server runs the container engine: alone on its store it
// does; among replicas, the live one with the lowest ID does, as for scaling.
func (s *Service) LeadsEngine(ctx context.Context) bool { return s.core.Leads(ctx) }
