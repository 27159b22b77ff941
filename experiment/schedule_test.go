package experiment

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestInitDirWaitsForItsPretraining checks how a cell of the one-queue grid
// gets its starting point: scratch at once, a pretrained init only once its
// pretraining has ended, an error when that pretraining failed or the
// experiment is interrupted.
func TestInitDirWaitsForItsPretraining(t *testing.T) {
	c := Config{Methods: []string{"camera"}, PretrainSeeds: 2}
	newReady := func() map[pretrainJob]*initReady {
		return map[pretrainJob]*initReady{
			{"camera", 0, 0}: {done: make(chan struct{})},
			{"camera", 1, 0}: {done: make(chan struct{})},
		}
	}

	t.Run("scratch needs no pretraining", func(t *testing.T) {
		dir, err := c.initDir(context.Background(), Cell{Init: InitScratch}, newReady())
		if err != nil || dir != "scratch" {
			t.Fatalf("got %q, %v; want scratch at once", dir, err)
		}
	})

	t.Run("waits for the pretraining of its seed", func(t *testing.T) {
		ready := newReady()
		got := make(chan string, 1)
		go func() {
			dir, err := c.initDir(context.Background(), Cell{Init: "camera", Seed: 3}, ready) // seed 3 -> pretraining 1
			if err != nil {
				dir = "error: " + err.Error()
			}
			got <- dir
		}()
		ready[pretrainJob{"camera", 0, 0}].dir = "pre/camera"
		close(ready[pretrainJob{"camera", 0, 0}].done)
		select {
		case dir := <-got:
			t.Fatalf("returned %q when only the other seed's pretraining had ended", dir)
		case <-time.After(50 * time.Millisecond):
		}
		ready[pretrainJob{"camera", 1, 0}].dir = "pre/camera.seed2"
		close(ready[pretrainJob{"camera", 1, 0}].done)
		if dir := <-got; dir != "pre/camera.seed2" {
			t.Fatalf("got %q, want pre/camera.seed2", dir)
		}
	})

	t.Run("a failed pretraining fails its cells", func(t *testing.T) {
		ready := newReady()
		ready[pretrainJob{"camera", 0, 0}].failed = true
		close(ready[pretrainJob{"camera", 0, 0}].done)
		_, err := c.initDir(context.Background(), Cell{Init: "camera", Seed: 0}, ready)
		if err == nil || !strings.Contains(err.Error(), "pretraining camera failed") {
			t.Fatalf("err = %v, want one naming the failed pretraining", err)
		}
	})

	t.Run("an interruption ends the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.initDir(ctx, Cell{Init: "camera", Seed: 0}, newReady()); err != context.Canceled {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}
