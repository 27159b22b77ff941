package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/report"
)

// FeatureFlags choose the backbone and the clips that embed each video.
type FeatureFlags struct {
	Data   string  `help:"Dataset directory." required:"" type:"path"`
	Format string  `help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2, folder or unlabeled." default:"auto"`
	Ckpt   string  `help:"A run directory (pretrain, import or finetune), a .safetensors file, or scratch (a seeded random backbone)." required:""`
	Split  int     `help:"Split (1-based)." default:"1"`
	Arch   string  `help:"Backbone name, for a .safetensors file or scratch (a run records its own)."`
	Width  float64 `help:"Channel width multiplier (0: the architecture's default)." default:"0"`
	Frames int     `help:"Frames per clip (0: the run's, else 8)." default:"0"`
	Stride int     `help:"Temporal stride (0: the run's, else 2)." default:"0"`
	Size   int     `help:"Side of the square crops (0: the run's, else 112)." default:"0"`
	Clips  int     `help:"Uniformly spaced clips per video, features averaged (VCOP uses 10)." default:"10"`
	Crops  int     `help:"Crops per clip, averaged too (1: centre)." default:"1" enum:"1,3"`
	Seed   uint64  `help:"Seed of a scratch backbone's initialisation." default:"0"`
	Batch  int     `help:"Clips per inference pass." default:"32"`
	RuntimeFlags
}

func (f FeatureFlags) config() evaluate.FeatureConfig {
	return evaluate.FeatureConfig{
		DataRoot: f.Data, Format: f.Format, Split: f.Split, Ckpt: f.Ckpt, Arch: f.Arch, Width: f.Width,
		Frames: f.Frames, Stride: f.Stride, Size: f.Size, Clips: f.Clips, Crops: f.Crops, Seed: f.Seed,
		Runtime: f.runtime(f.Batch),
	}
}

// outDir is where results go: --out, else the checkpoint's run directory.
func outDir(out, ckpt string) string {
	if out != "" {
		return out
	}
	if st, err := os.Stat(ckpt); err == nil && st.IsDir() {
		return ckpt
	}
	return ""
}

// RetrieveCmd implements "vidrep retrieve".
type RetrieveCmd struct {
	FeatureFlags
	K   string `name:"k" help:"Comma-separated cut-offs of R@k." default:"1,5,10,20,50"`
	Out string `help:"Directory for retrieval.json (default: the --ckpt run directory)." type:"path"`
}

// Run executes the command.
func (c *RetrieveCmd) Run() error {
	ks, err := parseKs(c.K)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := evaluate.Retrieve(ctx, evaluate.RetrieveConfig{FeatureConfig: c.config(), Ks: ks, Out: outDir(c.Out, c.Ckpt)})
	if err != nil {
		return err
	}
	t := report.NewTable("", "k", "R@k %")
	t.Decimals = 1
	for _, r := range res.Recall {
		t.AddRow(r.K, 100*r.Recall)
	}
	fmt.Printf("retrieval: %d test videos query %d train videos (%d clips each, cosine similarity)\n", res.Queries, res.Gallery, res.Clips)
	fmt.Print(t.Plain())
	return nil
}

// parseKs parses "1,5,10" into positive integers.
func parseKs(s string) ([]int, error) {
	var ks []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 {
			return nil, cli.Usagef("--k %q: give positive integers separated by commas, e.g. 1,5,10,20,50", s)
		}
		ks = append(ks, k)
	}
	return ks, nil
}
