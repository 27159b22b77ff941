package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/report"
)

// PredictCmd implements "vidrep predict".
type PredictCmd struct {
	Ckpt   string   `help:"Fine-tuned run directory." required:"" type:"path"`
	Videos []string `arg:"" name:"video" help:"Video files."`
	TopK   int      `name:"top-k" help:"Classes listed per video and per window." default:"5"`
	Clips  int      `help:"Uniformly spaced clips averaged for the whole-video prediction." default:"10"`
	Hop    int      `help:"Frames between the starts of timeline windows (0: one clip span)." default:"0"`
	JSON   bool     `name:"json" help:"Print JSON instead of the table."`
	Out    string   `help:"Also write the predictions as JSON to this file." type:"path"`
	Batch  int      `help:"Clips per inference pass." default:"32"`
	RuntimeFlags
}

// Run executes the command. Files that cannot be read are reported one line
// each; the command then exits 1.
func (c *PredictCmd) Run() error {
	ctx, stop := signalContext()
	defer stop()
	if st, err := os.Stat(c.Out); c.Out != "" && err == nil && st.IsDir() {
		return cli.Usagef("--out %s is a directory; give the path of a JSON file to write, such as %s", c.Out, filepath.Join(c.Out, "predictions.json"))
	}
	rt := c.runtime(c.Batch)
	rt.Logf = func(string, ...any) {}
	preds, err := evaluate.Predict(ctx, evaluate.PredictConfig{Ckpt: c.Ckpt, Files: c.Videos, TopK: c.TopK, Clips: c.Clips, Hop: c.Hop, Runtime: rt})
	if err != nil {
		return err
	}
	var good []evaluate.FilePrediction
	var failures []string
	for _, p := range preds {
		if p.Error != "" {
			failures = append(failures, p.Error)
			continue
		}
		good = append(good, p)
	}
	if err := c.show(good); err != nil {
		return err
	}
	if len(failures) == 0 {
		return nil
	}
	for _, f := range failures[:len(failures)-1] {
		fmt.Fprintln(os.Stderr, "vidrep:", f)
	}
	return errors.New(failures[len(failures)-1])
}

// show prints the predictions (table or JSON), then writes --out, so that
// a file it cannot write does not hide what was computed.
func (c *PredictCmd) show(preds []evaluate.FilePrediction) error {
	if len(preds) > 0 {
		if c.JSON {
			b, err := json.MarshalIndent(preds, "", "  ")
			if err != nil {
				return err
			}
			fmt.Println(string(b))
		} else {
			fmt.Print(evaluate.FormatPredictions(preds))
		}
	}
	if c.Out != "" {
		return report.WriteJSON(c.Out, preds)
	}
	return nil
}
