// Package node is a test-only stand-in for one Kubernetes node, for tests that run against
// the throwaway API server of test/kube/start.sh, which has no scheduler and no kubelet.
//
// It replaces exactly two things:
//
//   - the scheduler's binding, for this one node: pods with an empty spec.nodeName and
//     spec.schedulerName "default-scheduler" (or empty) are bound to the node through the
//     pods/binding subresource. The only predicate is host ports: a pod whose containers'
//     host ports (protocol and port) collide with a pod bound to the node and not yet
//     Succeeded or Failed stays Pending with condition PodScheduled=False, reason
//     Unschedulable, and is tried again when a pod leaves the node. Node selectors,
//     affinity, taints and resource requests are not looked at.
//   - the kubelet and the container runtime, for the pods bound to the node: it registers
//     the Node object (Ready, with a heartbeat every 10 s), runs each container as a local
//     child process, restarts it after a short back-off as the pod's restartPolicy says,
//     reports the pod's status through the pods/status subresource as a kubelet does, and on
//     deletion sends SIGTERM, waits up to the pod's grace period, sends SIGKILL and then
//     removes the pod (delete with grace period 0 and a UID precondition).
//
// What it does not do: no images (Config.Images names the local program that stands in
// for each image; an image without an entry leaves its container waiting with reason
// ErrImagePull), no network namespaces (every pod is on the host's network: podIP and
// hostIP are both Config.NodeIP, and two pods' processes share the loopback ports), no
// volumes or volume mounts, no probes (a running container is ready), no cgroups or
// resource limits, no init or sidecar containers (spec.initContainers are ignored), no
// envFrom, no service-link environment variables, no user or security context, no
// events, no Lease. Nothing it did is removed when it stops: the Node object stays.
//
// A container's process gets exactly the environment its spec declares (value, valueFrom
// secretKeyRef, configMapKeyRef and fieldRef, with $(VAR) references expanded), plus PATH
// and HOME of the process that runs the stand-in, which the container's own variables
// override. A missing Secret, ConfigMap or key leaves the container waiting with reason
// CreateContainerConfigError until it appears. Its program is, as with a container
// runtime: the spec's command (looked up on the host) or else the image's Command.Path;
// followed by the spec's args, or else (only when the spec has no command) the image's
// Command.Args. It runs in its own process group, in a new temporary directory per pod
// (removed when the pod goes), with stdout and stderr appended to
// Dir/<namespace>_<pod>_<uid>/<container>.stdout and .stderr. When a container's main
// process exits, the rest of its process group is killed, as a runtime kills the rest of a
// container. Container IDs are "hoist-test://<pid>".
//
// Run blocks until its context ends, then kills every process group it started, waits for
// them and returns. It uses a fixed number of workers and one goroutine per running
// container, and writes a pod's status only when it changed.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

// Command is the local program that stands in for a container image: Path is its
// entrypoint and Args its default arguments (the image's CMD).
type Command struct {
	Path string
	Args []string
}

// Config says which API server to use and what the node is.
type Config struct {
	// REST is the API server's client configuration; when nil, Kubeconfig names a
	// kubeconfig file to read it from.
	REST       *rest.Config
	Kubeconfig string
	// NodeName is the Node object's name (required).
	NodeName string
	// NodeIP is the node's InternalIP and every pod's IP; default 127.0.0.1.
	NodeIP string
	// Namespace limits the pods (and the Secrets and ConfigMaps read for them) to one
	// namespace; empty means all namespaces.
	Namespace string
	// Images maps an image name, exactly as pods spell it, to the local program that
	// stands in for it.
	Images map[string]Command
	// Dir receives the containers' stdout and stderr; default a new temporary directory,
	// which is logged and left in place.
	Dir string
	// Logger is for what the stand-in does; default slog.Default().
	Logger *slog.Logger
}

const (
	workers       = 2
	backoffBase   = time.Second
	backoffMax    = 10 * time.Second
	assumeExpiry  = 30 * time.Second
	runtimeScheme = "hoist-test://"
)

// heartbeatInterval is how often the Node's Ready condition is renewed; a variable for the
// tests.
var heartbeatInterval = 10 * time.Second

