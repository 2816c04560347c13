package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/builds"
)

var buildHelp = help{
	name: "hoist build", purpose: "manage game server builds", usage: "upload [flags] DIR",
	more: "hoist build upload --help tells its flags.",
}

var uploadHelp = help{
	name: "hoist build upload", purpose: "upload a directory as a game server build, READY for create-fleet --build-id",
	usage:       "--name NAME [flags] DIR   or   hoist build upload --build-id ID [flags] DIR",
	credentials: serverKeys,
	more: `The directory's files are zipped and uploaded; a fleet's launch paths under /local/game/
name them, and an install.sh at its root runs once on each host before processes start.
The build ID is printed; with --build-id an INITIALIZED build (from aws gamelift create-build)
gets the files instead of a new build being made.`,
}

// runBuild is `hoist build upload DIR`: CreateBuild (or an existing build), then the
// directory's files up to the server, which makes the build READY.
func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp(stdout, nil, buildHelp)
		if len(args) == 0 {
			return errors.New("hoist build: say what to do: hoist build upload --name NAME DIR")
		}
		return errHelpShown
	}
	if args[0] != "upload" {
		return fmt.Errorf("hoist build: unknown subcommand %q; the only one is upload (see hoist build upload --help)", args[0])
	}
	fs := flag.NewFlagSet("hoist build upload", flag.ContinueOnError)
	serverURL := fs.String("server", cmp.Or(os.Getenv("AWS_ENDPOINT_URL"), "http://127.0.0.1:9080"), "the Hoist server's API endpoint `URL`, or $AWS_ENDPOINT_URL when set")
	name := fs.String("name", "", "`name` of the new build (required without --build-id)")
	buildID := fs.String("build-id", "", "`ID` of an existing INITIALIZED build to fill, instead of making a new one")
	version := fs.String("build-version", "", "`version` of the new build")
	osName := fs.String("os", "AMAZON_LINUX_2023", "operating `system` the build runs on")
	region := fs.String("region", "us-west-2", "`Region` to sign requests for")
	showProgress := fs.Bool("progress", false, "report the bytes sent on stderr even when it is not a terminal (on a terminal it always is)")
	rest, err := parseFlags(fs, uploadHelp, args[1:], stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0:
		return errors.New("hoist build upload: give the build's directory: hoist build upload --name NAME DIR")
	case len(rest) > 1:
		return fmt.Errorf("hoist build upload: one directory only, got %q", strings.Join(rest, " "))
	case *name == "" && *buildID == "":
		return errors.New("hoist build upload: --name is required (the new build's name), or --build-id to fill an existing build")
	case *name != "" && *buildID != "":
		return errors.New("hoist build upload: give --name for a new build or --build-id for an existing one, not both")
	}
	dir := rest[0]
	if err := checkBuildDir(dir); err != nil {
		return fmt.Errorf("hoist build upload: %w", err)
	}
	client, creds, hc, err := apiClient(*serverURL, *region)
	if err != nil {
		return err
	}
	archive, err := builds.Zip(dir)
	if err != nil {
		return err
	}
	if *buildID == "" {
		in := &gamelift.CreateBuildInput{Name: name, OperatingSystem: types.OperatingSystem(*osName)}
		if *version != "" {
			in.Version = version
		}
		created, err := client.CreateBuild(ctx, in)
		if err != nil {
			return reachable(*serverURL, fmt.Errorf("create build: %w", err))
		}
		*buildID = aws.ToString(created.Build.BuildId)
	}
	var progress func(int64)
	if tty := isTerminal(stderr); tty || *showProgress {
		progress = progressLine(stderr, int64(len(archive)), tty)
	}
	err = builds.UploadWithProgress(ctx, hc, *serverURL, *region, *buildID, creds, archive, progress)
	if progress != nil && isTerminal(stderr) {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return reachable(*serverURL, err)
	}
	d, err := client.DescribeBuild(ctx, &gamelift.DescribeBuildInput{BuildId: buildID})
	if err != nil {
		return reachable(*serverURL, fmt.Errorf("describe build: %w", err))
	}
	fmt.Fprintf(stdout, "%s %s (%d bytes unpacked)\n", *buildID, d.Build.Status, aws.ToInt64(d.Build.SizeOnDisk))
	return nil
}

// checkBuildDir refuses what cannot be a build: a missing path, a file, an empty directory.
func checkBuildDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("no directory %s", dir)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is a file; give the directory that holds the build's files", dir)
	}
	empty := true
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			empty = false
			return filepath.SkipAll
		}
		return nil
	})
	if empty {
		return fmt.Errorf("%s has no files", dir)
	}
	return nil
}

// reachable turns a failure to connect into one line that says so.
func reachable(serverURL string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return fmt.Errorf("cannot reach the Hoist server at %s (%v): is hoist server running there? Pass its address with --server", serverURL, op.Err)
	}
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressLine returns a progress func that reports bytes sent and the rate: on a
// terminal it redraws one line ten times a second; elsewhere (a log file) it writes a line
// a second, and one at the end.
func progressLine(w io.Writer, total int64, tty bool) func(int64) {
	start, last := time.Now(), time.Time{}
	every, begin, end := time.Second, "", "\n"
	if tty {
		every, begin, end = 100*time.Millisecond, "\r", "   "
	}
	return func(sent int64) {
		now := time.Now()
		if now.Sub(last) < every && sent < total {
			return
		}
		last = now
		rate := float64(sent) / max(now.Sub(start).Seconds(), 0.001)
		fmt.Fprintf(w, "%suploading: %s of %s (%s/s)%s", begin, megabytes(float64(sent)), megabytes(float64(total)), megabytes(rate), end)
	}
}

func megabytes(n float64) string { return fmt.Sprintf("%.1f MB", n/1e6) }
