// Command vidrep learns video representations from unlabeled video and
// transfers them to action recognition. Each subcommand lives in its own
// file; this file only assembles the command line. No logic lives here:
// commands parse flags and call the packages.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/alecthomas/kong"

	"github.com/vidrep/vidrep/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// CLI is the whole command line.
type CLI struct {
	Version kong.VersionFlag `help:"Print the version and exit."`

	Synth      SynthCmd      `cmd:"" help:"Write the synthetic motion benchmark (real video files, UCF101 layout)."`
	Prepare    PrepareCmd    `cmd:"" help:"Decode every video once into a fast cache; quarantine files that fail."`
	Pretrain   PretrainCmd   `cmd:"" help:"Self-supervised pretraining on unlabeled clips."`
	Finetune   FinetuneCmd   `cmd:"" help:"Fine-tune (or linear-probe) a backbone on labeled clips."`
	Eval       EvalCmd       `cmd:"" help:"Multi-clip, multi-crop evaluation of a fine-tuned run."`
	Retrieve   RetrieveCmd   `cmd:"" help:"Clip retrieval R@k (test queries train), the VCOP protocol."`
	Knn        KnnCmd        `cmd:"" help:"kNN classification on frozen features."`
	Features   FeaturesCmd   `cmd:"" help:"Write per-video embeddings to .npy."`
	Predict    PredictCmd    `cmd:"" help:"Top-k actions for video files."`
	Import     ImportCmd     `cmd:"" help:"Import torchvision weights (safetensors) into a run."`
	Export     ExportCmd     `cmd:"" help:"Export a run's backbone weights to safetensors."`
	Experiment ExperimentCmd `cmd:"" help:"Run the comparison grid (inits x label budgets x seeds) and write the report."`
	Demo       DemoCmd       `cmd:"" help:"The main job on the embedded default: synth, experiment, report."`
	Bench      BenchCmd      `cmd:"" help:"Benchmarks: data, train, infer."`
}

func main() {
	// The packages' warnings (a video the loader skips, ...) go through the
	// standard logger: give them the same "vidrep: " form as every other
	// line, without a timestamp.
	log.SetFlags(0)
	log.SetPrefix("vidrep: ")
	if err := execute(os.Args[1:], kong.UsageOnError()); err != nil {
		fmt.Fprintln(os.Stderr, "vidrep:", err)
		os.Exit(cli.ExitCode(err))
	}
}

// newParser builds the command-line parser over c; opts add to or override
// the defaults (tests pass kong.Exit so that --help does not end the process).
func newParser(c *CLI, opts ...kong.Option) (*kong.Kong, error) {
	base := []kong.Option{
		kong.Name("vidrep"),
		kong.Description("Self-supervised video representation learning and action recognition."),
		kong.Vars{"version": version},
	}
	return kong.New(c, append(base, opts...)...)
}

// execute parses args and runs the chosen command. A parse error is a usage
// error (exit 2); the command's own error keeps its kind.
func execute(args []string, opts ...kong.Option) error {
	var c CLI
	parser, err := newParser(&c, opts...)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	return kctx.Run()
}
