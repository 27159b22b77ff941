package main

import (
	"fmt"

	"github.com/vidrep/vidrep/evaluate"
)

// FeaturesCmd implements "vidrep features".
type FeaturesCmd struct {
	FeatureFlags
	Subset string `help:"Videos to embed: train, test, all (train then test of the split) or unlabeled." default:"all" enum:"train,test,all,unlabeled"`
	Out    string `help:"Output path without extension: writes OUT.npy (float32 [videos, dim]), OUT.ids.txt and OUT.json." required:"" type:"path"`
}

// Run executes the command.
func (c *FeaturesCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	cfg := c.config()
	cfg.Subset = c.Subset
	f, err := evaluate.ExtractFeatures(ctx, cfg)
	if err != nil {
		return err
	}
	if err := f.Write(c.Out); err != nil {
		return err
	}
	dim := 0
	if len(f.X) > 0 {
		dim = len(f.X[0])
	}
	fmt.Printf("%d videos x %d features -> %s.npy (ids in %s.ids.txt, labels in %s.json)\n", len(f.X), dim, c.Out, c.Out, c.Out)
	if f.Failed > 0 {
		fmt.Printf("%d videos could not be decoded and were left out\n", f.Failed)
	}
	return nil
}
