package awsproto_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

func resolveAlias(_ context.Context, in *gamelift.ResolveAliasInput) (*gamelift.ResolveAliasOutput, error) {
	return &gamelift.ResolveAliasOutput{FleetId: gamelift.String("fleet-" + strings.TrimPrefix(*in.AliasId, "alias-"))}, nil
}

// TestSignatures pins how requests signed by the AWS SDK's SigV4 signer are verified: each
// way a signature can be wrong gets AWS's exception name and a 403.
func TestSignatures(t *testing.T) {
	api := awsproto.New(map[string]awsproto.Handler{"ResolveAlias": awsproto.Op(resolveAlias)},
		awsproto.StaticKeys{"AKID": "SECRET"}, awsproto.Options{})
	ts := httptest.NewServer(api)
	defer ts.Close()

	body := []byte(`{"AliasId":"alias-1"}`)
	request := func(sign func(*http.Request)) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "GameLift.ResolveAlias")
		sign(req)
		return req
	}
	signWith := func(id, secret string, at time.Time, signed []byte) func(*http.Request) {
		return func(req *http.Request) {
			sum := sha256.Sum256(signed)
			creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "gamelift", "us-west-2", at); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Now()
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"good", request(signWith("AKID", "SECRET", now, body)), 200, ""},
		{"signed 14 minutes ago", request(signWith("AKID", "SECRET", now.Add(-14*time.Minute), body)), 200, ""},
		{"wrong secret", request(signWith("AKID", "NOT-SECRET", now, body)), 403, "InvalidSignatureException"},
		{"unknown key", request(signWith("AKNOBODY", "SECRET", now, body)), 403, "UnrecognizedClientException"},
		{"stale date", request(signWith("AKID", "SECRET", now.Add(-16*time.Minute), body)), 403, "InvalidSignatureException"},
		{"date from the future", request(signWith("AKID", "SECRET", now.Add(16*time.Minute), body)), 403, "InvalidSignatureException"},
		{"body changed after signing", request(signWith("AKID", "SECRET", now, []byte(`{"AliasId":"alias-2"}`))), 403, "InvalidSignatureException"},
		{"no signature", request(func(*http.Request) {}), 403, "MissingAuthenticationTokenException"},
		{"not SigV4", request(func(r *http.Request) { r.Header.Set("Authorization", "Basic YTpi") }), 403, "IncompleteSignatureException"},
		{"signed header altered", request(func(r *http.Request) {
			signWith("AKID", "SECRET", now, body)(r)
			r.Header.Set("Content-Type", "application/json")
		}), 403, "InvalidSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tc.status || tc.code != "" && out["__type"] != tc.code {
				t.Errorf("got %d %v, want %d %s", resp.StatusCode, out, tc.status, tc.code)
			}
			if tc.code == "" && out["FleetId"] != "fleet-1" {
				t.Errorf("answer = %v", out)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
}
