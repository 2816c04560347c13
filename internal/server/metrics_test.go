package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hoist-dev/hoist/internal/server"
)

// scrape reads url's metrics over HTTP with basic auth (none when id is ""), and parses
// them with Prometheus's text parser. It returns the status and, for 200, the families.
func scrape(t *testing.T, url, id, secret string) (int, http.Header, map[string]*dto.MetricFamily) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+server.MetricsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, resp.Header, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return resp.StatusCode, resp.Header, families
}

// value is the value of the one sample of family name whose labels include want; -1
// when there is none.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// The metrics count what a test did: three game sessions made ACTIVE on three processes of
// a fleet, a fourth refused for want of capacity, two players reserved; read over HTTP
// with an access key pair as basic auth.
func TestMetricsCountWhatHappened(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	procs := []*gameProcess{
		startProcess(t, w, "proc-1", 7001, true), startProcess(t, w, "proc-2", 7002, true), startProcess(t, w, "proc-3", 7003, true),
	}
	eventually(t, "three processes are ready", func() bool { return w.activeProcesses(t) == 3 })
	var first *types.GameSession
	for range procs {
		gs, err := w.createSession(ctx, "", 4)
		if err != nil {
			t.Fatal(err)
		}
		first = gs
	}
	_, err := w.createSession(ctx, "", 4)
	apiError(t, err, "FleetCapacityExceededException")
	for _, p := range procs {
		select {
		case <-p.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a process was not given its session")
		}
	}
	for _, player := range []string{"alice", "bob"} {
		must(w.api.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: first.GameSessionId, PlayerId: aws.String(player)}))(t)
	}

	fleet := map[string]string{"fleet": w.fleetID, "location": "custom-sdk-1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range fleet {
			m[k] = v
		}
		return m
	}
	var got map[string]*dto.MetricFamily
	eventually(t, "the three sessions are ACTIVE in the metrics", func() bool {
		_, _, got = scrape(t, w.srv.Endpoint, testCreds.AccessKeyID, testCreds.SecretAccessKey)
		return value(got, "hoist_game_sessions", with("status", "ACTIVE")) == 3
	})
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hoist_api_requests_total", map[string]string{"operation": "CreateGameSession", "result": "success"}, 3},
		{"hoist_api_requests_total", map[string]string{"operation": "CreateGameSession", "result": "FleetCapacityExceededException"}, 1},
		{"hoist_api_requests_total", map[string]string{"operation": "CreatePlayerSession", "result": "success"}, 2},
		{"hoist_api_request_duration_seconds", map[string]string{"operation": "CreateGameSession"}, 4},
		{"hoist_game_sessions", with("status", "ACTIVATING"), -1},
		{"hoist_server_processes", with("state", "hosting"), 3},
		{"hoist_server_processes", with("state", "idle"), -1},
		{"hoist_player_sessions", with("status", "RESERVED"), 2},
		{"hoist_sdk_connections", nil, 3},
	} {
		if v := value(got, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if v := value(got, "hoist_store_commit_duration_seconds", map[string]string{"store": "sqlite"}); v < 1 {
		t.Errorf("store commits observed: %v, want some", v)
	}

	// TerminateGameSession: the session is TERMINATING until its process ends it.
	must(w.api.TerminateGameSession(ctx, &gl.TerminateGameSessionInput{GameSessionId: first.GameSessionId,
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}))(t)
	_, _, got = scrape(t, w.srv.Endpoint, testCreds.AccessKeyID, testCreds.SecretAccessKey)
	if a, tm := value(got, "hoist_game_sessions", with("status", "ACTIVE")), value(got, "hoist_game_sessions", with("status", "TERMINATING")); a != 2 || tm != 1 {
		t.Errorf("after TerminateGameSession: %v ACTIVE, %v TERMINATING; want 2 and 1", a, tm)
	}
}

// /metrics on the main listener needs an access key allowed hoist:GetMetrics; the
// --metrics-listen listener needs none.
func TestMetricsAuthentication(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, Logger: quietLogger(), MetricsAddr: "127.0.0.1:0", NoLocalAgent: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	backend := createKey(t, srv, testCreds, "backend", "Describe*", "CreateGameSession")
	scraper := createKey(t, srv, testCreds, "prometheus", server.MetricsOperation)

	for _, c := range []struct {
		name       string
		id, secret string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"a wrong secret", testCreds.AccessKeyID, "not-the-secret", http.StatusUnauthorized},
		{"an unknown key", "AKNOBODY", "whatever", http.StatusUnauthorized},
		{"a key not allowed hoist:GetMetrics", backend.AccessKeyID, backend.SecretAccessKey, http.StatusUnauthorized},
		{"a key allowed hoist:GetMetrics", scraper.AccessKeyID, scraper.SecretAccessKey, http.StatusOK},
		{"an admin key", testCreds.AccessKeyID, testCreds.SecretAccessKey, http.StatusOK},
	} {
		status, header, _ := scrape(t, srv.Endpoint, c.id, c.secret)
		if status != c.want {
			t.Errorf("with %s: status %d, want %d", c.name, status, c.want)
		}
		if status == http.StatusUnauthorized && header.Get("WWW-Authenticate") == "" {
			t.Errorf("with %s: 401 without WWW-Authenticate", c.name)
		}
	}

	if srv.MetricsEndpoint == "" {
		t.Fatal("no metrics endpoint for MetricsAddr")
	}
	status, _, got := scrape(t, srv.MetricsEndpoint, "", "")
	if status != http.StatusOK {
		t.Fatalf("metrics listener: status %d", status)
	}
	// The createKey calls above are counted, under Hoist's own operation name.
	if v := value(got, "hoist_api_requests_total", map[string]string{"operation": "hoist:CreateAccessKey", "result": "success"}); v != 2 {
		t.Errorf("hoist:CreateAccessKey successes = %v, want 2", v)
	}
}
