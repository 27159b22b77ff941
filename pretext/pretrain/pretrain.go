// Package pretrain runs self-supervised pretraining end to end: it loads a
// dataset, takes its pretraining videos with every label hidden, feeds them
// through a pretext method's sampler, trains the backbone with train.Run and
// writes the run directory, including the backbone's weights alone (no
// pretext head) for fine-tuning.
package pretrain

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/train"
	"github.com/vidrep/vidrep/video"
)

// BackboneFile is the file, in a pretraining run directory, that holds the
// backbone's weights alone (variables under "backbone", no pretext head).
// The run's checkpoint also holds them; finetune --init RUN loads either.
const BackboneFile = "backbone.safetensors"

// Config is every setting of a pretraining run.
type Config struct {
	Data   string // dataset root
	Format string // dataset layout ("" or "auto" detects it)
	Split  int    // split whose train side is used when the dataset has no unlabeled videos (default 1)
	// WithTrain adds the split's training videos, labels hidden, to the
	// unlabeled ones (dataset.PretrainSamplesWithTrain).
	WithTrain bool
	Out       string // run directory

	Method string // pretext method or combination (see pretext.New)
	Arch   string // backbone name (see models.Names)
	Width  float64

	Epochs, Batch, Frames, Stride, Size int
	Steps                               int // optional cap on optimizer steps (0: none)
	LR, WeightDecay                     float64
	Warmup                              int // warm-up steps
	Seed                                uint64
	Resume                              bool
	Workers                             int
	Backend                             string // "" uses $GOMLX_BACKEND or go
	DType                               string // "f32" or "bf16"

	// Logf reports each video the loader skips (nil: log.Printf).
	Logf func(format string, args ...any)

	// Pretext holds method settings beyond the clip geometry (temperature,
	// queue size, ...); its Frames, Stride and Size are taken from above.
	Pretext pretext.Options

	// Opener decodes videos; nil uses video.SharedFrameCache(), which keeps
	// decoded videos in memory within its budget.
	Opener video.Opener
	// Locate maps a sample to the file to decode and its frame count; nil
	// uses the loader's default (loader.CacheLocator): the prepare cache's
	// entry when there is one whose source is unchanged, else the source file.
	Locate func(root string, s dataset.Sample) (string, int)
	// Progress receives the progress bar (nil: stderr); Quiet turns it off.
	Progress io.Writer
	Quiet    bool
	// Version is recorded in config.json.
	Version string
	// Sampler, when set, wraps the method's sampler (tests use it to watch
	// what pretraining reads).
	Sampler func(loader.Sampler) loader.Sampler
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Data == "":
		return c, cli.Usagef("pretrain: --data is required (a dataset directory)")
	case c.Out == "":
		return c, cli.Usagef("pretrain: --out is required (the run directory to write)")
	}
	return c.filled()
}

// filled fills zero fields and checks the method, the network and the
// numbers: everything but where the data comes from and goes to.
func (c Config) filled() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Split, 1)
	def(&c.Epochs, 10)
	def(&c.Batch, 16)
	def(&c.Frames, 8)
	def(&c.Stride, 2)
	def(&c.Size, 112)
	def(&c.Workers, 2)
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.DType == "" {
		c.DType = "f32"
	}
	switch {
	case c.Method == "":
		return c, cli.Usagef("pretrain: --method is required; choose one of %v", pretext.Names())
	case c.Arch == "":
		return c, cli.Usagef("pretrain: --arch is required; choose one of %v", models.Names())
	case c.Epochs < 1 || c.Batch < 1 || c.Frames < 1 || c.Stride < 1 || c.Size < 8 || c.Workers < 1 || c.Steps < 0:
		return c, cli.Usagef("pretrain: epochs, batch, frames, stride and workers must be positive and size at least 8")
	case c.LR < 0:
		return c, cli.Usagef("pretrain: --lr %g must be positive", c.LR)
	}
	return c, nil
}

