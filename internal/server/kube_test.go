package server_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/internal/store/postgres/pgtest"
	"github.com/hoist-dev/hoist/sdk/gameserver"
	"github.com/hoist-dev/hoist/test/kube/node"
)

// These tests run the Kubernetes engine against a real API server (test/kube/start.sh)
// with the node stand-in of test/kube/node, which runs each pod's game server container
// as this test binary in testPodServerArg mode.

const (
	podImage         = "hoist-test/podserver:1"
	testPodServerArg = "hoist-test-podserver"
	kubeWait         = 60 * time.Second
)

// runTestPodServer is a game server on the Server SDK, as a container image would run
// it: it connects with the pod's GAMELIFT_SDK_* environment, is ready on its container
// port 7777, activates every session it gets and ends when told to (TerminateProcess). A
// signal kills it as it is, as it would a game server that does not handle one, so its
// session ends only by what Hoist sees. It binds no port: pods of the stand-in share the
// host's network.
//
// With lingerEnv set to a file's path it handles SIGTERM as a game server that ends well
// does: told to end, by the signal or by TerminateProcess, it lingers until that file
// exists (as if it were still saving the game), then calls ProcessEnding and exits. It
// writes on stdout what it was told and how ProcessEnding went.
func runTestPodServer() int {
	ctx := context.Background()
	linger := os.Getenv(lingerEnv)
	sigterm := make(chan os.Signal, 1)
	if linger != "" {
		signal.Notify(sigterm, syscall.SIGTERM)
	}
	c, err := gameserver.ConnectFromEnvironment(ctx, gameserver.Options{Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		return 1
	}
	defer c.Destroy()
	done := make(chan struct{})
	var once sync.Once
	err = c.ProcessReady(ctx, gameserver.ProcessParameters{
		Port: 7777,
		OnStartGameSession: func(gs gameserver.GameSession) {
			go c.ActivateGameSession(ctx)
		},
		OnProcessTerminate: func() {
			fmt.Println("told to end: OnProcessTerminate")
			once.Do(func() { close(done) })
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ProcessReady:", err)
		return 1
	}
	go func() {
		<-sigterm
		fmt.Println("told to end: SIGTERM")
		once.Do(func() { close(done) })
	}()
	<-done
	if linger == "" {
		c.ProcessEnding(ctx)
		return 0
	}
	for {
		if _, err := os.Stat(linger); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := c.ProcessEnding(ctx); err != nil {
		fmt.Println("ProcessEnding:", err)
		return 1
	}
	fmt.Println("ProcessEnding: ok")
	return 0
}

// lingerEnv names the file a test pod server that handles SIGTERM waits for.
const lingerEnv = "HOIST_TEST_LINGER"

// kubeWorld is a Hoist server running container fleets on the test API server, in a
// namespace of its own, with a node stand-in for that namespace.
type kubeWorld struct {
	srv   *server.Server
	api   *gl.Client
	kc    kubernetes.Interface
	ns    string
	clock *fakeClock
	cfg   server.Config
	// nodeDir holds the containers' stdout and stderr, per pod.
	nodeDir string
}

func kubeREST(t testing.TB) *rest.Config {
	t.Helper()
	path := os.Getenv("HOIST_TEST_KUBECONFIG")
	if path == "" {
		t.Skip("no Kubernetes API server: export HOIST_TEST_KUBECONFIG=$(test/kube/start.sh /tmp/hoist-kube) to run the Kubernetes engine's tests")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("HOIST_TEST_KUBECONFIG: %v", err)
	}
	return rc
}

func newKubeWorld(t testing.TB) *kubeWorld {
	t.Helper()
	return newKubeWorldWith(t, func(string, *server.Config) {})
}

// newKubeWorldWith is newKubeWorld with its server's configuration edited first.
func newKubeWorldWith(t testing.TB, edit func(ns string, cfg *server.Config)) *kubeWorld {
	t.Helper()
	ctx := context.Background()
	rc := kubeREST(t)
	kc := kubernetes.NewForConfigOrDie(rc)
	ns := "hoist-" + rand.Text()[:10]
	ns = lower(ns)
	if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodeCtx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan error, 1)
	nodeDir := t.TempDir()
	go func() {
		nodeDone <- node.Run(nodeCtx, node.Config{
			REST: rc, NodeName: ns, Namespace: ns, Dir: nodeDir, Logger: kubeTestLogger(),
			Images: map[string]node.Command{
				podImage:             {Path: os.Args[0], Args: []string{testPodServerArg}},
				"hoist-test/crash:1": {Path: "/bin/sh", Args: []string{"-c", "exit 3"}},
			},
		})
	}()
	t.Cleanup(func() {
		// The test API server has no namespace controller: what is in the namespace is
		// removed by hand, before the stand-in stops.
		zero := int64(0)
		kc.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		kc.CoreV1().Secrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		stopNode()
		if err := <-nodeDone; err != nil {
			t.Errorf("node stand-in: %v", err)
		}
		kc.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	})
	w := &kubeWorld{kc: kc, ns: ns, clock: &fakeClock{now: time.Now()}, nodeDir: nodeDir}
	w.cfg = server.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, Clock: w.clock, Logger: kubeTestLogger(),
		SweepInterval: 5 * time.Millisecond, HeartbeatTimeout: 24 * time.Hour, NoLocalAgent: true,
		Kubernetes: &server.KubernetesConfig{REST: rc, Namespace: ns, Resync: time.Second, DrainGrace: 5 * time.Second},
	}
	edit(ns, &w.cfg)
	w.start(t)
	return w
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// start starts (or starts again) the world's server on its data directory.
func (w *kubeWorld) start(t testing.TB) {
	t.Helper()
	srv, err := server.Start(context.Background(), w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	w.cfg.Addr = srv.Endpoint[len("http://"):] // the same address after a restart
	w.srv, w.api = srv, client(srv.Endpoint, testCreds.SecretAccessKey)
}

func (w *kubeWorld) definition(t testing.TB, greeting string) {
	t.Helper()
	w.definitionWith(t, types.ContainerEnvironment{Name: aws.String("GREETING"), Value: aws.String(greeting)})
}

// definitionWith makes the "pods" definition, or a new version of it, whose game server
// container has the environment given.
func (w *kubeWorld) definitionWith(t testing.TB, env ...types.ContainerEnvironment) {
	t.Helper()
	ctx := context.Background()
	game := &types.GameServerContainerDefinitionInput{
		ContainerName: aws.String("game"), ImageUri: aws.String(podImage), ServerSdkVersion: aws.String("5.2.0"),
		PortConfiguration: &types.ContainerPortConfiguration{ContainerPortRanges: []types.ContainerPortRange{
			{FromPort: aws.Int32(7777), ToPort: aws.Int32(7777), Protocol: types.IpProtocolUdp},
		}},
		EnvironmentOverride: env,
	}
	_, err := w.api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String("pods")})
	if err != nil {
		must(w.api.CreateContainerGroupDefinition(ctx, &gl.CreateContainerGroupDefinitionInput{
			Name: aws.String("pods"), ContainerGroupType: types.ContainerGroupTypeGameServer,
			OperatingSystem:           types.ContainerOperatingSystemAmazonLinux2023,
			TotalMemoryLimitMebibytes: aws.Int32(512), TotalVcpuLimit: aws.Float64(0.5),
			GameServerContainerDefinition: game,
		}))(t)
		return
	}
	must(w.api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("pods"), GameServerContainerDefinition: game}))(t)
}

