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
