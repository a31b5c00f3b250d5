// Package pool runs independent work items on a bounded number of workers.
package pool

import (
	"context"
	"runtime"
	"sync"
)

// Each calls fn(i) for i in [0, n) on workers goroutines (<= 0: one per
// CPU), stopping early when ctx is done. fn must be safe to run in parallel
// and write only to its own slot of shared state.
func Each(ctx context.Context, n, workers int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
