package background

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A loop runs on wake and on its tick until Close, which waits for it; nothing starts after.
func TestGroup(t *testing.T) {
	g := New(context.Background())
	var passes atomic.Int32
	wake := make(chan struct{}, 1)
	g.Loop(time.Hour, wake, func() { passes.Add(1) })
	wake <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for passes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if passes.Load() != 1 {
		t.Fatalf("passes after one wake: %d", passes.Load())
	}
	g.Close()
	if g.Context().Err() == nil {
		t.Error("the context is not done after Close")
	}
	ran := false
	g.Go(func() { ran = true })
	g.Wait()
	if ran {
		t.Error("work started after Close")
	}
}
