// Package pgtest gives tests a PostgreSQL database of their own, on the throwaway server
// that HOIST_TEST_POSTGRES names, or a PostgreSQL server of their own (test/pg/start.sh).
// Without HOIST_TEST_POSTGRES the tests that ask are skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the environment variable holding the URL of a PostgreSQL server tests may
// create and drop databases on, e.g. postgres://hoist@127.0.0.1:5433/postgres?sslmode=disable.
const Env = "HOIST_TEST_POSTGRES"

// ServerURL returns the URL in HOIST_TEST_POSTGRES, or skips the test when it is unset.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		t.Skipf("set %s to a PostgreSQL URL to run the PostgreSQL tests (test/pg/start.sh starts a throwaway server and prints one)", Env)
	}
	return u
}

// Database creates a database with a random name on the server HOIST_TEST_POSTGRES names,
// drops it when the test ends, and returns its URL. Without HOIST_TEST_POSTGRES it skips
// the test.
func Database(t testing.TB) string {
	t.Helper()
	return databaseOn(t, ServerURL(t))
}

func databaseOn(t testing.TB, server string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := make([]byte, 8)
	rand.Read(b)
	name := "hoist_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to %s (%s): %v", Env, server, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Cluster is a PostgreSQL server of a test's own, for tests that stop or restart it.
type Cluster struct {
	t   testing.TB
	dir string
	url string
}

// NewCluster starts a PostgreSQL server of the test's own with test/pg/start.sh, stopped
// and removed when the test ends, and returns it. It skips the test without
// HOIST_TEST_POSTGRES, like the other PostgreSQL tests.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	ServerURL(t)
	dir, err := os.MkdirTemp("", "hoist-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, dir: dir}
	t.Cleanup(func() { c.run("stop.sh", dir) })
	c.url = strings.TrimSpace(c.run("start.sh", dir))
	return c
}

// Database creates a database on the cluster, as Database does on the shared server.
func (c *Cluster) Database() string {
	c.t.Helper()
	return databaseOn(c.t, c.url)
}

// Stop stops the server, keeping its files.
func (c *Cluster) Stop() { c.t.Helper(); c.run("stop.sh", "--keep", c.dir) }

// Start starts the stopped server again, on the same port.
func (c *Cluster) Start() { c.t.Helper(); c.run("start.sh", c.dir) }

// Restart restarts the server (pg_ctl restart), cutting its connections.
func (c *Cluster) Restart() { c.t.Helper(); c.run("restart.sh", c.dir) }

func (c *Cluster) run(script string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(scriptDir(c.t), script), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("test/pg/%s %s: %v\n%s", script, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// scriptDir finds test/pg from the test's working directory, somewhere in the module.
func scriptDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "test", "pg")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory: cannot find test/pg")
		}
		dir = parent
	}
}
