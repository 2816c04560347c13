package access

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits are per-key rate limits: each rule is a token bucket per access key for the
// operations its pattern matches, refilled at Rate a second and holding a second's worth
// (at least one call). A call passes only when every rule matching it has a token.
type Limits struct {
	rules []rule
}

type rule struct {
	pattern string
	rate    float64
}

// ParseLimits reads a rate limit setting: comma-separated rules PATTERN=CALLS_PER_SECOND,
// where PATTERN is an operation name, a prefix ending in *, or * for all of a key's calls
// together; a bare number is the same as *=N. "" means no limits.
func ParseLimits(spec string) (Limits, error) {
	var l Limits
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		pattern, num, ok := strings.Cut(item, "=")
		if !ok {
			pattern, num = "*", item
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || rate <= 0 || rate > 1e9 {
			return Limits{}, fmt.Errorf("rate limit %q: want PATTERN=CALLS_PER_SECOND with a positive number", item)
		}
		pattern = strings.TrimSpace(pattern)
		if n := strings.TrimSuffix(pattern, "*"); strings.Contains(n, "*") || !validName(n) {
			return Limits{}, fmt.Errorf("rate limit %q: %q is not an operation name, a prefix ending in *, or *", item, pattern)
		}
		l.rules = append(l.rules, rule{pattern, rate})
	}
	return l, nil
}

// limiter holds the buckets of Limits, created as keys use them. Only keys that signed a
// request correctly reach it, so its size is bounded by the keys in the store.
type limiter struct {
	limits  Limits
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct {
	accessKeyID string
	rule        int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(l Limits) *limiter {
	return &limiter{limits: l, buckets: map[bucketKey]*bucket{}}
}

// allow takes a token from every bucket of accessKeyID matching op, or none when one is
// empty, and reports whether the call may go ahead.
func (l *limiter) allow(accessKeyID, op string, now time.Time) bool {
	if len(l.limits.rules) == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var take []*bucket
	for i, r := range l.limits.rules {
		if !Allows([]string{r.pattern}, op) {
			continue
		}
		k := bucketKey{accessKeyID, i}
		b := l.buckets[k]
		burst := max(r.rate, 1)
		if b == nil {
			b = &bucket{tokens: burst, last: now}
			l.buckets[k] = b
		}
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = min(burst, b.tokens+dt*r.rate)
			b.last = now
		}
		if b.tokens < 1 {
			return false
		}
		take = append(take, b)
	}
	for _, b := range take {
		b.tokens--
	}
	return true
}

// forget drops the buckets of a deleted key.
func (l *limiter) forget(accessKeyID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.buckets {
		if k.accessKeyID == accessKeyID {
			delete(l.buckets, k)
		}
	}
}