func (w *kubeWorld) fleet(t testing.TB, perInstance int32) *types.ContainerFleet {
	t.Helper()
	f := must(w.api.CreateContainerFleet(context.Background(), &gl.CreateContainerFleetInput{
		FleetRoleArn: aws.String("arn:aws:iam::123456789012:role/hoist"), GameServerContainerGroupDefinitionName: aws.String("pods"),
		GameServerContainerGroupsPerInstance: aws.Int32(perInstance),
		InstanceConnectionPortRange:          &types.ConnectionPortRange{FromPort: aws.Int32(5000), ToPort: aws.Int32(5099)},
	}))(t).ContainerFleet
	if f.Status != types.ContainerFleetStatusActivating {
		t.Errorf("new container fleet is %s, want ACTIVATING", f.Status)
	}
	return f
}

// kubeEventually is eventually with the time pods take to come and go.
func kubeEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(kubeWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// computes lists the fleet's ACTIVE computes (pods) by name.
func (w *kubeWorld) computes(t testing.TB, fleetID *string) map[string]types.Compute {
	t.Helper()
	out := map[string]types.Compute{}
	for _, c := range must(w.api.ListCompute(context.Background(), &gl.ListComputeInput{FleetId: fleetID}))(t).ComputeList {
		if c.ComputeStatus == types.ComputeStatusActive {
			out[aws.ToString(c.ComputeName)] = c
		}
	}
	return out
}

// readyProcesses reads the fleet's ready processes from DescribeFleetUtilization.
func (w *kubeWorld) readyProcesses(t testing.TB, fleetID *string) int32 {
	t.Helper()
	u := must(w.api.DescribeFleetUtilization(context.Background(), &gl.DescribeFleetUtilizationInput{FleetIds: []string{aws.ToString(fleetID)}}))(t)
	return aws.ToInt32(u.FleetUtilization[0].ActiveServerProcessCount)
}

func (w *kubeWorld) pods(t testing.TB) []corev1.Pod {
	t.Helper()
	l, err := w.kc.CoreV1().Pods(w.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func (w *kubeWorld) session(t testing.TB, id *string) types.GameSession {
	t.Helper()
	return must(w.api.DescribeGameSessions(context.Background(), &gl.DescribeGameSessionsInput{GameSessionId: id}))(t).GameSessions[0]
}

func (w *kubeWorld) activeSession(t testing.TB, fleetID *string) types.GameSession {
	t.Helper()
	gs := must(w.api.CreateGameSession(context.Background(), &gl.CreateGameSessionInput{FleetId: fleetID, MaximumPlayerSessionCount: aws.Int32(4)}))(t).GameSession
	kubeEventually(t, "the game session is ACTIVE", func() bool { return w.session(t, gs.GameSessionId).Status == types.GameSessionStatusActive })
	return w.session(t, gs.GameSessionId)
}

// waitDeployed waits for a new fleet to be ACTIVE with n game servers ready, its first
// deployment COMPLETE.
func (w *kubeWorld) waitDeployed(t testing.TB, id *string, n int) {
	t.Helper()
	ctx := context.Background()
	kubeEventually(t, fmt.Sprintf("the fleet is ACTIVE with %d game servers ready", n), func() bool {
		cf := must(w.api.DescribeContainerFleet(ctx, &gl.DescribeContainerFleetInput{FleetId: id}))(t).ContainerFleet
		return cf.Status == types.ContainerFleetStatusActive && len(w.computes(t, id)) == n && w.readyProcesses(t, id) == int32(n)
	})
	kubeEventually(t, "the first deployment is COMPLETE", func() bool {
		d := must(w.api.DescribeFleetDeployment(ctx, &gl.DescribeFleetDeploymentInput{FleetId: id}))(t).FleetDeployment
		return d.DeploymentStatus == types.DeploymentStatusComplete
	})
}

// groupCounts reads the fleet's GameServerContainerGroupCounts: ACTIVE, IDLE, PENDING,
// TERMINATING.
func (w *kubeWorld) groupCounts(t testing.TB, fleetID *string) [4]int32 {
	t.Helper()
	c := must(w.api.DescribeFleetCapacity(context.Background(), &gl.DescribeFleetCapacityInput{FleetIds: []string{aws.ToString(fleetID)}}))(t).FleetCapacity[0].GameServerContainerGroupCounts
	return [4]int32{aws.ToInt32(c.ACTIVE), aws.ToInt32(c.IDLE), aws.ToInt32(c.PENDING), aws.ToInt32(c.TERMINATING)}
}

func (w *kubeWorld) setCapacity(t testing.TB, fleetID *string, desired, maxSize int32) {
	t.Helper()
	must(w.api.UpdateFleetCapacity(context.Background(), &gl.UpdateFleetCapacityInput{
		FleetId: fleetID, DesiredInstances: aws.Int32(desired), MinSize: aws.Int32(0), MaxSize: aws.Int32(maxSize),
	}))(t)
}

// A container fleet runs as pods: it becomes ACTIVE with its pods' game servers
// connected; game sessions, made directly and by a queue, land on pods at the node's IP
// and a host port of the connection range; a deleted pod interrupts its session and is
// replaced; capacity goes up and down, never taking a pod with a protected session.
func TestContainerFleetOnKubernetes(t *testing.T) {
	w := newKubeWorld(t)
	ctx := context.Background()
	w.definition(t, "hello")
	f := w.fleet(t, 2)
	id := f.FleetId

	w.waitDeployed(t, id, 2)
	for name, c := range w.computes(t, id) {
		if aws.ToString(c.IpAddress) != "127.0.0.1" || c.Type != "CONTAINER" || aws.ToString(c.InstanceId) == "" {
			t.Errorf("compute %s = %+v, want a CONTAINER compute at the node's IP with an instance", name, c)
		}
	}
	inst := must(w.api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id}))(t).Instances
	if len(inst) != 1 || inst[0].Status != types.InstanceStatusActive {
		t.Errorf("DescribeInstances = %+v, want one ACTIVE instance of 2 pods", inst)
	}
	capa := must(w.api.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: []string{aws.ToString(id)}}))(t).FleetCapacity[0]
	if n, groups := aws.ToInt32(capa.InstanceCounts.ACTIVE), w.groupCounts(t, id); n != 1 || groups != [4]int32{0, 2, 0, 0} {
		t.Errorf("capacity = %d instances, container groups ACTIVE, IDLE, PENDING, TERMINATING = %v; want 1 instance, 2 groups IDLE", n, groups)
	}

	// A session made directly, at the node's IP and its pod's host port for 7777.
	first := w.activeSession(t, id)
	if aws.ToString(first.IpAddress) != "127.0.0.1" || aws.ToInt32(first.Port) < 5000 || aws.ToInt32(first.Port) > 5001 {
		t.Errorf("session at %s:%d, want 127.0.0.1 and a port of the first instance's block, 5000-5001", aws.ToString(first.IpAddress), aws.ToInt32(first.Port))
	}
	pm := must(w.api.DescribeContainerGroupPortMappings(ctx, &gl.DescribeContainerGroupPortMappingsInput{FleetId: id, ComputeName: first.ComputeName, ContainerGroupType: types.ContainerGroupTypeGameServer}))(t)
	if len(pm.ContainerGroupPortMappings) != 1 || len(pm.ContainerGroupPortMappings[0].ContainerPortMappings) != 1 ||
		aws.ToInt32(pm.ContainerGroupPortMappings[0].ContainerPortMappings[0].ContainerPort) != 7777 ||
		aws.ToInt32(pm.ContainerGroupPortMappings[0].ContainerPortMappings[0].ConnectionPort) != aws.ToInt32(first.Port) {
		t.Errorf("port mappings of %s = %+v, want 7777 -> %d", aws.ToString(first.ComputeName), pm.ContainerGroupPortMappings, aws.ToInt32(first.Port))
	}

	if got := w.groupCounts(t, id); got != [4]int32{1, 1, 0, 0} {
		t.Errorf("container groups ACTIVE, IDLE, PENDING, TERMINATING = %v, want one with the session ACTIVE, the other IDLE", got)
	}

	// A session placed by a queue lands on the other pod.
	must(w.api.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("pods"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: f.FleetArn}}}))(t)
	must(w.api.StartGameSessionPlacement(ctx, &gl.StartGameSessionPlacementInput{PlacementId: aws.String("p1"),
		GameSessionQueueName: aws.String("pods"), MaximumPlayerSessionCount: aws.Int32(4)}))(t)
	var placed *types.GameSessionPlacement
	kubeEventually(t, "the placement is FULFILLED", func() bool {
		placed = must(w.api.DescribeGameSessionPlacement(ctx, &gl.DescribeGameSessionPlacementInput{PlacementId: aws.String("p1")}))(t).GameSessionPlacement
		return placed.Status == types.GameSessionPlacementStateFulfilled
	})
	if aws.ToString(placed.IpAddress) != "127.0.0.1" || aws.ToInt32(placed.Port) == aws.ToInt32(first.Port) || aws.ToInt32(placed.Port) < 5000 || aws.ToInt32(placed.Port) > 5001 {
		t.Errorf("placement at %s:%d, want 127.0.0.1 and the other pod's port", aws.ToString(placed.IpAddress), aws.ToInt32(placed.Port))
	}
	second := w.session(t, placed.GameSessionArn)

	// Deleting the first session's pod interrupts it; a new pod takes its place. (A game
	// server that handles SIGTERM may end its session itself first, as GameLift's would.)
	if err := w.kc.CoreV1().Pods(w.ns).Delete(ctx, aws.ToString(first.ComputeName), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	kubeEventually(t, "the deleted pod's session is TERMINATED, INTERRUPTED", func() bool {
		gs := w.session(t, first.GameSessionId)
		return gs.Status == types.GameSessionStatusTerminated && gs.StatusReason == types.GameSessionStatusReasonInterrupted
	})
	kubeEventually(t, "a replacement pod is ready", func() bool {
		cs := w.computes(t, id)
		_, old := cs[aws.ToString(first.ComputeName)]
		return len(cs) == 2 && !old && w.readyProcesses(t, id) == 2
	})

	// Up to 2 instances (4 pods), all on one node: each pod has host ports of its own.
	w.setCapacity(t, id, 2, 3)
	kubeEventually(t, "4 pods are ready", func() bool { return len(w.computes(t, id)) == 4 && w.readyProcesses(t, id) == 4 })
	if n := len(must(w.api.DescribeInstances(ctx, &gl.DescribeInstancesInput{FleetId: id}))(t).Instances); n != 2 {
		t.Errorf("DescribeInstances lists %d instances, want 2", n)
	}

	// Down to 0 with the placed session protected: its instance stays.
	must(w.api.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: second.GameSessionId, ProtectionPolicy: types.ProtectionPolicyFullProtection}))(t)
	w.setCapacity(t, id, 0, 3)
	kubeEventually(t, "the instance without the protected session is gone", func() bool { return len(w.computes(t, id)) == 2 })
	time.Sleep(3 * time.Second) // several reconciles
	cs := w.computes(t, id)
	if _, ok := cs[aws.ToString(second.ComputeName)]; !ok || len(cs) != 2 {
		t.Errorf("after scaling to 0, computes %v, want the protected session's pod %s and its instance's other pod", slices.Collect(mapKeys(cs)), aws.ToString(second.ComputeName))
	}
	if gs := w.session(t, second.GameSessionId); gs.Status != types.GameSessionStatusActive {
		t.Errorf("protected session is %s, want ACTIVE", gs.Status)
	}
	// Unprotected, it is drained: its game server is told to end, then the pods go.
	must(w.api.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: second.GameSessionId, ProtectionPolicy: types.ProtectionPolicyNoProtection}))(t)
	kubeEventually(t, "the last instance is drained and gone", func() bool {
		return len(w.computes(t, id)) == 0 && w.session(t, second.GameSessionId).Status == types.GameSessionStatusTerminated
	})
	kubeEventually(t, "no pods are left", func() bool { return len(w.pods(t)) == 0 })
	t.Logf("Kubernetes API requests sent by the engine: %d", w.srv.KubernetesRequests())
}

