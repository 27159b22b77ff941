// This file is not part of vidrep's module: see _enginepatch/README.md.

package workerspool

import (
	"sync"
	"testing"
	"time"
)

// TestSaturateInsideFullPool reproduces the training step that hung in
// vidrep's demo: every worker of the pool runs a node whose matmul calls
// Saturate, so each waits for a worker that only another's end would free.
// Saturate must then do its work in the calling worker.
func TestSaturateInsideFullPool(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		pool := New()
		pool.SetMaxParallelism(workers)
		var all sync.WaitGroup
		var arrived sync.WaitGroup
		arrived.Add(workers)
		done := make(chan struct{})
		go func() {
			for range workers {
				all.Add(1)
				pool.WaitToStart(func() {
					defer all.Done()
					arrived.Done()
					arrived.Wait() // every worker is taken before any calls Saturate
					pool.Saturate(func() {})
				})
			}
			all.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d workers, each calling Saturate: still waiting after 10 s", workers)
		}
	}
}
