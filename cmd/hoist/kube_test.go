package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hoist-dev/hoist/test/kube/node"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// `hoist server --kubernetes --kubeconfig F --kube-namespace NS` runs a container fleet of
// the example game server as pods (on the node stand-in, against the test API server):
// the fleet goes ACTIVE and a game session lands on a pod at its host port.
func TestServerKubernetesFlags(t *testing.T) {
	kubeconfig := os.Getenv("HOIST_TEST_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("no Kubernetes API server: export HOIST_TEST_KUBECONFIG=$(test/kube/start.sh /tmp/hoist-kube) to run it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// klog's logger is the process's: set before the stand-in's client runs, so the server's
	// own setting (a no-op then) does not race with it.
	routeKlog(slog.New(slog.DiscardHandler))
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(rc)
	ns := "hoist-cli-" + strings.ToLower(rand.Text()[:8])
	if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The example game server listens on its container port; pods of the stand-in share
	// the host's network, so the port is a free one.
	gamePort := freePort(t)
	nodeDone := make(chan error, 1)
	nodeCtx, stopNode := context.WithCancel(ctx)
	go func() {
		nodeDone <- node.Run(nodeCtx, node.Config{REST: rc, NodeName: ns, Namespace: ns, Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler),
			Images: map[string]node.Command{"example/gameserver:1": {Path: self(t), Args: []string{exampleGameServer, "-port", fmt.Sprint(gamePort)}}}})
	}()
	t.Cleanup(func() {
		zero := int64(0)
		kc.CoreV1().Pods(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
		kc.CoreV1().Secrets(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
		stopNode()
		<-nodeDone
		kc.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})

	t.Setenv("HOIST_ACCESS_KEY_ID", "AKKUBE")
	t.Setenv("HOIST_SECRET_ACCESS_KEY", "kube-secret")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var out, errs bytes.Buffer
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"server", "--addr", addr, "--data-dir", t.TempDir(), "--no-local-agent",
			"--kubernetes", "--kubeconfig", kubeconfig, "--kube-namespace", ns}, &out, &errs)
	}()
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider("AKKUBE", "kube-secret", "")})
	waitFor(t, "the server answers", func() bool {
		_, err := c.ListFleets(ctx, &gl.ListFleetsInput{})
		return err == nil
	})

	_, err = c.CreateContainerGroupDefinition(ctx, &gl.CreateContainerGroupDefinitionInput{
		Name: aws.String("lobby"), ContainerGroupType: types.ContainerGroupTypeGameServer, OperatingSystem: types.ContainerOperatingSystemAmazonLinux2023,
		TotalMemoryLimitMebibytes: aws.Int32(256), TotalVcpuLimit: aws.Float64(0.25),
		GameServerContainerDefinition: &types.GameServerContainerDefinitionInput{
			ContainerName: aws.String("lobby"), ImageUri: aws.String("example/gameserver:1"), ServerSdkVersion: aws.String("5.2.0"),
			PortConfiguration: &types.ContainerPortConfiguration{ContainerPortRanges: []types.ContainerPortRange{
				{FromPort: aws.Int32(int32(gamePort)), ToPort: aws.Int32(int32(gamePort)), Protocol: types.IpProtocolTcp},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateContainerFleet(ctx, &gl.CreateContainerFleetInput{FleetRoleArn: aws.String("arn:aws:iam::123456789012:role/hoist"),
		GameServerContainerGroupDefinitionName: aws.String("lobby")})
	if err != nil {
		t.Fatal(err)
	}
	id := f.ContainerFleet.FleetId
	waitFor(t, "the container fleet is ACTIVE", func() bool {
		d, err := c.DescribeContainerFleet(ctx, &gl.DescribeContainerFleetInput{FleetId: id})
		return err == nil && d.ContainerFleet.Status == types.ContainerFleetStatusActive
	})
	gs, err := c.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: id, MaximumPlayerSessionCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	var got types.GameSession
	waitFor(t, "the game session is ACTIVE", func() bool {
		d, err := c.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
		if err != nil || len(d.GameSessions) == 0 {
			return false
		}
		got = d.GameSessions[0]
		return got.Status == types.GameSessionStatusActive
	})
	// The default connection port range starts at 4192; the first pod's port is its first.
	if aws.ToString(got.IpAddress) != "127.0.0.1" || aws.ToInt32(got.Port) != 4192 {
		t.Errorf("game session at %s:%d, want 127.0.0.1:4192", aws.ToString(got.IpAddress), aws.ToInt32(got.Port))
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("hoist server: %v\n%s", err, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("hoist server did not stop")
	}
}

func TestKubeFlagsNeedKubernetes(t *testing.T) {
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"server", "--data-dir", t.TempDir(), "--kube-namespace", "games"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "need --kubernetes") {
		t.Errorf("--kube-namespace without --kubernetes: %v", err)
	}
}
