package engine

import (
	"math"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
)

// TestChunkedOpsNeverWaitInsideAWorker runs six Erf and six GELU nodes side
// by side on Go backends with one and two workers. Each node runs in a
// worker and splits its tensor into chunks for other workers; unpatched, a
// node waited for a free worker while every worker was such a node, and the
// graph hung (_enginepatch/chunks.patch). Patched, a chunk no worker can
// take runs in the node's own goroutine: the graph ends, with the values of
// math.Erf.
func TestChunkedOpsNeverWaitInsideAWorker(t *testing.T) {
	if Patched() == "" {
		t.Skip("built without the engine patch, whose chunks.patch this tests (unpatched, this graph can hang)")
	}
	const n = 1 << 15 // 8 chunks of the backend's 4,096
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i%200-100) / 50
	}
	for _, cfg := range []string{"go:parallelism=1,ops_parallel", "go:parallelism=2,ops_parallel"} {
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []float32, 1)
		go func() {
			out := MustExecOnce(b, func(x *Node) *Node {
				var outs []*Node // [12, n]: Erf and GELU of x*k/6 for k = 1..6
				for k := 1; k <= 6; k++ {
					v := MulScalar(x, float64(k)/6)
					outs = append(outs, ExpandAxes(Erf(v), 0), ExpandAxes(activation.Gelu(v), 0))
				}
				return Concatenate(outs, 0)
			}, tensors.FromValue(xs))
			done <- tensors.MustCopyFlatData[float32](out)
		}()
		select {
		case got := <-done:
			checkErfGelu(t, cfg, got, xs)
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s: six Erf and six GELU nodes side by side did not finish in 2 minutes: a worker waits for a worker", cfg)
		}
	}
}

// checkErfGelu compares every output element of the graph above with
// math.Erf (and GELU through it) at float32 precision.
func checkErfGelu(t *testing.T, cfg string, got, xs []float32) {
	t.Helper()
	n := len(xs)
	if len(got) != 12*n {
		t.Fatalf("%s: %d values, want %d", cfg, len(got), 12*n)
	}
	for k := 1; k <= 6; k++ {
		for i, x := range xs {
			v := float64(float32(float64(x) * float64(k) / 6))
			wantErf, wantGelu := math.Erf(v), v*0.5*(1+math.Erf(v/math.Sqrt2))
			gotErf, gotGelu := float64(got[(2*k-2)*n+i]), float64(got[(2*k-1)*n+i])
			if math.Abs(gotErf-wantErf) > 1e-6 || math.Abs(gotGelu-wantGelu) > 1e-5 {
				t.Fatalf("%s: x*%d/6 = %v: Erf %v, GELU %v; want %v, %v", cfg, k, v, gotErf, gotGelu, wantErf, wantGelu)
			}
		}
	}
}
