package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

func toyConfig() Config {
	return Config{Epochs: 3, BatchSize: 4, Optimizer: "adamw", LR: 0.05, WeightDecay: 0.01, WarmupSteps: 2,
		Schedule: "cosine", ClipNorm: 1, AccumSteps: 1, CheckpointEvery: 4, LogEvery: 2, Seed: 11}
}

func TestLossDecreasesOnLearnableTask(t *testing.T) {
	cfg := toyConfig()
	cfg.Epochs = 8
	dir := t.TempDir()
	sum, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), newToyData(24, 4, 2), WithQuiet())
	must(t, err)
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	must(t, err)
	var epochs []Record
	for _, r := range recs {
		if r.Kind == "epoch" {
			epochs = append(epochs, r)
		}
	}
	if len(epochs) != cfg.Epochs {
		t.Fatalf("%d epoch records, want %d", len(epochs), cfg.Epochs)
	}
	first, last := epochs[0], epochs[len(epochs)-1]
	if !(last.Loss < 0.6*first.Loss) {
		t.Errorf("loss went from %.4f to %.4f; want a clear decrease", first.Loss, last.Loss)
	}
	if last.Accuracy == nil || *last.Accuracy < 0.9 {
		t.Errorf("last epoch accuracy %v, want >= 0.9 on the separable toy task", last.Accuracy)
	}
	if sum.Steps != 48 || sum.Epochs != 8 || sum.Loss != last.Loss {
		t.Errorf("summary %+v does not match the run (48 steps, 8 epochs, loss %.4f)", sum, last.Loss)
	}
}

func TestRunDirectoryFiles(t *testing.T) {
	cfg := toyConfig()
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), newToyData(12, 4, 2),
		WithQuiet(), WithInfo(map[string]any{"arch": "toy", "version": "v-test"}))
	must(t, err)

	var rc runConfig
	readJSON(t, filepath.Join(dir, ConfigFile), &rc)
	if rc.Backend != goBackend(t).Name() || rc.Version != "v-test" || rc.Config.LR != cfg.LR || rc.Config.Optimizer != "adamw" ||
		rc.TotalSteps != 9 || rc.StepsPerEpoch != 3 || rc.Info["arch"] != "toy" || rc.Config.Beta2 != 0.999 {
		t.Errorf("config.json = %+v", rc)
	}
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryFile), &sum)
	if sum.Steps != 9 || sum.Epochs != 3 || sum.Params != 3*8+8+8+8*3+3 || sum.Checkpoint != filepath.Join(dir, CheckpointFile) {
		t.Errorf("summary.json = %+v", sum)
	}
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	must(t, err)
	var steps []int
	epochs := 0
	for _, r := range recs {
		if r.Kind == "step" {
			steps = append(steps, r.Step)
			if r.LR <= 0 || r.ElapsedS <= 0 || r.ClipsPerS <= 0 || r.Accuracy == nil || r.Loss <= 0 {
				t.Errorf("step record misses a field: %+v", r)
			}
		} else {
			epochs++
		}
	}
	if want := []int{1, 2, 4, 6, 8, 9}; !slices.Equal(steps, want) || epochs != 3 {
		t.Errorf("logged steps %v and %d epochs, want %v and 3", steps, epochs, want)
	}
	if _, err := LoadStore(dir); err != nil {
		t.Errorf("LoadStore of the run: %v", err)
	}
	// A second run into the same directory without resume is refused.
	_, err = Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), newToyData(12, 4, 2), WithQuiet())
	if err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("rerun into a finished run: err %v, want a hint about --resume", err)
	}
}

