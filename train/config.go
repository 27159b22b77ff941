// Package train is the training engine of vidrep: a lean loop over GoMLX's
// model.Exec with AdamW or SGD, a cosine schedule with warm-up, weight decay
// that skips norms and biases, global-norm gradient clipping, gradient
// accumulation, bf16 mixed precision on XLA, metrics.jsonl, a progress bar
// and checkpoints that survive a kill.
//
// A run directory holds config.json, checkpoint.safetensors, metrics.jsonl and
// summary.json. Checkpoints hold the weights, the optimizer state, the random
// number generator state and the position in the data (epoch and batches
// done), so a run resumed with WithResume ends, on the Go backend, with the
// same weights as a run that was never interrupted.
package train

import (
	"fmt"
	"io"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

// LossFn builds the loss of one batch. views[v] is [B,T,H,W,3] (float32, or
// bfloat16 under DType "bf16"), targets[j] is [B] int32. accuracy may be nil.
// training selects batch-norm mode etc.
//
// Mixed precision: the weights are float32 variables; a model computes in the
// dtype of its activations by converting each weight where it is used
// (ConvertDType(w.NodeValue(g), x.DType())), so under bf16 the compute is
// bfloat16 while gradients and updates stay float32.
type LossFn func(scope *model.Scope, views, targets []*graph.Node, training bool) (loss, accuracy *graph.Node)

// Data yields the batches of an epoch in a deterministic order.
type Data interface {
	// StepsPerEpoch is the number of batches in one epoch.
	StepsPerEpoch() int
	// Epoch starts epoch e after skipping `skip` batches (for resume).
	Epoch(epoch, skip int) (Batches, error)
}

// Batches iterates over the batches of one epoch: Next returns io.EOF at
// the end. It is the loader's own iterator type, so a *loader.Loader is a
// Data as it is.
type Batches = loader.Batches

// Config holds every setting of a training run; it is written to config.json.
// Zero values take the defaults documented on each field.
type Config struct {
	Epochs    int `json:"epochs"`     // passes over the data (at least 1)
	Steps     int `json:"steps"`      // optional cap on optimizer steps (0: no cap)
	BatchSize int `json:"batch_size"` // clips per batch, recorded for clips/s and config.json

	Optimizer   string  `json:"optimizer"`    // "adamw" (default) or "sgd"
	LR          float64 `json:"lr"`           // peak learning rate (required, > 0)
	WeightDecay float64 `json:"weight_decay"` // decoupled for AdamW, L2 for SGD; skips norms and biases
	Momentum    float64 `json:"momentum"`     // SGD momentum (0: plain SGD; 0.9 is usual)
	Beta1       float64 `json:"beta1"`        // AdamW beta1 (default 0.9)
	Beta2       float64 `json:"beta2"`        // AdamW beta2 (default 0.999)
	Epsilon     float64 `json:"epsilon"`      // AdamW epsilon (default 1e-8)

	WarmupSteps int     `json:"warmup_steps"` // linear warm-up steps
	Schedule    string  `json:"schedule"`     // "cosine" (default) or "constant"
	MinLR       float64 `json:"min_lr"`       // floor of the cosine schedule (default 0)
	ClipNorm    float64 `json:"clip_norm"`    // global gradient norm limit (0: no clipping)
	AccumSteps  int     `json:"accum_steps"`  // batches per optimizer step (default 1)
	DType       string  `json:"dtype"`        // "f32" (default) or "bf16" (XLA only: weights f32, compute bf16)

	CheckpointEvery int    `json:"checkpoint_every"` // optimizer steps between checkpoints (0: only at the end)
	LogEvery        int    `json:"log_every"`        // optimizer steps between metrics lines (default 10)
	Seed            uint64 `json:"seed"`             // seeds initialisation and in-graph randomness

	// LRMultipliers scales the learning rate of the variables under a scope
	// prefix (e.g. {"backbone": 0.1} for fine-tuning); the longest prefix wins.
	LRMultipliers map[string]float64 `json:"lr_multipliers,omitempty"`
	// Frozen lists scope prefixes whose variables are not trained.
	Frozen []string `json:"frozen,omitempty"`
}

// withDefaults returns cfg with defaults filled in, or an error naming the bad setting.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Optimizer == "" {
		cfg.Optimizer = "adamw"
	}
	cfg.Optimizer = strings.ToLower(cfg.Optimizer)
	if cfg.Schedule == "" {
		cfg.Schedule = "cosine"
	}
	if cfg.DType == "" {
		cfg.DType = "f32"
	}
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Epsilon == 0 {
		cfg.Epsilon = 1e-8
	}
	if cfg.AccumSteps == 0 {
		cfg.AccumSteps = 1
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = 10
	}
	switch {
	case cfg.Epochs < 1:
		return cfg, fmt.Errorf("train: epochs is %d; use --epochs 1 or more", cfg.Epochs)
	case cfg.Steps < 0:
		return cfg, fmt.Errorf("train: steps is %d; use 0 (no cap) or a positive number", cfg.Steps)
	case cfg.Optimizer != "adamw" && cfg.Optimizer != "sgd":
		return cfg, fmt.Errorf("train: unknown optimizer %q; use adamw or sgd", cfg.Optimizer)
	case !(cfg.LR > 0):
		return cfg, fmt.Errorf("train: learning rate is %g; use a positive --lr such as 1e-3", cfg.LR)
	case cfg.WeightDecay < 0 || cfg.ClipNorm < 0 || cfg.MinLR < 0 || cfg.Momentum < 0:
		return cfg, fmt.Errorf("train: weight decay, clip norm, min lr and momentum must not be negative")
	case cfg.Beta1 >= 1 || cfg.Beta2 >= 1 || cfg.Beta1 < 0 || cfg.Beta2 < 0:
		return cfg, fmt.Errorf("train: AdamW betas must lie in [0,1), got %g and %g", cfg.Beta1, cfg.Beta2)
	case cfg.Schedule != "cosine" && cfg.Schedule != "constant":
		return cfg, fmt.Errorf("train: unknown schedule %q; use cosine or constant", cfg.Schedule)
	case cfg.WarmupSteps < 0 || cfg.AccumSteps < 1 || cfg.CheckpointEvery < 0 || cfg.LogEvery < 1:
		return cfg, fmt.Errorf("train: warmup, accum, checkpoint and log steps must not be negative")
	case cfg.DType != "f32" && cfg.DType != "bf16":
		return cfg, fmt.Errorf("train: unknown dtype %q; use f32 or bf16", cfg.DType)
	}
	for prefix, m := range cfg.LRMultipliers {
		if m < 0 {
			return cfg, fmt.Errorf("train: learning-rate multiplier %g for %q is negative", m, prefix)
		}
	}
	return cfg, nil
}

