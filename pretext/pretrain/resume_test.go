package pretrain

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/testdir"
	"github.com/vidrep/vidrep/train"
)

// copyDir copies the files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for rel, data := range testdir.Files(t, src) {
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editRecord rewrites the info of dir's config.json with edit.
func editRecord(t *testing.T, dir string, edit func(info map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, train.ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rc map[string]any
	if err := json.Unmarshal(data, &rc); err != nil {
		t.Fatal(err)
	}
	edit(rc["info"].(map[string]any))
	if data, err = json.MarshalIndent(rc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPretrainResumeRefusesOtherRuns resumes a finished pretraining run with
// settings that define another run, and into runs another command made: each
// is refused as a usage error that names the first differing setting with
// both values, and the directory is left byte for byte as it was.
func TestPretrainResumeRefusesOtherRuns(t *testing.T) {
	base, _ := baseConfig(t, "arrow")
	base.Sampler = nil
	if _, err := Run(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	base.Resume = true
	for _, tc := range []struct {
		name string
		edit func(*Config)
		dir  func(t *testing.T) string // the run directory to resume (default: base's)
		want string
	}{
		{name: "method", edit: func(c *Config) { c.Method = "rotation" }, want: "made with --method arrow, now rotation; rerun with --method arrow"},
		{name: "arch", edit: func(c *Config) { c.Arch = "c3d-small" }, want: "made with --arch " + tinyArch + ", now c3d-small"},
		{name: "width", edit: func(c *Config) { c.Width = 0.5 }, want: "--width 0, now 0.5"},
		{name: "frames", edit: func(c *Config) { c.Frames = 8 }, want: "--frames 4, now 8"},
		{name: "size", edit: func(c *Config) { c.Size = 32 }, want: "--size 16, now 32"},
		{name: "batch", edit: func(c *Config) { c.Batch = 3 }, want: "--batch 2, now 3"},
		{name: "seed", edit: func(c *Config) { c.Seed = 2 }, want: "--seed 1, now 2"},
		{name: "data", edit: func(c *Config) { c.Data = t.TempDir() }, want: "--data " + base.Data + ", now "},
		{name: "with train", edit: func(c *Config) { c.WithTrain = true }, want: "made without --with-train, now with --with-train"},
		{name: "method option", edit: func(c *Config) { c.Pretext.Temperature = 0.2 }, want: "--temperature 0.1, now 0.2"},
		{name: "no flip", edit: func(c *Config) { c.Pretext.NoFlip = true }, want: "without --no-flip, now with --no-flip"},
		{name: "lr before warm-up", edit: func(c *Config) { c.LR, c.Warmup = 1e-2, 2 }, want: "--lr 0.003, now 0.01"},
		{name: "warm-up", edit: func(c *Config) { c.Warmup = 2 }, want: "--warmup 0, now 2"},
		{name: "a finetune run", dir: func(t *testing.T) string {
			d := copyDir(t, base.Out)
			editRecord(t, d, func(info map[string]any) {
				info["command"], info["protocol"] = "finetune", "finetune"
				delete(info, "method")
			})
			return d
		}, want: "made with command finetune, now pretrain; resume it with vidrep finetune"},
		{name: "a finetune run of the Go API", dir: func(t *testing.T) string {
			d := copyDir(t, base.Out)
			editRecord(t, d, func(info map[string]any) { delete(info, "command"); info["protocol"] = "finetune" })
			return d
		}, want: "made with command finetune, now pretrain"},
		{name: "no record", dir: func(t *testing.T) string {
			d := copyDir(t, base.Out)
			if err := os.Remove(filepath.Join(d, train.ConfigFile)); err != nil {
				t.Fatal(err)
			}
			return d
		}, want: "holds a checkpoint but no config.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			if tc.dir != nil {
				cfg.Out = tc.dir(t)
			}
			before := testdir.Files(t, cfg.Out)
			_, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cannot resume "+cfg.Out) {
				t.Fatalf("err %v, want one naming %s and containing %q", err, cfg.Out, tc.want)
			}
			if cli.ExitCode(err) != cli.ExitUsage {
				t.Errorf("exit code %d, want the usage code", cli.ExitCode(err))
			}
			if after := testdir.Files(t, cfg.Out); !reflect.DeepEqual(after, before) {
				t.Errorf("the refused resume changed %s", cfg.Out)
			}
		})
	}
	t.Run("a record from before the options were kept", func(t *testing.T) {
		cfg := base
		cfg.Out = copyDir(t, base.Out)
		editRecord(t, cfg.Out, func(info map[string]any) {
			for _, k := range []string{"format", "pretrain_split", "with_train", "temperature", "momentum", "queue",
				"mask_ratio", "clips", "gap", "no_flip", "hidden", "proj_dim", "local_motion"} {
				delete(info, k)
			}
		})
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatalf("resuming a run recorded without the newer keys: %v", err)
		}
		cfg.Pretext.LocalMotion = 0.5 // the old record left local_motion out when it was 0
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--local-motion 0, now 0.5") {
			t.Errorf("resume with --local-motion over an old record without it: %v", err)
		}
	})
}