// A deleted pod's game server ends well in its grace period, as on GameLift a compute's
// does when it shuts down: Hoist tells it to end (OnProcessTerminate), and keeps its
// process and auth token good, so the ProcessEnding it calls when it is done succeeds; its
// session is TERMINATING meanwhile, then TERMINATED, INTERRUPTED; its pod counts as a
// TERMINATING container group. Its replacement takes other host ports of the range, so its
// game server is ready, and takes sessions, while the deleted pod is still there.
func TestContainerFleetDeletedPodEndsInItsGrace(t *testing.T) {
	w := newKubeWorld(t)
	ctx := context.Background()
	release := filepath.Join(t.TempDir(), "release")
	w.definitionWith(t, types.ContainerEnvironment{Name: aws.String(lingerEnv), Value: aws.String(release)})
	id := w.fleet(t, 1).FleetId
	w.waitDeployed(t, id, 1)
	first := w.activeSession(t, id)
	oldName := aws.ToString(first.ComputeName)
	old, err := w.kc.CoreV1().Pods(w.ns).Get(ctx, oldName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.kc.CoreV1().Pods(w.ns).Delete(ctx, oldName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// The replacement's game server is ready while the deleted pod's lingers in its grace.
	var replacement string
	kubeEventually(t, "a replacement pod's game server is ready", func() bool {
		for name := range w.computes(t, id) {
			replacement = name
		}
		return replacement != "" && replacement != oldName && w.readyProcesses(t, id) == 1
	})
	if p, err := w.kc.CoreV1().Pods(w.ns).Get(ctx, oldName, metav1.GetOptions{}); err != nil || p.DeletionTimestamp == nil {
		t.Fatalf("the deleted pod was gone (%v) before its replacement's game server was ready: the replacement waited for its ports", err)
	}
	mapping := func(compute string) int32 {
		pm := must(w.api.DescribeContainerGroupPortMappings(ctx, &gl.DescribeContainerGroupPortMappingsInput{FleetId: id, ComputeName: aws.String(compute), ContainerGroupType: types.ContainerGroupTypeGameServer}))(t)
		return aws.ToInt32(pm.ContainerGroupPortMappings[0].ContainerPortMappings[0].ConnectionPort)
	}
	if a, b := mapping(oldName), mapping(replacement); a == b || b < 5000 || b > 5099 {
		t.Errorf("connection ports: deleted pod %d, replacement %d; want another port of the range", a, b)
	}
	if gs := w.session(t, first.GameSessionId); gs.Status != types.GameSessionStatusTerminating || gs.StatusReason != types.GameSessionStatusReasonInterrupted {
		t.Errorf("the deleted pod's session is %s (%s) in its grace, want TERMINATING (INTERRUPTED)", gs.Status, gs.StatusReason)
	}
	c := must(w.api.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: id, ComputeName: aws.String(oldName)}))(t).Compute
	if c.ComputeStatus != types.ComputeStatusTerminating {
		t.Errorf("the deleted pod's compute is %s in its grace, want TERMINATING", c.ComputeStatus)
	}
	if got := w.groupCounts(t, id); got != [4]int32{0, 1, 0, 1} {
		t.Errorf("container groups ACTIVE, IDLE, PENDING, TERMINATING = %v, want the replacement IDLE and the deleted pod TERMINATING", got)
	}
	if second := w.activeSession(t, id); aws.ToString(second.ComputeName) != replacement {
		t.Errorf("a new session is on %s, want the replacement %s", aws.ToString(second.ComputeName), replacement)
	}

	// Done, the deleted pod's game server calls ProcessEnding: it succeeds and ends its
	// session, INTERRUPTED; then the pod goes.
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kubeEventually(t, "the deleted pod's session is TERMINATED, INTERRUPTED", func() bool {
		gs := w.session(t, first.GameSessionId)
		return gs.Status == types.GameSessionStatusTerminated && gs.StatusReason == types.GameSessionStatusReasonInterrupted
	})
	kubeEventually(t, "the deleted pod is gone", func() bool {
		_, err := w.kc.CoreV1().Pods(w.ns).Get(ctx, oldName, metav1.GetOptions{})
		return err != nil
	})
	out, err := os.ReadFile(filepath.Join(w.nodeDir, fmt.Sprintf("%s_%s_%s", w.ns, oldName, old.UID), "game.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "told to end: OnProcessTerminate") || !strings.Contains(string(out), "ProcessEnding: ok") {
		t.Errorf("the deleted pod's game server wrote %q, want it told to end by OnProcessTerminate and its ProcessEnding ok", out)
	}
	kubeEventually(t, "the replacement is the one container group, ACTIVE", func() bool {
		return w.groupCounts(t, id) == [4]int32{1, 0, 0, 0}
	})
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A new definition version rolls out as a deployment; a target-tracking policy scales
// the fleet out when available sessions drop under its target and back in; a restarted
// Hoist adopts the pods it finds, and watches rather than polls.
func TestContainerFleetRolloutScalingRestart(t *testing.T) {
	w := newKubeWorld(t)
	ctx := context.Background()
	w.definition(t, "v1")
	f := w.fleet(t, 1)
	id := f.FleetId
	w.waitDeployed(t, id, 1)
	before := w.computes(t, id)

	// Version 2 of the definition rolls out.
	w.definition(t, "v2")
	cf := must(w.api.UpdateContainerFleet(ctx, &gl.UpdateContainerFleetInput{FleetId: id, GameServerContainerGroupDefinitionName: aws.String("pods"),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercentage: aws.Int32(30)}}))(t).ContainerFleet
	if cf.Status != types.ContainerFleetStatusUpdating || aws.ToString(cf.GameServerContainerGroupDefinitionArn) == aws.ToString(f.GameServerContainerGroupDefinitionArn) {
		t.Errorf("after the update: %s running %s, want UPDATING to version 2", cf.Status, aws.ToString(cf.GameServerContainerGroupDefinitionArn))
	}
	deployment := cf.DeploymentDetails.LatestDeploymentId
	kubeEventually(t, "the deployment is COMPLETE and the fleet ACTIVE", func() bool {
		d := must(w.api.DescribeFleetDeployment(ctx, &gl.DescribeFleetDeploymentInput{FleetId: id, DeploymentId: deployment}))(t).FleetDeployment
		cf := must(w.api.DescribeContainerFleet(ctx, &gl.DescribeContainerFleetInput{FleetId: id}))(t).ContainerFleet
		return d.DeploymentStatus == types.DeploymentStatusComplete && cf.Status == types.ContainerFleetStatusActive && w.readyProcesses(t, id) == 1
	})
	for _, p := range w.pods(t) {
		if _, old := before[p.Name]; old {
			t.Errorf("pod %s of version 1 is still there", p.Name)
		}
		if env := p.Spec.Containers[0].Env; !slices.ContainsFunc(env, func(e corev1.EnvVar) bool { return e.Name == "GREETING" && e.Value == "v2" }) {
			t.Errorf("pod %s environment %v, want GREETING=v2", p.Name, env)
		}
	}
	if n := len(must(w.api.ListFleetDeployments(ctx, &gl.ListFleetDeploymentsInput{FleetId: id}))(t).FleetDeployments); n != 2 {
		t.Errorf("ListFleetDeployments = %d deployments, want 2", n)
	}

	// Target tracking: keep half the sessions available.
	must(w.api.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: id, MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredInstances: aws.Int32(1)}))(t)
	must(w.api.PutScalingPolicy(ctx, targetBased(id, "half", 50)))(t)
	gs := w.activeSession(t, id)
	minute := func() {
		t.Helper()
		before := w.srv.ScalingEvaluations()
		w.clock.Advance(time.Minute)
		kubeEventually(t, "the scaling policies are evaluated", func() bool { return w.srv.ScalingEvaluations() > before })
	}
	minute()
	kubeEventually(t, "scaled out to 2 ready game servers", func() bool { return len(w.computes(t, id)) == 2 && w.readyProcesses(t, id) == 2 })
	must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: gs.GameSessionId, TerminationMode: types.TerminationModeForceTerminate}))(t)
	kubeEventually(t, "the session is TERMINATED", func() bool { return w.session(t, gs.GameSessionId).Status == types.GameSessionStatusTerminated })
	minute()
	kubeEventually(t, "scaled back in to 1", func() bool { return len(w.computes(t, id)) == 1 && len(w.pods(t)) == 1 })

	// Restarted, Hoist adopts the pod it finds: no pod is made or deleted. (The pod of the
	// terminated session ends, and is replaced, in its own time: wait for one pod, ready.)
	kubeEventually(t, "one pod is left, its game server ready", func() bool {
		return len(w.pods(t)) == 1 && len(w.computes(t, id)) == 1 && w.readyProcesses(t, id) == 1
	})
	names := func() []string {
		var out []string
		for _, p := range w.pods(t) {
			out = append(out, p.Name)
		}
		slices.Sort(out)
		return out
	}
	was := names()
	if err := w.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	w.start(t)
	kubeEventually(t, "the game server reconnects to the restarted server", func() bool { return w.readyProcesses(t, id) == 1 })
	time.Sleep(2 * time.Second) // a few reconciles
	if now := names(); !slices.Equal(now, was) {
		t.Errorf("pods after the restart %v, want those before %v", now, was)
	}
	w.activeSession(t, id)

	// Watching, not polling: a fleet at rest costs no API requests.
	idle := w.srv.KubernetesRequests()
	time.Sleep(3 * time.Second)
	if n := w.srv.KubernetesRequests() - idle; n > 0 {
		t.Errorf("%d Kubernetes API requests in 3 s of rest, want none", n)
	}
	t.Logf("Kubernetes API requests sent by the restarted engine: %d", w.srv.KubernetesRequests())
	_, _, families := scrape(t, w.srv.Endpoint, testCreds.AccessKeyID, testCreds.SecretAccessKey)
	if got, want := value(families, "hoist_kubernetes_api_requests_total", nil), float64(w.srv.KubernetesRequests()); got != want || got == 0 {
		t.Errorf("hoist_kubernetes_api_requests_total = %v, want the engine's count, %v", got, want)
	}
}

