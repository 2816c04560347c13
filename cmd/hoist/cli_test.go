package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/server"
)

func runHoist(args ...string) (stdout, stderr string, err error) {
	var out, errs bytes.Buffer
	err = run(context.Background(), args, &out, &errs)
	return out.String(), errs.String(), err
}

// Every way of asking for help prints it to stdout and succeeds: a purpose, the flags as
// README spells them, and the credentials the command needs.
func TestHelp(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"usage: hoist <command>", "quickstart", "build upload"}},
		{[]string{"help"}, []string{"usage: hoist <command>"}},
		{[]string{"-h"}, []string{"usage: hoist <command>"}},
		{[]string{"server", "--help"}, []string{"hoist server: run", "--addr HOST:PORT", "--data-dir DIRECTORY", "--store URL", "--no-local-agent", "--local-locations", "credentials:"}},
		{[]string{"help", "server"}, []string{"hoist server: run", "--addr HOST:PORT"}},
		{[]string{"agent", "--help"}, []string{"hoist agent: run", "--fleet-id ID", "--compute-name NAME", "--location LOCATION", "HOIST_ACCESS_KEY_ID"}},
		{[]string{"quickstart", "-h"}, []string{"hoist quickstart: see Hoist work", "--addr HOST:PORT", "--once", "credentials: none"}},
		{[]string{"build", "--help"}, []string{"hoist build: manage", "upload"}},
		{[]string{"keys", "create", "--help"}, []string{"hoist keys create: make", "--name NAME", "--allow OPERATIONS", "--output FORMAT", "--data-dir DIRECTORY", "HOIST_ACCESS_KEY_ID"}},
		{[]string{"build", "upload", "--help"}, []string{"hoist build upload: upload", "--name NAME", "--build-id ID", "--server URL", "HOIST_ACCESS_KEY_ID", "install.sh"}},
	}
	for _, c := range cases {
		out, _, err := runHoist(c.args...)
		if err != nil {
			t.Errorf("hoist %v: %v", c.args, err)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("hoist %v: stdout lacks %q:\n%s", c.args, w, out)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, err := runHoist(args...)
		if err != nil || out != "hoist "+version+"\n" {
			t.Errorf("hoist %v = %q, %v", args, out, err)
		}
	}
}

// Bad arguments are errors that say what was wrong.
func TestBadArguments(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(t.TempDir(), "server.bin")
	os.WriteFile(file, []byte("x"), 0o644)
	t.Setenv("HOIST_ACCESS_KEY_ID", "AKX")
	t.Setenv("HOIST_SECRET_ACCESS_KEY", "x")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "no command given"},
		{[]string{"serve"}, `unknown command "serve"`},
		{[]string{"server", "extra"}, `hoist server takes no arguments, got "extra"`},
		{[]string{"server", "--port", "1"}, "flag provided but not defined: --port"},
		{[]string{"server", "--max-resources", "fleets=0"}, "--max-resources: \"fleets=0\": the limit must be a positive number"},
		{[]string{"server", "--max-resources", "widgets=5"}, "--max-resources: \"widgets=5\": the kind must be * or one of fleets"},
		{[]string{"quickstart", "now"}, "hoist quickstart takes no arguments"},
		{[]string{"version", "2"}, "takes no arguments"},
		{[]string{"agent", "--fleet-id", "fleet-1"}, "--compute-name is required"},
		{[]string{"agent", "--compute-name", "a", "x"}, "hoist agent takes no arguments"},
		{[]string{"build"}, "say what to do"},
		{[]string{"build", "push"}, `unknown subcommand "push"`},
		{[]string{"build", "upload", "--name", "lobby"}, "give the build's directory"},
		{[]string{"build", "upload", empty}, "--name is required"},
		{[]string{"build", "upload", empty, "--name", "lobby"}, "has no files"},
		{[]string{"build", "upload", "--name", "lobby", file}, "is a file; give the directory"},
		{[]string{"build", "upload", "--name", "lobby", "/no/such/dir"}, "no directory /no/such/dir"},
		{[]string{"build", "upload", "--name", "lobby", empty, empty}, "one directory only"},
	}
	for _, c := range cases {
		_, _, err := runHoist(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("hoist %v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

// hoist build upload takes its flags after the directory too, fills an existing build with
// --build-id, and says in one line when the server cannot be reached.
func TestBuildUpload(t *testing.T) {
	ctx := context.Background()
	creds := server.Credentials{AccessKeyID: "AKBUILD", SecretAccessKey: "build-secret"}
	srv := startServer(t, creds)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "server"), []byte("#!/bin/sh\n"), 0o755)

	out, _, err := runHoist("build", "upload", dir, "--name", "lobby", "--server", srv.Endpoint)
	if err != nil || !strings.HasPrefix(out, "build-") || !strings.Contains(out, "READY") {
		t.Fatalf("upload with flags after the directory: %q, %v", out, err)
	}

	c := gl.New(gl.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	b, err := c.CreateBuild(ctx, &gl.CreateBuildInput{Name: aws.String("made-by-the-cli")})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runHoist("build", "upload", "--build-id", aws.ToString(b.Build.BuildId), "--server", srv.Endpoint, dir)
	if err != nil || !strings.HasPrefix(out, aws.ToString(b.Build.BuildId)+" READY") {
		t.Errorf("upload to an existing build: %q, %v", out, err)
	}
	builds, err := c.ListBuilds(ctx, &gl.ListBuildsInput{})
	if err != nil || len(builds.Builds) != 2 {
		t.Errorf("ListBuilds: %d builds, %v; want 2", len(builds.Builds), err)
	}

	srv.Close(ctx)
	_, _, err = runHoist("build", "upload", "--name", "lobby", "--server", srv.Endpoint, dir)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Hoist server at "+srv.Endpoint) || strings.Contains(err.Error(), "\n") {
		t.Errorf("server down: %v", err)
	}
}

// hoist build upload reports the bytes it sends on stderr with --progress; without it,
// and stderr not a terminal, it says nothing there.
func TestBuildUploadProgress(t *testing.T) {
	creds := server.Credentials{AccessKeyID: "AKPROGRESS", SecretAccessKey: "progress-secret"}
	srv := startServer(t, creds)
	dir := t.TempDir()
	big := make([]byte, 1<<20)
	rand.Read(big) // random bytes do not compress: the archive stays 1 MB
	if err := os.WriteFile(filepath.Join(dir, "assets.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, err := runHoist("build", "upload", "--name", "quiet", "--server", srv.Endpoint, dir)
	if err != nil || errs != "" {
		t.Errorf("without --progress: %v, stderr %q", err, errs)
	}
	_, errs, err = runHoist("build", "upload", "--name", "loud", "--progress", "--server", srv.Endpoint, dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "uploading: ") || !strings.Contains(last, " MB of ") {
		t.Fatalf("with --progress, stderr: %q", errs)
	}
	// The last line is the whole archive sent: its two sizes agree.
	f := strings.Fields(last)
	if f[1] != f[4] || f[1] == "0.0" {
		t.Errorf("last progress line %q: sent and total differ", last)
	}
}
