package pretrain

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
)

// TestBench times a few steps of methods with one, two and three views and
// of videomae on a ViT: every timed step is recorded, the views and the
// backbone's size are reported, and the loss is finite.
func TestBench(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, arch string
		views        int
	}{
		{"pan", "r3d-small", 1},
		{"moco", "r3d-small", 2},
		{"vcop", "r3d-small", 3},
		{"videomae", "vit-micro", 1},
	}
	params := map[string]int{}
	for _, c := range cases {
		res, err := Bench(BenchConfig{
			Config: Config{Method: c.method, Arch: c.arch, Batch: 2, Frames: 4, Stride: 1, Size: 16},
			Steps:  3, Warmup: 1, Engine: backend,
		})
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if len(res.StepsMs) != 3 || res.MedianMs <= 0 || res.FirstMs <= 0 {
			t.Errorf("%s: steps %v, median %v, first %v; want 3 positive timed steps", c.method, res.StepsMs, res.MedianMs, res.FirstMs)
		}
		if res.Views != c.views || res.ClipsPS != res.VideosPS*float64(c.views) {
			t.Errorf("%s: %d views (%.1f clips/s for %.1f videos/s), want %d", c.method, res.Views, res.ClipsPS, res.VideosPS, c.views)
		}
		if math.IsNaN(res.LastLoss) || math.IsInf(res.LastLoss, 0) {
			t.Errorf("%s: loss %v", c.method, res.LastLoss)
		}
		if p, ok := params[c.arch]; ok && p != res.Params || res.Params == 0 {
			t.Errorf("%s: %d backbone parameters, another method on %s had %d", c.method, res.Params, c.arch, p)
		}
		params[c.arch] = res.Params
		if line := res.String(); !strings.HasPrefix(line, "RESULT vidrep pretrain method="+c.method) || strings.Contains(line, "\n") {
			t.Errorf("%s: result line %q", c.method, line)
		}
	}
}

// TestBenchRefuses checks the one-line errors: an unknown method, videomae
// on a convolutional backbone, bf16 off XLA.
func TestBenchRefuses(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, arch, dtype, want string
		usage                     bool
	}{
		{"juggling", "r3d-small", "f32", "juggling", true},
		{"videomae", "r3d-small", "f32", "videomae", true},
		{"pan", "r3d-small", "bf16", "XLA", false},
	}
	for _, c := range cases {
		_, err := Bench(BenchConfig{
			Config: Config{Method: c.method, Arch: c.arch, Batch: 2, Frames: 4, Stride: 1, Size: 16, DType: c.dtype},
			Steps:  1, Engine: backend,
		})
		var usage *cli.UsageError
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &usage) != c.usage {
			t.Errorf("%s on %s in %s: err = %v, want one naming %q (usage error: %v)", c.method, c.arch, c.dtype, err, c.want, c.usage)
		}
	}
}
