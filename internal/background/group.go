// Package background runs a service's background work: goroutines its Close waits for, and
// loops that run until it stops. The core and the packages above it each keep one Group.
package background

import (
	"context"
	"sync"
	"time"
)

// Group is the background work of one service. Its context ends when the group stops.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// mu orders Go before Stop: once stopped, no work starts.
	mu      sync.Mutex
	stopped bool
}

// New returns a group whose context keeps parent's values but not its cancellation: the
// work outlives the call that started the service, until Stop.
func New(parent context.Context) *Group {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	return &Group{ctx: ctx, cancel: cancel}
}

// Context is the group's context, done once the group stops.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs fn on a goroutine Wait waits for; once the group has stopped, fn does not run
// (the work was for a service that is stopping).
func (g *Group) Go(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.wg.Go(fn)
}

// Loop runs pass on a goroutine of its own whenever wake fires (nil: never), and at least
// every tick, until the group stops.
func (g *Group) Loop(tick time.Duration, wake <-chan struct{}, pass func()) {
	g.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-g.ctx.Done():
				return
			case <-wake:
			case <-t.C:
			}
			pass()
		}
	})
}

// Stop ends the group's context; no work starts after it.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cancel()
}

// Wait waits for the work started to end.
func (g *Group) Wait() { g.wg.Wait() }

// Close stops the group and waits for its work.
func (g *Group) Close() {
	g.Stop()
	g.Wait()
}
