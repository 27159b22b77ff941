package main

import (
	"fmt"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/report"
)

// EvalCmd implements "vidrep eval".
type EvalCmd struct {
	Data   string `help:"Dataset directory." required:"" type:"path"`
	Format string `help:"Dataset layout: auto, ucf101, hmdb51, kinetics, ssv2 or folder." default:"auto"`
	Ckpt   string `help:"Fine-tuned run directory." required:"" type:"path"`
	Split  int    `help:"Split (1-based) whose test videos are scored." default:"1"`
	Clips  int    `help:"Uniformly spaced clips per video." default:"10"`
	Crops  int    `help:"Crops per clip (1: centre, 3: along the long side)." default:"3" enum:"1,3"`
	Batch  int    `help:"Clips per inference pass." default:"32"`
	Out    string `help:"Where to write eval.json, confusion.csv/png, per_class.csv, predictions.csv (default: CKPT/eval)." type:"path"`
	RuntimeFlags
}

// Run executes the command.
func (c *EvalCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	res, err := evaluate.Evaluate(ctx, evaluate.EvalConfig{
		DataRoot: c.Data, Format: c.Format, Split: c.Split, Ckpt: c.Ckpt, Clips: c.Clips, Crops: c.Crops, Out: c.Out,
		Runtime: c.runtime(c.Batch),
	})
	if err != nil {
		return err
	}
	printEval(res)
	fmt.Printf("written: %s, %s, %s\n", res.Files["json"], res.Files["confusion_csv"], res.Files["confusion_png"])
	return nil
}

// printEval prints the headline metrics and the per-class accuracy.
func printEval(res *evaluate.EvalResult) {
	t := report.NewTable("", "level", "top-1 %", "top-5 %", "mean class %", "predictions")
	t.Decimals = 1
	t.AddRow("clip", 100*res.Clip.Top1, 100*res.Clip.Top5, 100*res.Clip.MeanClass, res.Clip.N)
	t.AddRow(fmt.Sprintf("video (%d clips x %d crops)", res.Clips, res.Crops), 100*res.Video.Top1, 100*res.Video.Top5, 100*res.Video.MeanClass, res.Video.N)
	fmt.Print(t.Plain())
	if res.Failed > 0 {
		fmt.Printf("%d test videos could not be decoded and were left out\n", res.Failed)
	}
	pc := report.NewTable("", "class", "videos", "video top-1 %")
	pc.Decimals = 1
	for i, name := range res.Classes {
		pc.AddRow(name, res.Video.Support[i], 100*res.Video.PerClass[i])
	}
	fmt.Print("\n" + pc.Plain())
}