// Run registers the node, binds and runs its pods until ctx ends, then kills the processes
// it started, waits for them and returns nil. It returns an error only when it cannot
// start (bad Config, no API server, the Node cannot be registered).
func Run(ctx context.Context, cfg Config) error {
	if cfg.NodeName == "" {
		return errors.New("node: Config.NodeName is required")
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	restCfg := cfg.REST
	if restCfg == nil {
		if cfg.Kubeconfig == "" {
			return errors.New("node: Config.REST or Config.Kubeconfig is required")
		}
		var err error
		if restCfg, err = clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "hoist-node-"+cfg.NodeName+"-")
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		cfg.Dir = d
		cfg.Logger.Info("container logs", "dir", d)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	s := &stand{
		cfg: cfg,
		cs:  cs,
		log: cfg.Logger.With("node", cfg.NodeName),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 5*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "hoist-test-node-" + cfg.NodeName}),
		assumed: map[types.UID]assumedPod{},
		pods:    map[string]*podState{},
	}
	if err := s.registerNode(ctx); err != nil {
		return fmt.Errorf("node: registering Node %s: %w", cfg.NodeName, err)
	}

	podsWith := func(selector string) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(cs, 0,
			informers.WithNamespace(cfg.Namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	}
	unschedF := podsWith("spec.nodeName=,status.phase!=Succeeded,status.phase!=Failed")
	boundF := podsWith("spec.nodeName=" + cfg.NodeName)
	configF := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(cfg.Namespace))

	unschedI := unschedF.Core().V1().Pods()
	boundI := boundF.Core().V1().Pods()
	s.unsched, s.bound = unschedI.Lister(), boundI.Lister()
	s.secrets, s.configMaps = configF.Core().V1().Secrets().Lister(), configF.Core().V1().ConfigMaps().Lister()

	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			s.queue.Add(key)
		}
	}
	if _, err := unschedI.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if _, err := boundI.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				s.unassume(p.UID)
			}
			enqueue(obj)
		},
		UpdateFunc: func(old, obj any) {
			enqueue(obj)
			if o, n := old.(*corev1.Pod), obj.(*corev1.Pod); !terminal(o) && terminal(n) {
				s.retryUnschedulable()
			}
		},
		DeleteFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				s.unassume(p.UID)
			} else if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				if p, ok := t.Obj.(*corev1.Pod); ok {
					s.unassume(p.UID)
				}
			}
			enqueue(obj)
			s.retryUnschedulable()
		},
	}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	configChanged := func(obj any) {
		if m, err := meta(obj); err == nil {
			s.requeueNamespace(m.GetNamespace())
		}
	}
	for _, inf := range []cache.SharedIndexInformer{
		configF.Core().V1().Secrets().Informer(), configF.Core().V1().ConfigMaps().Informer(),
	} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    configChanged,
			UpdateFunc: func(_, obj any) { configChanged(obj) },
		}); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}

	for _, f := range []informers.SharedInformerFactory{unschedF, boundF, configF} {
		f.Start(ctx.Done())
	}
	for _, f := range []informers.SharedInformerFactory{unschedF, boundF, configF} {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok && ctx.Err() == nil {
				s.log.Error("informer did not sync", "type", typ)
			}
		}
	}

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for s.processNext(ctx) {
			}
		})
	}
	wg.Go(func() { s.heartbeat(ctx) })
	s.log.Info("node running", "namespace", cfg.Namespace, "ip", cfg.NodeIP)

	<-ctx.Done()
	s.queue.ShutDown()
	for _, f := range []informers.SharedInformerFactory{unschedF, boundF, configF} {
		f.Shutdown()
	}
	wg.Wait()
	s.mu.Lock()
	for key, st := range s.pods {
		s.removeLocked(key, st)
	}
	s.mu.Unlock()
	s.procs.Wait()
	s.log.Info("node stopped")
	return nil
}

type stand struct {
	cfg   Config
	cs    kubernetes.Interface
	log   *slog.Logger
	queue workqueue.TypedRateLimitingInterface[string]

	unsched, bound corelisters.PodLister
	secrets        corelisters.SecretLister
	configMaps     corelisters.ConfigMapLister
	schedMu        sync.Mutex
	assumed        map[types.UID]assumedPod // bound here, not yet seen by the bound informer
	mu             sync.Mutex               // guards pods and everything in them
	pods           map[string]*podState     // by namespace/name
	procs          sync.WaitGroup           // one per running process
}

