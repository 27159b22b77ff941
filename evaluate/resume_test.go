package evaluate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/testdir"
	"github.com/vidrep/vidrep/train"
)

// writeFiles writes files (relative path to content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFinetuneResumeRefusesOtherRuns resumes a finished fine-tuning run with
// settings that define another run, and runs other commands made: each is
// refused as a usage error naming the directory and the first differing
// setting with both values (not the warm-up derived from them), before
// anything in the directory is written.
func TestFinetuneResumeRefusesOtherRuns(t *testing.T) {
	data := tinyData(t)
	base := tinyFinetune(data, filepath.Join(t.TempDir(), "run"))
	base.SkipEval = true
	if _, err := Finetune(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	base.Resume = true
	files := testdir.Files(t, base.Out)
	// pretrainRun is a pretraining run's directory: its checkpoint and
	// config.json, no model.json.
	pretrainRun := func(t *testing.T) string {
		dir := t.TempDir()
		rc, _ := json.Marshal(map[string]any{"config": map[string]any{"lr": 1e-3},
			"info": map[string]any{"command": "pretrain", "method": "camera", "arch": "r3d-small", "frames": 4, "stride": 2, "size": 16}})
		writeFiles(t, dir, map[string]string{train.CheckpointFile: files[train.CheckpointFile], train.ConfigFile: string(rc)})
		return dir
	}
	for _, tc := range []struct {
		name string
		edit func(*FinetuneConfig)
		dir  func(t *testing.T) string // the run directory to resume (default: a copy of base's)
		want string
	}{
		{name: "labels", edit: func(c *FinetuneConfig) { c.Labels = "2/class" }, want: "made with --labels all, now 2/class; rerun with --labels all"},
		{name: "labels with the same warm-up", edit: func(c *FinetuneConfig) { c.Labels, c.WarmupEpochs = "2/class", 2 }, want: "--labels all, now 2/class"},
		{name: "epochs", edit: func(c *FinetuneConfig) { c.Epochs = 4 }, want: "made with --epochs 3, now 4; rerun with --epochs 3"},
		{name: "arch", edit: func(c *FinetuneConfig) { c.Arch = "c3d-small" }, want: "made with --arch r3d-small, now c3d-small"},
		{name: "frames", edit: func(c *FinetuneConfig) { c.Frames = 8 }, want: "--frames 4, now 8"},
		{name: "seed", edit: func(c *FinetuneConfig) { c.Seed = 4 }, want: "--seed 3, now 4"},
		{name: "split", edit: func(c *FinetuneConfig) { c.Split = 2 }, want: "--split 1, now 2"},
		{name: "data", edit: func(c *FinetuneConfig) { c.DataRoot = t.TempDir() }, want: "--data " + data + ", now "},
		{name: "batch", edit: func(c *FinetuneConfig) { c.Batch = 3 }, want: "--batch 2, now 3"},
		{name: "lr", edit: func(c *FinetuneConfig) { c.LR = 2e-2 }, want: "--lr 0.01, now 0.02"},
		{name: "optimizer", edit: func(c *FinetuneConfig) { c.Optimizer = "sgd" }, want: "--optimizer adamw, now sgd"},
		{name: "warm-up", edit: func(c *FinetuneConfig) { c.WarmupEpochs = 0.5 }, want: "--warmup-epochs 1, now 0.5"},
		{name: "backbone lr", edit: func(c *FinetuneConfig) { c.BackboneLRMult = 0.1 }, want: "--backbone-lr-mult 1, now 0.1"},
		{name: "no flip", edit: func(c *FinetuneConfig) { c.NoFlip = true }, want: "made without --no-flip, now with --no-flip"},
		{name: "precise batch norm", edit: func(c *FinetuneConfig) { c.PreciseBNBatches = 1 }, want: "--precise-bn-batches 32, now 1"},
		{name: "linear", edit: func(c *FinetuneConfig) { c.Linear = true }, want: "made without --linear, now with --linear; rerun without --linear"},
		{name: "a pretraining run", dir: pretrainRun, want: "made with command pretrain, now finetune; resume it with vidrep pretrain"},
		{name: "a linear probe", dir: func(t *testing.T) string {
			return fakeRun(t, t.TempDir(), data, 1, "scratch", true, nil)
		}, want: "made with --linear, now without --linear"},
		{name: "an import", dir: func(t *testing.T) string {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{train.CheckpointFile: files[train.CheckpointFile], ModelFile: files[ModelFile]})
			return dir
		}, want: "holds a checkpoint but neither config.json nor linear.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			cfg.Out = t.TempDir()
			if tc.dir != nil {
				cfg.Out = tc.dir(t)
			} else {
				writeFiles(t, cfg.Out, files)
			}
			before := testdir.Files(t, cfg.Out)
			_, err := Finetune(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cannot resume "+cfg.Out) {
				t.Fatalf("err %v, want one naming %s and containing %q", err, cfg.Out, tc.want)
			}
			if !isUsage(err) {
				t.Errorf("err %v is not a usage error", err)
			}
			if after := testdir.Files(t, cfg.Out); !reflect.DeepEqual(after, before) {
				t.Errorf("the refused resume changed %s: %d files before, %d after", cfg.Out, len(before), len(after))
			}
		})
	}

	t.Run("a record from before the settings were kept", func(t *testing.T) {
		cfg := base
		cfg.Out = t.TempDir()
		writeFiles(t, cfg.Out, files)
		var rc map[string]any
		if err := json.Unmarshal([]byte(files[train.ConfigFile]), &rc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"command", "format", "seed", "batch", "warmup_epochs", "label_smoothing", "augment", "no_flip", "linear_clips"} {
			delete(rc["info"].(map[string]any), k)
		}
		old, _ := json.Marshal(rc)
		writeFiles(t, cfg.Out, map[string]string{train.ConfigFile: string(old)})
		if _, err := Finetune(context.Background(), cfg); err != nil {
			t.Fatalf("resuming a run recorded without the newer keys: %v", err)
		}
		cfg.Batch = 3 // still refused through what the batch came to (config.batch_size)
		if _, err := Finetune(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--batch 2, now 3") {
			t.Errorf("resume with another batch over an old record: %v", err)
		}
	})

	t.Run("the same settings", func(t *testing.T) {
		if _, err := Finetune(context.Background(), base); err != nil {
			t.Fatal(err)
		}
		after := testdir.Files(t, base.Out)
		for _, f := range []string{ModelFile, SubsetFile, train.ConfigFile} {
			if after[f] != files[f] {
				t.Errorf("resuming the finished run changed %s", f)
			}
		}
	})

	// The same flags over a changed dataset: other labeled videos, then fewer.
	for _, tc := range []struct {
		name, want string
		change     func()
	}{
		{"other videos", "are not the 6 listed in its " + SubsetFile, func() {
			must(t, os.Rename(filepath.Join(data, "train", "left", "left_0.mp4"), filepath.Join(data, "train", "left", "left_9.mp4")))
		}},
		{"fewer videos", "made with labeled training videos 6, now 5; restore the dataset in " + data, func() {
			must(t, os.Remove(filepath.Join(data, "train", "right", "right_0.mp4")))
		}},
	} {
		t.Run("dataset with "+tc.name, func(t *testing.T) {
			tc.change()
			before := testdir.Files(t, base.Out)
			_, err := Finetune(context.Background(), base)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !isUsage(err) {
				t.Fatalf("err %v, want a usage error containing %q", err, tc.want)
			}
			if after := testdir.Files(t, base.Out); !reflect.DeepEqual(after, before) {
				t.Errorf("the refused resume changed %s", base.Out)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
