package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/browsercheck"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/synth"
	"github.com/vidrep/vidrep/train"
)

// tinyBenchmark writes a very small synthetic benchmark for the end-to-end test.
func tinyBenchmark(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "synth")
	cfg := synth.DefaultConfig()
	cfg.Out, cfg.Classes, cfg.TrainPerClass, cfg.TestPerClass, cfg.ClipsPerGroup = dir, 3, 4, 2, 2
	cfg.Unlabeled, cfg.Frames, cfg.Size, cfg.Workers = 8, 8, 16, 2
	if _, err := synth.Generate(context.Background(), cfg); err != nil {
		t.Skipf("cannot generate the synthetic benchmark (is ffmpeg installed?): %v", err)
	}
	return dir
}

func tinyConfig(data, out string) Config {
	return Config{
		Data: data, Out: out, Methods: []string{"arrow"}, Labels: []string{"2/class"}, Seeds: 1,
		Arch: "r3d-small", Frames: 4, Stride: 1, Size: 16,
		PretrainEpochs: 1, PretrainBatch: 4, FinetuneEpochs: 1, FinetuneBatch: 4,
		EvalClips: 2, EvalCrops: 1, Version: "test", Log: io.Discard,
		Runtime: evaluate.Runtime{Workers: 1, Quiet: true},
	}
}

// TestRunResumes runs a whole tiny grid, then runs it again after deleting
// one cell's result: only that cell is recomputed, and the report is complete.
func TestRunResumes(t *testing.T) {
	data := tinyBenchmark(t)
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.ProbeWeightDecay = 0.5
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	probe := Cell{Init: "arrow", Labels: "2/class", Seed: 0, Protocol: Linear}
	if b, err := os.ReadFile(filepath.Join(probe.Dir(out), "result.json")); err != nil || !strings.Contains(string(b), `"weight_decay": 0.5`) {
		t.Errorf("the linear cell's result.json (%v) does not record ProbeWeightDecay 0.5", err)
	}
	// scratch and arrow x (finetune, linear, retrieval) x 1 budget x 1 seed.
	if len(res.Cells) != 6 {
		t.Fatalf("got %d cells, want 6", len(res.Cells))
	}
	for _, c := range res.Cells {
		if c.Top1 < 0 || c.Top1 > 1 {
			t.Errorf("cell %s: top1 %v outside [0,1]", c.Key(), c.Top1)
		}
	}
	for _, f := range []string{"report.md", "report.html", "results.csv", "results.json", "cells.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "data:image/png;base64,") {
		t.Errorf("report.html embeds no image")
	}

	backbone := filepath.Join(out, "pretrain", "arrow", "backbone.safetensors")
	kept := Cell{Init: "arrow", Labels: "2/class", Seed: 0, Protocol: Finetune}
	redo := Cell{Init: InitScratch, Labels: "2/class", Seed: 0, Protocol: Linear}
	before := modTimes(t, backbone, filepath.Join(kept.Dir(out), cellFile))
	if err := os.Remove(filepath.Join(redo.Dir(out), cellFile)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // so that a rewrite would show in the modification time
	res2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	after := modTimes(t, backbone, filepath.Join(kept.Dir(out), cellFile))
	for i := range before {
		if !before[i].Equal(after[i]) {
			t.Errorf("finished work was recomputed (file %d rewritten)", i)
		}
	}
	if _, err := os.Stat(filepath.Join(redo.Dir(out), cellFile)); err != nil {
		t.Errorf("the deleted cell was not recomputed: %v", err)
	}
	if len(res2.Cells) != len(res.Cells) {
		t.Errorf("second run has %d cells, want %d", len(res2.Cells), len(res.Cells))
	}
	if !strings.Contains(Headline(res2), "arrow") {
		t.Errorf("headline lacks the arrow row:\n%s", Headline(res2))
	}
	// In a subtest, so that a missing browser skips only this check.
	t.Run("report.html in headless Chromium", func(t *testing.T) {
		if p := browsercheck.Check(t, filepath.Join(out, "report.html")); len(p.Images) == 0 {
			t.Error("report.html shows no plot in the browser")
		}
	})
}

func modTimes(t *testing.T, paths ...string) []time.Time {
	t.Helper()
	var ts []time.Time
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		ts = append(ts, st.ModTime())
	}
	return ts
}

