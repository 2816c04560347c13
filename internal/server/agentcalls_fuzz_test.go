package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// FuzzAgentCall feeds arbitrary bodies (and, for log uploads, queries) through the real
// agent endpoints, in front of a real service with an Anywhere fleet and a registered
// compute whose token the seeds carry. The property: no panic, and every answer is 200 or
// a GameLift exception in JSON that is the caller's fault (4xx) or a throttle (503),
// never an internal failure.
func FuzzAgentCall(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hoist.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc, err := control.New(ctx, control.Config{Store: st, Region: "us-west-2", SDKEndpoint: "ws://127.0.0.1:1",
		Logger: slog.New(slog.DiscardHandler), LogDir: filepath.Join(dir, "logs"), LogURL: "http://127.0.0.1:1/logs/"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(svc.Close)
	s := gamelift.String
	if _, err := svc.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: s("custom-fuzz-1")}); err != nil {
		f.Fatal(err)
	}
	fleet, err := svc.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: s("fuzz"), ComputeType: s("ANYWHERE"),
		Locations: []gamelift.LocationConfiguration{{Location: s("custom-fuzz-1")}}})
	if err != nil {
		f.Fatal(err)
	}
	fleetID := gamelift.Value(fleet.FleetAttributes.FleetId)
	if _, err := svc.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: &fleetID, ComputeName: s("host-1"),
		IpAddress: s("127.0.0.1"), Location: s("custom-fuzz-1")}); err != nil {
		f.Fatal(err)
	}
	tok, err := svc.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: s("host-1")})
	if err != nil {
		f.Fatal(err)
	}
	token := gamelift.Value(tok.AuthToken)
	budget := awsproto.NewBudget(awsproto.DefaultBudget, time.Second)
	log := slog.New(slog.DiscardHandler)

	call := func(m map[string]any) []byte {
		m["FleetId"], m["ComputeName"], m["AuthToken"] = fleetID, "host-1", token
		b, _ := json.Marshal(m)
		return b
	}
	auth := url.Values{"FleetId": {fleetID}, "ComputeName": {"host-1"}, "AuthToken": {token}, "ProcessId": {"p-1"}}.Encode()
	f.Add(false, "", call(map[string]any{"Action": "ReportEvent", "EventCode": "FLEET_STATE_ACTIVE", "Message": "hello"}))
	f.Add(false, "", call(map[string]any{"Action": "TerminateProcess", "ProcessId": "p-1", "Force": true}))
	f.Add(false, "", call(map[string]any{"Action": "ProcessLogPaths", "ProcessId": "p-1"}))
	f.Add(false, "", call(map[string]any{"Action": "ProcessExited", "ProcessId": "p-1", "EventCode": "SERVER_PROCESS_CRASHED", "Message": "exit status 2"}))
	f.Add(false, "", call(map[string]any{"Action": "Nonsense"}))
	f.Add(false, "", []byte(`{"Action":"ReportEvent","FleetId":"fleet-x","AuthToken":"forged"}`))
	f.Add(false, "", []byte(`{"Action":`))
	f.Add(false, "", []byte(`[1,2,3]`))
	f.Add(true, auth, []byte("PK\x03\x04 not really a zip"))
	f.Add(true, "FleetId=%zz", []byte{})

	f.Fuzz(func(t *testing.T, logs bool, query string, body []byte) {
		var req *http.Request
		if logs {
			req = httptest.NewRequest(http.MethodPut, AgentLogsPath, bytes.NewReader(body))
			req.URL.RawQuery = query
		} else {
			req = httptest.NewRequest(http.MethodPost, AgentPath, bytes.NewReader(body))
		}
		w := httptest.NewRecorder()
		if logs {
			serveAgentLogs(w, req, svc, log)
		} else {
			serveAgentCall(w, req, svc, budget, log)
		}
		if w.Code == http.StatusOK {
			return
		}
		var e struct {
			Type string `json:"__type"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Type == "" {
			t.Fatalf("answer %d %q is no GameLift exception", w.Code, w.Body.Bytes())
		}
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("body %q: %d %s", body, w.Code, e.Type)
		}
	})
}
