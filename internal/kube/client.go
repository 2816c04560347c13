package kube

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Bounds on Hoist's use of the Kubernetes API: client-go's token bucket holds every
// request to QPS a second, with bursts of Burst.
const (
	DefaultQPS   = 20
	DefaultBurst = 40
)

// RESTConfig loads the configuration to reach the cluster: the kubeconfig file at path,
// or, when path is "", the pod's own service account (in-cluster).
func RESTConfig(path string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if path == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster Kubernetes configuration (give --kubeconfig outside a cluster): %w", err)
		}
	} else if cfg, err = clientcmd.BuildConfigFromFlags("", path); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// OwnNamespace is the namespace of the pod Hoist runs in, from its service account; ""
// outside a cluster.
func OwnNamespace() string {
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// coreScheme knows the core/v1 group only: all the engine reads and writes. (client-go's
// clientset registers every API group, which would add tens of megabytes to every hoist
// process, agents included.)
var (
	coreScheme = runtime.NewScheme()
	coreCodecs = serializer.NewCodecFactory(coreScheme)
	coreParams = runtime.NewParameterCodec(coreScheme)
)

func init() {
	if err := corev1.AddToScheme(coreScheme); err != nil {
		panic(err)
	}
}

// Client is the engine's client of the core/v1 API: pods and Secrets in a namespace. Its
// requests are rate limited and counted.
type Client struct {
	rest     *rest.RESTClient
	requests atomic.Int64
}

// NewClient makes a client from cfg, limited to qps requests a second (bursts of burst).
func NewClient(cfg *rest.Config, qps float32, burst int) (*Client, error) {
	c := &Client{}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = qps, burst
	cfg.UserAgent = "hoist"
	cfg.APIPath = "/api"
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.NegotiatedSerializer = coreCodecs.WithoutConversion()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.requests.Add(1)
			return rt.RoundTrip(r)
		})
	})
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c.rest = rc
	return c, nil
}

// Requests counts the API requests sent so far (a watch counts once, however long it runs).
func (c *Client) Requests() int64 { return c.requests.Load() }

// ListPods lists a namespace's pods.
func (c *Client) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	err := c.rest.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, coreParams).Do(ctx).Into(out)
	return out, err
}

// WatchPods watches a namespace's pods.
func (c *Client) WatchPods(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.rest.Get().Namespace(namespace).Resource("pods").VersionedParams(&opts, coreParams).Watch(ctx)
}

// CreatePod creates a pod in its namespace.
func (c *Client) CreatePod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	out := &corev1.Pod{}
	err := c.rest.Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(ctx).Into(out)
	return out, err
}

// DeletePod deletes a pod.
func (c *Client) DeletePod(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error {
	return c.rest.Delete().Namespace(namespace).Resource("pods").Name(name).Body(&opts).Do(ctx).Error()
}

// CreateSecret creates a Secret in its namespace.
func (c *Client) CreateSecret(ctx context.Context, s *corev1.Secret) error {
	return c.rest.Post().Namespace(s.Namespace).Resource("secrets").Body(s).Do(ctx).Error()
}

// DeleteSecret deletes a Secret.
func (c *Client) DeleteSecret(ctx context.Context, namespace, name string) error {
	return c.rest.Delete().Namespace(namespace).Resource("secrets").Name(name).Body(&metav1.DeleteOptions{}).Do(ctx).Error()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
