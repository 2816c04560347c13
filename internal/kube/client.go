package kube

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
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

// Client is a clientset whose requests are rate limited and counted.
type Client struct {
	kubernetes.Interface
	requests atomic.Int64
}

// NewClient makes a clientset from cfg, limited to qps requests a second (bursts of
// burst), counting the requests it sends.
func NewClient(cfg *rest.Config, qps float32, burst int) (*Client, error) {
	c := &Client{}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = qps, burst
	cfg.UserAgent = "hoist"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.requests.Add(1)
			return rt.RoundTrip(r)
		})
	})
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c.Interface = cs
	return c, nil
}

// Requests counts the API requests sent so far (a watch counts once, however long it runs).
func (c *Client) Requests() int64 { return c.requests.Load() }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// OwnNamespace is the namespace of the pod Hoist runs in, from its service account; ""
// outside a cluster.
func OwnNamespace() string {
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
