package node_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/test/kube/node"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// env is one test's namespace with a node stand-in running for it.
type env struct {
	t    *testing.T
	cs   kubernetes.Interface
	ns   string
	node string
	out  string // a directory the containers write to
	ctx  context.Context
	stop func() // stops the node and waits for Run to return
}

var images = map[string]node.Command{
	"shell":   {Path: "/bin/sh"},
	"sleeper": {Path: "sleep", Args: []string{"3600"}},
}

// start runs a node for a new namespace; opts may change its Config.
func start(t *testing.T, opts ...func(*node.Config)) *env {
	t.Helper()
	kc := os.Getenv("HOIST_TEST_KUBECONFIG")
	if kc == "" {
		t.Skip("HOIST_TEST_KUBECONFIG is not set: these tests need a Kubernetes API server; " +
			"start one with: export HOIST_TEST_KUBECONFIG=$(test/kube/start.sh /tmp/hoist-kube)")
	}
	t.Parallel()
	out := t.TempDir() // before the node, so that it is removed after the node stops
	rc, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	ns := "hoist-node-test-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cs: cs, ns: ns, node: "node-" + ns, out: out, ctx: ctx}
	cfg := node.Config{
		REST: rc, NodeName: e.node, Namespace: ns, Images: images, Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx, cfg) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		e.stop()
		// Without a controller manager the namespace stays Terminating; its pods are
		// gone with the API server.
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (e *env) create(p *corev1.Pod) *corev1.Pod {
	e.t.Helper()
	p.Namespace = e.ns
	got, err := e.cs.CoreV1().Pods(e.ns).Create(e.ctx, p, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// wait polls the pod until ok says yes, and fails the test after 30 s.
func (e *env) wait(name, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last *corev1.Pod
	for time.Now().Before(deadline) {
		p, err := e.cs.CoreV1().Pods(e.ns).Get(e.ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p
			if ok(p) {
				return p
			}
		} else if !apierrors.IsNotFound(err) {
			e.t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != nil {
		e.t.Fatalf("pod %s: not %s after 30 s; spec.nodeName %q, status %+v", name, what, last.Spec.NodeName, last.Status)
	}
	e.t.Fatalf("pod %s: not %s after 30 s; it does not exist", name, what)
	return nil
}

func (e *env) waitGone(name string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, err := e.cs.CoreV1().Pods(e.ns).Get(e.ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s still exists after 30 s", name)
}

func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not appear in 30 s", path)
	return nil
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == ph }
}

func status(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

func condition(p *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

func pidOf(t *testing.T, s corev1.ContainerStatus) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimPrefix(s.ContainerID, "hoist-test://"))
	if err != nil || !strings.HasPrefix(s.ContainerID, "hoist-test://") {
		t.Fatalf("containerID %q is not hoist-test://<pid>", s.ContainerID)
	}
	return pid
}

// alive says whether pid runs: a zombie (killed, waiting for whoever adopted it to reap
// it) does not count.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}

// dies waits up to 10 s for pid to stop running.
func dies(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func shell(name, script string, env ...corev1.EnvVar) corev1.Container {
	return corev1.Container{Name: name, Image: "shell", Command: []string{"/bin/sh", "-c", script}, Env: env}
}

func value(name, v string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: v} }

func field(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
}

// A pod with two containers is bound and runs; its environment comes from a Secret created
// after the pod (the container waits for it), a ConfigMap and field references.
func TestPodRunsWithResolvedEnv(t *testing.T) {
	e := start(t)
	if _, err := e.cs.CoreV1().ConfigMaps(e.ns).Create(e.ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": "fast"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "game", Labels: map[string]string{"app": "lobby"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{
				shell("server", `env > "$OUT/env.tmp" && mv "$OUT/env.tmp" "$OUT/env" && exec sleep 3600`,
					value("OUT", e.out),
					corev1.EnvVar{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "auth"}, Key: "token"}}},
					corev1.EnvVar{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "mode"}}},
					field("POD_NAME", "metadata.name"),
					field("POD_NAMESPACE", "metadata.namespace"),
					field("POD_UID", "metadata.uid"),
					field("APP", "metadata.labels['app']"),
					field("NODE", "spec.nodeName"),
					field("HOST_IP", "status.hostIP"),
					field("POD_IP", "status.podIP"),
					value("GREETING", "hello $(POD_NAME) $$(POD_NAME)"),
				),
				{Name: "sidecar", Image: "sleeper"},
			},
		},
	})

	// Bound, and waiting for the Secret.
	p := e.wait("game", "waiting for its Secret", func(p *corev1.Pod) bool {
		w := status(p, "server").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError"
	})
	if p.Spec.NodeName != e.node {
		t.Fatalf("spec.nodeName %q, want %q", p.Spec.NodeName, e.node)
	}
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s while a container waits, want Pending", p.Status.Phase)
	}
	if w := status(p, "server").State.Waiting; !strings.Contains(w.Message, `"auth"`) {
		t.Errorf("waiting message %q does not name the Secret", w.Message)
	}
	if _, err := e.cs.CoreV1().Secrets(e.ns).Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "auth"}, Data: map[string][]byte{"token": []byte("s3cret")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p = e.wait("game", "Running and Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && condition(p, corev1.PodReady).Status == corev1.ConditionTrue
	})

	// The status a kubelet writes.
	if p.Status.HostIP != "127.0.0.1" || p.Status.PodIP != "127.0.0.1" ||
		len(p.Status.HostIPs) != 1 || p.Status.HostIPs[0].IP != "127.0.0.1" ||
		len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != "127.0.0.1" {
		t.Errorf("IPs: host %q %v, pod %q %v", p.Status.HostIP, p.Status.HostIPs, p.Status.PodIP, p.Status.PodIPs)
	}
	if p.Status.StartTime == nil {
		t.Error("no startTime")
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if c := condition(p, ct); c.Status != corev1.ConditionTrue {
			t.Errorf("condition %s = %q, want True", ct, c.Status)
		}
	}
	for _, name := range []string{"server", "sidecar"} {
		s := status(p, name)
		if !s.Ready || s.Started == nil || !*s.Started || s.State.Running == nil || s.State.Running.StartedAt.IsZero() ||
			s.RestartCount != 0 || s.ImageID == "" {
			t.Errorf("container %s: status %+v", name, s)
		}
		if pid := pidOf(t, s); !alive(pid) {
			t.Errorf("container %s: process %d is not running", name, pid)
		}
	}

	// The environment the process got: exactly the declared one, plus PATH and HOME (and
	// what sh itself adds).
	got := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(waitFile(t, filepath.Join(e.out, "env")))), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	want := map[string]string{
		"OUT": e.out, "TOKEN": "s3cret", "MODE": "fast", "POD_NAME": "game", "POD_NAMESPACE": e.ns,
		"POD_UID": string(p.UID), "APP": "lobby", "NODE": e.node, "HOST_IP": "127.0.0.1", "POD_IP": "127.0.0.1",
		"GREETING": "hello game $(POD_NAME)", "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("env %s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && k != "PWD" && k != "SHLVL" && k != "_" && k != "OLDPWD" {
			t.Errorf("env has %s, which the spec does not declare", k)
		}
	}
	if strings.HasPrefix(got["PWD"], e.out) || got["PWD"] == "" {
		t.Errorf("working directory %q, want a per-pod temporary directory", got["PWD"])
	}

	// The Node object.
	n, err := e.cs.CoreV1().Nodes().Get(e.ctx, e.node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := false
	for _, c := range n.Status.Conditions {
		ready = ready || c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	}
	addrs := map[corev1.NodeAddressType]string{}
	for _, a := range n.Status.Addresses {
		addrs[a.Type] = a.Address
	}
	var beat metav1.Time
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			beat = c.LastHeartbeatTime
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n2, err := e.cs.CoreV1().Nodes().Get(e.ctx, e.node, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var later metav1.Time
		for _, c := range n2.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				later = c.LastHeartbeatTime
			}
		}
		if later.After(beat.Time) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready heartbeat not renewed: still %v", later)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !ready || addrs[corev1.NodeInternalIP] != "127.0.0.1" || addrs[corev1.NodeHostName] != e.node ||
		n.Status.Capacity.Cpu().Value() != 64 || n.Status.Allocatable.Memory().Value() != 256<<30 ||
		n.Status.Capacity.Pods().Value() != 1000 {
		t.Errorf("node status %+v", n.Status)
	}
}

