package awsproto

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"
)

// Defaults of a Budget.
const (
	// DefaultBudget is the memory request bodies take together at most.
	DefaultBudget = 64 << 20
	// DefaultBudgetWait is how long a request waits for room before it is refused.
	DefaultBudgetWait = time.Second
)

// ErrBudgetExhausted tells that a Budget had no room within its wait.
var ErrBudgetExhausted = errors.New("request body budget exhausted")

// Budget bounds the memory that request bodies being read and handled take together,
// whatever the number of connections: a request reserves its body's size before a byte of
// it is read, and waits a little while for room at most.
type Budget struct {
	size int64
	wait time.Duration
	sem  *semaphore.Weighted
}

// NewBudget returns a Budget of size bytes whose requests wait at most wait for room.
func NewBudget(size int64, wait time.Duration) *Budget {
	return &Budget{size: size, wait: wait, sem: semaphore.NewWeighted(size)}
}

// Size is the number of bytes the budget holds.
func (b *Budget) Size() int64 { return b.size }

// Acquire reserves n bytes, waiting until they are free, ctx ends or the budget's wait
// passes, whichever is first. It fails with ErrBudgetExhausted when the bytes could not be
// had.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	if n > b.size {
		return ErrBudgetExhausted
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return ErrBudgetExhausted
	}
	return nil
}

// Release gives back n bytes reserved by Acquire.
func (b *Budget) Release(n int64) {
	if n > 0 {
		b.sem.Release(n)
	}
}
