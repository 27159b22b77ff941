package main

import (
	"fmt"
	"os"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/models/bench"
)

// BenchModelFlags are the flags "vidrep bench train" and "bench infer" share.
type BenchModelFlags struct {
	Arch       string  `help:"Backbone name (see models.Names)." default:"r3d-small"`
	Width      float64 `help:"Channel width multiplier (0: the architecture's default)." default:"0"`
	Batch      int     `help:"Clips per step." default:"8"`
	Frames     int     `help:"Frames per clip." default:"8"`
	Size       int     `help:"Frame height and width." default:"32"`
	Dtype      string  `help:"Compute dtype: f32 or bf16." default:"f32" enum:"f32,bf16"`
	Classes    int     `help:"Classes of the training head (0: 10, the CPU anchor's; the GPU anchor uses 101)." default:"0"`
	Optimizer  string  `help:"Training step's optimizer: adamw (the anchors') or sgd (no moment buffers: fewer buffers per call)." default:"adamw" enum:"adamw,sgd"`
	Steps      int     `help:"Timed steps." default:"10"`
	Warmup     int     `help:"Untimed steps after the first (compile) call." default:"2"`
	Backend    string  `help:"go or xla:<plugin> (default: $GOMLX_BACKEND, else go)."`
	Cpuprofile string  `help:"Write a pprof CPU profile of the timed steps to this file."`
}

// run executes the benchmark in training or inference mode and prints
// progress to stderr and the RESULT line to stdout.
func (f *BenchModelFlags) run(train bool) error {
	backend, err := engine.New(f.Backend)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	if _, err := models.New(f.Arch, models.Options{}); err != nil {
		return cli.Usagef("--arch: %v", err)
	}
	fmt.Fprintf(os.Stderr, "bench %s: %s on %s\n", map[bool]string{true: "train", false: "infer"}[train], f.Arch, backend.Description())
	res, err := bench.Run(bench.Config{
		Arch: f.Arch, Options: models.Options{Width: f.Width},
		Batch: f.Batch, Frames: f.Frames, Size: f.Size, Classes: f.Classes, Optimizer: f.Optimizer, Steps: f.Steps, Warmup: f.Warmup,
		DType: f.Dtype, Train: train, CPUProfile: f.Cpuprofile, Backend: backend,
	}, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Println(res)
	return nil
}

// BenchTrainCmd implements "vidrep bench train": the training step
// (forward, backward, AdamW) on synthetic clips.
type BenchTrainCmd struct {
	BenchModelFlags
}

// Run executes the command.
func (c *BenchTrainCmd) Run() error { return c.run(true) }
