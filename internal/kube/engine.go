package kube

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/hoist-dev/hoist/internal/containers"
)

// Service is what the engine needs of Hoist's service (containers.Service).
type Service interface {
	ContainerPlans(ctx context.Context) ([]containers.ContainerPlan, error)
	ContainerPlan(ctx context.Context, fleetID string) (containers.ContainerPlan, error)
	PodCreating(ctx context.Context, p containers.Pod) (string, error)
	PodChanged(ctx context.Context, p containers.Pod) error
	PodTerminating(ctx context.Context, p containers.Pod) error
	PodGone(ctx context.Context, fleetID, pod string) error
	PodUses(ctx context.Context, fleetID string) (map[string]containers.PodUse, error)
	FleetPods(ctx context.Context, fleetID string) ([]string, error)
	DrainPod(fleetID, pod string)
	DeploymentProgress(ctx context.Context, fleetID, deploymentID string, done bool, why string) error
	FleetEvent(ctx context.Context, fleetID, code, msg string)
	LeadsEngine(ctx context.Context) bool
}

// API is the part of the Kubernetes API the engine uses (Client).
type API interface {
	ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error)
	WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
	CreatePod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error)
	DeletePod(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error
	CreateSecret(ctx context.Context, s *corev1.Secret) error
	DeleteSecret(ctx context.Context, namespace, name string) error
}

// Config configures an Engine.
type Config struct {
	Client    API
	Namespace string
	// SDKEndpoint is the Server SDK's WebSocket URL as pods reach Hoist.
	SDKEndpoint string
	Logger      *slog.Logger
	// Resync is how often every fleet is reconciled even when nothing was observed to
	// change (30 s when zero): a safety net, as the watch delivers every pod change.
	Resync time.Duration
	// DrainGrace is how long a drained pod's game server has to end before its pod is
	// deleted anyway (60 s when zero).
	DrainGrace time.Duration
}

// Engine runs container fleets' game server container groups as pods. It watches its
// pods with an informer and reconciles one fleet at a time from a work queue: pods are
// made for missing slots, replaced when they end, drained and deleted on scale-in and
// rollout, and what it observes is reported to the service.
type Engine struct {
	cfg   Config
	svc   Service
	log   *slog.Logger
	queue workqueue.TypedRateLimitingInterface[string]
	pods  corelisters.PodLister

	mu     sync.Mutex
	fleets map[string]*fleetState
}

// fleetState is what the engine remembers of a fleet between reconciles; all of it can be
// lost (a restart, another replica taking over): it is then observed again.
type fleetState struct {
	reported    map[string]containers.Pod // what was last reported of each pod
	gone        map[string]bool           // pods reported gone
	terminating map[string]bool           // pods reported deleted, in their grace period
	draining    map[string]time.Time      // pods drained, since when
	unscheduled map[string]bool           // pods whose scheduling failure was reported
	failures    map[string]int            // failed pods per revision
	settled     string                    // the deployment reported complete or impaired
	overRange   bool                      // a desired count beyond the port range was reported
	// expected are pods created but not yet seen by the informer, whose cache lags the
	// API: they hold their slots, and are not taken for gone.
	expected map[string]expectedPod
	// A pod that fails or cannot start holds back the fleet's new pods for backoff (from
	// failedAt), doubled at each failure up to maxBackoff and cleared when the game server
	// of a pod made since calls ProcessReady: a crash-looping image costs a few pods and
	// events, not a storm.
	failedAt time.Time
	backoff  time.Duration
}

const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// failed records a pod that failed or cannot start.
func (st *fleetState) failed() {
	st.failedAt = time.Now()
	st.backoff = min(max(2*st.backoff, minBackoff), maxBackoff)
}

type expectedPod struct {
	slot  podSlot
	ports []int32 // host ports
	at    time.Time
}

// expectFor is how long a created pod may stay unseen before it is taken for gone.
const expectFor = time.Minute

// New returns an engine; Run starts it. FleetChanged may be called before Run.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resync == 0 {
		cfg.Resync = 30 * time.Second
	}
	if cfg.DrainGrace == 0 {
		cfg.DrainGrace = 60 * time.Second
	}
	return &Engine{
		cfg: cfg, log: cfg.Logger.With("engine", "kubernetes"),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "hoist-fleets"}),
		fleets: map[string]*fleetState{},
	}
}

// FleetChanged implements containers.Engine: the fleet is reconciled soon.
func (e *Engine) FleetChanged(fleetID string) { e.queue.Add(fleetID) }