// TestRunBF16NeedsXLA checks that --dtype reaches the pretrainings, the
// supervised source training and the fine-tuning cells: bf16 on the Go
// backend is refused at each, in the step named, with a line naming the fix.
// TestPretrainBatchAbovePoolIsRefusedFirst checks that a pretraining batch
// larger than the videos to pretrain on is refused before any cell runs,
// naming experiment's own flag.
func TestPretrainBatchAbovePoolIsRefusedFirst(t *testing.T) {
	data := tinyBenchmark(t) // 8 unlabeled videos
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.PretrainBatch = 9
	_, err := Run(context.Background(), cfg)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "8 videos to pretrain on") || !strings.Contains(err.Error(), "--pretrain-batch 9") {
		t.Fatalf("batch 9 over 8 unlabeled videos: err = %v, want a usage error naming --pretrain-batch 9", err)
	}
	if _, err := os.Stat(filepath.Join(out, "cells")); !os.IsNotExist(err) {
		t.Errorf("cells were run before the refusal (stat: %v)", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused experiment wrote %s (stat: %v); it should write nothing", out, err)
	}
	cfg.PretrainBatch, cfg.PretrainWithTrain = 9, true // 8 unlabeled + 12 training videos
	if err := cfg.checkPretrainPool(); err != nil {
		t.Errorf("batch 9 over 20 videos with the train side: %v", err)
	}
}

func TestRunBF16NeedsXLA(t *testing.T) {
	data := tinyBenchmark(t)
	cases := []struct {
		name, where string
		methods     []string
		supervised  string
	}{
		{"pretraining", "pretraining arrow", []string{"arrow"}, ""},
		{"supervised source", "supervised source training", nil, data},
		{"fine-tuning", "cell scratch/2perclass/finetune", nil, ""},
	}
	for _, c := range cases {
		cfg := tinyConfig(data, filepath.Join(t.TempDir(), "exp"))
		cfg.Methods, cfg.Supervised, cfg.Protocols, cfg.DType = c.methods, c.supervised, []Protocol{Finetune, Linear}, "bf16"
		cfg.Jobs = 1 // one run at a time: the first refusal is the first step's (with two, a scratch cell may start beside the pretraining)
		_, err := Run(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), c.where) || !strings.Contains(err.Error(), "XLA") {
			t.Errorf("%s in bf16 on the Go backend: err = %v, want a refusal in %q naming XLA", c.name, err, c.where)
		}
	}
}

// TestProbeWeightDecayMustBePositive checks the probe penalty's validation.
func TestProbeWeightDecayMustBePositive(t *testing.T) {
	for _, wd := range []float64{-1, math.NaN()} {
		cfg := tinyConfig("data", "out")
		cfg.ProbeWeightDecay = wd
		if _, err := cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), "--probe-weight-decay") {
			t.Errorf("ProbeWeightDecay %g: error %v, want one naming --probe-weight-decay", wd, err)
		}
	}
}

