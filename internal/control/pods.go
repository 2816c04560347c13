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

// What a container engine asks of the service: the plan of each container fleet, and the
// pods it starts and sees go, each a compute of its fleet (compute name = pod name).

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
	page, err := s.fleets.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	var plans []ContainerPlan
	for _, f := range page.Items {
		if !isContainer(f) {
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
	f, err := s.fleets.Get(ctx, fleetID)
	if errors.Is(err, store.ErrNotFound) {
		return ContainerPlan{FleetID: fleetID, Gone: true}, nil
	}
	if err != nil {
		return ContainerPlan{}, fmt.Errorf("read fleet %s: %w", fleetID, err)
	}
	if !isContainer(f) {
		return ContainerPlan{FleetID: fleetID, Gone: true}, nil
	}
	return s.containerPlan(ctx, f)
}

func (s *Service) containerPlan(ctx context.Context, f store.Fleet) (ContainerPlan, error) {
	cf := f.Container
	p := ContainerPlan{FleetID: gamelift.Value(f.Attributes.FleetId)}
	switch gamelift.Value(f.Attributes.Status) {
	case FleetDeleting, FleetTerminated:
		p.Gone = true
		return p, nil
	case FleetNew:
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
	f, err := s.fleets.Get(ctx, p.FleetID)
	if err != nil {
		return "", fmt.Errorf("read fleet %s: %w", p.FleetID, err)
	}
	if err := s.putPod(ctx, f, p); err != nil {
		return "", err
	}
	tok := store.AuthToken{Token: newID("pod"), FleetID: p.FleetID, ComputeName: p.Name, Expires: s.now().Add(podTokenTTL)}
	if err := s.store.AuthTokens().Create(ctx, tok.Token, tok.FleetID, tok); err != nil {
		return "", fmt.Errorf("store auth token: %w", err)
	}
	return tok.Token, nil
}

// PodChanged records what the engine observed of a pod it created: scheduled on a node
// (its IP) and running, or not yet.
func (s *Service) PodChanged(ctx context.Context, p Pod) error {
	f, err := s.fleets.Get(ctx, p.FleetID)
	if errors.Is(err, store.ErrNotFound) {
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
		status = computeTerminating
	case p.Running:
		status = computeActive
	}
	c := gamelift.Compute{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, ComputeName: gamelift.String(p.Name),
		ComputeArn: gamelift.String(s.arn("compute", p.Name)), ComputeStatus: &status, Location: gamelift.String(s.region),
		CreationTime: gamelift.At(s.now()), OperatingSystem: f.Attributes.OperatingSystem, Type: gamelift.String(ComputeContainer),
		InstanceId: gamelift.String(p.InstanceID), GameLiftServiceSdkEndpoint: gamelift.String(s.sdkEndpoint),
		GameServerContainerGroupDefinitionArn: f.Container.Model.GameServerContainerGroupDefinitionArn,
	}
	if p.HostIP != "" {
		c.IpAddress = gamelift.String(p.HostIP)
	}
	for name, id := range p.Containers {
		c.ContainerAttributes = append(c.ContainerAttributes, gamelift.ContainerAttribute{ContainerName: gamelift.String(name), ContainerRuntimeId: gamelift.String(id)})
	}
	rec := store.Compute{Model: c, Ports: p.Ports}
	key := computeKey(p.FleetID, p.Name)
	err := s.store.Computes().Create(ctx, key, p.FleetID, rec)
	if errors.Is(err, store.ErrExists) {
		_, err = s.replaceCompute(ctx, key, rec)
	}
	if err != nil {
		return fmt.Errorf("record pod %s: %w", p.Name, err)
	}
	if p.HostIP != "" {
		s.podAddressed(p.FleetID, p.Name, p.HostIP)
	}
	if p.Running && !p.Terminating {
		s.hostRegistered(p.FleetID, s.region)
	}
	return nil
}

// podAddressed gives a pod's processes its node's IP: a game server may connect before
// the engine has seen where its pod runs, and its sessions need the address.
func (s *Service) podAddressed(fleetID, pod, ip string) {
	s.procs.mu.Lock()
	defer s.procs.mu.Unlock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == pod && p.ipAddress != ip {
			p.ipAddress = shared(ip)
			s.procs.sync(p)
		}
	}
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
	for _, id := range s.closePod(p.FleetID, p.Name) {
		if err := s.interruptSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// closePod stops placing game sessions on a pod's processes, and returns the sessions
// they host: those of this server's processes, and the ACTIVE ones of any replica's.
func (s *Service) closePod(fleetID, pod string) []string {
	var ids []string
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == pod {
			p.ready = false
			s.procs.sync(p)
			if p.gameSessionID != "" {
				ids = append(ids, p.gameSessionID)
			}
		}
	}
	s.procs.mu.Unlock()
	for _, id := range s.searchIndex.sessionsOn(fleetID, pod) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// interruptSession makes a session whose compute is shutting down TERMINATING, with the
// reason it will end with, INTERRUPTED.
func (s *Service) interruptSession(ctx context.Context, id string) error {
	gs, err := s.gameSessions.Update(ctx, id, func(gs *store.GameSession) error {
		if st := gamelift.Value(gs.Model.Status); st != SessionActive && st != SessionActivating {
			return errNoChange
		}
		gs.Model.Status, gs.Model.StatusReason = gamelift.String(SessionTerminating), gamelift.String(ReasonInterrupted)
		return nil
	})
	if errors.Is(err, errNoChange) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("interrupt game session %s: %w", id, err)
	}
	s.updateProcessLimits(gs)
	return nil
}

// PodGone deregisters a pod that is no longer there. Its game sessions end now,
// INTERRUPTED: whatever ran them is gone with the pod.
func (s *Service) PodGone(ctx context.Context, fleetID, pod string) error {
	var ends []string
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == pod {
			if id := s.forgetProcessLocked(p, "its pod is gone"); id != "" {
				ends = append(ends, id)
			}
		}
	}
	s.procs.mu.Unlock()
	for _, id := range ends {
		s.endSessionOf(ctx, id, ReasonInterrupted, false)
	}
	if err := s.store.Computes().Delete(ctx, computeKey(fleetID, pod)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("deregister pod %s: %w", pod, err)
	}
	if err := s.revokeAuthTokens(ctx, fleetID, pod); err != nil {
		return err
	}
	s.forgetEventBudgets(fleetID, pod)
	return s.forgetProcessesOf(ctx, fleetID, func(name string) bool { return name == pod })
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
	uses := map[string]PodUse{}
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID != fleetID {
			continue
		}
		u := uses[p.computeName]
		u.Processes++
		if p.ready && p.peer != nil {
			u.Ready++
		}
		if p.gameSessionID != "" {
			u.Busy = true // ACTIVATING ones too
		}
		uses[p.computeName] = u
	}
	s.procs.mu.Unlock()
	if s.replicated() {
		page, err := s.store.Processes().List(ctx, store.Query{Parent: fleetID})
		if err != nil {
			return nil, fmt.Errorf("list ready processes: %w", err)
		}
		for _, p := range page.Items {
			if u, ok := uses[p.ComputeName]; !ok || u.Processes == 0 {
				u.Processes, u.Ready = 1, 1 // a process another replica holds
				uses[p.ComputeName] = u
			}
		}
	}
	for pod, protected := range s.searchIndex.computes(fleetID) {
		u := uses[pod]
		u.Busy, u.Protected = true, protected
		uses[pod] = u
	}
	return uses, nil
}