type assumedPod struct {
	key   string
	ports []string
	at    time.Time
}

type podState struct {
	uid        types.UID
	key        string
	workDir    string
	logDir     string
	startTime  metav1.Time
	containers map[string]*container
	deleting   bool
	killTimer  *time.Timer
	conds      map[corev1.PodConditionType]corev1.PodCondition
	written    *corev1.PodStatus // last status this stand-in wrote
}

type container struct {
	pid         int // 0 when not running
	started     bool
	startedAt   metav1.Time
	restarts    int32
	waiting     *corev1.ContainerStateWaiting
	terminated  *corev1.ContainerStateTerminated // the current exit, while not restarted
	last        *corev1.ContainerStateTerminated // the previous exit, after a restart
	nextStart   time.Time
	imageID     string
	containerID string
}

func meta(obj any) (metav1.Object, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("not an object: %T", obj)
	}
	return m, nil
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (s *stand) processNext(ctx context.Context) bool {
	key, shutdown := s.queue.Get()
	if shutdown {
		return false
	}
	defer s.queue.Done(key)
	if err := s.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("sync failed; retrying", "pod", key, "err", err)
		}
		s.queue.AddRateLimited(key)
		return true
	}
	s.queue.Forget(key)
	return true
}

func (s *stand) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := s.bound.Pods(ns).Get(name)
	if err == nil {
		return s.syncBound(ctx, key, pod)
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	// Not (or no longer) on this node: whatever ran for it goes.
	s.mu.Lock()
	if st := s.pods[key]; st != nil {
		s.log.Info("pod gone from the API; killing its processes", "pod", key)
		s.removeLocked(key, st)
	}
	s.mu.Unlock()
	pod, err = s.unsched.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.schedule(ctx, key, pod)
}

// --- the scheduler's part ---------------------------------------------------------------

func hostPorts(p *corev1.Pod) []string {
	var out []string
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			proto := port.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out = append(out, fmt.Sprintf("%s/%d", proto, port.HostPort))
		}
	}
	return out
}

func (s *stand) unassume(uid types.UID) {
	s.schedMu.Lock()
	delete(s.assumed, uid)
	s.schedMu.Unlock()
}

func (s *stand) retryUnschedulable() {
	pods, err := s.unsched.List(labels.Everything())
	if err != nil {
		return
	}
	for _, p := range pods {
		s.queue.Add(p.Namespace + "/" + p.Name)
	}
}

func (s *stand) schedule(ctx context.Context, key string, pod *corev1.Pod) error {
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || terminal(pod) {
		return nil
	}
	if n := pod.Spec.SchedulerName; n != "" && n != corev1.DefaultSchedulerName {
		return nil
	}
	s.schedMu.Lock()
	conflict := s.portConflictLocked(pod)
	if conflict == "" {
		s.assumed[pod.UID] = assumedPod{key: key, ports: hostPorts(pod), at: time.Now()}
	}
	s.schedMu.Unlock()
	if conflict != "" {
		return s.markUnschedulable(ctx, pod, conflict)
	}
	err := s.cs.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: s.cfg.NodeName},
	}, metav1.CreateOptions{})
	if err != nil {
		s.unassume(pod.UID)
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // gone, or bound already: the informers will say
		}
		return fmt.Errorf("binding: %w", err)
	}
	s.log.Info("bound pod", "pod", key)
	return nil
}

// portConflictLocked says which host port of pod is taken on the node, and by whom.
func (s *stand) portConflictLocked(pod *corev1.Pod) string {
	want := hostPorts(pod)
	if len(want) == 0 {
		return ""
	}
	used := map[string]string{}
	for uid, a := range s.assumed {
		if time.Since(a.at) > assumeExpiry {
			delete(s.assumed, uid)
			continue
		}
		for _, p := range a.ports {
			used[p] = a.key
		}
	}
	bound, _ := s.bound.List(labels.Everything())
	for _, b := range bound {
		if terminal(b) || b.UID == pod.UID {
			continue
		}
		for _, p := range hostPorts(b) {
			used[p] = b.Namespace + "/" + b.Name
		}
	}
	for _, p := range want {
		if by, ok := used[p]; ok {
			return fmt.Sprintf("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports (host port %s is used by pod %s)", p, by)
		}
	}
	return ""
}

