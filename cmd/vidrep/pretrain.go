package main

import (
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/pretext/pretrain"
)

// PretrainCmd implements "vidrep pretrain": self-supervised pretraining of a
// backbone with one pretext method (or a weighted combination).
type PretrainCmd struct {
	Data        string  `help:"Dataset directory (its unlabeled videos, or the train side of --split with labels hidden)." required:"" type:"path"`
	Format      string  `help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2, folder or unlabeled." default:"auto"`
	Split       int     `help:"Split whose train videos are used when the dataset has no unlabeled videos." default:"1"`
	WithTrain   bool    `name:"with-train" help:"Also pretrain on the split's training videos, labels hidden (never its test videos)."`
	Method      string  `help:"Pretext method, or a combination such as vcop:1+rotation:0.5 (see the methods below)" required:""`
	Arch        string  `help:"Backbone name (see vidrep bench train --help)." required:""`
	Width       float64 `help:"Channel width multiplier (0: the architecture's default)." default:"0"`
	Out         string  `help:"Run directory to write." required:"" type:"path"`
	Epochs      int     `help:"Passes over the videos." default:"10"`
	Steps       int     `help:"Stop after this many optimizer steps (0: no cap)." default:"0"`
	Batch       int     `help:"Videos per batch." default:"16"`
	Frames      int     `help:"Frames per clip." default:"8"`
	Stride      int     `help:"Temporal stride between the frames of a clip." default:"2"`
	Size        int     `help:"Side of the square crops." default:"112"`
	LR          float64 `name:"lr" help:"Peak learning rate (AdamW, warm-up then cosine)." default:"1e-3"`
	WD          float64 `name:"weight-decay" help:"AdamW weight decay." default:"1e-4"`
	Warmup      int     `help:"Warm-up steps." default:"0"`
	Temp        float64 `name:"temperature" help:"InfoNCE temperature (simclr, moco)." default:"0.1"`
	NoFlip      bool    `name:"no-flip" help:"No horizontal flips in the views: for data whose motion has a left/right direction."`
	Moment      float64 `name:"momentum" help:"EMA rate of the momentum encoder (moco, byol)." default:"0.99"`
	Queue       int     `help:"Negatives kept in MoCo's queue (0: half the videos, at most 1024)." default:"0"`
	Mask        float64 `name:"mask-ratio" help:"Share of tubes VideoMAE masks." default:"0.9"`
	Clips       int     `help:"Clips per tuple: vcop's K (0: 3), odd-one-out's N (0: 4)." default:"0"`
	Gap         int     `help:"Frames between the clips of a vcop or order tuple." default:"0"`
	LocalMotion float64 `name:"local-motion" help:"Share of camera clips whose motion shows only through a random window of the view, the rest still (MoSI's static mask)." default:"0"`
	Still       bool    `name:"still" help:"Camera moves one still frame of each clip (its middle) instead of the clip, so that its motion is the only motion (MoSI's pseudo-motion of still images)."`
	PanJitter   float64 `name:"pan-speed-jitter" help:"Multiply the speed of each camera pan by a factor drawn from [1-J, 1+J], capped where the path would leave the frame (0: fixed speed)." default:"0"`
	Seed        uint64  `help:"Seed of initialisation, data order and augmentation." default:"0"`
	Resume      bool    `help:"Continue the run in --out from its checkpoint."`
	Dtype       string  `help:"Compute dtype: f32, or bf16 on XLA." default:"f32" enum:"f32,bf16"`
	RuntimeFlags
}

// Help lists the methods in the usage text.
func (c *PretrainCmd) Help() string {
	return fmt.Sprintf("Methods: %v. The run directory gets config.json, checkpoint.safetensors, metrics.jsonl, "+
		"summary.json and %s (the backbone alone, for finetune --init).", pretext.Names(), pretrain.BackboneFile)
}

// Run executes the command.
func (c *PretrainCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	sum, err := pretrain.Run(ctx, pretrain.Config{
		Data: c.Data, Format: c.Format, Split: c.Split, WithTrain: c.WithTrain, Out: c.Out,
		Method: c.Method, Arch: c.Arch, Width: c.Width,
		Epochs: c.Epochs, Steps: c.Steps, Batch: c.Batch, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
		LR: c.LR, WeightDecay: c.WD, Warmup: c.Warmup, Seed: c.Seed, Resume: c.Resume,
		Workers: workers, Backend: c.Backend, DType: c.Dtype, Version: version, Quiet: c.Quiet,
		Pretext: pretext.Options{Temperature: c.Temp, Momentum: c.Moment, QueueSize: c.Queue, MaskRatio: c.Mask, Clips: c.Clips, Gap: c.Gap, NoFlip: c.NoFlip, LocalMotion: c.LocalMotion, Still: c.Still, PanSpeedJitter: c.PanJitter},
	})
	if err != nil {
		return err
	}
	acc := ""
	if sum.Accuracy != nil {
		acc = fmt.Sprintf(", pretext accuracy %.3f", *sum.Accuracy)
	}
	fmt.Printf("pretrain %s on %s: %d steps in %.0fs, loss %.4f%s, peak RSS %.0f MiB; backbone in %s\n",
		c.Method, c.Arch, sum.Steps, sum.ElapsedS, sum.Loss, acc, sum.PeakRSSMB, filepath.Join(c.Out, pretrain.BackboneFile))
	return nil
}
