package main

import (
	"github.com/vidrep/vidrep/internal/cli"
)

// minimum is a flag's value and the least value it accepts.
type minimum struct {
	flag       string
	value, min int
}

// checkMinimums refuses the first flag whose value is under its minimum:
// the packages read a zero as "the default", so a 0 or a negative number
// typed on the command line would otherwise be replaced without a word.
func checkMinimums(checks ...minimum) error {
	for _, c := range checks {
		if c.value < c.min {
			return cli.Usagef("--%s must be at least %d, got %d", c.flag, c.min, c.value)
		}
	}
	return nil
}

// Validate implements kong's hook, run before any command: decoding
// workers are 0 (one per CPU) or more.
func (r RuntimeFlags) Validate() error {
	return checkMinimums(minimum{"workers", r.Workers, 0})
}

// Validate implements kong's hook: clip geometry, passes and batch are
// positive, the step cap and split are not negative or zero.
func (c *PretrainCmd) Validate() error {
	return checkMinimums(minimum{"workers", c.Workers, 0}, minimum{"epochs", c.Epochs, 1}, minimum{"steps", c.Steps, 0}, minimum{"batch", c.Batch, 1},
		minimum{"frames", c.Frames, 1}, minimum{"stride", c.Stride, 1}, minimum{"size", c.Size, 1},
		minimum{"split", c.Split, 1}, minimum{"warmup", c.Warmup, 0}, minimum{"clips", c.Clips, 0}, minimum{"gap", c.Gap, 0},
		minimum{"queue", c.Queue, 0})
}

// Validate implements kong's hook: a 0 clip setting means the --init run's,
// so only negative ones are refused; passes, batch and split are positive;
// settings of fine-tuning are refused beside --linear, which does none.
func (c *FinetuneCmd) Validate() error {
	if c.Linear {
		switch {
		case c.ProbeHead:
			return cli.Usagef("--probe-head starts fine-tuning from a linear probe's head, and --linear stops at the probe: drop one")
		case c.Optimizer != "adamw":
			return cli.Usagef("--optimizer sets how fine-tuning trains; --linear fits the probe its own way: drop --optimizer")
		case c.LabelSmoothing != 0:
			return cli.Usagef("--label-smoothing applies to fine-tuning; --linear fits the probe without it: drop it")
		}
	}
	return checkMinimums(minimum{"workers", c.Workers, 0}, minimum{"split", c.Split, 1}, minimum{"epochs", c.Epochs, 1}, minimum{"batch", c.Batch, 1},
		minimum{"frames", c.Frames, 0}, minimum{"stride", c.Stride, 0}, minimum{"size", c.Size, 0},
		minimum{"linear-clips", c.LinearClips, 1}, minimum{"eval-clips", c.EvalClips, 1})
}

// Validate implements kong's hook: at least one clip per video and per
// pass, and no negative hop (0: one clip span).
func (c *PredictCmd) Validate() error {
	return checkMinimums(minimum{"workers", c.Workers, 0}, minimum{"clips", c.Clips, 1}, minimum{"hop", c.Hop, 0}, minimum{"batch", c.Batch, 1}, minimum{"top-k", c.TopK, 1})
}

// Validate implements kong's hook: experiment's counts are positive (the
// experiment package reads zero as its default). A negative warm-up or jobs
// count, which the package refuses itself, is left to it.
func (c *ExperimentCmd) Validate() error {
	return checkMinimums(minimum{"workers", c.Workers, 0}, minimum{"split", c.Split, 1}, minimum{"seeds", c.Seeds, 1},
		minimum{"frames", c.Frames, 1}, minimum{"stride", c.Stride, 1}, minimum{"size", c.Size, 1},
		minimum{"pretrain-epochs", c.PretrainEpochs, 1}, minimum{"pretrain-batch", c.PretrainBatch, 1},
		minimum{"pretrain-seeds", c.PretrainSeeds, 1}, minimum{"pretrain-candidates", c.PretrainCandidates, 1},
		minimum{"finetune-epochs", c.FinetuneEpochs, 1}, minimum{"finetune-batch", c.FinetuneBatch, 1},
		minimum{"supervised-epochs", c.SupervisedEpochs, 1}, minimum{"eval-clips", c.EvalClips, 1})
}
