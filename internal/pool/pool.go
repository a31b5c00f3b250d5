// Package pool bounds the CPU work of a run. A Limiter holds the run's
// slots (--workers); every goroutine that does CPU work — a kustomize
// build, a YAML parse, a schema or policy evaluation, a checker — holds
// one while it works, so the whole run, not each stage, is bounded.
package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Limiter is a run's CPU budget. A nil *Limiter bounds nothing.
type Limiter struct {
	slots     chan struct{}
	cur, peak atomic.Int64
}

// NewLimiter returns a limiter of n slots (<= 0: one per CPU).
func NewLimiter(n int) *Limiter {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &Limiter{slots: make(chan struct{}, n)}
}

// Size is the number of slots.
func (l *Limiter) Size() int {
	if l == nil {
		return runtime.NumCPU()
	}
	return cap(l.slots)
}

// Acquire waits for a slot. Work that holds a slot must not wait for
// another (a nested Acquire can deadlock a one-slot run).
func (l *Limiter) Acquire() {
	if l == nil {
		return
	}
	l.slots <- struct{}{}
	c := l.cur.Add(1)
	for p := l.peak.Load(); c > p && !l.peak.CompareAndSwap(p, c); p = l.peak.Load() {
	}
}

// TryAcquire takes a slot if one is free. Work that already holds a slot
// uses it to fan out without ever waiting on itself.
func (l *Limiter) TryAcquire() bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
	default:
		return false
	}
	c := l.cur.Add(1)
	for p := l.peak.Load(); c > p && !l.peak.CompareAndSwap(p, c); p = l.peak.Load() {
	}
	return true
}

// Release gives a slot back.
func (l *Limiter) Release() {
	if l == nil {
		return
	}
	l.cur.Add(-1)
	<-l.slots
}

// Do runs fn holding a slot.
func (l *Limiter) Do(fn func()) {
	l.Acquire()
	defer l.Release()
	fn()
}

// Peak is the most slots ever held at once (for tests and traces).
func (l *Limiter) Peak() int {
	if l == nil {
		return 0
	}
	return int(l.peak.Load())
}

// Or is l, or a limiter of workers slots (<= 0: one per CPU) of its own
// for a caller outside a lint run, which has none to share.
func Or(l *Limiter, workers int) *Limiter {
	if l != nil {
		return l
	}
	return NewLimiter(workers)
}

// Each calls fn(i) for i in [0, n) on l.Size() goroutines, each call
// holding a slot of l, stopping early when ctx is done. fn must be safe to
// run in parallel and write only to its own slot of shared state.
func Each(ctx context.Context, l *Limiter, n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(l.Size(), max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				l.Do(func() { fn(i) })
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
