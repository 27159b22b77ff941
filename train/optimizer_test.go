package train

import (
	"context"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// linearLoss is sum(w*C) + sum(b*D) over variables /lin/weights [2,2] and
// /lin/biases [2] (initial values w0, b0), so the gradients are C and D.
var (
	linW0 = []float64{0.5, -1, 2, 0.25}
	linB0 = []float64{1, -2}
	linC  = []float64{3, -1, 0.5, 2}
	linD  = []float64{-4, 1}
)

func linearLoss(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
	g := views[0].Graph()
	lin := scope.In("lin")
	w := lin.VariableWithValue("weights", [][]float32{{0.5, -1}, {2, 0.25}})
	b := lin.VariableWithValue("biases", []float32{1, -2})
	c := Const(g, [][]float32{{3, -1}, {0.5, 2}})
	d := Const(g, []float32{-4, 1})
	loss := Add(ReduceAllSum(Mul(w.NodeValue(g), c)), ReduceAllSum(Mul(b.NodeValue(g), d)))
	return Add(loss, MulScalar(ReduceAllSum(views[0]), 0)), nil
}

// expectedLinear replays the optimizer by hand (float64) for `steps` steps.
func expectedLinear(cfg Config, steps int) (w, b []float64) {
	w, b = append([]float64{}, linW0...), append([]float64{}, linB0...)
	type group struct {
		p, g  []float64
		decay bool
		m, v  []float64
	}
	groups := []*group{{p: w, g: linC, decay: true}, {p: b, g: linD}}
	for _, gr := range groups {
		gr.m, gr.v = make([]float64, len(gr.p)), make([]float64, len(gr.p))
	}
	for s := 1; s <= steps; s++ {
		scale := 1.0
		if cfg.ClipNorm > 0 {
			var sq float64
			for _, x := range append(append([]float64{}, linC...), linD...) {
				sq += x * x
			}
			scale = cfg.ClipNorm / math.Max(math.Sqrt(sq), cfg.ClipNorm)
		}
		for _, gr := range groups {
			wd := 0.0
			if gr.decay {
				wd = cfg.WeightDecay
			}
			for i := range gr.p {
				g := gr.g[i] * scale
				if cfg.Optimizer == "sgd" {
					d := g + wd*gr.p[i]
					gr.m[i] = cfg.Momentum*gr.m[i] + d
					gr.p[i] -= cfg.LR * gr.m[i]
					continue
				}
				gr.m[i] = 0.9*gr.m[i] + 0.1*g
				gr.v[i] = 0.999*gr.v[i] + 0.001*g*g
				mhat := gr.m[i] / (1 - math.Pow(0.9, float64(s)))
				vhat := gr.v[i] / (1 - math.Pow(0.999, float64(s)))
				gr.p[i] = gr.p[i]*(1-cfg.LR*wd) - cfg.LR*mhat/(math.Sqrt(vhat)+1e-8)
			}
		}
	}
	return w, b
}

func TestOptimizersAgainstHandComputation(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"adamw with decay", Config{Optimizer: "adamw", LR: 0.1, WeightDecay: 0.05}},
		{"sgd momentum with decay", Config{Optimizer: "sgd", LR: 0.1, Momentum: 0.9, WeightDecay: 0.01}},
		{"sgd clipped", Config{Optimizer: "sgd", LR: 0.1, ClipNorm: 1}},
		{"adamw clipped", Config{Optimizer: "adamw", LR: 0.01, ClipNorm: 0.5, WeightDecay: 0.1}},
	}
	const steps = 3
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Epochs, cfg.BatchSize, cfg.Schedule = 1, 2, "constant"
			store := model.NewStore()
			_, err := Run(context.Background(), goBackend(t), store, t.TempDir(), cfg, linearLoss,
				newToyData(2*steps, 2, 1), WithQuiet())
			must(t, err)
			wantW, wantB := expectedLinear(cfg, steps)
			gotW, gotB := floats(t, store, "/lin/weights"), floats(t, store, "/lin/biases")
			for i := range wantW {
				if !near(float64(gotW[i]), wantW[i], 2e-5) {
					t.Errorf("weights[%d] = %.6f, want %.6f", i, gotW[i], wantW[i])
				}
			}
			for i := range wantB {
				if !near(float64(gotB[i]), wantB[i], 2e-5) {
					t.Errorf("biases[%d] = %.6f, want %.6f (biases are not decayed)", i, gotB[i], wantB[i])
				}
			}
		})
	}
}

func TestFrozenAndLRMultipliers(t *testing.T) {
	cfg := Config{Epochs: 1, BatchSize: 2, Optimizer: "sgd", LR: 0.1, Schedule: "constant",
		Frozen: []string{"lin/biases"}, LRMultipliers: map[string]float64{"lin": 0.5}}
	store := model.NewStore()
	_, err := Run(context.Background(), goBackend(t), store, t.TempDir(), cfg, linearLoss, newToyData(2, 2, 1), WithQuiet())
	must(t, err)
	gotW, gotB := floats(t, store, "/lin/weights"), floats(t, store, "/lin/biases")
	for i := range linW0 {
		if want := linW0[i] - 0.05*linC[i]; !near(float64(gotW[i]), want, 1e-6) {
			t.Errorf("weights[%d] = %v, want %v (lr 0.1 x multiplier 0.5)", i, gotW[i], want)
		}
	}
	for i := range linB0 {
		if float64(gotB[i]) != linB0[i] {
			t.Errorf("frozen biases[%d] changed to %v", i, gotB[i])
		}
	}
}

func TestGradientAccumulationEqualsBigBatch(t *testing.T) {
	// Two batches of 2 accumulated make the same step as one batch of 4 for a
	// loss that averages over the batch (the toy classifier).
	run := func(batch, accum int) []float32 {
		cfg := Config{Epochs: 1, BatchSize: batch, Optimizer: "sgd", LR: 0.5, AccumSteps: accum, Schedule: "constant", Seed: 3}
		store := model.NewStore()
		d := newToyData(4, batch, 5)
		d.Epoch(0, 0) // same order for both: the permutation depends on n only
		_, err := Run(context.Background(), goBackend(t), store, t.TempDir(), cfg, toyLoss(false), d, WithQuiet())
		must(t, err)
		return floats(t, store, "/model/head/weights")
	}
	big, accumulated := run(4, 1), run(2, 2)
	for i := range big {
		if !near(float64(accumulated[i]), float64(big[i]), 1e-5) {
			t.Fatalf("head weights[%d]: accumulated %v, one batch %v", i, accumulated[i], big[i])
		}
	}
}
