package main

import (
	"errors"
	"flag"

	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/server"
)

// tlsFlags adds the flags that serve TLS; the function returned reads them: nil for
// plain HTTP.
func tlsFlags(fs *flag.FlagSet) func() (*server.TLSConfig, error) {
	cert := fs.String("tls-cert", "", "serve the API and the SDK endpoint over TLS (https://, wss://) with this PEM certificate chain `file` (needs --tls-key); without a --tls-* flag, plain HTTP")
	key := fs.String("tls-key", "", "the PEM private key `file` of --tls-cert")
	selfSigned := fs.Bool("tls-self-signed", false, "serve over TLS with a self-signed certificate made in the data directory (tls/cert.pem) and kept across restarts; clients trust it with AWS_CA_BUNDLE=<data-dir>/tls/cert.pem")
	return func() (*server.TLSConfig, error) {
		switch {
		case *selfSigned && (*cert != "" || *key != ""):
			return nil, errors.New("give --tls-cert and --tls-key, or --tls-self-signed, not both")
		case (*cert == "") != (*key == ""):
			return nil, errors.New("--tls-cert and --tls-key go together")
		case *selfSigned:
			return &server.TLSConfig{SelfSigned: true}, nil
		case *cert != "":
			return &server.TLSConfig{CertFile: *cert, KeyFile: *key}, nil
		}
		return nil, nil
	}
}

// caBundleExport is the shell line that makes AWS clients trust file, or "" for none.
func caBundleExport(file string) string {
	if file == "" {
		return ""
	}
	return "  export " + certs.EnvCABundle + "=" + file + "\n"
}
