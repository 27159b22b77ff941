package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/video/databench"
)

// BenchDataCmd implements "vidrep bench data".
type BenchDataCmd struct {
	Dir      string `placeholder:"DIR" help:"Keep the generated videos and their cache here (reused by later runs); default: a temporary directory."`
	Videos   int    `default:"4" help:"Generated files per kind (UCF-like MPEG-4 and Kinetics-like H.264, 320x240)."`
	Clips    int    `default:"300" help:"Clips timed per method and kind."`
	RSSClips int    `name:"rss-clips" default:"10000" help:"Cache clip reads of the RSS-growth run."`
	Anchor   string `default:"bench/data_opencv.py" help:"OpenCV anchor script run on the same files (empty: skip)."`
	Python   string `default:"python3" help:"Python interpreter for the anchor (needs cv2)."`
	JSON     string `placeholder:"FILE" help:"Also write the results as JSON to FILE."`
}

// Run executes the benchmark and prints a markdown table.
func (c *BenchDataCmd) Run() error {
	if c.Videos < 1 || c.Clips < 1 || c.RSSClips < 10 {
		return cli.Usagef("bench data: --videos and --clips must be >= 1 and --rss-clips >= 10")
	}
	anchor := c.Anchor
	if _, err := os.Stat(anchor); anchor != "" && err != nil {
		fmt.Fprintf(os.Stderr, "bench data: anchor script %s not found; skipping the OpenCV anchor\n", anchor)
		anchor = ""
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := databench.Run(ctx, databench.Config{Dir: c.Dir, Videos: c.Videos, Clips: c.Clips, RSSClips: c.RSSClips,
		Anchor: anchor, Python: c.Python, Log: os.Stderr})
	if err != nil {
		return fmt.Errorf("bench data: %w", err)
	}
	fmt.Print(rep.Markdown())
	if c.JSON != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.JSON, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("bench data: %w", err)
		}
	}
	return nil
}