// TestSettingsGuardStaleWork checks that once a directory holds work, a
// rerun with a setting that changes results is refused naming the setting,
// that growing the grid (seeds, methods) is not, that a first run which
// left no work may be rerun with other settings, and that work without
// recorded settings is refused.
func TestSettingsGuardStaleWork(t *testing.T) {
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig("data", out)
	if err := cfg.checkSettings(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	fixed := cfg
	fixed.DType = "f32" // say the first run failed before any work, on its dtype
	if err := fixed.checkSettings(); err != nil {
		t.Fatalf("a rerun after a first run that left no work was refused: %v", err)
	}
	writeCellFile(t, out)
	more := fixed
	more.Seeds, more.Methods = 5, []string{"arrow", "camera"}
	if err := more.checkSettings(); err != nil {
		t.Errorf("more seeds and methods refused: %v", err)
	}
	other := fixed
	other.ProbeWeightDecay = 1
	err := other.checkSettings()
	var u *cli.UsageError
	if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), "ProbeWeightDecay") || !strings.Contains(err.Error(), SettingsFile) {
		t.Errorf("another probe weight decay: error %v, want a usage error naming ProbeWeightDecay and %s", err, SettingsFile)
	}
	warm := fixed
	warm.PretrainWarmup = 50
	if err := warm.checkSettings(); err == nil || !strings.Contains(err.Error(), "PretrainWarmup") {
		t.Errorf("a pretraining warm-up: error %v, want a refusal naming PretrainWarmup", err)
	}
	local := fixed
	local.PretrainLocalMotion = 0.5
	if err := local.checkSettings(); err == nil || !strings.Contains(err.Error(), "PretrainLocalMotion") {
		t.Errorf("a local camera motion: error %v, want a refusal naming PretrainLocalMotion", err)
	}
	jitter := fixed
	jitter.PretrainPanSpeedJitter = 0.4
	if err := jitter.checkSettings(); err == nil || !strings.Contains(err.Error(), "PretrainPanSpeedJitter") {
		t.Errorf("a pan speed jitter: error %v, want a refusal naming PretrainPanSpeedJitter", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, SettingsFile)); err != nil || strings.Contains(string(b), "PretrainWarmup") ||
		strings.Contains(string(b), "PretrainSeeds") || strings.Contains(string(b), "PretrainLocalMotion") ||
		strings.Contains(string(b), "PretrainPanSpeedJitter") {
		t.Errorf("no warm-up, one pretraining and no local motion are recorded by leaving the fields out, as records older than them do: %s (%v)", b, err)
	}
	old := filepath.Join(t.TempDir(), "old")
	writeCellFile(t, old)
	err = tinyConfig("data", old).checkSettings()
	if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), SettingsFile) {
		t.Errorf("work without recorded settings: error %v, want a usage error naming %s", err, SettingsFile)
	}
}

