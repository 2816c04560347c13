package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/server"
)

// createKey makes a key with Hoist.CreateAccessKey, signed by as.
func createKey(t *testing.T, srv *server.Server, as server.Credentials, name string, allow ...string) server.Credentials {
	t.Helper()
	status, out := callJSONAs(t, srv.Endpoint, as, "Hoist.CreateAccessKey", map[string]any{"Name": name, "Allow": allow})
	if status != http.StatusOK {
		t.Fatalf("create key %s: %d %v", name, status, out)
	}
	k := out["AccessKey"].(map[string]any)
	if k["Name"] != name || k["SecretAccessKey"] == "" {
		t.Fatalf("created key = %v", k)
	}
	return server.Credentials{AccessKeyID: k["AccessKeyId"].(string), SecretAccessKey: k["SecretAccessKey"].(string)}
}

func clientAs(srv *server.Server, c server.Credentials) *gl.Client {
	return gl.New(gl.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
	})
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestScopedKeys: a key made for a game backend can do what it was given and nothing
// else, in the API and at the build upload endpoint; keys survive a restart, two can be
// valid at once, and the last admin key stays.
func TestScopedKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, admin := start(t, dir)
	fleet := anywhereFleet(t, admin, "custom-keys-1")

	backend := createKey(t, srv, testCreds, "backend", "CreateGameSession", "CreatePlayerSession*", "Describe*", "Search*")
	bc := clientAs(srv, backend)
	if _, err := bc.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{aws.ToString(fleet.FleetId)}}); err != nil {
		t.Errorf("an allowed call: %v", err)
	}
	// CreateGameSession is allowed: it reaches the service, which finds no process.
	_, err := bc.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: fleet.FleetId, Location: aws.String("custom-keys-1"), MaximumPlayerSessionCount: aws.Int32(2)})
	if code := errorCode(err); code != "FleetCapacityExceededException" {
		t.Errorf("allowed CreateGameSession: %v", err)
	}
	_, err = bc.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: fleet.FleetId})
	msg := apiError(t, err, "AccessDeniedException")
	if !strings.Contains(msg, "user/backend is not authorized to perform: gamelift:DeleteFleet") {
		t.Errorf("AccessDenied message = %q", msg)
	}
	if _, err := bc.GetInstanceAccess(ctx, &gl.GetInstanceAccessInput{FleetId: fleet.FleetId, InstanceId: aws.String("i-1")}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("an operation Hoist lacks, not allowed: %v", err)
	}
	if status, out := callJSONAs(t, srv.Endpoint, backend, "Hoist.CreateAccessKey", map[string]any{"Name": "mine", "Allow": []string{"*"}}); status != http.StatusBadRequest || out["__type"] != "AccessDeniedException" {
		t.Errorf("a scoped key made a key: %d %v", status, out)
	}
	// The build upload endpoint follows the same rules: uploading needs CreateBuild.
	b := must(admin.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("b")}))(t).Build
	err = builds.Upload(ctx, srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), aws.Credentials{AccessKeyID: backend.AccessKeyID, SecretAccessKey: backend.SecretAccessKey}, []byte("PK"))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("a backend key uploaded a build: %v", err)
	}

	// Bad keys are refused with a reason.
	for _, bad := range []map[string]any{
		{"Name": "typo", "Allow": []string{"CreateGameSessoin"}},
		{"Name": "none", "Allow": []string{}},
		{"Name": "bad name!", "Allow": []string{"*"}},
		{"Name": "backend", "Allow": []string{"*"}},
	} {
		if status, out := callJSONAs(t, srv.Endpoint, testCreds, "Hoist.CreateAccessKey", bad); status != http.StatusBadRequest {
			t.Errorf("%v accepted: %v", bad, out)
		}
	}

	// Rotation: a second admin key works alongside the first, which can then go.
	admin2 := createKey(t, srv, testCreds, "admin2", "*")
	if status, out := callJSONAs(t, srv.Endpoint, admin2, "Hoist.DeleteAccessKey", map[string]any{"Name": access.AdminName}); status != http.StatusOK {
		t.Fatalf("delete the first admin key: %d %v", status, out)
	}
	if _, err := admin.ListFleets(ctx, &gl.ListFleetsInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("a deleted key still signs: %v", err)
	}
	if status, out := callJSONAs(t, srv.Endpoint, admin2, "Hoist.DeleteAccessKey", map[string]any{"Name": "admin2"}); status != http.StatusBadRequest || !strings.Contains(out["message"].(string), "last admin key") {
		t.Errorf("deleting the last admin key: %d %v", status, out)
	}
	status, out := callJSONAs(t, srv.Endpoint, admin2, "Hoist.ListAccessKeys", map[string]any{})
	keys, _ := out["AccessKeys"].([]any)
	if status != http.StatusOK || len(keys) != 2 || strings.Contains(strings.ToLower(toJSON(out)), strings.ToLower(backend.SecretAccessKey)) {
		t.Errorf("list = %d %v", status, out)
	}

	// Keys are kept in the store: after a restart the backend key still works and is still
	// scoped.
	srv.Close(ctx)
	srv2, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir, Credentials: admin2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close(ctx)
	bc = clientAs(srv2, backend)
	if _, err := bc.ListFleets(ctx, &gl.ListFleetsInput{}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("after restart, ListFleets by the backend key: %v", err)
	}
	if _, err := bc.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{}); err != nil {
		t.Errorf("after restart, an allowed call: %v", err)
	}
}

