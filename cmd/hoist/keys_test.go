package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"

	"github.com/hoist-dev/hoist/internal/server"
)

// TestKeysCommands: hoist keys create, list and delete against a live server, and the key
// made works, only for what it was given.
func TestKeysCommands(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Credentials{AccessKeyID: "AKADMIN", SecretAccessKey: "admin-secret"})

	out, _, err := runHoist("keys", "create", "--name", "backend", "--allow", "CreateGameSession,CreatePlayerSession*,Describe*,Search*", "--endpoint", srv.Endpoint, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var pair map[string]string
	if err := json.Unmarshal([]byte(out), &pair); err != nil || len(pair) != 2 || !strings.HasPrefix(pair["AccessKeyId"], "AKHOIST") || len(pair["SecretAccessKey"]) != 40 {
		t.Fatalf("create --output json = %q (%v), want exactly AccessKeyId and SecretAccessKey", out, err)
	}
	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(pair["AccessKeyId"], pair["SecretAccessKey"], "")})
	if _, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{}); err != nil {
		t.Errorf("the new key, an allowed call: %v", err)
	}
	var ae smithy.APIError
	if _, err := c.ListFleets(ctx, &gl.ListFleetsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("the new key, a call it was not given: %v", err)
	}

	out, _, err = runHoist("keys", "list", "--endpoint", srv.Endpoint)
	if err != nil || !strings.Contains(out, "admin ") || !strings.Contains(out, "backend ") || strings.Contains(out, pair["SecretAccessKey"]) {
		t.Errorf("list = %q, %v", out, err)
	}
	if _, _, err := runHoist("keys", "create", "--name", "x", "--allow", "DeleteFleeet", "--endpoint", srv.Endpoint); err == nil || !strings.Contains(err.Error(), "matches no operation") {
		t.Errorf("a typo in --allow: %v", err)
	}
	if out, _, err = runHoist("keys", "delete", "backend", "--endpoint", srv.Endpoint); err != nil || !strings.Contains(out, "Deleted key backend") {
		t.Errorf("delete = %q, %v", out, err)
	}
	if _, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("the deleted key: %v", err)
	}
	if _, _, err := runHoist("keys", "delete", "admin", "--endpoint", srv.Endpoint); err == nil || !strings.Contains(err.Error(), "last admin key") {
		t.Errorf("deleting the last admin key: %v", err)
	}

	// Signed with a scoped key, key management is refused.
	t.Setenv("HOIST_ACCESS_KEY_ID", pair["AccessKeyId"])
	if _, _, err := runHoist("keys", "list", "--endpoint", srv.Endpoint); err == nil {
		t.Error("a deleted key listed keys")
	}
}

// TestKeysCreateWithinMaker: hoist keys create signed with a key allowed to make keys
// makes only keys allowed no more than that key, whatever its pattern; h* is refused.
func TestKeysCreateWithinMaker(t *testing.T) {
	admin := server.Credentials{AccessKeyID: "AKADMIN", SecretAccessKey: "admin-secret"}
	srv := startServer(t, admin)
	for _, tc := range []struct {
		allow   string
		made    []string // the --allow lists it may make
		refused []string // and those it may not
	}{
		{"hoist:CreateAccessKey", []string{"hoist:CreateAccessKey"}, []string{"*", "hoist:*", "hoist:ListAccessKeys", "DeleteFleet"}},
		{"hoist:Create*", []string{"hoist:CreateAccessKey", "hoist:Create*"}, []string{"*", "hoist:*", "hoist:DeleteAccessKey"}},
		{"hoist:*", []string{"hoist:*", "hoist:Replica*", "hoist:ListAccessKeys"}, []string{"*", "DeleteFleet", "Create*"}},
		{"hoist:CreateAccessKey,Describe*", []string{"DescribeFleetAttributes", "Describe*"}, []string{"*", "Create*", "DeleteFleet"}},
		{"*", []string{"*", "hoist:*", "DeleteFleet"}, nil},
	} {
		t.Run(tc.allow, func(t *testing.T) {
			t.Setenv("HOIST_ACCESS_KEY_ID", admin.AccessKeyID)
			t.Setenv("HOIST_SECRET_ACCESS_KEY", admin.SecretAccessKey)
			maker := keysCreate(t, srv, tc.allow)
			t.Setenv("HOIST_ACCESS_KEY_ID", maker["AccessKeyId"])
			t.Setenv("HOIST_SECRET_ACCESS_KEY", maker["SecretAccessKey"])
			for _, allow := range tc.made {
				keysCreate(t, srv, allow)
			}
			for _, allow := range tc.refused {
				_, _, err := runHoist("keys", "create", "--name", fmt.Sprintf("k%d", rand.Int()), "--allow", allow, "--endpoint", srv.Endpoint)
				if err == nil || !strings.Contains(err.Error(), "not authorized to create a key") {
					t.Errorf("a key allowed %s made a key allowed %s: %v", tc.allow, allow, err)
				}
			}
			if tc.allow != "*" {
				if _, _, err := runHoist("keys", "delete", "admin", "--endpoint", srv.Endpoint); err == nil {
					t.Errorf("a key allowed %s deleted the admin key", tc.allow)
				}
			}
		})
	}
	t.Setenv("HOIST_ACCESS_KEY_ID", admin.AccessKeyID)
	t.Setenv("HOIST_SECRET_ACCESS_KEY", admin.SecretAccessKey)
	if _, _, err := runHoist("keys", "create", "--name", "h", "--allow", "h*", "--endpoint", srv.Endpoint); err == nil || !strings.Contains(err.Error(), "matches no operation") {
		t.Errorf("h* at creation: %v", err)
	}
}

// keysCreate runs hoist keys create with a fresh name and returns the pair it prints.
func keysCreate(t *testing.T, srv *server.Server, allow string) map[string]string {
	t.Helper()
	out, _, err := runHoist("keys", "create", "--name", fmt.Sprintf("k%d", rand.Int()), "--allow", allow, "--endpoint", srv.Endpoint, "--output", "json")
	if err != nil {
		t.Fatalf("keys create --allow %s: %v", allow, err)
	}
	var pair map[string]string
	if err := json.Unmarshal([]byte(out), &pair); err != nil {
		t.Fatal(err)
	}
	return pair
}

// --trusted-proxy takes addresses and CIDRs; anything else is refused.
func TestTrustedProxyFlag(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", "192.0.2.7": "192.0.2.7/32", "::ffff:192.0.2.7": "192.0.2.7/32", "10.1.2.3/8": "10.0.0.0/8", "fd00::/8": "fd00::/8"} {
		if p, err := parsePrefix(in); err != nil || p.String() != want {
			t.Errorf("parsePrefix(%s) = %v, %v; want %s", in, p, err, want)
		}
	}
	if _, err := parsePrefix("proxy.internal"); err == nil {
		t.Error("a host name was accepted")
	}
	if _, _, err := runHoist("server", "--trusted-proxy", "nonsense", "--help"); err == nil {
		t.Error("--trusted-proxy nonsense was accepted")
	}
}