// Run pretrains and returns the training summary. Bad settings come back as
// cli usage errors; everything else as plain errors.
func Run(ctx context.Context, c Config) (*train.Summary, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	// A resume is checked against the run's record first: settings that
	// define another run are the error to report, and nothing is written.
	resumed, err := openResume(c)
	if err != nil {
		return nil, err
	}
	bb, err := models.New(c.Arch, models.Options{Width: c.Width, Frames: c.Frames, Size: c.Size})
	if err != nil {
		return nil, cli.Usagef("pretrain: %v", err)
	}
	if err := pretext.CheckSpec(c.Method); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	ds, err := dataset.Load(c.Data, c.Format)
	if err != nil {
		return nil, err
	}
	samples := pretext.HideLabels(pool(ds, c.Split, c.WithTrain))
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no videos to pretrain on (no unlabeled videos and no train side of split %d)", c.Data, c.Split)
	}
	for _, w := range splitLeaks(ds, c.Split, c.WithTrain) {
		fmt.Fprintf(os.Stderr, "vidrep: warning: %s\n", w)
	}
	if len(samples) < c.Batch {
		return nil, cli.Usagef("pretrain: %s has %d pretraining videos, fewer than --batch %d; lower --batch", c.Data, len(samples), c.Batch)
	}
	if resumed != nil {
		if err := resumed.Check(c.Out, dataSettings(c, len(samples))...); err != nil {
			return nil, err
		}
	}
	method, err := newMethod(c, bb, len(samples))
	if err != nil {
		return nil, err
	}
	data, err := newData(c, ds.Root, samples, method)
	if err != nil {
		return nil, err
	}
	backend, err := engine.New(c.Backend)
	if err != nil {
		return nil, cli.Usagef("pretrain: %v", err)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, fmt.Errorf("pretrain: create %s: %w", c.Out, err)
	}
	store := model.NewStore()
	sum, err := train.Run(ctx, backend, store, c.Out, trainConfig(c), method.Loss(bb), data, runOptions(c, backend, len(samples))...)
	if err != nil {
		return nil, err
	}
	if err := train.SaveStore(store, filepath.Join(c.Out, BackboneFile), pretext.BackboneScope); err != nil {
		return nil, fmt.Errorf("pretrain: save the backbone: %w", err)
	}
	return sum, nil
}

// pool is the list of videos a pretraining on ds reads: its unlabeled
// videos, or the train side of split when it has none; with withTrain, both.
func pool(ds *dataset.Dataset, split int, withTrain bool) []dataset.Sample {
	if withTrain {
		return ds.PretrainSamplesWithTrain(split)
	}
	return ds.PretrainSamples(split)
}

// PoolSize is how many videos a pretraining with these settings reads (see
// Config: Data, Format, Split, WithTrain), so that a caller can refuse a
// batch larger than that before any work starts.
func PoolSize(data, format string, split int, withTrain bool) (int, error) {
	ds, err := dataset.Load(data, format)
	if err != nil {
		return 0, err
	}
	return len(pool(ds, max(split, 1), withTrain)), nil
}

// splitLeaks returns, one line each, the leaks between the train and test
// sides of split n (the errors of dataset.CheckSplit) when pretraining reads
// that train side: when the dataset has no unlabeled videos, or withTrain.
// They are warnings here, as labels are hidden and the backbone may be
// meant for another dataset; finetune and eval refuse the split until its
// lists are fixed.
func splitLeaks(ds *dataset.Dataset, n int, withTrain bool) []string {
	if len(ds.Unlabeled) > 0 && !withTrain {
		return nil
	}
	var out []string
	for _, p := range ds.CheckSplit(n).Errors() {
		out = append(out, fmt.Sprintf("pretrain: dataset %s: %s (pretraining reads that train side; finetune and eval refuse the split until it is fixed)", ds.Root, p.Message))
	}
	return out
}