// Run watches the engine's pods and reconciles fleets for svc until ctx ends.
func (e *Engine) Run(ctx context.Context, svc Service) error {
	e.svc = svc
	defer e.queue.ShutDown()
	selector := labelManagedBy + "=" + managedBy
	ns := e.cfg.Namespace
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return e.cfg.Client.ListPods(ctx, ns, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return e.cfg.Client.WatchPods(ctx, ns, o)
		},
	}, &corev1.Pod{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.podEvent,
		UpdateFunc: func(_, obj any) { e.podEvent(obj) },
		DeleteFunc: e.podEvent,
	})
	if err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	e.pods = corelisters.NewPodLister(inf.GetIndexer())
	informed := make(chan struct{})
	go func() {
		defer close(informed)
		inf.RunWithContext(ctx)
	}()
	defer func() { <-informed }()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("watch pods in namespace %s: %w", e.cfg.Namespace, context.Cause(ctx))
	}
	e.log.Info("kubernetes engine watching pods", "namespace", e.cfg.Namespace)
	go e.resync(ctx)
	go func() {
		<-ctx.Done()
		e.queue.ShutDown()
	}()
	for e.work(ctx) {
	}
	return nil
}

// podEvent queues the fleet of a pod that changed.
func (e *Engine) podEvent(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if p, ok := obj.(*corev1.Pod); ok && p.Labels[labelFleet] != "" {
		e.queue.Add(p.Labels[labelFleet])
	}
}

