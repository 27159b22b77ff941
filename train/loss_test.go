package train

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestCrossEntropyAndAccuracy(t *testing.T) {
	backend := goBackend(t)
	logits := [][]float32{{1, 2, 3}, {0.5, -1, 2}}
	labels := []int32{2, 0}
	cases := []struct {
		name      string
		smoothing float64
		rows      int
		want      float64
	}{
		// Hand computation for row 0: log-sum-exp(1,2,3) = 3.40760596, log p = (-2.40760596, -1.40760596,
		// -0.40760596); smoothing 0.1 targets (1/30, 1/30, 0.9+1/30):
		// (2.40760596+1.40760596)/30 + 0.93333333*0.40760596 = 0.50760596.
		{"one row, smoothing 0.1", 0.1, 1, 0.50760596},
		{"one row, no smoothing", 0, 1, 0.40760596},
		// Row 1: lse(0.5,-1,2) = 2.24132; loss 0.93333*1.74132 + (3.24132+0.24132)/30 = 1.74131.
		// Mean 1.12446 (PyTorch's cross_entropy with label_smoothing=0.1 gives 1.1244586).
		{"two rows, smoothing 0.1", 0.1, 2, 1.1244586},
	}
	for _, c := range cases {
		exec := MustNewExec(backend, func(l, y *Node) (*Node, *Node) {
			return CrossEntropy(l, y, c.smoothing), Accuracy(l, y)
		})
		out := exec.MustCall(logits[:c.rows], labels[:c.rows])
		got := float64(tensors.ToScalar[float32](out[0]))
		if !near(got, c.want, 2e-6) {
			t.Errorf("%s: CrossEntropy = %.7f, want %.7f", c.name, got, c.want)
		}
		wantAcc := []float32{1, 0.5}[c.rows-1] // row 0 predicts 2 (right), row 1 predicts 2 (wrong)
		if acc := tensors.ToScalar[float32](out[1]); acc != wantAcc {
			t.Errorf("%s: Accuracy = %v, want %v", c.name, acc, wantAcc)
		}
	}
}

func TestCrossEntropyBF16LogitsComputesInF32(t *testing.T) {
	exec := MustNewExec(goBackend(t), func(l, y *Node) *Node {
		return CrossEntropy(ConvertDType(l, dtypes.BFloat16), y, 0)
	})
	out := exec.MustCall([][]float32{{1, 2, 3}}, []int32{2})
	if out[0].DType() != dtypes.Float32 {
		t.Fatalf("dtype %s, want float32", out[0].DType())
	}
	if got := float64(tensors.ToScalar[float32](out[0])); !near(got, 0.40760596, 1e-2) {
		t.Errorf("bf16 CrossEntropy = %v", got)
	}
}