// TestFirstKeyStaysDeleted: the key pair kept in the data directory is the first admin
// key; once rotated away it is not brought back by a restart.
func TestFirstKeyStaysDeleted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first := srv.Credentials
	admin2 := createKey(t, srv, first, "ops", "*")
	if status, out := callJSONAs(t, srv.Endpoint, admin2, "Hoist.DeleteAccessKey", map[string]any{"Name": access.AdminName}); status != http.StatusOK {
		t.Fatalf("delete: %d %v", status, out)
	}
	srv.Close(ctx)
	srv, err = server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	if _, err := clientAs(srv, first).ListFleets(ctx, &gl.ListFleetsInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("the deleted first key after restart: %v", err)
	}
	if _, err := clientAs(srv, admin2).ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
		t.Errorf("the new admin key after restart: %v", err)
	}
}

// countingTransport counts the HTTP requests an SDK client sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestThrottling: over its rate a key gets ThrottlingException, which the AWS SDK retries
// by itself until the call goes through.
func TestThrottling(t *testing.T) {
	ctx := context.Background()
	limits, err := access.ParseLimits("ListFleets=2")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds, RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	once := clientAs(srv, testCreds)
	var throttled error
	for range 5 {
		if _, err := once.ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
			throttled = err
			break
		}
	}
	apiError(t, throttled, "ThrottlingException")
	if _, err := once.ListAliases(ctx, &gl.ListAliasesInput{}); err != nil {
		t.Errorf("another operation, not limited: %v", err)
	}

	counter := &countingTransport{}
	retrying := gl.New(gl.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 20,
		HTTPClient:  &http.Client{Transport: counter},
		Credentials: credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
	})
	const calls = 6
	for i := range calls {
		if _, err := retrying.ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
			t.Fatalf("call %d with retries: %v", i, err)
		}
	}
	if n := counter.n.Load(); n <= calls {
		t.Errorf("%d requests for %d calls over the rate: nothing was throttled and retried", n, calls)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// keyProbes call one operation each, harmlessly, and tell whether the key was allowed it
// (any answer but AccessDeniedException): Hoist's key and replica operations in AWS JSON,
// GameLift's with the AWS SDK.
var keyProbes = []struct {
	op   string
	call func(t *testing.T, srv *server.Server, c server.Credentials) bool
}{
	{"hoist:CreateAccessKey", hoistProbe("Hoist.CreateAccessKey", map[string]any{"Name": "probe", "Allow": []string{}})},
	{"hoist:ListAccessKeys", hoistProbe("Hoist.ListAccessKeys", map[string]any{})},
	{"hoist:DeleteAccessKey", hoistProbe("Hoist.DeleteAccessKey", map[string]any{"Name": "no-such-key"})},
	{"hoist:ReplicaUsage", hoistProbe("Hoist.ReplicaUsage", map[string]any{"FleetID": "fleet-none"})},
	{"hoist:ReplicaEndProcess", hoistProbe("Hoist.ReplicaEndProcess", map[string]any{"ProcessID": "none"})},
	{"ListFleets", func(t *testing.T, srv *server.Server, c server.Credentials) bool {
		_, err := clientAs(srv, c).ListFleets(context.Background(), &gl.ListFleetsInput{})
		return errorCode(err) != "AccessDeniedException"
	}},
	{"DeleteFleet", func(t *testing.T, srv *server.Server, c server.Credentials) bool {
		_, err := clientAs(srv, c).DeleteFleet(context.Background(), &gl.DeleteFleetInput{FleetId: aws.String("fleet-00000000-0000-0000-0000-000000000000")})
		return errorCode(err) != "AccessDeniedException"
	}},
}

func hoistProbe(target string, body map[string]any) func(*testing.T, *server.Server, server.Credentials) bool {
	return func(t *testing.T, srv *server.Server, c server.Credentials) bool {
		_, out := callJSONAs(t, srv.Endpoint, c, target, body)
		return out["__type"] != "AccessDeniedException"
	}
}

// abilities probes what a key may do.
func abilities(t *testing.T, srv *server.Server, c server.Credentials) map[string]bool {
	can := map[string]bool{}
	for _, p := range keyProbes {
		can[p.op] = p.call(t, srv, c)
	}
	return can
}

// within names an operation a may do and b may not, or returns "".
func within(a, b map[string]bool) string {
	for op, ok := range a {
		if ok && !b[op] {
			return op
		}
	}
	return ""
}

// TestKeysCannotOutgrowTheirMakers: whatever a key allowed to manage keys is allowed (an
// operation name, a prefix, hoist:*, h*, *), no key it makes, lists into view or deletes
// can do what it cannot; a pattern reaches Hoist's own operations only as README says.
func TestKeysCannotOutgrowTheirMakers(t *testing.T) {
	srv, _ := start(t, t.TempDir())
	createKey(t, srv, testCreds, "admin2", "*")
	every := map[string]bool{}
	for _, p := range keyProbes {
		every[p.op] = true
	}
	children := [][]string{{"*"}, {"hoist:*"}, {"hoist:CreateAccessKey"}, {"hoist:Create*"}, {"hoist:ListAccessKeys"},
		{"hoist:DeleteAccessKey"}, {"hoist:Replica*"}, {"Create*"}, {"ListFleets"}, {"DeleteFleet"}, {"h*"}}
	for _, tc := range []struct {
		name  string
		allow []string
	}{
		{"exact", []string{"hoist:CreateAccessKey"}},
		{"create-prefix", []string{"hoist:Create*"}},
		{"gamelift-create", []string{"Create*"}},
		{"hoist-all", []string{"hoist:*"}},
		{"h-star", []string{"h*"}},
		{"managers", []string{"hoist:CreateAccessKey", "hoist:ListAccessKeys", "hoist:DeleteAccessKey", "ListFleets"}},
		{"all", []string{"*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := callJSONAs(t, srv.Endpoint, testCreds, "Hoist.CreateAccessKey", map[string]any{"Name": tc.name, "Allow": tc.allow})
			if status != http.StatusOK {
				if tc.name != "h-star" {
					t.Fatalf("create %v: %d %v", tc.allow, status, out)
				}
				return // h* reaches no operation: refused at creation
			}
			if tc.name == "h-star" {
				t.Errorf("h* was accepted: it must reach no hoist: operation, and matches no other")
			}
			k := out["AccessKey"].(map[string]any)
			maker := server.Credentials{AccessKeyID: k["AccessKeyId"].(string), SecretAccessKey: k["SecretAccessKey"].(string)}
			can := abilities(t, srv, maker)
			if tc.name == "gamelift-create" && can["hoist:CreateAccessKey"] {
				t.Error("Create* reaches hoist:CreateAccessKey")
			}
			seen := map[string]map[string]bool{tc.name: can, "admin": every, "admin2": every}
			for i, allow := range children {
				name := fmt.Sprintf("%s-child-%d", tc.name, i)
				status, out := callJSONAs(t, srv.Endpoint, maker, "Hoist.CreateAccessKey", map[string]any{"Name": name, "Allow": allow})
				if status != http.StatusOK {
					if slices.Equal(allow, tc.allow) && can["hoist:CreateAccessKey"] {
						t.Errorf("%v may not make a key allowed what it is: %d %v", tc.allow, status, out)
					}
					continue
				}
				k := out["AccessKey"].(map[string]any)
				child := abilities(t, srv, server.Credentials{AccessKeyID: k["AccessKeyId"].(string), SecretAccessKey: k["SecretAccessKey"].(string)})
				if op := within(child, can); op != "" {
					t.Errorf("a key allowed %v made a key allowed %v, which may %s", tc.allow, allow, op)
				}
				seen[name] = child
			}
			if can["hoist:ListAccessKeys"] {
				_, out := callJSONAs(t, srv.Endpoint, maker, "Hoist.ListAccessKeys", map[string]any{})
				for _, v := range out["AccessKeys"].([]any) {
					name := v.(map[string]any)["Name"].(string)
					if other, ok := seen[name]; ok && within(other, can) != "" {
						t.Errorf("a key allowed %v lists %s, which may %s", tc.allow, name, within(other, can))
					}
				}
			}
			if tc.name != "all" {
				for _, victim := range []string{"admin2", "admin"} {
					if status, out := callJSONAs(t, srv.Endpoint, maker, "Hoist.DeleteAccessKey", map[string]any{"Name": victim}); status == http.StatusOK {
						t.Errorf("a key allowed %v deleted %s: %v", tc.allow, victim, out)
					}
				}
			}
		})
	}
	if _, err := clientAs(srv, testCreds).ListFleets(context.Background(), &gl.ListFleetsInput{}); err != nil {
		t.Errorf("the admin key after: %v", err)
	}
}