// resync queues every container fleet, and every fleet that has pods, now and then.
func (e *Engine) resync(ctx context.Context) {
	t := time.NewTicker(e.cfg.Resync)
	defer t.Stop()
	for {
		plans, err := e.svc.ContainerPlans(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("list container fleets", "error", err)
		}
		for _, p := range plans {
			e.queue.Add(p.FleetID)
		}
		if pods, err := e.pods.Pods(e.cfg.Namespace).List(labels.Everything()); err == nil {
			for _, p := range pods {
				if f := p.Labels[labelFleet]; f != "" {
					e.queue.Add(f)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *Engine) work(ctx context.Context) bool {
	fleetID, quit := e.queue.Get()
	if quit {
		return false
	}
	defer e.queue.Done(fleetID)
	again, err := e.reconcile(ctx, fleetID)
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Warn("reconcile container fleet", "fleet", fleetID, "error", err)
		e.queue.AddRateLimited(fleetID)
	case again > 0:
		e.queue.Forget(fleetID)
		e.queue.AddAfter(fleetID, again)
	default:
		e.queue.Forget(fleetID)
	}
	return true
}

func (e *Engine) state(fleetID string) *fleetState {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.fleets[fleetID]
	if st == nil {
		st = &fleetState{
			reported: map[string]containers.Pod{}, gone: map[string]bool{}, terminating: map[string]bool{}, draining: map[string]time.Time{},
			unscheduled: map[string]bool{}, failures: map[string]int{}, expected: map[string]expectedPod{},
		}
		e.fleets[fleetID] = st
	}
	return st
}

func (e *Engine) forget(fleetID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.fleets, fleetID)
}

// observed is a pod as one reconcile sees it.
type observed struct {
	pod      *corev1.Pod
	slot     podSlot
	current  bool // runs the plan's revision
	running  bool // scheduled, every container started
	ready    bool // Kubernetes says Ready
	terminal bool // Succeeded or Failed
	deleting bool
}

func observe(p *corev1.Pod, rev string) observed {
	o := observed{pod: p, current: p.Labels[labelRevision] == revisionLabel(rev), deleting: p.DeletionTimestamp != nil}
	o.slot.instance, _ = strconv.Atoi(p.Labels[labelInstance])
	o.slot.slot = p.Labels[labelSlot]
	o.terminal = p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	if p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == len(p.Spec.Containers) {
		o.running = true
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Running == nil {
				o.running = false
			}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			o.ready = o.running
		}
	}
	return o
}

// reconcile brings one fleet's pods to its plan. It returns when to look again, if the
// fleet is waiting on something no watch reports (a drain's grace).
func (e *Engine) reconcile(ctx context.Context, fleetID string) (time.Duration, error) {
	if !e.svc.LeadsEngine(ctx) {
		return 0, nil
	}
	plan, err := e.svc.ContainerPlan(ctx, fleetID)
	if err != nil {
		return 0, err
	}
	all, err := e.pods.Pods(e.cfg.Namespace).List(labels.SelectorFromSet(labels.Set{labelFleet: fleetID}))
	if err != nil {
		return 0, fmt.Errorf("list pods: %w", err)
	}
	st := e.state(fleetID)
	var again time.Duration
	wait := func(d time.Duration) {
		if again == 0 || d < again {
			again = d
		}
	}

	// What is there: report it; pods that ended are deleted (and replaced below). A
	// deleted pod whose containers still run keeps its game server's process until it is
	// gone or its grace period ends, and its host ports are held meanwhile.
	present := map[string]bool{}
	heldPorts := map[int32]bool{}
	var live []observed
	for _, p := range all {
		present[p.Name] = true
		delete(st.expected, p.Name)
		o := observe(p, plan.Revision)
		if !o.terminal {
			for _, hp := range hostPortsOf(p) {
				heldPorts[hp] = true
			}
		}
		if left := graceLeft(o); left > 0 && !plan.Gone {
			if err := e.podTerminating(ctx, st, plan, o); err != nil {
				return 0, err
			}
			wait(left)
			continue
		}
		if o.terminal || o.deleting || plan.Gone {
			if p.Status.Phase == corev1.PodFailed && !st.gone[p.Name] && !o.deleting {
				if o.current {
					st.failures[plan.Revision]++
				}
				st.failed()
				e.svc.FleetEvent(ctx, fleetID, crashCode(o), fmt.Sprintf("Pod %s failed: %s", p.Name, exitSummary(p)))
			}
			if err := e.podGone(ctx, st, fleetID, p.Name); err != nil {
				return 0, err
			}
			if !o.deleting {
				if err := e.deletePod(ctx, p); err != nil {
					return 0, err
				}
			}
			continue
		}
		if err := e.report(ctx, st, plan, o); err != nil {
			return 0, err
		}
		live = append(live, o)
	}
	// Computes whose pods vanished (deleted by someone, or while Hoist was down).
	known, err := e.svc.FleetPods(ctx, fleetID)
	if err != nil {
		return 0, err
	}
	for name, x := range st.expected {
		if time.Since(x.at) > expectFor {
			delete(st.expected, name)
		} else {
			present[name] = true
			for _, hp := range x.ports {
				heldPorts[hp] = true
			}
			wait(time.Second)
		}
	}
	for _, name := range known {
		if !present[name] {
			if err := e.podGone(ctx, st, fleetID, name); err != nil {
				return 0, err
			}
		}
	}
	for name := range st.gone {
		if !present[name] && !slices.Contains(known, name) {
			delete(st.gone, name) // nothing of it is left
		}
	}
	if plan.Gone {
		if len(all) == 0 {
			e.forget(fleetID)
		}
		return 0, nil
	}

	uses, err := e.svc.PodUses(ctx, fleetID)
	if err != nil {
		return 0, err
	}
	// Drained pods are deleted once their game server ended, or after the grace.
	var active []observed
	for _, o := range live {
		since, draining := st.draining[o.pod.Name]
		if !draining {
			active = append(active, o)
			continue
		}
		if left := e.cfg.DrainGrace - time.Since(since); uses[o.pod.Name].Processes == 0 || left <= 0 {
			if err := e.deletePod(ctx, o.pod); err != nil {
				return 0, err
			}
		} else {
			wait(min(left, 2*time.Second))
		}
	}

	// Instances: keep the plan's count; scale in by draining the least busy instances,
	// never one with a protected game session.
	instances := map[int][]observed{}
	for _, o := range active {
		instances[o.slot.instance] = append(instances[o.slot.instance], o)
	}
	for name, x := range st.expected {
		o := observed{pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}, slot: x.slot, current: true}
		instances[x.slot.instance] = append(instances[x.slot.instance], o)
	}
	if n := len(instances) - plan.Instances; n > 0 {
		for _, i := range pickScaleIn(instances, uses, n) {
			for _, o := range instances[i] {
				e.drain(st, fleetID, o.pod.Name, uses)
			}
			delete(instances, i)
		}
		wait(time.Second)
	}
	if limit := instanceCapacity(plan); plan.Instances > limit && !st.overRange {
		st.overRange = true
		e.svc.FleetEvent(ctx, fleetID, "FLEET_SCALING_EVENT", fmt.Sprintf(
			"Desired instances are %d, but the connection port range %d-%d holds %d instances of %d ports: widen it (UpdateContainerFleet InstanceConnectionPortRange)",
			plan.Instances, plan.PortFrom, plan.PortTo, limit, portsPerInstance(plan)))
	}
	for i := 0; len(instances) < min(plan.Instances, instanceCapacity(plan)); i++ {
		if _, ok := instances[i]; !ok {
			instances[i] = nil
		}
	}

	// Slots: each instance has GroupsPerInstance game server groups and, with a
	// per-instance definition, one per-instance group.
	wanted := []string{}
	for j := range plan.GroupsPerInstance {
		wanted = append(wanted, strconv.Itoa(j))
	}
	if plan.PerInstance != nil {
		wanted = append(wanted, perInstanceSlot)
	}
	// Rollout: pods of another revision are replaced a few at a time, keeping
	// MinimumHealthyPercentage of the fleet's pods up.
	total := len(instances) * len(wanted)
	budget := max(1, total*(100-plan.MinHealthyPercent)/100)
	inflight := len(st.draining)
	for _, pods := range instances {
		for _, o := range pods {
			if o.current && !o.ready {
				inflight++
			}
		}
	}
	ids := make([]int, 0, len(instances))
	for i := range instances {
		ids = append(ids, i)
	}
	sort.Ints(ids)
	var outdated []observed
	for _, i := range ids {
		for _, o := range instances[i] {
			if !slices.Contains(wanted, o.slot.slot) {
				e.drain(st, fleetID, o.pod.Name, uses) // a slot the plan no longer has
			} else if !o.current {
				outdated = append(outdated, o)
			}
		}
	}
	sort.SliceStable(outdated, func(a, b int) bool { return rank(uses[outdated[a].pod.Name]) < rank(uses[outdated[b].pod.Name]) })
	for _, o := range outdated {
		if inflight >= budget {
			break
		}
		if u := uses[o.pod.Name]; u.Protected && !plan.IgnoreProtection {
			continue // WITH_PROTECTION: replaced when its session ends
		}
		e.drain(st, fleetID, o.pod.Name, uses)
		inflight++
	}
	// Missing slots get a pod of the plan's revision, unless failures hold them back.
	held := st.backoff - time.Since(st.failedAt)
	for _, pods := range instances {
		for _, o := range pods {
			if uses[o.pod.Name].Ready > 0 && o.pod.CreationTimestamp.After(st.failedAt) {
				st.backoff, held = 0, 0 // a game server made since the last failure is ready
			}
		}
	}
	complete := true
	for _, i := range ids {
		for _, slot := range wanted {
			var have *observed
			for k, o := range instances[i] {
				if o.slot.slot == slot && st.draining[o.pod.Name].IsZero() {
					have = &instances[i][k]
				}
			}
			if have == nil {
				complete = false
				if held > 0 {
					wait(held)
					continue
				}
				if err := e.createPod(ctx, st, plan, podSlot{instance: i, slot: slot}, heldPorts); err != nil {
					return 0, err
				}
				continue
			}
			if !have.current || !have.ready {
				complete = false
			}
		}
	}
	if len(st.draining) > 0 {
		complete = false
	}
	e.settleDeployment(ctx, st, plan, complete, instances)
	return again, nil
}

