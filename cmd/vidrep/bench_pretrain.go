package main

import (
	"fmt"
	"os"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/pretext/pretrain"
)

// BenchPretrainCmd implements "vidrep bench pretrain": one method's
// pretraining step (its views, backbone, head, loss, backward and AdamW) on a
// batch drawn from synthetic noise videos.
type BenchPretrainCmd struct {
	Method  string  `help:"Pretext method or combination (see vidrep pretrain)." default:"pan"`
	Arch    string  `help:"Backbone name (see models.Names)." default:"r3d-small"`
	Width   float64 `help:"Channel width multiplier (0: the architecture's default)." default:"0"`
	Batch   int     `help:"Videos per step (each gives the method's views)." default:"8"`
	Frames  int     `help:"Frames per clip." default:"8"`
	Stride  int     `help:"Temporal stride." default:"2"`
	Size    int     `help:"Side of the square crops." default:"32"`
	Mask    float64 `name:"mask-ratio" help:"Share of tubes VideoMAE masks." default:"0.9"`
	DecDim  int     `name:"decoder-dim" help:"VideoMAE decoder width (0: 128)." default:"0"`
	DecDep  int     `name:"decoder-depth" help:"VideoMAE decoder blocks (0: 2)." default:"0"`
	DecHead int     `name:"decoder-heads" help:"VideoMAE decoder attention heads (0: 4)." default:"0"`
	Dtype   string  `help:"Compute dtype: f32, or bf16 on XLA." default:"f32" enum:"f32,bf16"`
	Steps   int     `help:"Timed steps." default:"10"`
	Warmup  int     `help:"Untimed steps after the first (compile) call." default:"2"`
	Backend string  `help:"go or xla:<plugin> (default: $GOMLX_BACKEND, else go)."`
}

// Run executes the command: progress on stderr, the RESULT line on stdout.
func (c *BenchPretrainCmd) Run() error {
	backend, err := engine.New(c.Backend)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	fmt.Fprintf(os.Stderr, "bench pretrain: %s on %s, %s\n", c.Method, c.Arch, backend.Description())
	res, err := pretrain.Bench(pretrain.BenchConfig{
		Config: pretrain.Config{Method: c.Method, Arch: c.Arch, Width: c.Width, Batch: c.Batch,
			Frames: c.Frames, Stride: c.Stride, Size: c.Size, DType: c.Dtype, Pretext: pretext.Options{MaskRatio: c.Mask, DecoderDim: c.DecDim, DecoderDepth: c.DecDep, DecoderHeads: c.DecHead}},
		Steps: c.Steps, Warmup: c.Warmup, Engine: backend,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  first call (build+compile+step): %.1f ms\n", res.FirstMs)
	fmt.Println(res)
	return nil
}
