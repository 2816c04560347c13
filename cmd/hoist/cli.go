package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// help describes a command for `hoist <command> --help`.
type help struct {
	name        string // "hoist build upload"
	purpose     string // one line
	usage       string // the arguments after the name
	credentials string // which keys the command needs, "" for none
	more        string // anything else worth saying, or ""
}

// errHelpShown: the command printed its help, as asked; hoist exits 0.
var errHelpShown = errors.New("help shown")

// parseFlags parses args into fs, flags and arguments in any order (flags may follow the
// arguments), and returns the arguments. -h/--help prints h and fs's flags to stdout and
// returns errHelpShown; a bad flag is an error that says which and points at --help.
func parseFlags(fs *flag.FlagSet, h help, args []string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(stdout, fs, h)
				return nil, errHelpShown
			}
			return nil, fmt.Errorf("%s: %s (see %s --help)", h.name, strings.Replace(err.Error(), " -", " --", 1), h.name)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// noArguments refuses arguments a command does not take.
func noArguments(h help, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q (see %s --help)", h.name, strings.Join(args, " "), h.name)
	}
	return nil
}

func printHelp(w io.Writer, fs *flag.FlagSet, h help) {
	fmt.Fprintf(w, "%s: %s\n\nusage: %s %s\n", h.name, h.purpose, h.name, h.usage)
	if fs != nil {
		var lines [][2]string
		width := 0
		fs.VisitAll(func(f *flag.Flag) {
			kind, usage := flag.UnquoteUsage(f)
			spelling := "--" + f.Name
			if kind != "" {
				spelling += " " + strings.ToUpper(kind)
			}
			if f.DefValue != "" && f.DefValue != "false" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			lines = append(lines, [2]string{spelling, usage})
			width = max(width, len(spelling))
		})
		if len(lines) > 0 {
			fmt.Fprintln(w, "\nflags:")
			for _, l := range lines {
				fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
			}
		}
	}
	if h.credentials != "" {
		fmt.Fprintf(w, "\ncredentials: %s\n", h.credentials)
	}
	if h.more != "" {
		fmt.Fprintf(w, "\n%s\n", h.more)
	}
}

// serverKeys is what a command that calls a Hoist server needs.
const serverKeys = "the server's access key pair in HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); hoist server prints it at its first start"
