package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/prepare"
)

// PrepareCmd implements "vidrep prepare".
type PrepareCmd struct {
	Data      string        `required:"" placeholder:"DIR" help:"Dataset root (or, for --format unlabeled, a list file)."`
	Format    string        `default:"auto" help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2, folder or unlabeled."`
	Workers   int           `default:"0" help:"Files decoded in parallel (0: one per CPU)."`
	ShortSide int           `default:"128" help:"Short side of the cached videos in pixels (smaller videos are not upscaled)."`
	Timeout   time.Duration `default:"5m" help:"Time limit per file; a file that takes longer is quarantined."`
	MemLimit  int           `name:"mem-limit" default:"4096" help:"Memory (address space) limit per file in MiB."`
	Retry     bool          `help:"Try again the files an earlier run quarantined, even if they did not change."`
	Quiet     bool          `help:"No progress bar."`
}

// Run loads the dataset, lists every video once (all splits and the
// unlabeled pool) and prepares the cache.
func (c *PrepareCmd) Run() error {
	if c.Workers < 0 || c.ShortSide < 16 || c.Timeout <= 0 || c.MemLimit < 64 {
		return cli.Usagef("prepare: --workers must be >= 0, --short-side >= 16, --timeout > 0 and --mem-limit >= 64 (MiB)")
	}
	ds, err := dataset.Load(c.Data, c.Format)
	if err != nil {
		return err
	}
	paths := ds.Paths()
	if len(paths) == 0 {
		return fmt.Errorf("prepare: dataset %s (%s) lists no videos", ds.Root, ds.Format)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opt := prepare.Options{Root: ds.Root, Paths: paths, Workers: c.Workers, ShortSide: c.ShortSide,
		Timeout: c.Timeout, MemoryLimit: int64(c.MemLimit) << 20, Retry: c.Retry}
	if c.Quiet {
		opt.Progress = io.Discard
	}
	sum, err := prepare.Run(ctx, opt)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("prepare %s: interrupted; run the same command again to continue (files already cached are kept): %w", ds.Root, err)
	}
	if err != nil {
		return fmt.Errorf("prepare %s: %w", ds.Root, err)
	}
	fmt.Println(sum)
	if sum.Quarantined > 0 {
		fmt.Printf("quarantined files and reasons: %s\n", prepare.QuarantinePath(ds.Root))
	}
	fmt.Printf("cache: %s\n", prepare.CacheDir(ds.Root))
	return nil
}
