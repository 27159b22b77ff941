package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vidrep/vidrep/evaluate"
)

// RuntimeFlags are the flags every evaluation command shares that do not
// change its numbers.
type RuntimeFlags struct {
	Backend string `help:"go or xla:<plugin> (default: $GOMLX_BACKEND, else go)."`
	Workers int    `help:"Decoding workers (0: one per CPU)." default:"0"`
	Quiet   bool   `help:"No progress bars."`
}

func (r RuntimeFlags) runtime(batch int) evaluate.Runtime {
	return evaluate.Runtime{Backend: r.Backend, Workers: r.Workers, Batch: batch, Quiet: r.Quiet}
}

// signalContext is cancelled by Ctrl-C or SIGTERM, so a run can checkpoint and stop.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// FinetuneCmd implements "vidrep finetune".
type FinetuneCmd struct {
	Data   string `help:"Dataset directory." required:"" type:"path"`
	Format string `help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2 or folder." default:"auto"`
	Out    string `help:"Run directory to write." required:"" type:"path"`
	Init   string `help:"scratch, a run directory (pretrain, import or finetune) or a .safetensors file; only the backbone is taken." default:"scratch"`
	Labels string `help:"Label budget of the training videos: all, 10%, 1%, 5/class (stratified; the same subset for every --init at a --seed)." default:"all"`
	Split  int    `help:"Split (1-based)." default:"1"`
	Linear bool   `help:"Linear probe: freeze the backbone, extract features once, fit a linear head on them."`

	Arch   string  `help:"Backbone name (default: the --init run's)."`
	Width  float64 `help:"Channel width multiplier (0: the architecture's default or the --init run's)." default:"0"`
	Frames int     `help:"Frames per clip (0: the --init run's, else 8)." default:"0"`
	Stride int     `help:"Temporal stride (0: the --init run's, else 2)." default:"0"`
	Size   int     `help:"Side of the square crops (0: the --init run's, else 112)." default:"0"`

	Epochs         int     `help:"Passes over the labeled videos." default:"10"`
	Batch          int     `help:"Clips per batch." default:"16"`
	LR             float64 `name:"lr" help:"Peak learning rate (warm-up then cosine)." default:"1e-3"`
	BackboneLRMult float64 `name:"backbone-lr-mult" help:"Learning-rate multiplier of the backbone (e.g. 0.1 to fine-tune gently)." default:"1"`
	WeightDecay    float64 `name:"weight-decay" help:"AdamW weight decay." default:"1e-2"`
	WarmupEpochs   float64 `name:"warmup-epochs" help:"Linear warm-up length in epochs." default:"1"`
	LabelSmoothing float64 `name:"label-smoothing" help:"Label smoothing of the cross-entropy." default:"0"`
	Optimizer      string  `help:"adamw or sgd." default:"adamw" enum:"adamw,sgd"`
	Augment        string  `help:"Training augmentation: train (crop, flip, light colour) or strong." default:"train" enum:"train,strong"`
	NoFlip         bool    `name:"no-flip" help:"No horizontal flips: for classes with a left/right direction (Something-Something, the synthetic benchmark)."`
	ProbeHead      bool    `name:"probe-head" help:"Start fine-tuning from a linear probe's head instead of a random one (LP-FT): pretrained features are not wrecked by a random head's first gradients."`
	Seed           uint64  `help:"Seed of the label subset, initialisation and data order." default:"0"`
	Resume         bool    `help:"Continue the interrupted run in --out."`

	PreciseBNBatches int `name:"precise-bn-batches" help:"After fine-tuning, recompute batch norm's running mean and variance over this many training batches (weights fixed) before saving and testing; -1: one pass over the labeled clips, 64 to 256 clips; 0: off (keep the running averages, which lag behind the weights in short runs)." default:"-1"`

	LinearClips int     `name:"linear-clips" help:"With --linear: uniformly spaced clips per training video, each a training row." default:"5"`
	ProbeWD     float64 `name:"probe-weight-decay" help:"With --linear or --probe-head: L2 penalty on the logistic regression's weights (features are standardised; 0: the default, 1e-3)." default:"1e-3"`
	EvalClips   int     `name:"eval-clips" help:"Test clips per video after training." default:"10"`
	EvalCrops   int     `name:"eval-crops" help:"Test crops per clip (1 or 3)." default:"3" enum:"1,3"`
	NoEval      bool    `name:"no-eval" help:"Skip testing after training (run vidrep eval later)."`
	Dtype       string  `help:"Training compute dtype: f32, or bf16 on XLA." default:"f32" enum:"f32,bf16"`
	RuntimeFlags
}

// config is the FinetuneConfig the flags ask for: a flag given as 0 where
// the config reads zero as "the default" sets the matching No* field.
func (c *FinetuneCmd) config() evaluate.FinetuneConfig {
	return evaluate.FinetuneConfig{
		DataRoot: c.Data, Format: c.Format, Split: c.Split, Labels: c.Labels, Out: c.Out, Init: c.Init,
		Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
		Linear: c.Linear, LinearClips: c.LinearClips, LinearCfg: evaluate.LinearConfig{WeightDecay: c.ProbeWD},
		Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, BackboneLRMult: c.BackboneLRMult, WeightDecay: c.WeightDecay,
		WarmupEpochs: c.WarmupEpochs, NoBackboneLR: c.BackboneLRMult == 0, NoWeightDecay: c.WeightDecay == 0, NoWarmup: c.WarmupEpochs == 0,
		LabelSmoothing: c.LabelSmoothing, Optimizer: c.Optimizer, Augment: c.Augment, NoFlip: c.NoFlip, ProbeHead: c.ProbeHead,
		DType:            c.Dtype,
		PreciseBNBatches: max(c.PreciseBNBatches, 0), NoPreciseBN: c.PreciseBNBatches == 0,
		Seed: c.Seed, Resume: c.Resume, EvalClips: c.EvalClips, EvalCrops: c.EvalCrops, SkipEval: c.NoEval,
		Info:    map[string]any{"version": version, "command": "finetune"},
		Runtime: c.runtime(c.Batch),
	}
}

// Run executes the command.
func (c *FinetuneCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	res, err := evaluate.Finetune(ctx, c.config())
	if err != nil {
		return err
	}
	how := "fine-tuned"
	if res.Linear {
		how = "linear probe"
	}
	fmt.Printf("%s from %s on %d labeled videos (%s, seed %d) in %.0fs\n", how, res.Init, res.TrainVideos, res.Labels, res.Seed, res.WallS)
	if res.Train != nil {
		fmt.Printf("peak RSS %.0f MiB by the end of training (per epoch in metrics.jsonl)\n", res.Train.PeakRSSMB)
	}
	if p := res.PreciseBN; p != nil {
		fmt.Printf("batch-norm statistics recomputed over %d clips (%d batches, %d layers) in %.1fs\n", p.Clips, p.Batches, p.Layers, p.Seconds)
	}
	if res.Test != nil {
		printEval(res.Test)
	}
	fmt.Printf("run: %s\n", res.RunDir)
	return nil
}
