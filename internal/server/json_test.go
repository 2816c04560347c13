package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hoist-dev/hoist/internal/server"
)

// callJSON sends a SigV4-signed AWS JSON 1.1 request, as boto3 and the AWS CLI do, and
// returns the status, the error type header and the decoded body.
func callJSON(t *testing.T, endpoint, op string, body any) (int, map[string]any) {
	t.Helper()
	return callJSONAs(t, endpoint, testCreds, "GameLift."+op, body)
}

// callJSONAs sends body to the operation target (GameLift.X or Hoist.X) signed with creds.
func callJSONAs(t *testing.T, endpoint string, c server.Credentials, target string, body any) (int, map[string]any) {
	t.Helper()
	op := target
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(b)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "gamelift", "us-west-2", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type = %q", op, ct)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("%s: no x-amzn-RequestId header", op)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", op, raw, err)
	}
	return resp.StatusCode, out
}

func TestJSONProtocol(t *testing.T) {
	srv, _ := start(t, t.TempDir())

	status, out := callJSON(t, srv.Endpoint, "CreateLocation", map[string]any{"LocationName": "custom-json-1"})
	if status != 200 || out["Location"].(map[string]any)["LocationName"] != "custom-json-1" {
		t.Fatalf("CreateLocation = %d %v", status, out)
	}
	status, out = callJSON(t, srv.Endpoint, "CreateFleet", map[string]any{
		"Name": "json", "ComputeType": "ANYWHERE", "Locations": []any{map[string]any{"Location": "custom-json-1"}},
	})
	if status != 200 {
		t.Fatalf("CreateFleet = %d %v", status, out)
	}
	fa := out["FleetAttributes"].(map[string]any)
	created, ok := fa["CreationTime"].(float64)
	if !ok || time.Since(time.UnixMilli(int64(created*1000))) > time.Minute {
		t.Errorf("CreationTime = %#v, want epoch seconds as a JSON number", fa["CreationTime"])
	}

	// An empty list is an empty JSON list, so clients that index the member find it.
	status, out = callJSON(t, srv.Endpoint, "ListAliases", map[string]any{})
	if list, ok := out["Aliases"].([]any); status != 200 || !ok || len(list) != 0 {
		t.Errorf("ListAliases = %d %v", status, out)
	}
	status, out = callJSON(t, srv.Endpoint, "ListTagsForResource", map[string]any{"ResourceARN": fa["FleetArn"]})
	if list, ok := out["Tags"].([]any); status != 200 || !ok || len(list) != 0 {
		t.Errorf("ListTagsForResource = %d %v", status, out)
	}

	for _, tc := range []struct {
		op   string
		body any
		code string
	}{
		{"DescribeAlias", map[string]any{"AliasId": "alias-00000000-0000-0000-0000-000000000000"}, "NotFoundException"},
		{"CreateLocation", map[string]any{"LocationName": 42}, "SerializationException"},
		{"CreateLocation", map[string]any{}, "InvalidRequestException"},
		{"NoSuchOperation", map[string]any{}, "UnknownOperationException"},
	} {
		status, out := callJSON(t, srv.Endpoint, tc.op, tc.body)
		if status != 400 || out["__type"] != tc.code || out["message"] == "" {
			t.Errorf("%s %v = %d %v, want 400 %s", tc.op, tc.body, status, out, tc.code)
		}
	}
}
