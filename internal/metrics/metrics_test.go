package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/metrics"
)

var (
	fqName     = regexp.MustCompile(`fqName: "([^"]+)"`)
	metricName = regexp.MustCompile(`\bhoist_[a-z0-9_]+`)
)

// exposed lists the names of the hoist_ metrics a server's registry describes.
func exposed(t *testing.T) []string {
	t.Helper()
	m := metrics.NewServer(metrics.Source{Census: func() control.Census { return control.Census{} }, SDKConnections: func() int { return 0 }})
	ch := make(chan *prometheus.Desc, 64)
	go func() { m.Registry.Describe(ch); close(ch) }()
	var names []string
	for d := range ch {
		if n := fqName.FindStringSubmatch(d.String()); n != nil && strings.HasPrefix(n[1], "hoist_") {
			names = append(names, n[1])
		}
	}
	return names
}

// expressions collects every "expr" and "query" string in a dashboard's JSON.
func expressions(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query") {
				*out = append(*out, s)
			}
			expressions(x, out)
		}
	case []any:
		for _, x := range v {
			expressions(x, out)
		}
	}
}

// The Grafana dashboard's queries name only metrics the server exposes (a histogram's
// _bucket, _sum and _count series included), and every one of them has a panel.
func TestDashboardNamesExposedMetrics(t *testing.T) {
	names := exposed(t)
	if len(names) < 10 {
		t.Fatalf("the registry describes only %v", names)
	}
	raw, err := os.ReadFile("../../deploy/grafana/hoist-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	expressions(dashboard, &exprs)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, n := range metricName.FindAllString(e, -1) {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(n, suffix); ok && slices.Contains(names, b) {
					base = b
				}
			}
			if !slices.Contains(names, base) {
				t.Errorf("the dashboard queries %s, which the server does not expose: %s", n, e)
			}
			used[base] = true
		}
	}
	for _, n := range names {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}
