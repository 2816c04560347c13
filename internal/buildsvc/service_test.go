package buildsvc_test

import (
	"archive/zip"
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/buildsvc"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
	"github.com/hoist-dev/hoist/internal/tags"
)

// zipOf is a zip archive of the files named, each holding its name.
func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(name))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Builds run over the core alone: a build is READY once its archive is stored, a managed
// fleet is made of it (the core reads it as its BuildReader), a host of that fleet gets
// its archive, it is tagged through internal/tags' TagResource, and deleting it deletes its
// archive.
func TestBuildOverTheCore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	core, err := control.New(ctx, control.Config{Store: st, Region: "us-west-2", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	archives := filepath.Join(dir, "builds")
	svc := buildsvc.New(buildsvc.Config{Core: core, Builds: st.Builds(), Archives: buildsvc.Dir(archives)})
	core.SetBuildReader(svc)
	tagger := tags.New(tags.Config{Region: "us-west-2", Account: control.AccountID})
	for kind, tt := range svc.Tagged() {
		tagger.Add(kind, tt)
	}
	s := gamelift.String

	b, err := svc.CreateBuild(ctx, &gamelift.CreateBuildInput{Name: s("lobby")})
	if err != nil {
		t.Fatal(err)
	}
	id := gamelift.Value(b.Build.BuildId)
	newFleet := func() (*gamelift.CreateFleetOutput, error) {
		return core.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: s("lobby"), BuildId: b.Build.BuildArn,
			RuntimeConfiguration: &gamelift.RuntimeConfiguration{ServerProcesses: []gamelift.ServerProcess{
				{LaunchPath: s("/local/game/lobby"), ConcurrentExecutions: gamelift.Int32(1)}}}})
	}
	if _, err := newFleet(); !gamelift.IsCode(err, "InvalidRequestException") {
		t.Errorf("a fleet of an INITIALIZED build: %v", err)
	}

	// An archive escaping its directory is refused; a good one makes the build READY.
	upload := func(archive []byte) (gamelift.Build, error) {
		os.MkdirAll(archives, 0o700)
		path := filepath.Join(archives, "upload-test.zip")
		if err := os.WriteFile(path, archive, 0o600); err != nil {
			t.Fatal(err)
		}
		return svc.StoreArchive(ctx, id, path)
	}
	if _, err := upload(zipOf(t, "../evil.sh")); !gamelift.IsCode(err, "InvalidRequestException") {
		t.Errorf("an archive escaping the build: %v", err)
	}
	ready, err := upload(zipOf(t, "lobby"))
	if err != nil || gamelift.Value(ready.Status) != buildsvc.BuildReady || gamelift.Value(ready.SizeOnDisk) != int64(len("lobby")) {
		t.Fatalf("after upload: %+v, %v", ready, err)
	}
	if _, err := upload(zipOf(t, "lobby")); !gamelift.IsCode(err, "InvalidRequestException") {
		t.Errorf("a second upload: %v", err)
	}

	fleet, err := newFleet()
	if err != nil {
		t.Fatal(err)
	}
	fleetID := gamelift.Value(fleet.FleetAttributes.FleetId)
	if gamelift.Value(fleet.FleetAttributes.BuildId) != id {
		t.Errorf("fleet runs build %q", gamelift.Value(fleet.FleetAttributes.BuildId))
	}

	// A host of the fleet, with its compute's auth token, gets the archive.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := core.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: &fleetID, ComputeName: s("host-1"), IpAddress: s("127.0.0.1")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("register a host: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	tok, err := core.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: s("host-1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ArchiveFor(ctx, id, fleetID, "host-1", "not-a-token"); !gamelift.IsCode(err, "UnauthorizedException") {
		t.Errorf("a bad token: %v", err)
	}
	path, err := svc.ArchiveFor(ctx, id, fleetID, "host-1", gamelift.Value(tok.AuthToken))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, zipOf(t, "lobby")) {
		t.Errorf("the host got %d bytes, not the archive", len(got))
	}

	if _, err := tagger.TagResource(ctx, &gamelift.TagResourceRequest{ResourceARN: b.Build.BuildArn,
		Tags: []gamelift.Tag{{Key: s("team"), Value: s("red")}}}); err != nil {
		t.Fatal(err)
	}
	listed, err := tagger.ListTagsForResource(ctx, &gamelift.ListTagsForResourceRequest{ResourceARN: b.Build.BuildArn})
	if err != nil || len(listed.Tags) != 1 {
		t.Errorf("tags: %+v, %v", listed, err)
	}

	if _, err := svc.DeleteBuild(ctx, &gamelift.DeleteBuildInput{BuildId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the deleted build's archive: %v", err)
	}
	if _, err := svc.DescribeBuild(ctx, &gamelift.DescribeBuildInput{BuildId: &id}); !gamelift.IsCode(err, "NotFoundException") {
		t.Errorf("a deleted build: %v", err)
	}
}