// newMethod builds the pretext method for the backbone: a ViT's tubelet, and
// a MoCo queue (unless set) of at most half the videos, so that a key rarely
// meets an older key of its own video among the negatives.
func newMethod(c Config, bb models.Backbone, videos int) (pretext.Method, error) {
	popts := c.Pretext
	popts.Frames, popts.Stride, popts.Size = c.Frames, c.Stride, c.Size
	if popts.QueueSize == 0 {
		popts.QueueSize = min(DefaultQueue, max(c.Batch, videos/2))
	}
	if vit, ok := bb.(pretext.TokenBackbone); ok && popts.Tubelet == [3]int{} {
		var err error
		if popts.Tubelet, err = pretext.Tubelet(vit, c.Frames, c.Size); err != nil {
			return nil, cli.Usagef("pretrain: %v; choose --frames and --size that are multiples of the tubelet", err)
		}
	}
	method, err := pretext.New(c.Method, popts)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	if err := pretext.CheckBackbone(method, bb); err != nil {
		return nil, cli.Usagef("%v (--arch %s)", err, c.Arch)
	}
	return method, nil
}

// DefaultQueue is the largest MoCo queue pretrain chooses by itself.
const DefaultQueue = 1024

// newData builds the loader that feeds the method's sampler with unlabeled videos.
func newData(c Config, root string, samples []dataset.Sample, m pretext.Method) (train.Data, error) {
	opener := c.Opener
	if opener == nil {
		opener = video.SharedFrameCache()
	}
	sampler := pretext.Unlabeled(m.Sampler())
	if c.Sampler != nil {
		sampler = c.Sampler(sampler)
	}
	l, err := loader.New(loader.Config{
		Root: root, Samples: samples, Opener: opener, Sampler: sampler,
		BatchSize: c.Batch, Workers: c.Workers, Seed: c.Seed, Shuffle: true, DropLast: true,
		DecodeShortSide: c.Size * 8 / 7, Locate: c.Locate, Logf: c.Logf,
	})
	if err != nil {
		return nil, err
	}
	return loaderData{l}, nil
}

// loaderData adapts a *loader.Loader to train.Data.
type loaderData struct{ l *loader.Loader }

var _ train.LoaderStats = loaderData{}

// StepsPerEpoch is the loader's batches per epoch.
func (d loaderData) StepsPerEpoch() int { return d.l.StepsPerEpoch() }

// Stats are the loader's counters (train.LoaderStats: per-epoch loader wait and busy).
func (d loaderData) Stats() loader.Stats { return d.l.Stats() }

// Epoch starts the loader's pass for epoch, skipping skip batches.
func (d loaderData) Epoch(epoch, skip int) (train.Batches, error) {
	b, err := d.l.Epoch(epoch, skip)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func trainConfig(c Config) train.Config {
	return train.Config{
		Epochs: c.Epochs, Steps: c.Steps, BatchSize: c.Batch, LR: c.LR, WeightDecay: c.WeightDecay,
		WarmupSteps: c.Warmup, Seed: c.Seed, DType: c.DType, ClipNorm: 5, CheckpointEvery: 200,
	}
}

// runOptions records the network, the method and its options, and the data
// in config.json: the settings a resume checks (definingSettings,
// dataSettings), and what finetune and evaluate read from its "info" (arch,
// width, frames, stride and size).
func runOptions(c Config, backend compute.Backend, videos int) []train.Option {
	info := train.RecordedInfo(append(definingSettings(c), dataSettings(c, videos)...))
	info["backbone_file"], info["version"], info["backend"] = BackboneFile, c.Version, backend.Name()
	opts := []train.Option{train.WithResume(c.Resume), train.WithInfo(info)}
	if c.Quiet {
		opts = append(opts, train.WithQuiet())
	} else if c.Progress != nil {
		opts = append(opts, train.WithProgress(c.Progress, false))
	}
	return opts
}
