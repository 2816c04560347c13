package certs_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/certs"
)

func TestSelfSignedIsKeptAndReplacedWhenItNoLongerFits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	hosts := []string{"127.0.0.1", "localhost"}
	first, err := certs.LoadOrCreate(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Fatal("the first call made nothing")
	}
	if fi, err := os.Stat(filepath.Join(dir, certs.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	pem := mustRead(t, first.CertFile)

	for _, tc := range []struct {
		name    string
		hosts   []string
		at      time.Time
		created bool
	}{
		{"same hosts, a day later", hosts, now.Add(24 * time.Hour), false},
		{"fewer hosts", hosts[:1], now, false},
		{"a host it does not name", append(slices.Clone(hosts), "hoist.internal"), now, true},
		{"near its end", hosts, now.Add(340 * 24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := certs.LoadOrCreate(dir, tc.hosts, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			same := bytes.Equal(mustRead(t, got.CertFile), pem)
			if got.Created != tc.created || same == tc.created {
				t.Fatalf("created %v (same file %v), want created %v", got.Created, same, tc.created)
			}
			for _, h := range tc.hosts {
				if err := got.Certificate.Leaf.VerifyHostname(h); err != nil {
					t.Error(err)
				}
			}
			pem = mustRead(t, got.CertFile)
		})
	}
}

// The certificate is its own trust anchor: a pool holding only it verifies it for a
// server, by IP address and by name.
func TestSelfSignedVerifiesAsItsOwnRoot(t *testing.T) {
	s, err := certs.LoadOrCreate(t.TempDir(), certs.Hosts("127.0.0.1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := certs.Pool(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := s.Certificate.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := certs.Pool(filepath.Join(t.TempDir(), "none.pem")); err == nil {
		t.Error("a CA bundle that does not exist was accepted")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