func (s *stand) markUnschedulable(ctx context.Context, pod *corev1.Pod, msg string) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse &&
			c.Reason == corev1.PodReasonUnschedulable && c.Message == msg {
			return nil
		}
	}
	p := pod.DeepCopy()
	setCondition(&p.Status, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: metav1.Now().Rfc3339Copy(),
	})
	p.Status.Phase = corev1.PodPending
	if _, err := s.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("marking unschedulable: %w", err)
	}
	s.log.Info("pod unschedulable", "pod", pod.Namespace+"/"+pod.Name, "why", msg)
	return nil
}

func setCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// --- the kubelet's part -----------------------------------------------------------------

func (s *stand) syncBound(ctx context.Context, key string, pod *corev1.Pod) error {
	s.mu.Lock()
	st := s.pods[key]
	if st != nil && st.uid != pod.UID {
		s.removeLocked(key, st) // a new pod of the same name
		st = nil
	}
	if st == nil {
		if pod.DeletionTimestamp != nil {
			s.mu.Unlock()
			return s.remove(ctx, pod) // deleted before it ran
		}
		if terminal(pod) {
			s.mu.Unlock()
			return nil // finished before this stand-in started
		}
		var err error
		if st, err = s.newPodState(key, pod); err != nil {
			s.mu.Unlock()
			return err
		}
		s.pods[key] = st
	}

	if pod.DeletionTimestamp != nil {
		if !st.deleting {
			st.deleting = true
			grace := 30 * time.Second
			if g := pod.DeletionGracePeriodSeconds; g != nil {
				grace = time.Duration(*g) * time.Second
			}
			s.log.Info("pod deleted; stopping its containers", "pod", key, "grace", grace)
			for name, c := range st.containers {
				if c.pid != 0 {
					s.log.Debug("SIGTERM", "pod", key, "container", name, "pid", c.pid)
					_ = syscall.Kill(-c.pid, syscall.SIGTERM)
				}
			}
			st.killTimer = time.AfterFunc(grace, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.pods[key] != st {
					return // removed meanwhile
				}
				for name, c := range st.containers {
					if c.pid != 0 {
						s.log.Info("grace period over: SIGKILL", "pod", key, "container", name, "pid", c.pid)
						_ = syscall.Kill(-c.pid, syscall.SIGKILL)
					}
				}
			})
		}
		for _, c := range st.containers {
			if c.pid != 0 {
				s.mu.Unlock()
				return nil // its exit queues the pod again
			}
		}
		s.removeLocked(key, st)
		s.mu.Unlock()
		return s.remove(ctx, pod)
	}

	var retry time.Duration
	if !terminal(pod) {
		now := time.Now()
		for i := range pod.Spec.Containers {
			spec := &pod.Spec.Containers[i]
			c := st.containers[spec.Name]
			if c.pid != 0 {
				continue
			}
			if c.terminated != nil {
				if !restarts(pod.Spec.RestartPolicy, c.terminated.ExitCode) {
					continue
				}
				if wait := c.nextStart.Sub(now); wait > 0 {
					c.waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
						Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
							wait.Round(time.Second), spec.Name, pod.Name, pod.Namespace, pod.UID)}
					if retry == 0 || wait < retry {
						retry = wait
					}
					continue
				}
			}
			s.startLocked(pod, st, spec, c)
		}
	}
	status := s.statusLocked(pod, st)
	unchanged := (st.written != nil && equality.Semantic.DeepEqual(*st.written, status)) ||
		equality.Semantic.DeepEqual(pod.Status, status)
	s.mu.Unlock()

	if retry > 0 {
		s.queue.AddAfter(key, retry)
	}
	if unchanged {
		return nil
	}
	p := pod.DeepCopy()
	p.Status = status
	if _, err := s.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing status: %w", err)
	}
	s.mu.Lock()
	st.written = &status
	s.mu.Unlock()
	s.log.Debug("status written", "pod", key, "phase", status.Phase)
	return nil
}

