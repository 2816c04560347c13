package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/internal/certs"
)

// TLSDir is where in the data directory a self-signed certificate is kept.
const TLSDir = "tls"

// serverTLS is the tls.Config to serve cfg's listener with (nil for plain HTTP), and the
// self-signed certificate's file for clients to trust ("" when the certificate was given).
func serverTLS(cfg Config, now time.Time) (*tls.Config, string, error) {
	t := cfg.TLS
	if t == nil {
		return nil, "", nil
	}
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// HTTP/1.1 only: the SDK's WebSocket is an HTTP/1.1 upgrade, and the connection
		// caps count HTTP/1.1 connections.
		NextProtos: []string{"http/1.1"},
	}
	switch {
	case t.CertFile != "" || t.KeyFile != "":
		if t.CertFile == "" || t.KeyFile == "" || t.SelfSigned {
			return nil, "", errors.New("TLS: give a certificate and its key, or ask for a self-signed certificate, not both")
		}
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("TLS certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
		return conf, "", nil
	case t.SelfSigned:
		host, _, _ := net.SplitHostPort(cfg.Addr)
		extra := []string{urlHost(cfg.AdvertiseURL), urlHost(cfg.SDKEndpoint)}
		if cfg.Kubernetes != nil {
			extra = append(extra, urlHost(cfg.Kubernetes.SDKEndpoint))
		}
		ss, err := certs.LoadOrCreate(filepath.Join(cfg.DataDir, TLSDir), certs.Hosts(host, extra...), now)
		if err != nil {
			return nil, "", err
		}
		if ss.Created {
			cfg.Logger.Info("made a self-signed TLS certificate; clients trust it with AWS_CA_BUNDLE", "file", ss.CertFile)
		}
		conf.Certificates = []tls.Certificate{ss.Certificate}
		abs, err := filepath.Abs(ss.CertFile)
		if err != nil {
			return nil, "", fmt.Errorf("TLS certificate: %w", err)
		}
		return conf, abs, nil
	}
	return nil, "", errors.New("TLS: give a certificate and its key, or ask for a self-signed certificate")
}

// urlHost is the host of a URL, "" when there is none.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// http1Only are the protocols the server speaks: HTTP/1.1 (and 1.0), never HTTP/2.
func http1Only() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	return p
}

// httpErrorLog is the http.Server's error log: its lines at warn, except failed TLS
// handshakes (a plain client, a scanner, a client that does not trust the certificate),
// which anyone can cause at any rate, at debug.
func httpErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(errorLogWriter{logger}, "", 0)
}

type errorLogWriter struct{ log *slog.Logger }

func (w errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}
