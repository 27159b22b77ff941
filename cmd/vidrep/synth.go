package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/vidrep/vidrep/synth"
)

// SynthCmd implements "vidrep synth". Its defaults equal synth.DefaultConfig
// (a test checks that they agree).
type SynthCmd struct {
	Out           string `required:"" placeholder:"DIR" help:"Directory to write the benchmark into (new or empty, or an interrupted run to resume)."`
	Classes       int    `default:"10" help:"Number of motion classes (2 to 12)."`
	TrainPerClass int    `default:"24" help:"Training clips per class in each split."`
	TestPerClass  int    `default:"12" help:"Test clips per class in each split (at most half of --train-per-class)."`
	ClipsPerGroup int    `default:"4" help:"Clips of one class that one group (scene) renders."`
	Unlabeled     int    `default:"300" help:"Clips in the unlabeled pool for pretraining."`
	Frames        int    `default:"24" help:"Frames per clip."`
	Size          int    `default:"32" help:"Frame width and height in pixels (even)."`
	FPS           int    `name:"fps" default:"25" help:"Frame rate written in the files."`
	Seed          int64  `default:"1" help:"Random seed: the same seed gives the same benchmark."`
	Codec         string `default:"h264" enum:"h264,mpeg4" help:"h264 (.mp4) or mpeg4 (XviD .avi, like UCF101)."`
	Workers       int    `default:"0" help:"Parallel workers (0: one per CPU)."`
	Quiet         bool   `help:"No progress bar."`

	Distractors int     `default:"2" group:"Nuisance" help:"Most moving distractor objects per clip."`
	Shake       float64 `default:"0.01" group:"Nuisance" help:"Camera shake (standard deviation, fraction of the frame side)."`
	Noise       float64 `default:"4" group:"Nuisance" help:"Pixel noise standard deviation (0..255 units)."`
	Occlusion   float64 `default:"0.3" group:"Nuisance" help:"Probability of an occluding bar in a clip."`
	SpeedMin    float64 `default:"0.7" group:"Nuisance" help:"Smallest motion speed multiplier."`
	SpeedMax    float64 `default:"1.4" group:"Nuisance" help:"Largest motion speed multiplier."`
	Background  float64 `default:"0.5" group:"Nuisance" help:"Background texture contrast (0..1)."`
	Texture     float64 `default:"0.6" group:"Nuisance" help:"Object texture contrast (0..1)."`
	Friction    float64 `default:"0" group:"Nuisance" help:"Rate (per frame) at which the object's motion slows down over a clip; 0 keeps it steady, so every class played backwards is another class. 0.07 halves its speed every 10 frames and gives time an arrow."`

	Baselines bool `help:"Afterwards, decode split 1 and report the single-frame and motion baselines (also written to baselines.json)."`
}

// config turns the flags into a synth.Config.
func (c *SynthCmd) config() synth.Config {
	return synth.Config{
		Out: c.Out, Classes: c.Classes, TrainPerClass: c.TrainPerClass, TestPerClass: c.TestPerClass,
		ClipsPerGroup: c.ClipsPerGroup, Unlabeled: c.Unlabeled, Frames: c.Frames, Size: c.Size, FPS: c.FPS,
		Seed: c.Seed, Codec: c.Codec, Workers: c.Workers, Progress: !c.Quiet,
		Nuisance: synth.Nuisance{Distractors: c.Distractors, Shake: c.Shake, Noise: c.Noise, Occlusion: c.Occlusion,
			SpeedMin: c.SpeedMin, SpeedMax: c.SpeedMax, Background: c.Background, Texture: c.Texture, Friction: c.Friction},
	}
}

// Run executes the command.
func (c *SynthCmd) Run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := synth.Generate(ctx, c.config())
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d labeled + %d unlabeled clips (%d classes, %d groups, %.1f MB) to %s in %.1fs (%.1f clips/s; %d already there)\n",
		sum.Labeled, sum.Unlabeled, len(sum.Classes), sum.Groups, float64(sum.Bytes)/1e6, sum.Out, sum.Seconds, sum.ClipsPerSecond, sum.Skipped)
	fmt.Printf("benchmark sha256 %s (list and video files: the same on two machines means the same benchmark)\n", sum.SHA256)
	if !c.Baselines {
		return nil
	}
	rep, err := synth.DecodedBaselines(ctx, c.Out, 1, c.Workers)
	if err != nil {
		return err
	}
	fmt.Println("baselines:", rep)
	data, _ := json.MarshalIndent(rep, "", "  ")
	return os.WriteFile(filepath.Join(c.Out, "baselines.json"), append(data, '\n'), 0o644)
}
