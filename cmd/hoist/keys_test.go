package main

import (
	"context"
	"encoding/json"
	"errors"
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
