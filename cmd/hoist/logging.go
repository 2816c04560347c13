package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"k8s.io/klog/v2"
)

// klogOnce sets client-go's logger (klog's, a process-wide one) once, before any client
// runs: klog's setter is not safe while clients log.
var klogOnce sync.Once

// routeKlog sends client-go's own messages to log, in the server's log format; only the
// first call in a process counts.
func routeKlog(log *slog.Logger) { klogOnce.Do(func() { klog.SetSlogLogger(log) }) }

// logFormatFlag is the --log-format flag of the commands that log.
func logFormatFlag(fs *flag.FlagSet) *string {
	return fs.String("log-format", "text", "`format` of log lines on stderr: text (key=value) or json (one object a line)")
}

// newLogger logs to w in format text or json: at info level, or debug when verbose.
func newLogger(w io.Writer, format string, verbose bool) (*slog.Logger, error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format is text or json, not %q", format)
}
