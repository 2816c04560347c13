package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logFormatFlag is the --log-format flag of the commands that log.
func logFormatFlag(fs *flag.FlagSet) *string {
	return fs.String("log-format", "text", "`format` of log lines on stderr: text (key=value) or json (one object a line)")
}

// newLogger logs to w at level, in format text or json.
func newLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format is text or json, not %q", format)
}