// kubeTestLogger logs to stderr when HOIST_TEST_LOG is set.
func kubeTestLogger() *slog.Logger {
	if os.Getenv("HOIST_TEST_LOG") == "" {
		return quietLogger()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Without the Kubernetes engine, a container fleet is refused with what it needs.
func TestContainerFleetNeedsKubernetes(t *testing.T) {
	_, api := start(t, t.TempDir())
	_, err := api.CreateContainerFleet(context.Background(), &gl.CreateContainerFleetInput{FleetRoleArn: aws.String("arn:aws:iam::123456789012:role/hoist")})
	var e interface{ ErrorCode() string }
	if !errors.As(err, &e) || e.ErrorCode() != "UnsupportedRegionException" || !strings.Contains(err.Error(), "hoist server with --kubernetes") {
		t.Errorf("CreateContainerFleet without the engine: %v, want UnsupportedRegionException naming --kubernetes", err)
	}
}

// The manifests in deploy/kubernetes give Hoist what its engine uses: with its Role, and
// nothing else, a container fleet runs, scales to nothing and is deleted, its pods and
// Secrets gone. The test signs as the manifests' service account (impersonation).
func TestManifestsRoleSuffices(t *testing.T) {
	rc := kubeREST(t)
	b, err := os.ReadFile("../../deploy/kubernetes/hoist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := newKubeWorldWith(t, func(ns string, cfg *server.Config) {
		sa := rest.CopyConfig(rc)
		sa.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":hoist"}
		cfg.Kubernetes.REST = sa
	})
	ctx := context.Background()
	var deployment *appsv1.Deployment
	for doc := range strings.SplitSeq(string(b), "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("deploy/kubernetes/hoist.yaml: %v", err)
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			o.Namespace = w.ns
			_, err = w.kc.CoreV1().ServiceAccounts(w.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			o.Namespace = w.ns
			_, err = w.kc.RbacV1().Roles(w.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			o.Namespace = w.ns
			o.Subjects[0].Namespace = w.ns
			_, err = w.kc.RbacV1().RoleBindings(w.ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			t.Errorf("the manifests ask for cluster-wide rights: %T", o)
		case *appsv1.Deployment:
			deployment = o
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if deployment == nil || !slices.Contains(deployment.Spec.Template.Spec.Containers[0].Args, "--kubernetes") ||
		deployment.Spec.Template.Spec.ServiceAccountName != "hoist" {
		t.Fatalf("the manifests' Deployment does not run hoist server --kubernetes as the hoist service account: %+v", deployment)
	}

	w.definition(t, "rbac")
	id := w.fleet(t, 2).FleetId
	kubeEventually(t, "2 game servers are ready", func() bool { return len(w.computes(t, id)) == 2 && w.readyProcesses(t, id) == 2 })
	w.setCapacity(t, id, 0, 1)
	kubeEventually(t, "the pods are drained and gone", func() bool { return len(w.pods(t)) == 0 && len(w.computes(t, id)) == 0 })
	must(w.api.DeleteContainerFleet(ctx, &gl.DeleteContainerFleetInput{FleetId: id}))(t)
	kubeEventually(t, "the fleet's Secrets are gone", func() bool {
		l, err := w.kc.CoreV1().Secrets(w.ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=hoist"})
		return err == nil && len(l.Items) == 0
	})
}

// BenchmarkContainerFleetScaleOut measures a container fleet going from 1 to 50 game
// server pods, each connected and ready, on the node stand-in: the time it takes (ns/op;
// the stand-in, which starts one process at a time, takes most of it), the time the
// engine takes to make the pods (s-to-make-pods; its API requests are rate limited to 20
// a second, bursts of 40), and the Kubernetes API requests it sends per pod.
func BenchmarkContainerFleetScaleOut(b *testing.B) {
	const pods = 50
	b.StopTimer()
	for range b.N {
		w := newKubeWorld(b)
		w.definition(b, "bench")
		ctx := context.Background()
		id := must(w.api.CreateContainerFleet(ctx, &gl.CreateContainerFleetInput{
			FleetRoleArn: aws.String("arn:aws:iam::123456789012:role/hoist"), GameServerContainerGroupDefinitionName: aws.String("pods"),
			GameServerContainerGroupsPerInstance: aws.Int32(1),
			InstanceConnectionPortRange:          &types.ConnectionPortRange{FromPort: aws.Int32(5000), ToPort: aws.Int32(5099)},
		}))(b).ContainerFleet.FleetId
		kubeEventually(b, "the first game server is ready", func() bool { return w.readyProcesses(b, id) == 1 })
		before := w.srv.KubernetesRequests()
		b.StartTimer()
		start := time.Now()
		w.setCapacity(b, id, pods, pods)
		kubeEventually(b, "the engine made 50 pods", func() bool {
			return len(must(w.api.ListCompute(ctx, &gl.ListComputeInput{FleetId: id}))(b).ComputeList) == pods
		})
		made := time.Since(start)
		kubeEventually(b, "50 game servers are ready", func() bool { return w.readyProcesses(b, id) == pods })
		b.StopTimer()
		b.ReportMetric(made.Seconds(), "s-to-make-pods")
		b.ReportMetric(float64(w.srv.KubernetesRequests()-before)/(pods-1), "requests/pod")
		w.srv.Close(ctx)
	}
}

// A deployment whose pods cannot start is impaired; with the ROLLBACK strategy the fleet
// goes back to the version that ran, and the failure is in the fleet's events.
func TestContainerFleetRollback(t *testing.T) {
	w := newKubeWorld(t)
	ctx := context.Background()
	w.definition(t, "v1")
	f := w.fleet(t, 1)
	id := f.FleetId
	kubeEventually(t, "the first game server is ready", func() bool { return w.readyProcesses(t, id) == 1 })

	must(w.api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("pods"),
		GameServerContainerDefinition: &types.GameServerContainerDefinitionInput{
			ContainerName: aws.String("game"), ImageUri: aws.String("hoist-test/missing:2"), ServerSdkVersion: aws.String("5.2.0"),
			PortConfiguration: &types.ContainerPortConfiguration{ContainerPortRanges: []types.ContainerPortRange{
				{FromPort: aws.Int32(7777), ToPort: aws.Int32(7777), Protocol: types.IpProtocolUdp},
			}},
		}}))(t)
	cf := must(w.api.UpdateContainerFleet(ctx, &gl.UpdateContainerFleetInput{FleetId: id, GameServerContainerGroupDefinitionName: aws.String("pods"),
		DeploymentConfiguration: &types.DeploymentConfiguration{ImpairmentStrategy: types.DeploymentImpairmentStrategyRollback, MinimumHealthyPercentage: aws.Int32(50)}}))(t).ContainerFleet
	if _, err := w.api.UpdateContainerFleet(ctx, &gl.UpdateContainerFleetInput{FleetId: id, GameServerContainerGroupsPerInstance: aws.Int32(2)}); err == nil ||
		!strings.Contains(err.Error(), "InvalidFleetStatusException") {
		t.Errorf("an update during a deployment: %v, want InvalidFleetStatusException", err)
	}
	deployment := cf.DeploymentDetails.LatestDeploymentId
	kubeEventually(t, "the deployment rolled back and a version 1 game server is ready", func() bool {
		d := must(w.api.DescribeFleetDeployment(ctx, &gl.DescribeFleetDeploymentInput{FleetId: id, DeploymentId: deployment}))(t).FleetDeployment
		return d.DeploymentStatus == types.DeploymentStatusRollbackComplete && w.readyProcesses(t, id) == 1
	})
	cf = must(w.api.DescribeContainerFleet(ctx, &gl.DescribeContainerFleetInput{FleetId: id}))(t).ContainerFleet
	if cf.Status != types.ContainerFleetStatusActive || aws.ToString(cf.GameServerContainerGroupDefinitionArn) != aws.ToString(f.GameServerContainerGroupDefinitionArn) {
		t.Errorf("after the rollback: %s running %s, want ACTIVE on %s", cf.Status, aws.ToString(cf.GameServerContainerGroupDefinitionArn), aws.ToString(f.GameServerContainerGroupDefinitionArn))
	}
	for _, p := range w.pods(t) {
		if img := p.Spec.Containers[0].Image; img != podImage {
			t.Errorf("pod %s runs %s after the rollback", p.Name, img)
		}
	}
	events := must(w.api.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id}))(t).Events
	if !slices.ContainsFunc(events, func(e types.Event) bool {
		return e.EventCode == types.EventCodeGameServerContainerGroupCrashed && strings.Contains(aws.ToString(e.Message), "ErrImagePull")
	}) {
		t.Errorf("no GAME_SERVER_CONTAINER_GROUP_CRASHED event about the image in %d events", len(events))
	}
}

// A game server that crashes at once is replaced with a growing delay, not in a loop: a
// few pods and GAME_SERVER_CONTAINER_GROUP_CRASHED events in several seconds, not one a
// second.
func TestContainerFleetCrashLoopBacksOff(t *testing.T) {
	w := newKubeWorld(t)
	ctx := context.Background()
	must(w.api.CreateContainerGroupDefinition(ctx, &gl.CreateContainerGroupDefinitionInput{
		Name: aws.String("crash"), ContainerGroupType: types.ContainerGroupTypeGameServer, OperatingSystem: types.ContainerOperatingSystemAmazonLinux2023,
		TotalMemoryLimitMebibytes: aws.Int32(256), TotalVcpuLimit: aws.Float64(0.25),
		GameServerContainerDefinition: &types.GameServerContainerDefinitionInput{
			ContainerName: aws.String("game"), ImageUri: aws.String("hoist-test/crash:1"), ServerSdkVersion: aws.String("5.2.0"),
			PortConfiguration: &types.ContainerPortConfiguration{ContainerPortRanges: []types.ContainerPortRange{
				{FromPort: aws.Int32(7777), ToPort: aws.Int32(7777), Protocol: types.IpProtocolUdp},
			}},
		},
	}))(t)
	id := must(w.api.CreateContainerFleet(ctx, &gl.CreateContainerFleetInput{FleetRoleArn: aws.String("arn:aws:iam::123456789012:role/hoist"),
		GameServerContainerGroupDefinitionName: aws.String("crash")}))(t).ContainerFleet.FleetId
	crashes := func() int {
		n := 0
		for _, e := range must(w.api.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id}))(t).Events {
			if e.EventCode == types.EventCodeGameServerContainerGroupCrashed {
				n++
			}
		}
		return n
	}
	kubeEventually(t, "two crashes are reported", func() bool { return crashes() >= 2 })
	first := crashes()
	time.Sleep(12 * time.Second)
	// Held back 2, 4 and 8 s after the next failures: 3 or 4 more in 12 s. Replaced at
	// once, a pod that crashes takes the stand-in about a second: 10 or more.
	if n := crashes() - first; n > 6 {
		t.Errorf("%d more crashes in 12 s: the crashing pod is replaced without back-off", n)
	}
	cf := must(w.api.DescribeContainerFleet(ctx, &gl.DescribeContainerFleetInput{FleetId: id}))(t).ContainerFleet
	if cf.Status != types.ContainerFleetStatusActivating {
		t.Errorf("a fleet whose game servers never start is %s, want ACTIVATING", cf.Status)
	}
}

