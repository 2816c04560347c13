package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hoist-dev/hoist/internal/containers"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

func s(v string) *string { return &v }
func i32(v int32) *int32 { return &v }

func testPlan() containers.ContainerPlan {
	return containers.ContainerPlan{
		FleetID: "fleet-1", Instances: 2, GroupsPerInstance: 3, PortFrom: 5000, PortTo: 5099, Revision: "pods.1..0.3.5000.5099",
		GameServer: &gamelift.ContainerGroupDefinition{
			TotalMemoryLimitMebibytes: i32(1024), TotalVcpuLimit: ptr(1.0),
			GameServerContainerDefinition: &gamelift.GameServerContainerDefinition{
				ContainerName: s("game"), ImageUri: s("game:1"),
				EnvironmentOverride: []gamelift.ContainerEnvironment{{Name: s("MODE"), Value: s("ranked")}},
				PortConfiguration: &gamelift.ContainerPortConfiguration{ContainerPortRanges: []gamelift.ContainerPortRange{
					{FromPort: i32(7777), ToPort: i32(7778), Protocol: s("UDP")},
					{FromPort: i32(7777), ToPort: i32(7777), Protocol: s("TCP")},
				}},
			},
			SupportContainerDefinitions: []gamelift.SupportContainerDefinition{{
				ContainerName: s("metrics"), ImageUri: s("metrics:1"), MemoryHardLimitMebibytes: i32(256), Vcpu: ptr(0.25),
				PortConfiguration: &gamelift.ContainerPortConfiguration{ContainerPortRanges: []gamelift.ContainerPortRange{
					{FromPort: i32(9100), ToPort: i32(9100), Protocol: s("TCP")},
				}},
			}},
		},
		PerInstance: &gamelift.ContainerGroupDefinition{
			SupportContainerDefinitions: []gamelift.SupportContainerDefinition{{
				ContainerName: s("logs"), ImageUri: s("logs:1"),
				PortConfiguration: &gamelift.ContainerPortConfiguration{ContainerPortRanges: []gamelift.ContainerPortRange{
					{FromPort: i32(24224), ToPort: i32(24224), Protocol: s("TCP")},
				}},
			}},
		},
	}
}

// Every pod of a fleet gets host ports of its own, in its instance's block of the range.
func TestPortMap(t *testing.T) {
	plan := testPlan()
	// 3 container ports (7777, 7778, 9100) per game server group, 3 groups, 1 per-instance port.
	if n := portsPerInstance(plan); n != 10 {
		t.Fatalf("portsPerInstance = %d, want 10", n)
	}
	if n := instanceCapacity(plan); n != 10 {
		t.Errorf("instanceCapacity = %d, want 10 (100 ports / 10)", n)
	}
	used := map[int32]podSlot{}
	for inst := range 10 {
		for _, slot := range []string{"0", "1", "2", perInstanceSlot} {
			for container, host := range portMap(plan, podSlot{inst, slot}) {
				if host < plan.PortFrom || host > plan.PortTo {
					t.Errorf("instance %d slot %s: container port %d at host port %d, outside the range", inst, slot, container, host)
				}
				if other, ok := used[host]; ok {
					t.Errorf("host port %d given to instance %d slot %s and to %+v", host, inst, slot, other)
				}
				used[host] = podSlot{inst, slot}
			}
		}
	}
	if len(used) != 100 {
		t.Errorf("%d host ports used, want all 100", len(used))
	}
	if m := portMap(plan, podSlot{1, "2"}); m[7777] != 5016 || m[7778] != 5017 || m[9100] != 5018 {
		t.Errorf("instance 1 slot 2 = %v, want 7777->5016, 7778->5017, 9100->5018", m)
	}
	if m := portMap(plan, podSlot{1, perInstanceSlot}); m[24224] != 5019 {
		t.Errorf("instance 1's per-instance group = %v, want 24224->5019", m)
	}
}

