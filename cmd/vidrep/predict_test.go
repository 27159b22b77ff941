package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/testvideo"
)

// tinyRun fine-tunes the smallest network for one epoch on a 2-class folder
// dataset and returns the dataset and the run directory.
func tinyRun(t *testing.T) (data, run string) {
	t.Helper()
	testvideo.FFmpeg(t)
	data = t.TempDir()
	for i, p := range []string{"train/a/a0.mp4", "train/a/a1.mp4", "train/b/b0.mp4", "train/b/b1.mp4", "test/a/a2.mp4", "test/b/b2.mp4"} {
		testvideo.Make(t, filepath.Join(data, p), testvideo.Options{Frames: 16, Width: 32, Height: 32, Seed: 5 * i})
	}
	run = filepath.Join(t.TempDir(), "run")
	cmd := FinetuneCmd{Data: data, Format: "auto", Out: run, Init: "scratch", Labels: "all", Split: 1, Arch: "r3d-small",
		Frames: 4, Stride: 2, Size: 16, Epochs: 1, Batch: 2, LR: 1e-2, BackboneLRMult: 1, WeightDecay: 1e-2, WarmupEpochs: 1,
		Optimizer: "adamw", Augment: "train", LinearClips: 2, EvalClips: 2, EvalCrops: 1,
		RuntimeFlags: RuntimeFlags{Backend: "go", Workers: 2, Quiet: true}}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return data, run
}

func TestPredictFailuresAreOneLineWithExitCodes(t *testing.T) {
	data, run := tinyRun(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	testvideo.TextAsVideo(t, text)
	cases := []struct {
		name  string
		cmd   PredictCmd
		code  int
		names string
	}{
		{"missing checkpoint", PredictCmd{Ckpt: filepath.Join(dir, "absent"), Videos: []string{text}}, cli.ExitUsage, "absent"},
		{"not a video", PredictCmd{Ckpt: run, Videos: []string{text}}, cli.ExitFailure, "notes.mp4"},
		{"missing video", PredictCmd{Ckpt: run, Videos: []string{filepath.Join(dir, "gone.avi")}}, cli.ExitFailure, "gone.avi"},
		{"a directory", PredictCmd{Ckpt: data, Videos: []string{text}}, cli.ExitUsage, data},
		{"--out a directory", PredictCmd{Ckpt: run, Videos: []string{text}, Out: dir}, cli.ExitUsage, "is a directory"},
	}
	for _, c := range cases {
		c.cmd.TopK, c.cmd.Clips, c.cmd.Batch = 3, 2, 8
		c.cmd.RuntimeFlags = RuntimeFlags{Backend: "go", Quiet: true}
		err := c.cmd.Run()
		if got := cli.ExitCode(err); got != c.code {
			t.Errorf("%s: exit code %d (%v), want %d", c.name, got, err, c.code)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, c.names) {
			t.Errorf("%s: error %q should be one line naming %s", c.name, msg, c.names)
		}
	}
	good := PredictCmd{Ckpt: run, Videos: []string{filepath.Join(data, "test/a/a2.mp4")}, TopK: 2, Clips: 2, Batch: 8,
		Out: filepath.Join(dir, "pred.json"), RuntimeFlags: RuntimeFlags{Backend: "go", Quiet: true}}
	if err := good.Run(); err != nil {
		t.Fatalf("predict on a real video: %v", err)
	}
	if b, err := os.ReadFile(good.Out); err != nil || !strings.Contains(string(b), `"top"`) {
		t.Errorf("--out JSON not written: %v", err)
	}
}

func TestTransferCommandsParse(t *testing.T) {
	cases := []struct {
		args []string
		ok   bool
	}{
		{[]string{"predict", "--ckpt", "run"}, false}, // no video
		{[]string{"predict", "--ckpt", "run", "a.mp4", "b.mp4"}, true},
		{[]string{"finetune", "--data", "d", "--out", "o", "--labels", "5/class", "--linear", "--backbone-lr-mult", "0.1"}, true},
		{[]string{"finetune", "--data", "d"}, false}, // no --out
		{[]string{"eval", "--data", "d", "--ckpt", "r", "--crops", "2"}, false},
		{[]string{"retrieve", "--data", "d", "--ckpt", "r", "--k", "1,5"}, true},
		{[]string{"knn", "--data", "d", "--ckpt", "scratch", "--arch", "r3d-small", "--k", "5", "--temperature", "0.1"}, true},
		{[]string{"features", "--data", "d", "--ckpt", "r", "--out", "f", "--subset", "test"}, true},
		{[]string{"features", "--data", "d", "--ckpt", "r", "--out", "f", "--subset", "nope"}, false},
	}
	for _, c := range cases {
		_, _, err := parseArgs(t, c.args...)
		if (err == nil) != c.ok {
			t.Errorf("%v: parse error %v, want ok=%v", c.args, err, c.ok)
		}
	}
	if _, err := parseKs("1,x"); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("--k 1,x: %v, want a usage error", err)
	}
	if ks, err := parseKs("1, 5,10"); err != nil || fmt.Sprint(ks) != "[1 5 10]" {
		t.Errorf("parseKs = %v, %v", ks, err)
	}
}
