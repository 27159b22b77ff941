package engine

import (
	"math"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"

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
	var want float64
	for k := 1; k <= 6; k++ {
		for _, x := range xs {
			v := float64(x) * float64(k) / 6
			want += math.Erf(v) + v*0.5*(1+math.Erf(v/math.Sqrt2))
		}
	}
	for _, cfg := range []string{"go:parallelism=1,ops_parallel", "go:parallelism=2,ops_parallel"} {
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan float64, 1)
		go func() {
			out := MustExecOnce(b, func(x *Node) *Node {
				var sum *Node
				for k := 1; k <= 6; k++ {
					v := MulScalar(x, float64(k)/6)
					s := Add(ReduceAllSum(Erf(v)), ReduceAllSum(activation.Gelu(v)))
					if sum == nil {
						sum = s
					} else {
						sum = Add(sum, s)
					}
				}
				return ConvertDType(sum, dtypes.Float64)
			}, tensors.FromValue(xs))
			done <- tensors.ToScalar[float64](out)
		}()
		select {
		case got := <-done:
			if math.Abs(got-want) > 1e-3*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: sum of the Erf and GELU outputs %v, want %v", cfg, got, want)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s: six Erf and six GELU nodes side by side did not finish in 2 minutes: a worker waits for a worker", cfg)
		}
	}
}