func restarts(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	default:
		return true
	}
}

func (s *stand) newPodState(key string, pod *corev1.Pod) (*podState, error) {
	work, err := os.MkdirTemp("", "hoist-node-pod-")
	if err != nil {
		return nil, err
	}
	logDir := filepath.Join(s.cfg.Dir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	st := &podState{
		uid: pod.UID, key: key, workDir: work, logDir: logDir,
		startTime:  metav1.Now().Rfc3339Copy(),
		containers: map[string]*container{},
		conds:      map[corev1.PodConditionType]corev1.PodCondition{},
	}
	for _, c := range pod.Status.Conditions {
		st.conds[c.Type] = c
	}
	for _, c := range pod.Spec.Containers {
		st.containers[c.Name] = &container{
			waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"},
		}
	}
	return st, nil
}

// removeLocked kills what runs for a pod and forgets it.
func (s *stand) removeLocked(key string, st *podState) {
	if st.killTimer != nil {
		st.killTimer.Stop()
	}
	for _, c := range st.containers {
		if c.pid != 0 {
			_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		}
	}
	os.RemoveAll(st.workDir)
	if s.pods[key] == st {
		delete(s.pods, key)
	}
}

// remove deletes the pod from the API server, as a kubelet does once its containers are
// gone.
func (s *stand) remove(ctx context.Context, pod *corev1.Pod) error {
	uid := pod.UID
	err := s.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	switch {
	case err == nil:
		s.log.Info("pod removed", "pod", pod.Namespace+"/"+pod.Name)
	case !apierrors.IsNotFound(err) && !apierrors.IsConflict(err):
		return fmt.Errorf("removing pod: %w", err)
	}
	return nil
}

type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// startLocked starts one container, or records why it cannot start.
func (s *stand) startLocked(pod *corev1.Pod, st *podState, spec *corev1.Container, c *container) {
	img, ok := s.cfg.Images[spec.Image]
	if !ok {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull",
			Message: fmt.Sprintf("image %q has no entry in the test node's Images: no local program stands in for it", spec.Image)}
		return
	}
	env, err := s.env(pod, spec)
	if err != nil {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		return
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var argv []string
	switch {
	case len(spec.Command) > 0:
		argv = append(argv, spec.Command...)
		argv = append(argv, spec.Args...)
	case len(spec.Args) > 0:
		argv = append(append(argv, img.Path), spec.Args...)
	default:
		argv = append(append(argv, img.Path), img.Args...)
	}
	for i := range argv {
		argv[i] = expand(argv[i], vars)
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		if lp, err := exec.LookPath(path); err == nil {
			path = lp
		}
	}
	stdout, err1 := os.OpenFile(filepath.Join(st.logDir, spec.Name+".stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	stderr, err2 := os.OpenFile(filepath.Join(st.logDir, spec.Name+".stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err := errors.Join(err1, err2); err != nil {
		closeAll(stdout, stderr)
		c.waiting = &corev1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}
		return
	}
	cmd := &exec.Cmd{
		Path: path, Args: argv, Dir: st.workDir, Stdout: stdout, Stderr: stderr,
		Env:         append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...),
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	closeAll(stdout, stderr) // the child has its own copies
	if err != nil {
		// A runtime that cannot start the entrypoint reports the container as exited with
		// code 128, reason StartError; here it stays waiting, and is tried again on the
		// pod's next sync.
		c.waiting = &corev1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}
		return
	}
	pid := cmd.Process.Pid
	if c.terminated != nil { // a restart
		c.last = c.terminated
		c.terminated = nil
		c.restarts++
	}
	c.pid, c.started, c.waiting = pid, true, nil
	c.startedAt = metav1.Now().Rfc3339Copy()
	c.imageID = runtimeScheme + img.Path
	c.containerID = fmt.Sprintf("%s%d", runtimeScheme, pid)
	s.log.Info("container started", "pod", st.key, "container", spec.Name, "pid", pid, "restarts", c.restarts)

	key := st.key
	s.procs.Add(1)
	go func() {
		defer s.procs.Done()
		err := cmd.Wait()
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the rest of the container goes with it
		code := int32(0)
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
			} else {
				code = int32(ee.ExitCode())
			}
		} else if err != nil {
			code = 128
		}
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		s.mu.Lock()
		c.pid = 0
		c.terminated = &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, StartedAt: c.startedAt,
			FinishedAt: metav1.Now().Rfc3339Copy(), ContainerID: c.containerID,
		}
		c.nextStart = time.Now().Add(min(backoffBase<<min(c.restarts, 10), backoffMax))
		s.mu.Unlock()
		s.log.Info("container exited", "pod", key, "container", spec.Name, "pid", pid, "code", code)
		s.queue.Add(key)
	}()
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// env resolves a container's environment as "NAME=value" strings, in the spec's order.
func (s *stand) env(pod *corev1.Pod, spec *corev1.Container) ([]string, error) {
	vars := map[string]string{}
	var out []string
	for _, e := range spec.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = expand(e.Value, vars)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			sec, err := s.secrets.Secrets(pod.Namespace).Get(ref.Name)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			var val []byte
			found := false
			if err == nil {
				val, found = sec.Data[ref.Key]
			}
			if !found {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				if err != nil {
					return nil, &configError{fmt.Sprintf("secret %q not found", ref.Name)}
				}
				return nil, &configError{fmt.Sprintf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)}
			}
			v = string(val)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, err := s.configMaps.ConfigMaps(pod.Namespace).Get(ref.Name)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			found := false
			if err == nil {
				if v, found = cm.Data[ref.Key]; !found {
					var b []byte
					if b, found = cm.BinaryData[ref.Key]; found {
						v = string(b)
					}
				}
			}
			if !found {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				if err != nil {
					return nil, &configError{fmt.Sprintf("configmap %q not found", ref.Name)}
				}
				return nil, &configError{fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)}
			}
		case e.ValueFrom.FieldRef != nil:
			var err error
			if v, err = s.field(pod, e.ValueFrom.FieldRef.FieldPath); err != nil {
				return nil, err
			}
		default:
			return nil, &configError{fmt.Sprintf("env %s: only value, secretKeyRef, configMapKeyRef and fieldRef are supported by the test node", e.Name)}
		}
		vars[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out, nil
}

