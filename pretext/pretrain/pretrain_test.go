package pretrain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// tinyArch is a backbone small enough for CI: per-frame 2x2 average pooling
// and one Linear+ReLU over time.
const tinyArch = "pretrain-test-tiny"

type tiny struct{}

func (tiny) Name() string    { return tinyArch }
func (tiny) FeatureDim() int { return 16 }
func (tiny) Features(scope *model.Scope, clips *Node, _ bool) *Node {
	d := clips.Shape().Dimensions
	x := ReduceMean(Reshape(clips, d[0], d[1], 2, d[2]/2, 2, d[3]/2, 3), 3, 5)
	return models.Relu(models.Linear(scope.In("fc"), Reshape(x, d[0], d[1]*12), 16))
}

func init() {
	models.Register(tinyArch, "test backbone", func(string, models.Options) (models.Backbone, error) { return tiny{}, nil }, models.Options{})
}

var (
	dataOnce sync.Once
	dataDir  string
)

// labeledData writes a folder-per-class dataset (train/ and test/, two
// classes) of tiny real videos once per test binary.
func labeledData(t *testing.T) string {
	t.Helper()
	testvideo.FFmpeg(t)
	dataOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pretrain-data")
		if err != nil {
			t.Fatal(err)
		}
		seed := 1
		for _, side := range []string{"train", "test"} {
			for _, class := range []string{"left", "right"} {
				for i := range map[string]int{"train": 3, "test": 1}[side] {
					p := filepath.Join(dir, side, class, fmt.Sprintf("v%d.mp4", i))
					testvideo.Make(t, p, testvideo.Options{Frames: 24, Width: 32, Height: 32, Seed: seed})
					seed++
				}
			}
		}
		dataDir = dir
	})
	if dataDir == "" {
		t.Fatal("no test dataset")
	}
	return dataDir
}

// labelWatch records the labels the loader hands to the sampler.
type labelWatch struct {
	mu     sync.Mutex
	labels []int
	inner  loader.Sampler
}

func (w *labelWatch) Sample(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
	w.mu.Lock()
	w.labels = append(w.labels, label)
	w.mu.Unlock()
	return w.inner.Sample(r, label, rng)
}

func baseConfig(t *testing.T, method string) (Config, *labelWatch) {
	watch := &labelWatch{}
	return Config{
		Data: labeledData(t), Out: t.TempDir(), Method: method, Arch: tinyArch,
		Epochs: 2, Batch: 2, Frames: 4, Stride: 1, Size: 16, Workers: 1, LR: 3e-3, Seed: 1, Quiet: true,
		Sampler: func(s loader.Sampler) loader.Sampler { watch.inner = s; return watch },
	}, watch
}

// TestPretrainNeverReadsLabels pretrains on a labeled dataset: every sample
// the sampler sees must be Unlabeled, and the unwrapped method sampler must
// refuse a labeled one.
func TestPretrainNeverReadsLabels(t *testing.T) {
	cfg, watch := baseConfig(t, "vcop")
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(watch.labels) == 0 {
		t.Fatal("the sampler was never called")
	}
	for _, l := range watch.labels {
		if l != dataset.Unlabeled {
			t.Fatalf("pretraining passed label %d to the sampler", l)
		}
	}
	// The wrapped sampler refuses labels outright.
	r := &loader.MemoryReader{Clip: &loader.RawClip{T: 8, H: 16, W: 16, Pix: make([]uint8, 8*16*16*3)}}
	if _, err := watch.inner.Sample(r, 0, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("the pretraining sampler accepted a labeled sample")
	}
	if _, err := watch.inner.Sample(r, dataset.Unlabeled, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Errorf("the pretraining sampler refused an unlabeled sample: %v", err)
	}
}

