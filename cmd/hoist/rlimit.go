package main

import (
	"fmt"
	"syscall"
)

// reservedFiles is what the server needs open besides connections: the database, logs,
// game server processes' pipes.
const reservedFiles = 256

// raiseFileLimit raises the process's soft limit on open files to its hard limit, so the
// connection caps, not the limit a shell happened to set, bound the connections served. It
// returns the limits in force after.
func raiseFileLimit() (soft, hard uint64, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, fmt.Errorf("get open file limit: %w", err)
	}
	if l.Cur < l.Max {
		raised := l
		raised.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return l.Cur, l.Max, fmt.Errorf("set open file limit to %d: %w", l.Max, err)
		}
		l = raised
	}
	return l.Cur, l.Max, nil
}