// rank orders pods to take away: idle first, then busy, protected last.
func rank(u containers.PodUse) int {
	switch {
	case u.Protected:
		return 2
	case u.Busy:
		return 1
	}
	return 0
}

// pickScaleIn chooses n instances to remove: those with the fewest busy pods, never one
// with a protected session; higher indexes first among equals.
func pickScaleIn(instances map[int][]observed, uses map[string]containers.PodUse, n int) []int {
	type cand struct{ i, busy int }
	var cands []cand
	for i, pods := range instances {
		c := cand{i: i}
		protected := false
		for _, o := range pods {
			u := uses[o.pod.Name]
			protected = protected || u.Protected
			if u.Busy {
				c.busy++
			}
		}
		if !protected {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		if cands[a].busy != cands[b].busy {
			return cands[a].busy < cands[b].busy
		}
		return cands[a].i > cands[b].i
	})
	var out []int
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.i)
	}
	return out
}

// drain asks a pod's game server to end (TerminateProcess); the pod is deleted when it
// has, or when the grace runs out. A pod with no game server process is deleted at once.
func (e *Engine) drain(st *fleetState, fleetID, pod string, uses map[string]containers.PodUse) {
	if _, ok := st.draining[pod]; ok {
		return
	}
	e.log.Info("draining pod", "fleet", fleetID, "pod", pod)
	st.draining[pod] = time.Now()
	if uses[pod].Processes > 0 {
		e.svc.DrainPod(fleetID, pod)
	} else {
		st.draining[pod] = time.Now().Add(-e.cfg.DrainGrace)
	}
	e.queue.AddAfter(fleetID, 500*time.Millisecond)
}