// Option changes how Run behaves without changing what it trains.
type Option func(*runOptions)

type runOptions struct {
	resume      bool
	progressOut io.Writer
	terminal    bool
	quiet       bool
	info        map[string]any
	afterStep   func(step int) error
	beforeFinal func() error
}

// WithResume continues the run in runDir from its checkpoint (weights,
// optimizer state, schedule position, RNG state and data order). Without a
// checkpoint in runDir the run starts fresh.
func WithResume(resume bool) Option { return func(o *runOptions) { o.resume = resume } }

// WithProgress draws the progress bar on out; terminal selects the redrawn
// one-line form. Without this option the bar goes to stderr.
func WithProgress(out io.Writer, terminal bool) Option {
	return func(o *runOptions) { o.progressOut, o.terminal = out, terminal }
}

// WithQuiet turns the progress bar off.
func WithQuiet() Option { return func(o *runOptions) { o.quiet = true } }

// WithInfo adds entries to config.json (method, arch, data directory, version...).
func WithInfo(info map[string]any) Option {
	return func(o *runOptions) {
		if o.info == nil {
			o.info = map[string]any{}
		}
		for k, v := range info {
			o.info[k] = v
		}
	}
}

// WithBeforeFinal calls fn once the run's last step is done, before the final
// checkpoint is written, so that the checkpoint holds what fn changes in the
// store (evaluate recomputes batch-norm statistics there). A resumed run whose
// checkpoint is already the final one does not call fn again. An error from fn
// stops the run as a crash would: the last periodic checkpoint stays, and
// --resume redoes the steps after it and then calls fn.
func WithBeforeFinal(fn func() error) Option {
	return func(o *runOptions) { o.beforeFinal = fn }
}

// WithAfterStep calls fn after each optimizer step (and after any checkpoint
// of that step is written); an error from fn stops the run with that error and
// without a further checkpoint, as a crash would.
func WithAfterStep(fn func(step int) error) Option {
	return func(o *runOptions) { o.afterStep = fn }
}
