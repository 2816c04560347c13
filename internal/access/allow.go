package access

import (
	"fmt"
	"slices"
	"strings"
)

// Allows reports whether a key allowed the patterns given may call op. A pattern is an
// operation name, a prefix ending in *, or * alone for every operation. Hoist's own
// operations (hoist:CreateAccessKey) are in a namespace of their own: only *, or a prefix
// that names the namespace (hoist:*, hoist:Replica*), reaches them, so Create* or h* never
// does.
func Allows(allow []string, op string) bool {
	return slices.ContainsFunc(allow, func(p string) bool { return matches(p, op) })
}

// matches reports whether one pattern reaches op. A prefix without a colon reaches only
// GameLift's operations, which have none.
func matches(p, op string) bool {
	if p == "*" {
		return true
	}
	prefix, ok := strings.CutSuffix(p, "*")
	if !ok {
		return p == op
	}
	return strings.HasPrefix(op, prefix) && (strings.Contains(prefix, ":") || !strings.Contains(op, ":"))
}

// IsAdmin reports whether a key allowed these patterns may do everything, managing keys
// included.
func IsAdmin(allow []string) bool { return slices.Contains(allow, "*") }

// Covers reports whether a key allowed have may give a key allowed want: whether every
// operation any pattern of want reaches, today or in a later version with more operations,
// is reached by a pattern of have. It decides this on the patterns, not on today's list of
// operations, so an upgrade cannot widen a key beyond the key that made it.
func Covers(have, want []string) bool {
	for _, q := range want {
		if !slices.ContainsFunc(have, func(c string) bool { return covers(c, q) }) {
			return false
		}
	}
	return true
}

// covers reports whether pattern c reaches every name pattern q reaches. * covers
// everything and only * covers *. An operation name is covered by a pattern that matches
// it. A prefix Q* reaches Q itself and every name that continues it, so only a prefix P*
// that matches the name Q covers it: P must begin Q, and stay in Q's namespace. An
// operation name never covers a prefix.
func covers(c, q string) bool {
	if c == "*" {
		return true
	}
	if q == "*" {
		return false
	}
	name, prefix := strings.CutSuffix(q, "*")
	if prefix && !strings.HasSuffix(c, "*") {
		return false
	}
	return matches(c, name)
}

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
		if !slices.ContainsFunc(ops, func(op string) bool { return matches(p, op) }) {
			return fmt.Errorf("%q matches no operation (Hoist's own operations are reached only by *, or by a prefix starting hoist:)", p)
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