// A new pod takes its slot's own block of the range when it is free, and otherwise the
// lowest free ports of the range: a replacement does not wait for the ports of the pod it
// replaces, still in its grace period. With too few free ports, it waits for its own.
func TestAllocatePorts(t *testing.T) {
	plan := testPlan()
	held := func(ports ...int32) map[int32]bool {
		m := map[int32]bool{}
		for _, p := range ports {
			m[p] = true
		}
		return m
	}
	all := held()
	for p := plan.PortFrom; p <= plan.PortTo; p++ {
		all[p] = true
	}
	for _, tc := range []struct {
		name string
		slot podSlot
		held map[int32]bool
		want map[int32]int32
	}{
		{"own block free", podSlot{1, "2"}, held(5000, 5001, 5002), map[int32]int32{7777: 5016, 7778: 5017, 9100: 5018}},
		{"own block held by the pod it replaces", podSlot{0, "0"}, held(5000, 5001, 5002, 5004), map[int32]int32{7777: 5003, 7778: 5005, 9100: 5006}},
		{"one of its ports held", podSlot{0, "1"}, held(5004), map[int32]int32{7777: 5000, 7778: 5001, 9100: 5002}},
		{"per-instance group", podSlot{0, perInstanceSlot}, held(5009), map[int32]int32{24224: 5000}},
		{"no free ports: its own block, waiting", podSlot{0, "0"}, all, map[int32]int32{7777: 5000, 7778: 5001, 9100: 5002}},
	} {
		got := allocatePorts(plan, tc.slot, tc.held)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for cp, hp := range tc.want {
			if got[cp] != hp {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// A pod built with ports allocated publishes those.
func TestBuildPodWithPorts(t *testing.T) {
	pod := buildPod(testPlan(), podSpec{name: "fleet-1-abcde", slot: podSlot{0, "0"}, ports: map[int32]int32{7777: 5050, 7778: 5051, 9100: 5052}})
	got := map[int32]int32{}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			got[p.ContainerPort] = p.HostPort
		}
	}
	if got[7777] != 5050 || got[7778] != 5051 || got[9100] != 5052 {
		t.Errorf("host ports %v, want 7777->5050, 7778->5051, 9100->5052", got)
	}
	if hp := hostPortsOf(pod); len(hp) != 4 { // 7777 UDP and TCP, 7778, 9100
		t.Errorf("hostPortsOf = %v, want 4 ports", hp)
	}
}

// A pod is the definition's containers with their images, environment, limits and host
// ports, and the SDK's settings with the auth token from the pod's Secret.
func TestBuildPod(t *testing.T) {
	plan := testPlan()
	pod := buildPod(plan, podSpec{name: "fleet-1-abcde", namespace: "games", slot: podSlot{0, "1"}, sdkEndpoint: "ws://hoist:9080"})
	if pod.Labels[labelFleet] != "fleet-1" || pod.Labels[labelInstance] != "0" || pod.Labels[labelSlot] != "1" || pod.Labels[labelManagedBy] != managedBy ||
		pod.Labels[labelRevision] != revisionLabel(plan.Revision) || len(pod.Labels[labelRevision]) > 63 {
		t.Errorf("labels = %v", pod.Labels)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("restart policy %s, service account token mounted %v", pod.Spec.RestartPolicy, *pod.Spec.AutomountServiceAccountToken)
	}
	if len(pod.Spec.Containers) != 2 || pod.Spec.Containers[0].Name != "game" || pod.Spec.Containers[1].Name != "metrics" {
		t.Fatalf("containers = %+v", pod.Spec.Containers)
	}
	game, metrics := pod.Spec.Containers[0], pod.Spec.Containers[1]
	env := map[string]corev1.EnvVar{}
	for _, e := range game.Env {
		env[e.Name] = e
	}
	for name, want := range map[string]string{"MODE": "ranked", "GAMELIFT_SDK_WEBSOCKET_URL": "ws://hoist:9080", "GAMELIFT_SDK_FLEET_ID": "fleet-1",
		"GAMELIFT_SDK_HOST_ID": "fleet-1-abcde", "GAMELIFT_SDK_PROCESS_ID": "fleet-1-abcde"} {
		if env[name].Value != want {
			t.Errorf("env %s = %q, want %q", name, env[name].Value, want)
		}
	}
	if ref := env["GAMELIFT_SDK_AUTH_TOKEN"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "fleet-1-abcde" || ref.SecretKeyRef.Key != tokenKey {
		t.Errorf("auth token = %+v, want the pod's Secret", env["GAMELIFT_SDK_AUTH_TOKEN"])
	}
	// Slot 1 of instance 0: ports 5003-5005. 7777 is declared for UDP and TCP.
	want := []corev1.ContainerPort{{ContainerPort: 7777, HostPort: 5003, Protocol: corev1.ProtocolUDP}, {ContainerPort: 7777, HostPort: 5003, Protocol: corev1.ProtocolTCP},
		{ContainerPort: 7778, HostPort: 5004, Protocol: corev1.ProtocolUDP}}
	if len(game.Ports) != len(want) {
		t.Fatalf("game ports = %+v, want %+v", game.Ports, want)
	}
	for i := range want {
		if game.Ports[i] != want[i] {
			t.Errorf("game port %d = %+v, want %+v", i, game.Ports[i], want[i])
		}
	}
	if len(metrics.Ports) != 1 || metrics.Ports[0].HostPort != 5005 {
		t.Errorf("metrics ports = %+v, want 9100 at 5005", metrics.Ports)
	}
	// The game server container gets the group's totals less the support container's.
	if m := game.Resources.Limits[corev1.ResourceMemory]; m.Value() != 768<<20 {
		t.Errorf("game memory limit = %s, want 768Mi", m.String())
	}
	if c := game.Resources.Limits[corev1.ResourceCPU]; c.MilliValue() != 750 {
		t.Errorf("game CPU limit = %s, want 750m", c.String())
	}
	if m := metrics.Resources.Requests[corev1.ResourceMemory]; m.Value() != 256<<20 {
		t.Errorf("metrics memory request = %s, want 256Mi", m.String())
	}

	per := buildPod(plan, podSpec{name: "fleet-1-fghij", slot: podSlot{1, perInstanceSlot}})
	if len(per.Spec.Containers) != 1 || per.Spec.Containers[0].Name != "logs" || per.Labels[labelGroup] != groupPerInstance || per.Spec.Containers[0].Ports[0].HostPort != 5019 {
		t.Errorf("per-instance pod = %+v", per.Spec.Containers)
	}
}

// Scale-in takes the least busy instances first and never one with a protected session.
func TestPickScaleIn(t *testing.T) {
	pod := func(name string) observed {
		return observed{pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}}
	}
	instances := map[int][]observed{
		0: {pod("a0"), pod("a1")},
		1: {pod("b0"), pod("b1")},
		2: {pod("c0"), pod("c1")},
		3: {pod("d0"), pod("d1")},
	}
	uses := map[string]containers.PodUse{
		"a0": {Busy: true, Protected: true},
		"b0": {Busy: true}, "b1": {Busy: true},
		"c0": {Busy: true},
	}
	if got := pickScaleIn(instances, uses, 2); len(got) != 2 || got[0] != 3 || got[1] != 2 {
		t.Errorf("pickScaleIn(2) = %v, want [3 2]: the idle one, then the least busy", got)
	}
	if got := pickScaleIn(instances, uses, 4); len(got) != 3 {
		t.Errorf("pickScaleIn(4) = %v, want 3 instances: never the one with a protected session", got)
	}
}
