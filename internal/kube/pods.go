package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hoist-dev/hoist/internal/containers"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Labels and annotations Hoist puts on what it creates. Hoist only ever touches objects
// labelled managed-by=hoist.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "hoist"
	labelFleet     = "gamelift.hoist.dev/fleet"
	labelInstance  = "gamelift.hoist.dev/instance"
	labelSlot      = "gamelift.hoist.dev/slot"
	labelRevision  = "gamelift.hoist.dev/revision"
	labelGroup     = "gamelift.hoist.dev/group"
	annoRevision   = "gamelift.hoist.dev/revision"
	annoDeployment = "gamelift.hoist.dev/deployment"

	groupGameServer  = "GAME_SERVER"
	groupPerInstance = "PER_INSTANCE"
	perInstanceSlot  = "per-instance"

	// tokenKey is the key of the auth token in a pod's Secret.
	tokenKey = "auth-token"

	// terminationGrace is how long Kubernetes gives a pod's containers between SIGTERM and
	// SIGKILL when Hoist deletes it.
	terminationGrace = 30
)

// revisionLabel turns a plan's revision into a label value (at most 63 characters).
func revisionLabel(rev string) string {
	sum := sha256.Sum256([]byte(rev))
	return hex.EncodeToString(sum[:8])
}

// containerPorts lists the distinct container ports a definition's containers declare,
// in order, with the protocols each is declared for.
type containerPort struct {
	container string
	port      int32
	protocols []corev1.Protocol
}

func portsOf(d *gamelift.ContainerGroupDefinition) []containerPort {
	var out []containerPort
	seen := map[int32]int{}
	add := func(container *string, pc *gamelift.ContainerPortConfiguration) {
		if pc == nil {
			return
		}
		for _, r := range pc.ContainerPortRanges {
			proto := corev1.ProtocolTCP
			if gamelift.Value(r.Protocol) == "UDP" {
				proto = corev1.ProtocolUDP
			}
			for p := gamelift.Value(r.FromPort); p <= gamelift.Value(r.ToPort); p++ {
				if i, ok := seen[p]; ok {
					if !slices.Contains(out[i].protocols, proto) {
						out[i].protocols = append(out[i].protocols, proto)
					}
					continue
				}
				seen[p] = len(out)
				out = append(out, containerPort{container: gamelift.Value(container), port: p, protocols: []corev1.Protocol{proto}})
			}
		}
	}
	if d == nil {
		return nil
	}
	if gs := d.GameServerContainerDefinition; gs != nil {
		add(gs.ContainerName, gs.PortConfiguration)
	}
	for i := range d.SupportContainerDefinitions {
		add(d.SupportContainerDefinitions[i].ContainerName, d.SupportContainerDefinitions[i].PortConfiguration)
	}
	return out
}

// podSlot is one pod of the layout: which instance, which slot (a game server container
// group's index, or the per-instance group).
type podSlot struct {
	instance int
	slot     string // "0".."K-1" or perInstanceSlot
}

// portsPerInstance is how many connection ports one instance takes: each game server
// group's container ports, and the per-instance group's.
func portsPerInstance(plan containers.ContainerPlan) int {
	return plan.GroupsPerInstance*len(portsOf(plan.GameServer)) + len(portsOf(plan.PerInstance))
}

// instanceCapacity is how many instances the fleet's connection port range holds.
func instanceCapacity(plan containers.ContainerPlan) int {
	per := portsPerInstance(plan)
	if per == 0 {
		return math.MaxInt
	}
	return int(plan.PortTo-plan.PortFrom+1) / per
}

// portMap assigns a slot's connection (host) ports. Instance i takes the i-th block of
// the fleet's connection port range; within it, game server group j takes the j-th
// block of its container ports, the per-instance group the block after them all. No two
// pods of a fleet share a host port, so any number of its pods fit on one node.
func portMap(plan containers.ContainerPlan, s podSlot) map[int32]int32 {
	gs := portsOf(plan.GameServer)
	base := plan.PortFrom + int32(s.instance*portsPerInstance(plan))
	m := map[int32]int32{}
	if s.slot == perInstanceSlot {
		base += int32(plan.GroupsPerInstance * len(gs))
		for k, p := range portsOf(plan.PerInstance) {
			m[p.port] = base + int32(k)
		}
		return m
	}
	j, _ := strconv.Atoi(s.slot)
	base += int32(j * len(gs))
	for k, p := range gs {
		m[p.port] = base + int32(k)
	}
	return m
}

// allocatePorts assigns a new pod's connection (host) ports: its slot's own block of the
// range (portMap) when no pod of the fleet holds one of them, and otherwise the lowest
// free ports of the range. A pod replacing one still in its termination grace period so
// never waits on that pod's ports. When the range has too few free ports, the slot's own
// block it is, and the pod waits for them to be free (Pending) as before.
func allocatePorts(plan containers.ContainerPlan, s podSlot, held map[int32]bool) map[int32]int32 {
	own := portMap(plan, s)
	free := true
	for _, hp := range own {
		free = free && !held[hp]
	}
	if free {
		return own
	}
	def := plan.GameServer
	if s.slot == perInstanceSlot {
		def = plan.PerInstance
	}
	m := map[int32]int32{}
	next := plan.PortFrom
	for _, cp := range portsOf(def) {
		for next <= plan.PortTo && held[next] {
			next++
		}
		if next > plan.PortTo {
			return own
		}
		m[cp.port] = next
		next++
	}
	return m
}

// hostPortsOf lists the host ports a pod's containers publish.
func hostPortsOf(p *corev1.Pod) []int32 {
	var out []int32
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.HostPort != 0 {
				out = append(out, port.HostPort)
			}
		}
	}
	return out
}