// writeCellFile leaves one finished cell's result file under out.
func writeCellFile(t *testing.T, out string) {
	t.Helper()
	dir := Cell{Init: InitScratch, Labels: "2/class", Seed: 0, Protocol: Linear}.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, cellFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSettingsFollowAMovedDirectory checks that an experiment directory
// moved together with its data (as demo-out holds both) is still accepted.
func TestSettingsFollowAMovedDirectory(t *testing.T) {
	base := t.TempDir()
	cfg := tinyConfig(filepath.Join(base, "a", "data"), filepath.Join(base, "a", "experiment"))
	if err := cfg.checkSettings(); err != nil {
		t.Fatal(err)
	}
	writeCellFile(t, cfg.Out)
	if err := os.Rename(filepath.Join(base, "a"), filepath.Join(base, "b")); err != nil {
		t.Fatal(err)
	}
	moved := tinyConfig(filepath.Join(base, "b", "data"), filepath.Join(base, "b", "experiment"))
	if err := moved.checkSettings(); err != nil {
		t.Errorf("the moved directory was refused: %v", err)
	}
	elsewhere := tinyConfig(filepath.Join(base, "other-data"), filepath.Join(base, "b", "experiment"))
	if err := elsewhere.checkSettings(); err == nil || !strings.Contains(err.Error(), "Data") {
		t.Errorf("other data: error %v, want a refusal naming Data", err)
	}
}

// TestCameraSettingsReachOnlyCameraPretrainings checks each camera-only
// pretraining setting: it reaches the methods with a camera term, is refused
// without one, and is refused out of its range.
func TestCameraSettingsReachOnlyCameraPretrainings(t *testing.T) {
	for _, setting := range []struct {
		name string
		set  func(*Config, float64)
		get  func(pretext.Options) float64
		bad  []float64
	}{
		{"local motion", func(c *Config, v float64) { c.PretrainLocalMotion = v },
			func(o pretext.Options) float64 { return o.LocalMotion }, []float64{-0.5, 2}},
		{"pan speed jitter", func(c *Config, v float64) { c.PretrainPanSpeedJitter = v },
			func(o pretext.Options) float64 { return o.PanSpeedJitter }, []float64{-0.5, 1}},
	} {
		c := tinyConfig("data", t.TempDir())
		setting.set(&c, 0.5)
		for _, tc := range []struct {
			method string
			want   float64
		}{{"camera", 0.5}, {"camera+rotation", 0.5}, {"pan", 0}, {"moco", 0}} {
			if got := setting.get(c.pretextOptions(tc.method)); got != tc.want {
				t.Errorf("%s, %s: %g, want %g", setting.name, tc.method, got, tc.want)
			}
		}
		if _, err := c.withDefaults(); err == nil { // tinyConfig pretrains arrow only
			t.Errorf("a %s was accepted with no camera method", setting.name)
		}
		c.Methods = []string{"arrow", "camera"}
		if _, err := c.withDefaults(); err != nil {
			t.Errorf("a %s with a camera method: %v", setting.name, err)
		}
		for _, bad := range setting.bad {
			setting.set(&c, bad)
			if _, err := c.withDefaults(); err == nil {
				t.Errorf("%s %g accepted", setting.name, bad)
			}
		}
	}
}

func TestConfigRefusesBadListsBeforeAnyWork(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for a valid config
	}{
		{"valid", func(*Config) {}, ""},
		{"a method twice", func(c *Config) { c.Methods = []string{"camera", "arrow", "camera"} }, `--methods lists "camera" twice`},
		{"a budget twice", func(c *Config) { c.Labels = []string{"2/class", "2/class"} }, `--labels lists "2/class" twice`},
		{"a protocol twice", func(c *Config) { c.Protocols = []Protocol{Linear, Linear} }, `--protocols lists "linear" twice`},
		{"an unknown method", func(c *Config) { c.Methods = []string{"nosuch"} }, "--methods"},
		{"a budget not understood", func(c *Config) { c.Labels = []string{"abc"} }, `label budget "abc" not understood`},
		{"a negative warm-up", func(c *Config) { c.PretrainWarmup = -1 }, "--pretrain-warmup must be 0 or more"},
		{"a negative jobs count", func(c *Config) { c.Jobs = -1 }, "--jobs must be 0"},
		{"a run directory as --out", func(c *Config) {
			if err := os.WriteFile(filepath.Join(c.Out, train.ConfigFile), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "holds a training run"},
	}
	for _, tc := range cases {
		c := tinyConfig("data", t.TempDir())
		tc.edit(&c)
		_, err := c.withDefaults()
		var u *cli.UsageError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.As(err, &u) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want a usage error containing %s", tc.name, err, tc.want)
		}
	}
}

// TestHalfDoneRunThatNoLongerMatchesStartsOver: an experiment moved with its
// data while a cell was half done finds the cell's record naming the old
// --init path; the cell's resume is refused, and the experiment (whose own
// settings guard already passed) starts that cell over instead of failing.
func TestHalfDoneRunThatNoLongerMatchesStartsOver(t *testing.T) {
	data := tinyBenchmark(t)
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.Protocols = []Protocol{Finetune}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	cell := Cell{Init: "arrow", Labels: "2/class", Seed: 0, Protocol: Finetune}
	dir := cell.Dir(out)
	if err := os.Remove(filepath.Join(dir, cellFile)); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, train.ConfigFile)
	var rec map[string]any
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	rec["info"].(map[string]any)["init"] = "/moved/away/pretrain/arrow"
	if b, err = json.Marshal(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(record, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cfg.Log = &log
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("rerun with a half-done cell whose record names another --init: %v", err)
	}
	if !strings.Contains(log.String(), "starting it over") || len(res.Cells) != 2 {
		t.Errorf("log %q, %d cells: want the cell started over and 2 cells", log.String(), len(res.Cells))
	}
	if !exists(filepath.Join(dir, cellFile)) {
		t.Error("the started-over cell has no result")
	}
}
