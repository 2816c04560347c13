// Command smoke checks an API server started by test/kube/start.sh with client-go: it lists
// the namespaces, creates a pod in the default namespace, reads it back and deletes it. With
// no kubelet and no scheduler the pod stays Pending, which is what it expects.
//
//	cd test/kube/build && go run ./smoke -kubeconfig "$(../start.sh /tmp/hoist-kube)"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the kubeconfig start.sh printed")
	flag.Parse()
	if *kubeconfig == "" {
		log.Fatal("-kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("server version:", v.GitVersion)

	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, ns := range nss.Items {
		fmt.Println("namespace:", ns.Name)
	}

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "smoke-", Labels: map[string]string{"app": "hoist-smoke"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "game",
				Image: "example.invalid/game:1",
				Ports: []corev1.ContainerPort{{ContainerPort: 7777, Protocol: corev1.ProtocolUDP}},
			}},
		},
	}
	created, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	got, err := cs.CoreV1().Pods("default").Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("pod %s: phase %s, node %q\n", got.Name, got.Status.Phase, got.Spec.NodeName)
	if got.Status.Phase != corev1.PodPending {
		log.Fatalf("pod phase %s, want Pending", got.Status.Phase)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, got.Name, metav1.DeleteOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pod deleted")
}