// TestResumeIsBitExact interrupts a run (by cancelling ctx, and by a crash
// after a checkpoint) and resumes it with a fresh store: the final weights,
// optimizer and RNG state must equal those of an uninterrupted run, bit for bit.
func TestResumeIsBitExact(t *testing.T) {
	cfg := toyConfig()
	cfg.AccumSteps = 2
	data := func() *toyData { return newToyData(16, 2, 4) } // 8 batches = 4 steps per epoch, 12 steps
	backend := goBackend(t)
	refStore := model.NewStore()
	refDir := t.TempDir()
	_, err := Run(context.Background(), backend, refStore, refDir, cfg, toyLoss(true), data(), WithQuiet())
	must(t, err)
	want := storeValues(t, refStore)
	wantMetrics := metricSteps(t, refDir)

	cases := []struct {
		name      string
		interrupt func(cancel context.CancelFunc) func(step int) error
		stopped   int // step of the checkpoint the resume starts from
	}{
		{"cancel mid-epoch", func(cancel context.CancelFunc) func(int) error {
			return func(step int) error {
				if step == 6 {
					cancel()
				}
				return nil
			}
		}, 6},
		{"crash after a checkpoint", func(context.CancelFunc) func(int) error {
			return func(step int) error {
				if step == 7 {
					return errors.New("simulated crash")
				}
				return nil
			}
		}, 4},
		{"crash at an epoch end", func(context.CancelFunc) func(int) error {
			return func(step int) error {
				if step == 9 {
					return errors.New("simulated crash")
				}
				return nil
			}
		}, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := Run(ctx, backend, model.NewStore(), dir, cfg, toyLoss(true), data(), WithQuiet(),
				WithAfterStep(c.interrupt(cancel)))
			if err == nil {
				t.Fatal("interrupted run returned no error")
			}
			state, err := restoreCheckpoint(filepath.Join(dir, CheckpointFile), model.NewStore())
			must(t, err)
			if state.Step != c.stopped {
				t.Fatalf("checkpoint at step %d, want %d", state.Step, c.stopped)
			}
			store := model.NewStore()
			sum, err := Run(context.Background(), backend, store, dir, cfg, toyLoss(true), data(), WithQuiet(), WithResume(true))
			must(t, err)
			if !sum.Resumed || sum.Steps != 12 {
				t.Errorf("summary %+v, want resumed with 12 steps", sum)
			}
			got := storeValues(t, store)
			if len(got) != len(want) {
				t.Fatalf("resumed store has %d variables, uninterrupted %d", len(got), len(want))
			}
			for path, w := range want {
				if !bytes.Equal(got[path], w) {
					t.Errorf("variable %s differs after resume", path)
				}
			}
			if gotMetrics := metricSteps(t, dir); gotMetrics != wantMetrics {
				t.Errorf("metrics steps after resume:\n%s\nuninterrupted:\n%s", gotMetrics, wantMetrics)
			}
		})
	}
}

func TestNaNStopsAndKeepsCheckpoint(t *testing.T) {
	cfg := toyConfig()
	cfg.CheckpointEvery = 2
	dir := t.TempDir()
	d := newToyData(12, 4, 2)
	d.nanAt = 4 // the fifth batch (step 5) holds a NaN
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), d, WithQuiet())
	if err == nil {
		t.Fatal("a NaN loss did not stop the run")
	}
	for _, want := range []string{"NaN", "step 5", "lower --lr", "step 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	store := model.NewStore()
	state, err := restoreCheckpoint(filepath.Join(dir, CheckpointFile), store)
	must(t, err)
	if state.Step != 4 {
		t.Errorf("checkpoint at step %d, want the last good one (4)", state.Step)
	}
	for _, f := range floats(t, store, "/model/head/weights") {
		if f != f {
			t.Fatal("checkpoint holds NaN weights")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); !os.IsNotExist(err) {
		t.Errorf("a diverged run wrote summary.json (err %v)", err)
	}
}

func TestResumeRejectsChangedSettings(t *testing.T) {
	cfg := toyConfig()
	dir := t.TempDir()
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), newToyData(8, 4, 2), WithQuiet())
	must(t, err)
	cfg.LR *= 2
	_, err = Run(context.Background(), goBackend(t), model.NewStore(), dir, cfg, toyLoss(false), newToyData(8, 4, 2),
		WithQuiet(), WithResume(true))
	if err == nil || !strings.Contains(err.Error(), "lr") {
		t.Errorf("resume with another lr: err %v", err)
	}
}

func TestBF16NeedsXLA(t *testing.T) {
	cfg := toyConfig()
	cfg.DType = "bf16"
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), t.TempDir(), cfg, toyLoss(false), newToyData(8, 4, 2), WithQuiet())
	if err == nil || !strings.Contains(err.Error(), "XLA") {
		t.Errorf("bf16 on the Go backend: err %v, want a clear refusal", err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	must(t, json.Unmarshal(data, v))
}

// metricSteps renders the (kind, step, loss) of every metrics line.
func metricSteps(t *testing.T, dir string) string {
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	must(t, err)
	var sb strings.Builder
	for _, r := range recs {
		sb.WriteString(r.Kind + " " + itoa(r.Step) + " " + ftoa(r.Loss) + "\n")
	}
	return sb.String()
}

func TestProgressBarShowsLossAndRate(t *testing.T) {
	var out bytes.Buffer
	cfg := toyConfig()
	cfg.Epochs = 1
	_, err := Run(context.Background(), goBackend(t), model.NewStore(), t.TempDir(), cfg, toyLoss(false), newToyData(8, 4, 2),
		WithProgress(&out, false))
	must(t, err)
	line := out.String()
	for _, want := range []string{"train", "2/2", "loss ", "clips/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress output %q lacks %q", line, want)
		}
	}
}
