package server

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/gamelift"
)

// MetricsPath is where the Prometheus metrics are served.
const MetricsPath = "/metrics"

// MetricsOperation is the operation a key's allow list must permit for the key to read
// the metrics on the main listener (admin keys, allowed *, may).
const MetricsOperation = "hoist:GetMetrics"

// metricsHandler serves reg in Prometheus's text format.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), ErrorHandling: promhttp.ContinueOnError,
	})
}

// authenticated lets through a request whose HTTP basic auth is an access key pair
// (user: the access key ID, password: its secret) allowed MetricsOperation; any other gets
// 401 with a WWW-Authenticate challenge, or 429 when the key is over its rate limit.
func authenticated(keys *access.Keyring, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if ok {
			want, known := keys.Secret(id)
			ok = known && subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1
		}
		var err error
		if ok {
			err = keys.Authorize(r.Context(), id, MetricsOperation)
		}
		switch {
		case ok && err == nil:
			next.ServeHTTP(w, r)
		case ok && gamelift.IsCode(err, "ThrottlingException"):
			http.Error(w, "Rate exceeded", http.StatusTooManyRequests)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="hoist metrics", charset="UTF-8"`)
			http.Error(w, "metrics need HTTP basic auth with an access key ID and its secret, of a key allowed "+MetricsOperation, http.StatusUnauthorized)
		}
	})
}

// serveMetrics serves the metrics without authentication on their own listener at addr,
// meant for a private network or loopback. It returns the listener's address.
func (s *Server) serveMetrics(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, h)
	s.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := s.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "addr", addr, "error", err)
		}
	}()
	return advertised(ln.Addr().(*net.TCPAddr)), nil
}
