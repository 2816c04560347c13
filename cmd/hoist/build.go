package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/builds"
)

// runBuild is `hoist build upload DIR`: CreateBuild, then the directory's files up to the
// server, which makes the build READY for CreateFleet --build-id.
func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "upload" {
		return errors.New("usage: hoist build upload [--server URL] --name NAME [--build-version V] DIR")
	}
	fs := flag.NewFlagSet("hoist build upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("server", "http://127.0.0.1:9080", "the Hoist server's API endpoint")
	name := fs.String("name", "", "build name (required)")
	version := fs.String("build-version", "", "build version")
	osName := fs.String("os", "AMAZON_LINUX_2023", "operating system the build runs on")
	region := fs.String("region", "us-west-2", "Region to sign requests for")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" || fs.NArg() != 1 {
		return errors.New("usage: hoist build upload [--server URL] --name NAME [--build-version V] DIR")
	}
	client, creds, err := apiClient(*serverURL, *region)
	if err != nil {
		return err
	}
	archive, err := builds.Zip(fs.Arg(0))
	if err != nil {
		return err
	}
	in := &gamelift.CreateBuildInput{Name: name, OperatingSystem: types.OperatingSystem(*osName)}
	if *version != "" {
		in.Version = version
	}
	created, err := client.CreateBuild(ctx, in)
	if err != nil {
		return fmt.Errorf("create build: %w", err)
	}
	buildID := aws.ToString(created.Build.BuildId)
	if err := builds.Upload(ctx, *serverURL, *region, buildID, creds, archive); err != nil {
		return err
	}
	d, err := client.DescribeBuild(ctx, &gamelift.DescribeBuildInput{BuildId: &buildID})
	if err != nil {
		return fmt.Errorf("describe build: %w", err)
	}
	fmt.Fprintf(stdout, "%s %s (%d bytes unpacked)\n", buildID, d.Build.Status, aws.ToInt64(d.Build.SizeOnDisk))
	return nil
}