func (s *stand) field(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.podIP", "status.hostIPs", "status.podIPs":
		return s.cfg.NodeIP, nil
	}
	for prefix, m := range map[string]map[string]string{
		"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations,
	} {
		if rest, ok := strings.CutPrefix(path, prefix+"['"); ok {
			if k, ok := strings.CutSuffix(rest, "']"); ok {
				return m[k], nil
			}
		}
	}
	return "", &configError{fmt.Sprintf("unsupported fieldRef %q", path)}
}

// expand replaces $(NAME) with the value of NAME where it is defined, and $$ with $, as
// Kubernetes does in env values, commands and args.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				b.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '(' {
				if j := strings.IndexByte(s[i+2:], ')'); j >= 0 {
					if v, ok := vars[s[i+2:i+2+j]]; ok {
						b.WriteString(v)
					} else {
						b.WriteString(s[i : i+3+j])
					}
					i += 2 + j
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// statusLocked computes the pod's status from what runs.
func (s *stand) statusLocked(pod *corev1.Pod, st *podState) corev1.PodStatus {
	ips := []corev1.HostIP{{IP: s.cfg.NodeIP}}
	status := corev1.PodStatus{
		HostIP: s.cfg.NodeIP, HostIPs: ips,
		PodIP: s.cfg.NodeIP, PodIPs: []corev1.PodIP{{IP: s.cfg.NodeIP}},
		StartTime: &st.startTime,
		QOSClass:  pod.Status.QOSClass,
		// As a kubelet with PodObservedGenerationTracking (on by default) does.
		ObservedGeneration: pod.Generation,
	}
	allStarted, allDone, allZero := true, true, true
	var unready []string
	for _, spec := range pod.Spec.Containers {
		c := st.containers[spec.Name]
		cs := corev1.ContainerStatus{
			Name: spec.Name, Image: spec.Image, ImageID: c.imageID,
			RestartCount: c.restarts, LastTerminationState: corev1.ContainerState{Terminated: c.last},
		}
		running := c.pid != 0
		cs.Ready, cs.Started = running, &running
		switch {
		case running:
			cs.ContainerID = c.containerID
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: c.startedAt}
		case c.waiting != nil:
			cs.State.Waiting = c.waiting
			if c.terminated != nil { // in back-off
				cs.LastTerminationState = corev1.ContainerState{Terminated: c.terminated}
				cs.ContainerID = c.containerID
			}
		case c.terminated != nil:
			cs.ContainerID = c.containerID
			cs.State.Terminated = c.terminated
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		if !c.started {
			allStarted = false
		}
		if running || c.terminated == nil || restarts(pod.Spec.RestartPolicy, c.terminated.ExitCode) {
			allDone = false
		} else if c.terminated.ExitCode != 0 {
			allZero = false
		}
		if !running {
			unready = append(unready, spec.Name)
		}
		status.ContainerStatuses = append(status.ContainerStatuses, cs)
	}
	switch {
	case !allStarted:
		status.Phase = corev1.PodPending
	case allDone && allZero:
		status.Phase = corev1.PodSucceeded
	case allDone:
		status.Phase = corev1.PodFailed
	default:
		status.Phase = corev1.PodRunning
	}

	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
		if ok {
			c = corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		}
		if prev, had := st.conds[t]; had && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		} else {
			c.LastTransitionTime = metav1.Now().Rfc3339Copy()
		}
		st.conds[t] = c
		status.Conditions = append(status.Conditions, c)
	}
	ready := len(unready) == 0
	reason, msg := "ContainersNotReady", ""
	if !ready {
		sort.Strings(unready)
		msg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	}
	if status.Phase == corev1.PodSucceeded || status.Phase == corev1.PodFailed {
		reason = "PodCompleted"
	}
	cond(corev1.PodInitialized, true, "", "")
	cond(corev1.PodReady, ready, reason, msg)
	cond(corev1.ContainersReady, ready, reason, msg)
	cond(corev1.PodScheduled, true, "", "")
	return status
}

