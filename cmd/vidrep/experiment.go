package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vidrep/vidrep/experiment"
)

// ExperimentCmd implements "vidrep experiment": the comparison grid and its report.
type ExperimentCmd struct {
	Data       string   `help:"Target dataset directory (labeled; its unlabeled videos feed pretraining)." required:"" type:"path"`
	Format     string   `help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2 or folder." default:"auto"`
	Split      int      `help:"Split (1-based)." default:"1"`
	Out        string   `help:"Experiment directory (run again on it to resume)." required:"" type:"path"`
	Methods    []string `help:"Self-supervised methods to compare, comma-separated." default:"arrow,speed"`
	Labels     []string `help:"Label budgets, comma-separated, smallest first (5/class, 10%, all)." default:"5/class,all"`
	Seeds      int      `help:"Seeds per cell: a seed fixes the labeled videos a budget draws (the same for every init) and the training's randomness, and the report gives each gain over scratch a standard error from the paired seeds." default:"3"`
	Protocols  string   `help:"Protocols: finetune, linear, retrieval (comma-separated)." default:"finetune,linear,retrieval"`
	Supervised string   `help:"Labeled source dataset for supervised transfer (empty: skip)." type:"path"`
	Import     string   `help:"A .safetensors weights file to compare as one more initialisation." type:"path"`

	Arch              string  `help:"Backbone name." default:"r3d-small"`
	Width             float64 `help:"Channel width multiplier (0: the architecture's default)." default:"0"`
	Frames            int     `help:"Frames per clip." default:"8"`
	Stride            int     `help:"Temporal stride." default:"2"`
	Size              int     `help:"Side of the square crops." default:"112"`
	NoFlip            bool    `name:"no-flip" help:"No horizontal flips: for classes with a left/right direction (SSv2, the synthetic benchmark)."`
	PretrainWithTrain bool    `name:"pretrain-with-train" help:"Pretrain on the split's training videos too, labels hidden (never its test videos)."`
	ProbeHead         bool    `name:"probe-head" help:"Fine-tune every initialisation from a linear probe's head (LP-FT) instead of a random one."`
	ProbeWD           float64 `name:"probe-weight-decay" help:"L2 penalty of every linear probe (standardised features; 0: the default, 1e-3); the demo uses 1, chosen on a validation draw (docs/results.md)." default:"1e-3"`

	PretrainEpochs      int     `name:"pretrain-epochs" default:"10" help:"Epochs of each pretraining."`
	PretrainBatch       int     `name:"pretrain-batch" default:"16" help:"Videos per pretraining batch."`
	PretrainLR          float64 `name:"pretrain-lr" default:"1e-3" help:"Peak learning rate of pretraining."`
	PretrainWarmup      int     `name:"pretrain-warmup" default:"0" help:"Steps of linear learning-rate warm-up at the start of each pretraining."`
	PretrainLocalMotion float64 `name:"pretrain-local-motion" default:"0" help:"Share of camera pretraining clips whose motion shows only through a random window of the view (pretrain --local-motion)."`
	PretrainPanJitter   float64 `name:"pretrain-pan-speed-jitter" default:"0" help:"Multiply the speed of each camera pan by a factor drawn from [1-J, 1+J] (pretrain --pan-speed-jitter)."`
	PretrainSeeds       int     `name:"pretrain-seeds" default:"1" help:"Pretrainings of each method and of the supervised source, seeded 1, 2, ...: the cells of seed s use pretraining s mod N, so that the error bars hold the pretraining's own spread; must divide --seeds."`
	PretrainCandidates  int     `name:"pretrain-candidates" default:"1" help:"Runs of each self-supervised pretraining, with other seeds, of which the cells use the one with the highest pretext accuracy over its final epochs holding 90 steps or more (lowest loss without accuracy); no label is read. The supervised source is trained once."`
	FinetuneEpochs      int     `name:"finetune-epochs" default:"10" help:"Epochs of each fine-tuning (and of the linear probe's head)."`
	FinetuneBatch       int     `name:"finetune-batch" default:"16" help:"Clips per fine-tuning batch."`
	FinetuneLR          float64 `name:"finetune-lr" default:"1e-3" help:"Peak learning rate of fine-tuning."`
	SupervisedEpochs    int     `name:"supervised-epochs" default:"10" help:"Epochs of the supervised source training."`
	EvalClips           int     `name:"eval-clips" default:"10" help:"Test clips per video."`
	EvalCrops           int     `name:"eval-crops" default:"3" enum:"1,3" help:"Test crops per clip."`
	Dtype               string  `help:"Training compute dtype of every pretraining and fine-tuning: f32, or bf16 on XLA." default:"f32" enum:"f32,bf16"`
	JobsFlag
	RuntimeFlags
}

// Run executes the command.
func (c *ExperimentCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	protos, err := experiment.ParseProtocols(c.Protocols)
	if err != nil {
		return err
	}
	res, err := experiment.Run(ctx, experiment.Config{
		Data: c.Data, Format: c.Format, Split: c.Split, Out: c.Out,
		Methods: c.Methods, Labels: c.Labels, Seeds: c.Seeds, Protocols: protos,
		Supervised: c.Supervised, SupervisedEpochs: c.SupervisedEpochs, Import: c.Import,
		Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size, NoFlip: c.NoFlip, ProbeHead: c.ProbeHead, ProbeWeightDecay: c.ProbeWD,
		PretrainWithTrain: c.PretrainWithTrain,
		PretrainEpochs:    c.PretrainEpochs, PretrainBatch: c.PretrainBatch, PretrainLR: c.PretrainLR, PretrainWarmup: c.PretrainWarmup, PretrainSeeds: c.PretrainSeeds,
		PretrainCandidates:  c.PretrainCandidates,
		PretrainLocalMotion: c.PretrainLocalMotion, PretrainPanSpeedJitter: c.PretrainPanJitter,
		FinetuneEpochs: c.FinetuneEpochs, FinetuneBatch: c.FinetuneBatch, FinetuneLR: c.FinetuneLR,
		EvalClips: c.EvalClips, EvalCrops: c.EvalCrops, DType: c.Dtype, Version: version,
		Runtime: c.runtime(0), Jobs: c.Jobs,
	})
	if err != nil {
		return err
	}
	printResults(res)
	return nil
}

// JobsFlag is how many of an experiment's runs go at once.
type JobsFlag struct {
	Jobs int `help:"Runs at once: the pretrainings together, then the cells (0: 2 on the CPU backend of a machine with 2 or more cores, else 1). The numbers do not depend on it; while several run, the experiment prints a line as each pretraining starts and ends and as each cell ends, instead of their progress bars; on an accelerator the runs would share its memory." default:"0"`
}

// printResults shows the headline table and where the report is.
func printResults(res *experiment.Results) {
	fmt.Println()
	fmt.Print(experiment.Headline(res))
	fmt.Println(strings.Repeat("-", 60))
	fmt.Printf("report: %s\n        %s\n", filepath.Join(res.Config.Out, experiment.ReportBase+".html"),
		filepath.Join(res.Config.Out, experiment.ReportBase+".md"))
	fmt.Printf("wall time: %.0f s\n", res.WallS)
}
