package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/builds"
)

// A build uploaded to Hoist (no S3) runs on a managed fleet: /local/game/ in the launch
// path is the build, unpacked on the host by its agent.
func TestBuildRunsOnAManagedFleet(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, t.TempDir())
	dir := t.TempDir()
	bin, err := os.ReadFile(gameServerBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "bin", "lobby"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	archive, err := builds.Zip(dir)
	if err != nil {
		t.Fatal(err)
	}

	b := must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("lobby"), Version: aws.String("1.0")}))(t).Build
	if b.Status != types.BuildStatusInitialized {
		t.Errorf("new build is %s", b.Status)
	}
	_, err = c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("early"), BuildId: b.BuildId,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/local/game/bin/lobby"), ConcurrentExecutions: aws.Int32(1)}}}})
	apiError(t, err, "InvalidRequestException") // not READY yet

	// Uploads are signed like API calls.
	resp, err := http.DefaultClient.Do(must(http.NewRequest(http.MethodPut, srv.Endpoint+builds.UploadPath+aws.ToString(b.BuildId), bytes.NewReader(archive)))(t))
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned upload: %v %v", resp.Status, err)
	}
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	if err := builds.Upload(ctx, srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), creds, archive); err != nil {
		t.Fatal(err)
	}
	ready := must(c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: b.BuildArn}))(t).Build
	if ready.Status != types.BuildStatusReady || aws.ToInt64(ready.SizeOnDisk) != int64(len(bin)) {
		t.Errorf("after upload: %s, %d bytes", ready.Status, aws.ToInt64(ready.SizeOnDisk))
	}
	if err := builds.Upload(ctx, srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), creds, archive); err == nil {
		t.Error("a second upload to a READY build was accepted")
	}

	fleet := must(c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("lobby"), BuildId: b.BuildId,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{
			{LaunchPath: aws.String("/local/game/bin/lobby"), Parameters: aws.String("-port 0"), ConcurrentExecutions: aws.Int32(2)}}}}))(t).FleetAttributes
	if aws.ToString(fleet.BuildId) != aws.ToString(b.BuildId) || aws.ToString(fleet.BuildArn) != aws.ToString(b.BuildArn) {
		t.Errorf("fleet build = %s %s", aws.ToString(fleet.BuildId), aws.ToString(fleet.BuildArn))
	}
	eventually(t, "2 processes of the build run", func() bool { return fleetProcesses(t, c, fleet.FleetId) == 2 })
	ids := must(c.ListFleets(ctx, &gl.ListFleetsInput{BuildId: b.BuildId}))(t).FleetIds
	if !slices.Equal(ids, []string{aws.ToString(fleet.FleetId)}) {
		t.Errorf("ListFleets(build) = %v", ids)
	}
	listed := must(c.ListBuilds(ctx, &gl.ListBuildsInput{Status: types.BuildStatusReady}))(t).Builds
	if len(listed) != 1 {
		t.Errorf("ListBuilds(READY) = %d builds", len(listed))
	}
	renamed := must(c.UpdateBuild(ctx, &gl.UpdateBuildInput{BuildId: b.BuildId, Version: aws.String("1.1")}))(t).Build
	if aws.ToString(renamed.Version) != "1.1" || aws.ToString(renamed.Name) != "lobby" {
		t.Errorf("UpdateBuild = %+v", renamed)
	}
	_, err = c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("s3"), StorageLocation: &types.S3Location{Bucket: aws.String("b"), Key: aws.String("k")}})
	apiError(t, err, "InvalidRequestException")
}

// An archive with an entry escaping the build directory is refused at upload.
func TestBuildArchiveThatEscapesIsRefused(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, t.TempDir())
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("../../evil.sh")
	io.WriteString(w, "#!/bin/sh\n")
	zw.Close()
	b := must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("evil")}))(t).Build
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	if err := builds.Upload(ctx, srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), creds, buf.Bytes()); err == nil {
		t.Error("an archive escaping the build directory was accepted")
	}
	if st := must(c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: b.BuildId}))(t).Build.Status; st != types.BuildStatusInitialized {
		t.Errorf("after a refused upload the build is %s", st)
	}
	must(c.DeleteBuild(ctx, &gl.DeleteBuildInput{BuildId: b.BuildId}))(t)
	_, err := c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: b.BuildId})
	apiError(t, err, "NotFoundException")
}

// A zip bomb (16 MiB of zeros in a few KB) is refused at upload: the build stays
// INITIALIZED, and no host is ever asked to unpack it.
func TestBuildZipBombIsRefused(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t, t.TempDir())
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("game/level.dat")
	zero := make([]byte, 64<<10)
	for range 256 {
		w.Write(zero)
	}
	zw.Close()
	b := must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("bomb")}))(t).Build
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
	err := builds.Upload(ctx, srv.Endpoint, "us-west-2", aws.ToString(b.BuildId), creds, buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), "InvalidRequestException") || !strings.Contains(err.Error(), "limits") {
		t.Errorf("uploading a %d-byte archive of 16 MiB: %v", buf.Len(), err)
	}
	if st := must(c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: b.BuildId}))(t).Build.Status; st != types.BuildStatusInitialized {
		t.Errorf("after a refused upload the build is %s", st)
	}
}