// With restartPolicy Never, a container's exit is reported with its code; the pod stays
// Running (not Ready) until every container has exited, then is Failed or Succeeded.
func TestExitNever(t *testing.T) {
	e := start(t)
	gate := filepath.Join(e.out, "go")
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "fails"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{
				shell("quick", "exit 0"),
				shell("slow", fmt.Sprintf("while [ ! -f %s ]; do sleep 0.1; done; exit 3", gate)),
			},
		},
	})
	p := e.wait("fails", "Running with one container done", func(p *corev1.Pod) bool {
		return status(p, "quick").State.Terminated != nil && status(p, "slow").State.Running != nil
	})
	if p.Status.Phase != corev1.PodRunning || condition(p, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Errorf("one of two exited: phase %s, Ready %s; want Running, False", p.Status.Phase, condition(p, corev1.PodReady).Status)
	}
	if term := status(p, "quick").State.Terminated; term.ExitCode != 0 || term.Reason != "Completed" || term.FinishedAt.IsZero() {
		t.Errorf("quick: %+v", term)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p = e.wait("fails", "Failed", phase(corev1.PodFailed))
	if term := status(p, "slow").State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("slow: %+v", status(p, "slow").State)
	}

	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "succeeds"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{shell("a", "exit 0"), shell("b", "sleep 0.3")},
		},
	})
	p = e.wait("succeeds", "Succeeded", phase(corev1.PodSucceeded))
	for _, name := range []string{"a", "b"} {
		if term := status(p, name).State.Terminated; term == nil || term.ExitCode != 0 {
			t.Errorf("%s: %+v", name, status(p, name).State)
		}
	}
}

