package train

import (
	"context"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
)

// TestBF16KeepsF32Weights runs the bf16 graph (meant for XLA) on the Go
// backend: the weights and optimizer state stay float32, and it learns.
func TestBF16KeepsF32Weights(t *testing.T) {
	bf16Anywhere = true
	defer func() { bf16Anywhere = false }()
	cfg := toyConfig()
	cfg.DType, cfg.Epochs, cfg.AccumSteps = "bf16", 6, 2
	store := model.NewStore()
	dir := t.TempDir()
	_, err := Run(context.Background(), goBackend(t), store, dir, cfg, toyLoss(true), newToyData(24, 2, 2), WithQuiet())
	must(t, err)
	for v := range store.IterVariables() {
		if v.Path() != "/"+model.RNGStateVariableName && v.DType() != dtypes.Float32 {
			t.Errorf("variable %s is %s after bf16 training, want float32", v.Path(), v.DType())
		}
	}
	recs, err := ReadMetrics(dir + "/" + MetricsFile)
	must(t, err)
	var first, last float64
	for _, r := range recs {
		if r.Kind == "epoch" {
			if first == 0 {
				first = r.Loss
			}
			last = r.Loss
		}
	}
	if !(last < 0.7*first) {
		t.Errorf("bf16 loss went from %.4f to %.4f; want a clear decrease", first, last)
	}
}