// settleDeployment reports the latest deployment complete (every slot runs its revision
// and is ready) or impaired (its pods keep failing), once.
func (e *Engine) settleDeployment(ctx context.Context, st *fleetState, plan containers.ContainerPlan, complete bool, instances map[int][]observed) {
	if !plan.DeploymentActive || st.settled == plan.Deployment+plan.Revision {
		return
	}
	if complete {
		st.settled = plan.Deployment + plan.Revision
		if err := e.svc.DeploymentProgress(ctx, plan.FleetID, plan.Deployment, true, ""); err != nil {
			e.log.Warn("report deployment", "fleet", plan.FleetID, "error", err)
		}
		return
	}
	// Impaired at three failed pods, or as many as the fleet has.
	pods := 0
	for _, ps := range instances {
		pods += len(ps)
	}
	if st.failures[plan.Revision] < max(1, min(3, pods)) {
		return
	}
	for _, pods := range instances {
		for _, o := range pods {
			if o.current && o.ready {
				return // some of it works
			}
		}
	}
	st.settled = plan.Deployment + plan.Revision
	why := fmt.Sprintf("%d pods of the new revision failed and none is ready", st.failures[plan.Revision])
	if err := e.svc.DeploymentProgress(ctx, plan.FleetID, plan.Deployment, false, why); err != nil {
		e.log.Warn("report deployment", "fleet", plan.FleetID, "error", err)
	}
}

// report tells the service what changed in a pod: scheduled (its node's IP), running,
// its containers; and records in a fleet event a pod the scheduler cannot place.
func (e *Engine) report(ctx context.Context, st *fleetState, plan containers.ContainerPlan, o observed) error {
	p := o.pod
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil && cannotStart[w.Reason] && !st.unscheduled[p.Name+"/"+c.Name] {
			st.unscheduled[p.Name+"/"+c.Name] = true
			if o.current {
				st.failures[plan.Revision]++
			}
			st.failed()
			e.svc.FleetEvent(ctx, plan.FleetID, crashCode(o), fmt.Sprintf("Container %s of pod %s cannot start: %s: %s", c.Name, p.Name, w.Reason, w.Message))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && !st.unscheduled[p.Name] {
			st.unscheduled[p.Name] = true
			e.svc.FleetEvent(ctx, plan.FleetID, "FLEET_SCALING_EVENT", fmt.Sprintf("Pod %s cannot be scheduled: %s", p.Name, c.Message))
		}
	}
	if o.slot.slot == perInstanceSlot {
		return nil // not a compute: no game server connects from it
	}
	now := podOf(plan, o)
	if last, ok := st.reported[p.Name]; ok && last.HostIP == now.HostIP && last.Running == now.Running && len(last.Containers) == len(now.Containers) {
		return nil
	}
	if err := e.svc.PodChanged(ctx, now); err != nil {
		return err
	}
	st.reported[p.Name] = now
	return nil
}

// podOf describes an observed pod to the service.
func podOf(plan containers.ContainerPlan, o observed) containers.Pod {
	p := o.pod
	out := containers.Pod{FleetID: plan.FleetID, Name: p.Name, InstanceID: instanceID(plan.FleetID, o.slot.instance), HostIP: p.Status.HostIP, Running: o.running}
	for _, c := range p.Status.ContainerStatuses {
		if c.ContainerID != "" {
			if out.Containers == nil {
				out.Containers = map[string]string{}
			}
			out.Containers[c.Name] = c.ContainerID
		}
	}
	return out
}

// graceLeft is how long a deleted pod whose containers still run has left of its
// termination grace period (its deletion timestamp is when the grace ends); zero for any
// other pod.
func graceLeft(o observed) time.Duration {
	if !o.deleting || o.terminal {
		return 0
	}
	return time.Until(o.pod.DeletionTimestamp.Time)
}

// podTerminating tells the service, once, that a pod was deleted and its containers are
// in their grace period: its game server may still end well (ProcessEnding) meanwhile. A
// game server Hoist was not draining is asked to end (TerminateProcess), as GameLift asks
// the processes of a compute it shuts down. The pod is reported gone when it is, or when
// its grace ends.
func (e *Engine) podTerminating(ctx context.Context, st *fleetState, plan containers.ContainerPlan, o observed) error {
	name := o.pod.Name
	if st.terminating[name] || st.gone[name] {
		return nil
	}
	if o.slot.slot != perInstanceSlot {
		if err := e.svc.PodTerminating(ctx, podOf(plan, o)); err != nil {
			return err
		}
		if _, drained := st.draining[name]; !drained {
			e.svc.DrainPod(plan.FleetID, name)
		}
	}
	st.terminating[name] = true
	delete(st.draining, name) // deleted: no longer a drain in flight
	e.log.Info("pod terminating", "fleet", plan.FleetID, "pod", name, "grace_left", graceLeft(o).Round(time.Second))
	return nil
}

