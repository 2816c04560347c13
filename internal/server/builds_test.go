package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// A build upload is authenticated from its headers before a byte of its body is read or
// written to disk; the body must then be the one whose SHA-256 the signature covers.
func TestBuildUploadIsAuthenticatedBeforeItsBody(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	srv, c := start(t, dataDir)
	build := aws.ToString(must(c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("lobby")}))(t).Build.BuildId)
	url := srv.Endpoint + builds.UploadPath + build
	uploads := func() []string {
		m, _ := filepath.Glob(filepath.Join(dataDir, "builds", "upload-*"))
		return m
	}

	// Headers announcing 1 GiB, unsigned, and no body: refused at once, nothing on disk.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.Endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failsafe: the body never comes
	fmt.Fprintf(conn, "PUT %s%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\nContent-Length: %d\r\n\r\n", builds.UploadPath, build, 1<<30)
	conn.Write(make([]byte, 1<<20)) // the first MiB of it
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an unsigned upload before its body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned upload: %s", resp.Status)
	}
	if u := uploads(); len(u) != 0 {
		t.Errorf("an unsigned upload was written to disk: %v", u)
	}

	archive := zipOf(t, map[string]string{"bin/lobby": "#!/bin/sh\n"})
	sum := sha256.Sum256(archive)
	signed := func(body []byte, declared string, length int64) *http.Request {
		req := must(http.NewRequest(http.MethodPut, url, bytes.NewReader(body)))(t)
		req.ContentLength = length
		if declared != "" {
			req.Header.Set("X-Amz-Content-Sha256", declared)
		}
		creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "gamelift", "us-west-2", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	tampered := bytes.Clone(archive)
	tampered[len(tampered)/2] ^= 0xff
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"hash not declared", signed(archive, "", int64(len(archive))), 403, "IncompleteSignatureException"},
		{"body is not the one signed for", signed(tampered, hex.EncodeToString(sum[:]), int64(len(tampered))), 403, "InvalidSignatureException"},
		{"no Content-Length", signed(archive, hex.EncodeToString(sum[:]), -1), 411, "MissingContentLength"},
		{"over the limit", signed(nil, hex.EncodeToString(sum[:]), 6<<30), 400, "InvalidRequestException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.ContentLength == 6<<30 {
				// Announce 6 GiB, send none of it: the answer must not wait for it.
				done := make(chan struct{})
				defer close(done)
				tc.req.Body = io.NopCloser(blockingReader{done})
			}
			resp, err := http.DefaultClient.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]string
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tc.status || out["__type"] != tc.code {
				t.Errorf("got %s %v, want %d %s", resp.Status, out, tc.status, tc.code)
			}
			if u := uploads(); len(u) != 0 {
				t.Errorf("a refused upload stays on disk: %v", u)
			}
		})
	}
	if st := must(c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: &build}))(t).Build.Status; st != types.BuildStatusInitialized {
		t.Errorf("after refused uploads the build is %s", st)
	}
	resp, err = http.DefaultClient.Do(signed(archive, hex.EncodeToString(sum[:]), int64(len(archive))))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("signed upload: %v %v", resp, err)
	}
	resp.Body.Close()
	if st := must(c.DescribeBuild(ctx, &gl.DescribeBuildInput{BuildId: &build}))(t).Build.Status; st != types.BuildStatusReady {
		t.Errorf("after the upload the build is %s", st)
	}
}

// blockingReader is a body that does not come until done is closed.
type blockingReader struct{ done <-chan struct{} }

func (b blockingReader) Read([]byte) (int, error) {
	<-b.done
	return 0, io.ErrUnexpectedEOF
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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
