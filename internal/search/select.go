package search

import (
	"iter"
	"slices"
)

// Select returns, in order, the first n of the sessions that match f and come after the
// place after (nil: from the start), and whether more match beyond them. It reads every
// session once and keeps n+1 of them: O(len * log n), whatever the order.
func Select(sessions iter.Seq[*Session], f *Filter, o Order, after *Cursor, n int) (page []*Session, more bool) {
	if n <= 0 {
		return nil, false
	}
	// best holds the n+1 first seen so far, in order; the last is the one to beat.
	best := make([]*Session, 0, n+1)
	for s := range sessions {
		if len(best) == n+1 && !o.Less(s, best[n]) {
			continue
		}
		if after != nil && o.Compare(s, *after) <= 0 {
			continue
		}
		if !f.Match(s) {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, s, func(a, b *Session) int {
			if o.Less(a, b) {
				return -1
			}
			return 1
		})
		if len(best) == n+1 {
			best = best[:n]
		}
		best = slices.Insert(best, i, s)
	}
	if len(best) > n {
		return best[:n], true
	}
	return best, false
}