// instanceID names an instance of a fleet as DescribeInstances reports it.
func instanceID(fleetID string, n int) string {
	sum := sha256.Sum256([]byte(fleetID))
	return fmt.Sprintf("i-%s%04d", hex.EncodeToString(sum[:6]), n)
}

// podSpec is what buildPod needs besides the plan.
type podSpec struct {
	name, namespace string
	slot            podSlot
	sdkEndpoint     string
	// ports maps container ports to host ports (allocatePorts); the slot's own block
	// (portMap) when nil.
	ports map[int32]int32
}

// buildPod makes the pod of one slot of a fleet's plan: the definition's containers with
// their images, environment and limits, host ports of the connection range, and for the
// game server container the Server SDK's settings, its auth token from the pod's Secret.
func buildPod(plan containers.ContainerPlan, spec podSpec) *corev1.Pod {
	def, group := plan.GameServer, groupGameServer
	if spec.slot.slot == perInstanceSlot {
		def, group = plan.PerInstance, groupPerInstance
	}
	ports := spec.ports
	if ports == nil {
		ports = portMap(plan, spec.slot)
	}
	labels := map[string]string{
		labelManagedBy: managedBy, labelFleet: plan.FleetID, labelInstance: strconv.Itoa(spec.slot.instance),
		labelSlot: spec.slot.slot, labelRevision: revisionLabel(plan.Revision), labelGroup: group,
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: spec.name, Namespace: spec.namespace, Labels: labels,
			Annotations: map[string]string{annoRevision: plan.Revision, annoDeployment: plan.Deployment},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever, // Hoist replaces a pod that ends
			TerminationGracePeriodSeconds: ptr(int64(terminationGrace)),
			AutomountServiceAccountToken:  ptr(false), // game servers need no Kubernetes API
			EnableServiceLinks:            ptr(false),
		},
	}
	portsFor := func(container string) []corev1.ContainerPort {
		var out []corev1.ContainerPort
		for _, p := range portsOf(def) {
			if p.container != container {
				continue
			}
			for _, proto := range p.protocols {
				out = append(out, corev1.ContainerPort{ContainerPort: p.port, HostPort: ports[p.port], Protocol: proto})
			}
		}
		return out
	}
	envOf := func(over []gamelift.ContainerEnvironment) []corev1.EnvVar {
		var env []corev1.EnvVar
		for _, e := range over {
			env = append(env, corev1.EnvVar{Name: gamelift.Value(e.Name), Value: gamelift.Value(e.Value)})
		}
		return env
	}
	var supportMiB int32
	var supportCPU float64
	for i := range def.SupportContainerDefinitions {
		c := def.SupportContainerDefinitions[i]
		name := gamelift.Value(c.ContainerName)
		k := corev1.Container{
			Name: name, Image: gamelift.Value(c.ImageUri), Env: envOf(c.EnvironmentOverride), Ports: portsFor(name),
			Resources: limits(gamelift.Value(c.MemoryHardLimitMebibytes), gamelift.Value(c.Vcpu)),
		}
		supportMiB += gamelift.Value(c.MemoryHardLimitMebibytes)
		supportCPU += gamelift.Value(c.Vcpu)
		pod.Spec.Containers = append(pod.Spec.Containers, k)
	}
	if gs := def.GameServerContainerDefinition; gs != nil {
		name := gamelift.Value(gs.ContainerName)
		env := envOf(gs.EnvironmentOverride)
		env = append(env,
			corev1.EnvVar{Name: "GAMELIFT_SDK_WEBSOCKET_URL", Value: spec.sdkEndpoint},
			corev1.EnvVar{Name: "GAMELIFT_SDK_FLEET_ID", Value: plan.FleetID},
			corev1.EnvVar{Name: "GAMELIFT_SDK_HOST_ID", Value: spec.name},
			corev1.EnvVar{Name: "GAMELIFT_SDK_PROCESS_ID", Value: spec.name},
			corev1.EnvVar{Name: "GAMELIFT_SDK_AUTH_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: spec.name}, Key: tokenKey,
			}}},
			corev1.EnvVar{Name: "GAMELIFT_COMPUTE_TYPE", Value: control.ComputeContainer},
		)
		// The game server container gets what the group's totals leave after the support
		// containers' own limits.
		mib := gamelift.Value(def.TotalMemoryLimitMebibytes) - supportMiB
		cpu := gamelift.Value(def.TotalVcpuLimit) - supportCPU
		k := corev1.Container{
			Name: name, Image: gamelift.Value(gs.ImageUri), Env: env, Ports: portsFor(name),
			Resources: limits(max(mib, 0), max(cpu, 0)),
		}
		pod.Spec.Containers = append([]corev1.Container{k}, pod.Spec.Containers...)
	}
	return pod
}

// limits are a container's memory (MiB) and vCPU limits, requested as much as limited, so
// the scheduler only puts a pod where it fits. Zero means none.
func limits(mib int32, vcpu float64) corev1.ResourceRequirements {
	l := corev1.ResourceList{}
	if mib > 0 {
		l[corev1.ResourceMemory] = *resource.NewQuantity(int64(mib)<<20, resource.BinarySI)
	}
	if vcpu > 0 {
		l[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(math.Round(vcpu*1000)), resource.DecimalSI)
	}
	if len(l) == 0 {
		return corev1.ResourceRequirements{}
	}
	return corev1.ResourceRequirements{Limits: l, Requests: l.DeepCopy()}
}

// buildSecret is the Secret holding a pod's auth token.
func buildSecret(plan containers.ContainerPlan, name, namespace, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels: map[string]string{labelManagedBy: managedBy, labelFleet: plan.FleetID},
		},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{tokenKey: token},
	}
}

func ptr[T any](v T) *T { return &v }
