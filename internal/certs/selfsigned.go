package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names of the self-signed certificate and its key in their directory.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// Lifetime of a self-signed certificate, and how long before its end a start replaces it.
const (
	selfSignedLifetime = 365 * 24 * time.Hour
	renewBefore        = 30 * 24 * time.Hour
)

// SelfSigned is a self-signed certificate kept in a directory.
type SelfSigned struct {
	// CertFile is the certificate's PEM file: clients trust the server by trusting it
	// (AWS_CA_BUNDLE).
	CertFile string
	// Certificate is the certificate with its key, for a tls.Config.
	Certificate tls.Certificate
	// Created tells whether this call made it (none was kept, or the kept one had expired
	// or did not name every host).
	Created bool
}

// LoadOrCreate returns the self-signed certificate kept in dir when it names every one of
// hosts (DNS names or IP addresses) and is valid for a while yet at now; otherwise it
// makes a new one for hosts, an ECDSA P-256 key, and keeps it in dir. A kept certificate
// is reused across restarts, so clients that trust it keep trusting the server.
func LoadOrCreate(dir string, hosts []string, now time.Time) (SelfSigned, error) {
	s := SelfSigned{CertFile: filepath.Join(dir, CertFile)}
	keyFile := filepath.Join(dir, KeyFile)
	kept, err := tls.LoadX509KeyPair(s.CertFile, keyFile)
	switch {
	case err == nil && covers(kept.Leaf, hosts, now):
		s.Certificate = kept
		return s, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return s, fmt.Errorf("self-signed certificate in %s: %w", dir, err)
	}
	certPEM, keyPEM, err := create(hosts, now)
	if err != nil {
		return s, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, fmt.Errorf("self-signed certificate: %w", err)
	}
	// The key first: a certificate on disk always has its key beside it.
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return s, err
	}
	if err := writeFile(s.CertFile, certPEM, 0o644); err != nil {
		return s, err
	}
	if s.Certificate, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return s, fmt.Errorf("self-signed certificate: %w", err)
	}
	s.Created = true
	return s, nil
}

// covers tells whether c names every host and stays valid past now by renewBefore.
func covers(c *x509.Certificate, hosts []string, now time.Time) bool {
	if c == nil || now.Before(c.NotBefore) || now.Add(renewBefore).After(c.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// create makes a self-signed certificate for hosts and its key, PEM-encoded. The
// certificate is its own CA, as `openssl req -x509` makes one, so that clients that are
// strict about trust anchors (OpenSSL's X509_STRICT, which Python 3.13 sets) accept it.
func create(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate serial: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	ski := sha1.Sum(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Hoist"}, CommonName: "Hoist self-signed " + hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski[:],
		AuthorityKeyId:        ski[:],
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFile replaces name with data atomically: readers see the old file or the new.
func writeFile(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Hosts are the names a self-signed certificate for a server listening on listenHost
// should carry: that host (unless it is a wildcard), loopback, localhost and this
// machine's host name, then extra (the hosts of URLs the server hands out), without
// repeats. For a wildcard listener, the machine's interface addresses too, as they are
// when it is made.
func Hosts(listenHost string, extra ...string) []string {
	hosts := []string{}
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	ip := net.ParseIP(listenHost)
	wildcard := listenHost == "" || (ip != nil && ip.IsUnspecified())
	if !wildcard {
		add(listenHost)
	}
	add("127.0.0.1")
	add("::1")
	add("localhost")
	if name, err := os.Hostname(); err == nil {
		add(name)
	}
	for _, h := range extra {
		add(h)
	}
	if wildcard {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
				add(n.IP.String())
			}
		}
	}
	return hosts
}
