package access

import (
	"fmt"
	"slices"
	"strings"
)

// Allows reports whether a key allowed the patterns given may call op. A pattern is an
// operation name, a prefix ending in *, or * alone for every operation.
func Allows(allow []string, op string) bool {
	for _, p := range allow {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(op, prefix) {
				return true
			}
		} else if p == op {
			return true
		}
	}
	return false
}

// IsAdmin reports whether a key allowed these patterns may do everything, managing keys
// included.
func IsAdmin(allow []string) bool { return slices.Contains(allow, "*") }

// checkPatterns refuses a pattern that is malformed or matches no operation of ops: a typo
// would otherwise silently allow nothing.
func checkPatterns(allow, ops []string) error {
	if len(allow) == 0 {
		return fmt.Errorf("give at least one operation")
	}
	for _, p := range allow {
		name := strings.TrimSuffix(p, "*")
		if strings.Contains(name, "*") || !validName(name) {
			return fmt.Errorf("%q is not an operation name, a prefix ending in *, or *", p)
		}
		if !slices.ContainsFunc(ops, func(op string) bool { return Allows([]string{p}, op) }) {
			return fmt.Errorf("%q matches no operation", p)
		}
	}
	return nil
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':') {
			return false
		}
	}
	return len(s) <= 128
}