// DrainPod asks a pod's game server processes to end (TerminateProcess), and stops giving
// them sessions; the engine deletes the pod when they have, or after a grace period.
func (s *Service) DrainPod(fleetID, pod string) {
	var keys []procKey
	s.procs.mu.Lock()
	for _, p := range s.procs.byKey {
		if p.fleetID == fleetID && p.computeName == pod {
			p.ready = false
			s.procs.sync(p)
			keys = append(keys, p.key())
		}
	}
	s.procs.mu.Unlock()
	if len(keys) == 0 {
		// Another replica may hold its game server, whose process ID is the pod's name
		// (GAMELIFT_SDK_PROCESS_ID): askProcessToEnd reaches it there.
		keys = append(keys, procKey{fleetID, pod, pod})
	}
	for _, k := range keys {
		s.askProcessToEnd(k)
	}
}

// DeploymentProgress records how a fleet's latest deployment went: done (every pod runs
// it) or impaired (its pods fail). An impaired deployment with the ROLLBACK strategy
// rolls back to what ran before; a rollback that is done is ROLLBACK_COMPLETE.
func (s *Service) DeploymentProgress(ctx context.Context, fleetID, deploymentID string, done bool, why string) error {
	var event, msg string
	_, err := s.fleets.Update(ctx, fleetID, func(f *store.Fleet) error {
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
	if errors.Is(err, errNoChange) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record deployment %s: %w", deploymentID, err)
	}
	s.event(ctx, fleetID, event, msg)
	if s.engine != nil && event == "FLEET_DEPLOYMENT_ROLLBACK_STARTED" {
		s.engine.FleetChanged(fleetID)
	}
	return nil
}

// FleetEvent records a fleet event on behalf of an engine (pods that cannot be scheduled,
// containers that fail).
func (s *Service) FleetEvent(ctx context.Context, fleetID, code, msg string) {
	s.event(ctx, fleetID, code, msg)
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
	page, err := s.store.Computes().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	var names []string
	for _, c := range page.Items {
		if gamelift.Value(c.Model.Type) == ComputeContainer {
			names = append(names, gamelift.Value(c.Model.ComputeName))
		}
	}
	return names, nil
}

// LeadsEngine tells whether this server runs the container engine: alone on its store it
// does; among replicas, the live one with the lowest ID does, as for scaling.
func (s *Service) LeadsEngine(ctx context.Context) bool { return s.leads(ctx) }