// TestPretrainWritesRun runs every method through Run on real videos and
// checks the run directory: finite losses, and a backbone file with the
// backbone's variables only.
func TestPretrainWritesRun(t *testing.T) {
	for _, method := range []string{"vcop", "speed", "arrow", "rotation", "simclr", "order", "odd-one-out", "byol", "moco", "vcop+rotation:0.5", "videomae"} {
		t.Run(method, func(t *testing.T) {
			cfg, _ := baseConfig(t, method)
			cfg.Pretext.Hidden, cfg.Pretext.ProjDim, cfg.Pretext.QueueSize = 16, 8, 8
			if method == "videomae" {
				cfg.Arch = "vit-micro" // tubelet 2x8x8: 2x2x2 tokens on 4x16x16 clips
			}
			sum, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Steps != 6 || math.IsNaN(sum.Loss) || math.IsInf(sum.Loss, 0) {
				t.Errorf("summary %+v: want 6 steps (3 per epoch) and a finite loss", sum)
			}
			for _, f := range []string{train.ConfigFile, train.CheckpointFile, train.MetricsFile, train.SummaryFile, BackboneFile} {
				if _, err := os.Stat(filepath.Join(cfg.Out, f)); err != nil {
					t.Errorf("run directory lacks %s", f)
				}
			}
			bb, err := train.LoadStore(filepath.Join(cfg.Out, BackboneFile))
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for v := range bb.IterVariables() {
				paths = append(paths, v.Path())
			}
			want := 2 // tiny: fc weight and bias
			if method == "videomae" {
				want = 2 + 4*12 + 2 // patch_embed, 4 blocks of 12, the encoder's final norm
			}
			if len(paths) != want {
				t.Errorf("backbone file holds %d variables, want %d: %v", len(paths), want, paths)
			}
			for _, p := range paths {
				if !strings.HasPrefix(p, "/backbone/") {
					t.Errorf("backbone file holds %s", p)
				}
			}
		})
	}
}

func TestPretrainUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*Config)
	}{
		{"unknown method", "unknown method", func(c *Config) { c.Method = "jigsaw" }},
		{"unknown arch", "unknown architecture", func(c *Config) { c.Arch = "resnet9000" }},
		{"no data", "--data is required", func(c *Config) { c.Data = "" }},
		{"batch too large", "lower --batch", func(c *Config) { c.Batch = 100 }},
		{"videomae on a CNN", "needs a ViT", func(c *Config) { c.Method, c.Pretext.Tubelet = "videomae", [3]int{2, 8, 8} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := baseConfig(t, "arrow")
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if cli.ExitCode(err) != cli.ExitUsage {
				t.Errorf("exit code %d, want the usage code", cli.ExitCode(err))
			}
		})
	}
}

// TestPretrainResume: a second run into the same directory needs --resume,
// and resuming an interrupted run finishes it with the backbone file written.
func TestPretrainResume(t *testing.T) {
	cfg, watch := baseConfig(t, "arrow")
	ctx, cancel := context.WithCancel(context.Background())
	inner := cfg.Sampler
	cfg.Sampler = func(s loader.Sampler) loader.Sampler {
		s = inner(s)
		return samplerHook(func(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
			if len(watch.labels) >= 4 {
				cancel() // interrupt after the first batches
			}
			return s.Sample(r, label, rng)
		})
	}
	_, err := Run(ctx, cfg)
	if err == nil {
		t.Fatal("a cancelled run reported success")
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, train.CheckpointFile)); err != nil {
		t.Fatalf("the interrupted run left no checkpoint: %v", err)
	}
	cfg.Sampler = nil
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("rerun without resume: %v, want an error naming --resume", err)
	}
	cfg.Resume = true
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 6 || !sum.Resumed {
		t.Errorf("resumed summary %+v: want 6 steps, resumed", sum)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, BackboneFile)); err != nil {
		t.Errorf("no backbone file after the resumed run: %v", err)
	}
}

type samplerHook func(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error)

func (f samplerHook) Sample(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
	return f(r, label, rng)
}