// cannotStart are the reasons a kubelet gives for a container that will not start
// without a change to its pod or image.
var cannotStart = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "CreateContainerConfigError": true, "CreateContainerError": true,
}

// crashCode is the fleet event code of a pod that failed or cannot start.
func crashCode(o observed) string {
	if o.slot.slot == perInstanceSlot {
		return "PER_INSTANCE_CONTAINER_GROUP_CRASHED"
	}
	return "GAME_SERVER_CONTAINER_GROUP_CRASHED"
}

// exitSummary says how a failed pod's containers ended.
func exitSummary(p *corev1.Pod) string {
	var parts []string
	for _, c := range p.Status.ContainerStatuses {
		if t := c.State.Terminated; t != nil {
			parts = append(parts, fmt.Sprintf("container %s exited with code %d (%s)", c.Name, t.ExitCode, t.Reason))
		}
	}
	if len(parts) == 0 {
		return cmp.Or(p.Status.Reason, "no container status")
	}
	return strings.Join(parts, "; ")
}

// podGone tells the service a pod is gone (once) and removes its Secret.
func (e *Engine) podGone(ctx context.Context, st *fleetState, fleetID, pod string) error {
	if st.gone[pod] {
		return nil
	}
	if err := e.svc.PodGone(ctx, fleetID, pod); err != nil {
		return err
	}
	err := e.cfg.Client.DeleteSecret(ctx, e.cfg.Namespace, pod)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete secret %s: %w", pod, err)
	}
	st.gone[pod] = true
	delete(st.terminating, pod)
	delete(st.reported, pod)
	delete(st.unscheduled, pod)
	delete(st.draining, pod)
	e.log.Info("pod gone", "fleet", fleetID, "pod", pod)
	return nil
}

func (e *Engine) deletePod(ctx context.Context, p *corev1.Pod) error {
	if p.DeletionTimestamp != nil {
		return nil
	}
	err := e.cfg.Client.DeletePod(ctx, e.cfg.Namespace, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s: %w", p.Name, err)
	}
	return nil
}

// createPod registers a new pod with the service, stores its auth token in a Secret, and
// creates it.
func (e *Engine) createPod(ctx context.Context, st *fleetState, plan containers.ContainerPlan, slot podSlot, held map[int32]bool) error {
	name := plan.FleetID + "-" + randomSuffix()
	ports := allocatePorts(plan, slot, held)
	pod := buildPod(plan, podSpec{name: name, namespace: e.cfg.Namespace, slot: slot, sdkEndpoint: e.cfg.SDKEndpoint, ports: ports})
	if slot.slot != perInstanceSlot {
		tok, err := e.svc.PodCreating(ctx, containers.Pod{FleetID: plan.FleetID, Name: name, InstanceID: instanceID(plan.FleetID, slot.instance), Ports: ports})
		if err != nil {
			return err
		}
		if err := e.cfg.Client.CreateSecret(ctx, buildSecret(plan, name, e.cfg.Namespace, tok)); err != nil {
			return errors.Join(fmt.Errorf("create secret %s: %w", name, err), e.svc.PodGone(ctx, plan.FleetID, name))
		}
	}
	if _, err := e.cfg.Client.CreatePod(ctx, pod); err != nil {
		err = fmt.Errorf("create pod %s: %w", name, err)
		if slot.slot != perInstanceSlot {
			_ = e.cfg.Client.DeleteSecret(ctx, e.cfg.Namespace, name)
			err = errors.Join(err, e.svc.PodGone(ctx, plan.FleetID, name))
		}
		return err
	}
	x := expectedPod{slot: slot, ports: hostPortsOf(pod), at: time.Now()}
	for _, hp := range x.ports {
		held[hp] = true
	}
	st.expected[name] = x
	e.log.Info("pod created", "fleet", plan.FleetID, "pod", name, "instance", slot.instance, "slot", slot.slot, "ports", x.ports)
	return nil
}

// randomSuffix is five lowercase letters or digits, as Kubernetes' generated names have.
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
