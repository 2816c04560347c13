package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// EnvCABundle names a PEM file of certificates to trust besides the system's: the
// variable the AWS CLI, boto3 and the AWS SDKs read for the same purpose.
const EnvCABundle = "AWS_CA_BUNDLE"

// Pool is the system's certificate pool plus the certificates in the PEM files named
// (empty names are skipped). It is nil, meaning the system's, when none is named.
func Pool(files ...string) (*x509.CertPool, error) {
	var pool *x509.CertPool
	for _, f := range files {
		if f == "" {
			continue
		}
		if pool == nil {
			var err error
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("certificates to trust: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("certificates to trust: no PEM certificate in %s", f)
		}
	}
	return pool, nil
}

// HTTPClient is an HTTP client that trusts the system's certificates, those in
// $AWS_CA_BUNDLE when set, and those in the files named. A timeout of zero is none.
func HTTPClient(timeout time.Duration, files ...string) (*http.Client, error) {
	pool, err := Pool(append([]string{os.Getenv(EnvCABundle)}, files...)...)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