// With restartPolicy OnFailure a failed container runs again, and restartCount counts it.
func TestRestartOnFailure(t *testing.T) {
	e := start(t)
	count := filepath.Join(e.out, "count")
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "flaky"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyOnFailure,
			// Fails on its first run, then stays up.
			Containers: []corev1.Container{shell("c", fmt.Sprintf(
				`echo run >> %[1]s; [ "$(wc -l < %[1]s)" -ge 2 ] || exit 7; exec sleep 3600`, count))},
		},
	})
	p := e.wait("flaky", "running again", func(p *corev1.Pod) bool {
		s := status(p, "c")
		return s.RestartCount == 1 && s.State.Running != nil
	})
	last := status(p, "c").LastTerminationState.Terminated
	if last == nil || last.ExitCode != 7 || p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, last state %+v", p.Status.Phase, status(p, "c").LastTerminationState)
	}
}

// Deleting a pod sends SIGTERM to its processes, and the pod leaves the API server once they
// are gone; one that ignores SIGTERM is killed when the grace period ends; one deleted
// before it ran is removed too; one force-deleted has its processes killed.
func TestDelete(t *testing.T) {
	e := start(t)
	marker := filepath.Join(e.out, "terminated")
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "polite"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{shell("c", fmt.Sprintf(
			`trap 'echo TERM > %s; exit 0' TERM; while :; do sleep 0.1; done`, marker))}},
	})
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stubborn"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{shell("c", `trap '' TERM; while :; do sleep 0.1; done`)}},
	})
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "forced"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "sleeper"}}},
	})
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "never-ran"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{shell("c", "sleep 3600",
			corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k"}}})}},
	})
	running := func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }
	polite := pidOf(t, status(e.wait("polite", "Running", running), "c"))
	stubborn := pidOf(t, status(e.wait("stubborn", "Running", running), "c"))
	forced := pidOf(t, status(e.wait("forced", "Running", running), "c"))
	e.wait("never-ran", "waiting for its Secret", func(p *corev1.Pod) bool {
		w := status(p, "c").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError"
	})

	del := func(name string, grace int64) {
		t.Helper()
		err := e.cs.CoreV1().Pods(e.ns).Delete(e.ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	began := time.Now()
	del("polite", 20)
	del("stubborn", 2)
	// Deleted twice at once: the pod vanishes from the API server, whether the node saw
	// its deletionTimestamp or not; either way its process must die.
	del("forced", 0)
	del("forced", 0)
	del("never-ran", 20)

	if got := strings.TrimSpace(string(waitFile(t, marker))); got != "TERM" {
		t.Errorf("marker %q", got)
	}
	e.waitGone("polite")
	if time.Since(began) > 10*time.Second {
		t.Errorf("polite pod took %s to go; it exits on SIGTERM", time.Since(began))
	}
	e.waitGone("never-ran")
	e.waitGone("stubborn")
	if d := time.Since(began); d < 2*time.Second {
		t.Errorf("stubborn pod went after %s, before its 2 s grace period", d)
	}
	for _, pid := range []int{polite, stubborn, forced} {
		if !dies(pid) {
			t.Errorf("process %d still runs after its pod went", pid)
		}
	}
}

// A pod whose host port is taken stays Pending and Unschedulable, and is bound when the pod
// holding the port goes; the same port on another protocol is free.
func TestHostPortCollision(t *testing.T) {
	e := start(t)
	withPort := func(name string, proto corev1.Protocol) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: "sleeper",
				Ports: []corev1.ContainerPort{{ContainerPort: 7777, HostPort: 7777, Protocol: proto}},
			}}},
		}
	}
	e.create(withPort("first", corev1.ProtocolTCP))
	e.wait("first", "Running", phase(corev1.PodRunning))
	e.create(withPort("second", corev1.ProtocolTCP))
	e.create(withPort("udp", corev1.ProtocolUDP))
	p := e.wait("second", "Unschedulable", func(p *corev1.Pod) bool {
		c := condition(p, corev1.PodScheduled)
		return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
	})
	if p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending ||
		!strings.Contains(condition(p, corev1.PodScheduled).Message, "TCP/7777") {
		t.Errorf("second: nodeName %q, phase %s, condition %+v", p.Spec.NodeName, p.Status.Phase, condition(p, corev1.PodScheduled))
	}
	e.wait("udp", "Running", phase(corev1.PodRunning))
	time.Sleep(time.Second)
	if p, err := e.cs.CoreV1().Pods(e.ns).Get(e.ctx, "second", metav1.GetOptions{}); err != nil || p.Spec.NodeName != "" {
		t.Fatalf("second was bound while the port was taken (err %v)", err)
	}

	if err := e.cs.CoreV1().Pods(e.ns).Delete(e.ctx, "first", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p = e.wait("second", "Running", phase(corev1.PodRunning))
	if p.Spec.NodeName != e.node || condition(p, corev1.PodScheduled).Status != corev1.ConditionTrue {
		t.Errorf("second: nodeName %q, PodScheduled %+v", p.Spec.NodeName, condition(p, corev1.PodScheduled))
	}
}

