package buildsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hoist-dev/hoist/internal/builds"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Build statuses.
const (
	BuildInitialized = "INITIALIZED"
	BuildReady       = "READY"
	BuildFailed      = "FAILED"
)

// What a build has when CreateBuild does not say: the OS Hoist's hosts run, and Server SDK 5.
const (
	defaultOS               = "AMAZON_LINUX_2023"
	defaultServerSdkVersion = "5.0.0"
)

// CreateBuild registers a build, INITIALIZED until its files are uploaded to Hoist
// (`hoist build upload`, or PUT builds.UploadPath+ID). Hoist cannot read S3.
func (s *Service) CreateBuild(ctx context.Context, in *gamelift.CreateBuildInput) (*gamelift.CreateBuildOutput, error) {
	release, err := s.core.Admit(ctx, control.KindBuilds, s.count)
	if err != nil {
		return nil, err
	}
	defer release()
	if in.StorageLocation != nil {
		return nil, gamelift.InvalidRequest("Hoist does not read builds from S3: create the build without StorageLocation and upload its files with `hoist build upload`")
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	id := gamelift.NewID("build")
	b := gamelift.Build{
		BuildId: &id, BuildArn: gamelift.String(s.core.ARN("build", id)), Name: in.Name, Version: in.Version,
		Status: gamelift.String(BuildInitialized), SizeOnDisk: new(int64),
		OperatingSystem: orDefault(in.OperatingSystem, defaultOS), ServerSdkVersion: orDefault(in.ServerSdkVersion, defaultServerSdkVersion),
		CreationTime: gamelift.At(s.now()),
	}
	if err := s.builds.Create(ctx, id, "", store.Build{Model: b, Tags: tagged}); err != nil {
		return nil, fmt.Errorf("create build: %w", err)
	}
	return &gamelift.CreateBuildOutput{Build: &b}, nil
}

// count counts the builds, for their limit.
func (s *Service) count(ctx context.Context) (int, error) {
	page, err := s.builds.List(ctx, store.Query{})
	if err != nil {
		return 0, err
	}
	return len(page.Items), nil
}

// Build loads a build by ID or ARN; an unknown one is NotFoundException. It is the
// core's control.BuildReader.
func (s *Service) Build(ctx context.Context, idOrARN *string) (gamelift.Build, error) {
	id := gamelift.IDOf(idOrARN)
	b, err := s.builds.Get(ctx, id)
	if err != nil {
		return b.Model, store.NotFoundAs(err, "Build %s not found", id)
	}
	return b.Model, nil
}

// DescribeBuild returns a build.
func (s *Service) DescribeBuild(ctx context.Context, in *gamelift.DescribeBuildInput) (*gamelift.DescribeBuildOutput, error) {
	b, err := s.Build(ctx, in.BuildId)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeBuildOutput{Build: &b}, nil
}

// ListBuilds lists builds, optionally of one status.
func (s *Service) ListBuilds(ctx context.Context, in *gamelift.ListBuildsInput) (*gamelift.ListBuildsOutput, error) {
	page, err := s.builds.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	var all []gamelift.Build
	for _, b := range page.Items {
		if in.Status == nil || gamelift.Value(b.Model.Status) == *in.Status {
			all = append(all, b.Model)
		}
	}
	items, token, err := paging.Slice(all, paging.Limit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListBuildsOutput{Builds: paging.NonNil(items), NextToken: token}, nil
}

// UpdateBuild changes a build's name or version.
func (s *Service) UpdateBuild(ctx context.Context, in *gamelift.UpdateBuildInput) (*gamelift.UpdateBuildOutput, error) {
	id := gamelift.IDOf(in.BuildId)
	b, err := s.builds.Update(ctx, id, func(b *store.Build) error {
		set(&b.Model.Name, in.Name)
		set(&b.Model.Version, in.Version)
		return nil
	})
	if err != nil {
		return nil, store.NotFoundAs(err, "Build %s not found", id)
	}
	return &gamelift.UpdateBuildOutput{Build: &b.Model}, nil
}

// DeleteBuild deletes a build and its files.
func (s *Service) DeleteBuild(ctx context.Context, in *gamelift.DeleteBuildInput) (*gamelift.DeleteBuildOutput, error) {
	id := gamelift.IDOf(in.BuildId)
	if err := s.builds.Delete(ctx, id); err != nil {
		return nil, store.NotFoundAs(err, "Build %s not found", id)
	}
	_ = s.archives.Remove(ctx, id) // the record is gone: a file left behind only takes disk
	return &gamelift.DeleteBuildOutput{}, nil
}

// StoreArchive takes an uploaded archive (a zip file at path) as the build's files: it is
// checked, kept, and the build becomes READY with its unpacked size.
func (s *Service) StoreArchive(ctx context.Context, id, path string) (gamelift.Build, error) {
	b, err := s.Build(ctx, &id)
	if err != nil {
		return b, err
	}
	if st := gamelift.Value(b.Status); st != BuildInitialized {
		return b, gamelift.InvalidRequest("Build %s is %s; files are uploaded once, to an INITIALIZED build", id, st)
	}
	size, err := checkArchive(path)
	if err != nil {
		return b, gamelift.InvalidRequest("Build %s: %v", id, err)
	}
	if err := s.archives.Keep(ctx, id, path); err != nil {
		return b, err
	}
	rec, err := s.builds.Update(ctx, id, func(b *store.Build) error {
		b.Model.Status, b.Model.SizeOnDisk = gamelift.String(BuildReady), &size
		return nil
	})
	if err != nil {
		return b, store.NotFoundAs(err, "Build %s not found", id)
	}
	return rec.Model, nil
}

// checkArchive unpacks the archive to a scratch directory: a broken or unsafe archive is
// refused at upload, not found out by a host later. It returns the unpacked size.
func checkArchive(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	scratch, err := os.MkdirTemp(filepath.Dir(path), "check-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(scratch)
	return builds.Unzip(f, info.Size(), scratch, builds.Limits{})
}

// ArchiveFor returns a local file holding the archive of the build a fleet runs, for a
// host agent of that fleet proving itself with its compute's auth token.
func (s *Service) ArchiveFor(ctx context.Context, buildID, fleetID, compute, token string) (string, error) {
	if err := s.core.AuthorizeCompute(ctx, token, fleetID, compute); err != nil {
		return "", err
	}
	f, err := s.core.Fleet(ctx, &fleetID)
	if err != nil {
		return "", err
	}
	if gamelift.Value(f.Attributes.BuildId) != buildID {
		return "", gamelift.Unauthorized("fleet %s does not run build %s", fleetID, buildID)
	}
	path, err := s.archives.Path(ctx, buildID)
	if errors.Is(err, fs.ErrNotExist) {
		return "", gamelift.NotFound("Build %s has no files", buildID)
	}
	return path, err
}
