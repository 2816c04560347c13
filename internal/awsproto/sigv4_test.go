package awsproto_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"

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

// TestOperationMustBeSigned: a signature that leaves out the header naming the operation
// (X-Amz-Target) or the body's Content-Type could be replayed as another operation, so
// both must be among SignedHeaders, as AWS requires.
func TestOperationMustBeSigned(t *testing.T) {
	api := awsproto.New(map[string]awsproto.Handler{"ResolveAlias": awsproto.Op(resolveAlias), "DescribeAlias": awsproto.Op(resolveAlias)},
		awsproto.StaticKeys{"AKID": "SECRET"}, awsproto.Options{})
	ts := httptest.NewServer(api)
	defer ts.Close()

	// sign signs req with only the headers it has, then sets the others, unsigned.
	sign := func(req *http.Request, body []byte, unsigned map[string]string) *http.Request {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "gamelift", "us-west-2", time.Now()); err != nil {
			t.Fatal(err)
		}
		for k, v := range unsigned {
			req.Header.Set(k, v)
		}
		return req
	}
	jsonBody := []byte(`{"AliasId":"alias-1"}`)
	jsonReq := func(headers map[string]string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader(jsonBody))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return req
	}
	cborBody, _ := cbor.Marshal(map[string]string{"AliasId": "alias-1"})
	cborReq := func(headers map[string]string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/service/GameLift/operation/ResolveAlias", bytes.NewReader(cborBody))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return req
	}
	const jsonType, cborType = "application/x-amz-json-1.1", "application/cbor"
	target := "GameLift.ResolveAlias"
	cases := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"JSON, all signed", sign(jsonReq(map[string]string{"Content-Type": jsonType, "X-Amz-Target": target}), jsonBody, nil), ""},
		{"JSON, target unsigned", sign(jsonReq(map[string]string{"Content-Type": jsonType}), jsonBody, map[string]string{"X-Amz-Target": target}), "IncompleteSignatureException"},
		// The replay the rule stops: a signature over host and date only, reused for
		// another operation.
		{"JSON, replayed as another operation", sign(jsonReq(nil), jsonBody, map[string]string{"Content-Type": jsonType, "X-Amz-Target": "GameLift.DescribeAlias"}), "IncompleteSignatureException"},
		{"JSON, content type unsigned", sign(jsonReq(map[string]string{"X-Amz-Target": target}), jsonBody, map[string]string{"Content-Type": jsonType}), "IncompleteSignatureException"},
		{"CBOR, all signed", sign(cborReq(map[string]string{"Content-Type": cborType}), cborBody, nil), ""},
		{"CBOR, content type unsigned", sign(cborReq(nil), cborBody, map[string]string{"Content-Type": cborType}), "IncompleteSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out map[string]any
			if strings.HasPrefix(resp.Header.Get("Content-Type"), cborType) {
				err = cbor.Unmarshal(raw, &out)
			} else {
				err = json.Unmarshal(raw, &out)
			}
			if err != nil {
				t.Fatalf("answer %q: %v", raw, err)
			}
			switch {
			case tc.code == "" && (resp.StatusCode != 200 || out["FleetId"] != "fleet-1"):
				t.Errorf("got %d %v, want the answer", resp.StatusCode, out)
			case tc.code != "" && (resp.StatusCode != 403 || out["__type"] != tc.code):
				t.Errorf("got %d %v, want 403 %s", resp.StatusCode, out, tc.code)
			}
		})
	}
}

// TestRefusedBeforeTheBody: what the headers alone show to be unauthenticated or too big is
// answered at once, without waiting for (or reading) the body the request announces.
func TestRefusedBeforeTheBody(t *testing.T) {
	api := awsproto.New(map[string]awsproto.Handler{"ResolveAlias": awsproto.Op(resolveAlias)},
		awsproto.StaticKeys{"AKID": "SECRET"}, awsproto.Options{})
	ts := httptest.NewServer(api)
	defer ts.Close()

	now := time.Now().UTC()
	auth := func(key string, at time.Time, signed string) string {
		return "AWS4-HMAC-SHA256 Credential=" + key + "/" + at.Format("20060102") + "/us-west-2/gamelift/aws4_request, SignedHeaders=" + signed + ", Signature=" + strings.Repeat("0", 64)
	}
	const allSigned = "content-type;host;x-amz-date;x-amz-target"
	cases := []struct {
		name, authorization string
		at                  time.Time
		length              int
		code                string
	}{
		{"no Authorization", "", now, awsproto.MaxBodyBytes - 1, "MissingAuthenticationTokenException"},
		{"malformed Authorization", "AWS4-HMAC-SHA256 garbage", now, awsproto.MaxBodyBytes - 1, "IncompleteSignatureException"},
		{"unknown key", auth("AKNOBODY", now, allSigned), now, awsproto.MaxBodyBytes - 1, "UnrecognizedClientException"},
		{"stale date", auth("AKID", now.Add(-time.Hour), allSigned), now.Add(-time.Hour), awsproto.MaxBodyBytes - 1, "InvalidSignatureException"},
		{"target not signed", auth("AKID", now, "content-type;host;x-amz-date"), now, awsproto.MaxBodyBytes - 1, "IncompleteSignatureException"},
		{"body over the limit", auth("AKID", now, allSigned), now, awsproto.MaxBodyBytes + 1, "SerializationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A failsafe, not a measure of speed: the body never comes, so a server that
			// waits for it never answers.
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			head := "POST / HTTP/1.1\r\nHost: " + ts.Listener.Addr().String() + "\r\n" +
				"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: GameLift.ResolveAlias\r\n" +
				"X-Amz-Date: " + tc.at.Format("20060102T150405Z") + "\r\n" +
				"Content-Length: " + strconv.Itoa(tc.length) + "\r\n"
			if tc.authorization != "" {
				head += "Authorization: " + tc.authorization + "\r\n"
			}
			if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer before the body: %v", err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			if out["__type"] != tc.code {
				t.Errorf("got %d %v, want %s", resp.StatusCode, out, tc.code)
			}
		})
	}
}
