// Package cache keeps the records of a store table that are read on every call in memory,
// in front of the table: a write through it, or a change another server made
// (Invalidate), drops the record.
package cache

import (
	"context"
	"sync"

	"github.com/hoist-dev/hoist/internal/store"
)

// Table serves Get from memory for the tables read on every call (fleets and aliases by
// CreateGameSession, queues by each pass over the waiting placements). A write through it
// drops the key, and a read that raced with a write does not fill the cache, so a Get
// never returns a value older than this server's last write of it. Invalidate drops a
// key changed elsewhere (by another replica, later).
//
// Values are shared between callers: they are read, never changed in place (changes go
// through Update, on the store's own copy).
type Table[T any] struct {
	store.Table[T]
	mu    sync.Mutex
	items map[string]T
	gen   uint64 // counts writes; a read fills the cache only if none happened meanwhile
}

// New returns a Table in front of t.
func New[T any](t store.Table[T]) *Table[T] {
	return &Table[T]{Table: t, items: map[string]T{}}
}

// Get implements store.Table.
func (c *Table[T]) Get(ctx context.Context, key string) (T, error) {
	c.mu.Lock()
	v, ok := c.items[key]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.Table.Get(ctx, key)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.items[key] = v
	}
	c.mu.Unlock()
	return v, nil
}

// Create implements store.Table.
func (c *Table[T]) Create(ctx context.Context, key, parent string, v T) error {
	defer c.Invalidate(key)
	return c.Table.Create(ctx, key, parent, v)
}

// Update implements store.Table.
func (c *Table[T]) Update(ctx context.Context, key string, fn func(*T) error) (T, error) {
	defer c.Invalidate(key)
	return c.Table.Update(ctx, key, fn)
}

// Delete implements store.Table.
func (c *Table[T]) Delete(ctx context.Context, key string) error {
	defer c.Invalidate(key)
	return c.Table.Delete(ctx, key)
}

// Invalidate drops key from the cache; the next Get reads the store.
func (c *Table[T]) Invalidate(key string) {
	c.mu.Lock()
	delete(c.items, key)
	c.gen++
	c.mu.Unlock()
}

// InvalidateAll empties the cache.
func (c *Table[T]) InvalidateAll() {
	c.mu.Lock()
	clear(c.items)
	c.gen++
	c.mu.Unlock()
}
