package synth

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestBaselines is the benchmark's difficulty check on the rendered frames
// of split 1 (the default benchmark at 16 frames, to keep the test short):
// a single-frame classifier must stay at or below 1.5x chance and a simple
// motion classifier must reach 3x chance. docs/benchmark-synth.md gives the
// numbers at the default settings, on decoded frames.
func TestBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 360 clips")
	}
	cfg := DefaultConfig()
	cfg.Frames = 16
	r, err := RenderedBaselines(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Train != 240 || r.Test != 120 || r.Chance != 0.1 {
		t.Fatalf("report %+v: want 240 train and 120 test clips, chance 0.1", r)
	}
	if r.SingleFrame > 1.5*r.Chance {
		t.Errorf("single-frame baseline %.1f%% > 1.5x chance: a single frame tells the class", 100*r.SingleFrame)
	}
	if r.Motion < 3*r.Chance {
		t.Errorf("motion baseline %.1f%% < 3x chance: the motions are not separable", 100*r.Motion)
	}
}

// TestBaselineClassifiers checks the classifiers themselves on data with a
// known answer: separable features are learned, label noise is not.
func TestBaselineClassifiers(t *testing.T) {
	r := newRNG(1)
	var x [][]float64
	var y []int
	for i := 0; i < 300; i++ {
		c := i % 3
		x = append(x, []float64{float64(c) + 0.3*r.norm(), r.norm(), 5})
		y = append(y, c)
	}
	m := trainLogReg(x[:200], y[:200], 3, l2Penalty, gdIterations)
	right := 0
	for i := 200; i < 300; i++ {
		if argmax(m.probs(x[i])) == y[i] {
			right++
		}
	}
	if right < 90 {
		t.Errorf("logistic regression got %d/100 on separable classes", right)
	}
	p := m.probs(x[0])
	if s := p[0] + p[1] + p[2]; math.Abs(s-1) > 1e-9 {
		t.Errorf("probabilities sum to %g", s)
	}
}

// TestDecodedBaselines runs the baselines on a small written benchmark: the
// plumbing (lists, decoding, counts) and a report file the CLI would write.
func TestDecodedBaselines(t *testing.T) {
	needFFmpeg(t)
	cfg := tinyConfig(filepath.Join(t.TempDir(), "b"), 9)
	generate(t, cfg)
	r, err := DecodedBaselines(context.Background(), cfg.Out, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != "decoded" || r.Split != 2 || r.Train != 12 || r.Test != 6 || r.Classes != 3 {
		t.Errorf("report %+v: want split 2 of 3 classes, 12 train / 6 test decoded clips", r)
	}
	for _, acc := range []float64{r.SingleFrame, r.Motion} {
		if acc < 0 || acc > 1 || math.IsNaN(acc) {
			t.Errorf("accuracy %g out of [0, 1]", acc)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
	os.Remove(filepath.Join(cfg.Out, ManifestFile))
	if _, err := DecodedBaselines(context.Background(), cfg.Out, 1, 1); err == nil {
		t.Error("baselines of a directory without synth.json: want an error")
	}
}