// proxy forwards TCP connections to whichever address it is pointed at: game server pods
// reach the replica a test chooses through it.
type proxy struct {
	ln     net.Listener
	target atomic.Value // string host:port
}

func newProxy(t *testing.T) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", p.target.Load().(string))
				if err != nil {
					return
				}
				defer u.Close()
				go io.Copy(u, c)
				io.Copy(c, u)
			}()
		}
	}()
	return p
}

// Two replicas on one PostgreSQL run one engine between them: the leader makes the pods
// once, while their game servers connect to the other replica; it keeps a pod whose
// protected session that replica holds, and drains it through that replica when the
// protection goes.
func TestContainerFleetAcrossReplicas(t *testing.T) {
	kubeREST(t)
	db := pgtest.Database(t)
	ctx := context.Background()
	px := newProxy(t)
	w := newKubeWorldWith(t, func(ns string, cfg *server.Config) {
		cfg.Store = db
		cfg.Kubernetes.SDKEndpoint = "ws://" + px.ln.Addr().String()
	})
	a := w.srv
	px.target.Store(strings.TrimPrefix(a.SDKEndpoint, "ws://"))
	cfg := w.cfg
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	b, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	kubeEventually(t, "one replica leads the engine", func() bool { return a.LeadsEngine() != b.LeadsEngine() })
	leader, other := a, b
	if b.LeadsEngine() {
		leader, other = b, a
	}
	px.target.Store(strings.TrimPrefix(other.SDKEndpoint, "ws://"))
	viaLeader, viaOther := client(leader.Endpoint, testCreds.SecretAccessKey), client(other.Endpoint, testCreds.SecretAccessKey)

	w.api = viaLeader
	w.definition(t, "replicas")
	id := w.fleet(t, 2).FleetId
	w.waitDeployed(t, id, 2)
	time.Sleep(2 * time.Second) // both engines have seen the fleet by now
	if n := len(w.pods(t)); n != 2 {
		t.Errorf("%d pods for 2 game server groups: more than one engine made them", n)
	}

	w.api = viaOther // the replica that holds the processes, and so the sessions
	gs := w.activeSession(t, id)
	must(viaLeader.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: gs.GameSessionId, ProtectionPolicy: types.ProtectionPolicyFullProtection}))(t)
	w.api = viaLeader
	w.setCapacity(t, id, 0, 1)
	time.Sleep(3 * time.Second) // several reconciles of the leader
	if n := len(w.pods(t)); n != 2 {
		t.Errorf("%d pods after scaling to 0 with a protected session on the other replica, want the instance's 2", n)
	}
	if s := w.session(t, gs.GameSessionId); s.Status != types.GameSessionStatusActive {
		t.Errorf("protected session is %s, want ACTIVE", s.Status)
	}
	must(viaLeader.UpdateGameSession(ctx, &gl.UpdateGameSessionInput{GameSessionId: gs.GameSessionId, ProtectionPolicy: types.ProtectionPolicyNoProtection}))(t)
	kubeEventually(t, "the instance is drained through the other replica and gone", func() bool {
		return len(w.pods(t)) == 0 && w.session(t, gs.GameSessionId).Status == types.GameSessionStatusTerminated
	})
}