// An image with no local program is ErrImagePull; a pod for another scheduler is left
// alone. (This node reads its kubeconfig from the file.)
func TestUnknownImageAndOtherScheduler(t *testing.T) {
	e := start(t, func(c *node.Config) { c.REST, c.Kubeconfig = nil, os.Getenv("HOIST_TEST_KUBECONFIG") })
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nope"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/nope:1"}}},
	})
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "other"},
		Spec: corev1.PodSpec{SchedulerName: "someone-else",
			Containers: []corev1.Container{{Name: "c", Image: "sleeper"}}},
	})
	p := e.wait("nope", "ErrImagePull", func(p *corev1.Pod) bool {
		w := status(p, "c").State.Waiting
		return w != nil && w.Reason == "ErrImagePull"
	})
	if w := status(p, "c").State.Waiting; !strings.Contains(w.Message, "registry.example/nope:1") || p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s, waiting %+v", p.Status.Phase, w)
	}
	other, err := e.cs.CoreV1().Pods(e.ns).Get(e.ctx, "other", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec.NodeName != "" {
		t.Errorf("pod for scheduler someone-else was bound to %q", other.Spec.NodeName)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := node.Run(context.Background(), node.Config{})
	if err == nil || !strings.Contains(err.Error(), "NodeName") {
		t.Errorf("Run with no NodeName: %v", err)
	}
	err = node.Run(context.Background(), node.Config{NodeName: "n"})
	if err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Run with no API server: %v", err)
	}
}

// When the node stops, every process it started dies, the containers' children too.
func TestStopKillsProcessGroups(t *testing.T) {
	e := start(t)
	childFile := filepath.Join(e.out, "child")
	e.create(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "parent"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{shell("c", fmt.Sprintf(
			`sleep 3600 & echo $! > %s.tmp; mv %[1]s.tmp %[1]s; wait`, childFile))}},
	})
	p := e.wait("parent", "Running", phase(corev1.PodRunning))
	parent := pidOf(t, status(p, "c"))
	child, err := strconv.Atoi(strings.TrimSpace(string(waitFile(t, childFile))))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(parent) || !alive(child) {
		t.Fatal("processes not running before the stop")
	}
	e.stop()
	for _, pid := range []int{parent, child} {
		if !dies(pid) {
			t.Errorf("process %d survived the node's stop", pid)
		}
	}
}