func (s *stand) requeueNamespace(ns string) {
	s.mu.Lock()
	var keys []string
	for key, st := range s.pods {
		if strings.HasPrefix(key, ns+"/") {
			for _, c := range st.containers {
				if c.waiting != nil && c.waiting.Reason == "CreateContainerConfigError" {
					keys = append(keys, key)
					break
				}
			}
		}
	}
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.Add(k)
	}
}

// --- the Node object --------------------------------------------------------------------

func (s *stand) readyCondition() corev1.NodeCondition {
	now := metav1.Now().Rfc3339Copy()
	return corev1.NodeCondition{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message:           "the hoist test node stand-in is posting ready status",
		LastHeartbeatTime: now, LastTransitionTime: now,
	}
}

func (s *stand) registerNode(ctx context.Context) error {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	status := corev1.NodeStatus{
		Capacity: res, Allocatable: res,
		Phase:      corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{s.readyCondition()},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: s.cfg.NodeIP},
			{Type: corev1.NodeHostName, Address: s.cfg.NodeName},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.37.2-hoist-test", ContainerRuntimeVersion: runtimeScheme + "0",
			OperatingSystem: "linux", Architecture: runtime.GOARCH,
		},
	}
	nodes := s.cs.CoreV1().Nodes()
	n, err := nodes.Get(ctx, s.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: s.cfg.NodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": s.cfg.NodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     runtime.GOARCH,
			},
		}}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	n.Status = status
	_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (s *stand) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.beat(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("node heartbeat failed", "err", err)
		}
	}
}

func (s *stand) beat(ctx context.Context) error {
	nodes := s.cs.CoreV1().Nodes()
	n, err := nodes.Get(ctx, s.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return s.registerNode(ctx) // someone deleted it
	}
	if err != nil {
		return err
	}
	ready := s.readyCondition()
	found := false
	for i, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				ready.LastTransitionTime = c.LastTransitionTime
			}
			n.Status.Conditions[i] = ready
			found = true
		}
	}
	if !found {
		n.Status.Conditions = append(n.Status.Conditions, ready)
	}
	_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}
