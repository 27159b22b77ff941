package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// pretrainTinyArch is a backbone small enough to pretrain every method in a
// unit test: per-frame 2x2 average pooling, then one Linear+ReLU over time.
const pretrainTinyArch = "cli-test-tiny"

type pretrainTiny struct{}

func (pretrainTiny) Name() string    { return pretrainTinyArch }
func (pretrainTiny) FeatureDim() int { return 32 }
func (pretrainTiny) Features(scope *model.Scope, clips *Node, _ bool) *Node {
	d := clips.Shape().Dimensions
	x := ReduceMean(Reshape(clips, d[0], d[1], 2, d[2]/2, 2, d[3]/2, 3), 3, 5)
	return models.Relu(models.Linear(scope.In("fc"), Reshape(x, d[0], d[1]*12), 32))
}

func init() {
	models.Register(pretrainTinyArch, "cli test backbone",
		func(string, models.Options) (models.Backbone, error) { return pretrainTiny{}, nil }, models.Options{})
}

// pretrainData writes a folder-per-class dataset of moving-pattern videos.
func pretrainData(t *testing.T) string {
	t.Helper()
	testvideo.FFmpeg(t)
	data := t.TempDir()
	for i := range 8 {
		side := map[bool]string{true: "train", false: "test"}[i < 6]
		p := filepath.Join(data, side, fmt.Sprintf("c%d", i%2), fmt.Sprintf("v%d.mp4", i))
		testvideo.Make(t, p, testvideo.Options{Frames: 32, Width: 32, Height: 32, Seed: 7 * (i + 1)})
	}
	return data
}

// runCLI parses args as the vidrep binary does and runs the command.
func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	return execute(args, kong.Exit(func(int) {}))
}

// epochLosses reads the per-epoch mean losses of a run's metrics.jsonl.
func epochLosses(t *testing.T, run string) []float64 {
	t.Helper()
	recs, err := train.ReadMetrics(filepath.Join(run, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, r := range recs {
		if r.Kind == "epoch" {
			out = append(out, r.Loss)
		}
	}
	return out
}

// TestPretrainEveryMethodThroughCLI runs each method through the command
// line on real tiny videos and checks that its pretext loss goes down from
// the first three epochs to the last three.
func TestPretrainEveryMethodThroughCLI(t *testing.T) {
	data := pretrainData(t)
	for _, method := range []string{"vcop", "speed", "pan", "camera", "flowstats", "camflow", "arrow", "rotation", "simclr", "order", "odd-one-out", "byol", "moco", "vcop:1+rotation:0.5", "videomae"} {
		t.Run(method, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			arch := pretrainTinyArch
			if method == "videomae" {
				arch = "vit-micro"
			}
			err := runCLI(t, "pretrain", "--data", data, "--method", method, "--arch", arch, "--out", run,
				"--epochs", "24", "--batch", "3", "--frames", "4", "--stride", "1", "--size", "16", "--lr", "1e-2",
				"--workers", "1", "--quiet", "--backend", "go")
			if err != nil {
				t.Fatal(err)
			}
			losses := epochLosses(t, run)
			if len(losses) != 24 {
				t.Fatalf("%d epoch records, want 24", len(losses))
			}
			first, last := (losses[0]+losses[1]+losses[2])/3, (losses[21]+losses[22]+losses[23])/3
			t.Logf("%s: epoch loss %.4f -> %.4f", method, first, last)
			if !(last < first) {
				t.Errorf("%s: pretext loss did not go down: %v", method, losses)
			}
		})
	}
}

func TestPretrainCLIErrors(t *testing.T) {
	data := pretrainData(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"missing method", []string{"pretrain", "--data", data, "--arch", pretrainTinyArch, "--out", "x"}, cli.ExitUsage},
		{"unknown method", []string{"pretrain", "--data", data, "--method", "jigsaw", "--arch", pretrainTinyArch, "--out", t.TempDir()}, cli.ExitUsage},
		{"bad momentum", []string{"pretrain", "--data", data, "--method", "moco", "--momentum", "1.5", "--arch", pretrainTinyArch, "--out", t.TempDir()}, cli.ExitUsage},
		{"bad weight", []string{"pretrain", "--data", data, "--method", "vcop:x", "--arch", pretrainTinyArch, "--out", t.TempDir()}, cli.ExitUsage},
		{"missing data", []string{"pretrain", "--data", filepath.Join(data, "absent"), "--method", "vcop", "--arch", pretrainTinyArch, "--out", t.TempDir()}, cli.ExitFailure},
	} {
		err := runCLI(t, append(tc.args, "--quiet")...)
		code := cli.ExitCode(err)
		if err == nil || code != tc.code {
			t.Errorf("%s: error %v (exit %d), want exit %d", tc.name, err, code, tc.code)
		}
	}
}

// TestFinetuneFromPretrainRun checks the hand-over: a linear probe with
// --init RUN reads the architecture and clip geometry a pretraining run
// recorded and keeps its backbone weights exactly (frozen), without any
// pretext variable.
func TestFinetuneFromPretrainRun(t *testing.T) {
	data := pretrainData(t)
	run := filepath.Join(t.TempDir(), "pre")
	if err := runCLI(t, "pretrain", "--data", data, "--method", "vcop", "--arch", pretrainTinyArch, "--out", run,
		"--epochs", "1", "--batch", "3", "--frames", "4", "--stride", "1", "--size", "16", "--workers", "1", "--quiet"); err != nil {
		t.Fatal(err)
	}
	ft := filepath.Join(t.TempDir(), "ft")
	if err := runCLI(t, "finetune", "--linear", "--data", data, "--init", run, "--out", ft, "--linear-clips", "1",
		"--probe-weight-decay", "0.25", "--eval-clips", "1", "--eval-crops", "1", "--workers", "1", "--quiet"); err != nil {
		t.Fatal(err)
	}
	result, err := os.ReadFile(filepath.Join(ft, "result.json"))
	if err != nil || !strings.Contains(string(result), `"weight_decay": 0.25`) {
		t.Errorf("result.json (%v) does not record the probe's --probe-weight-decay 0.25:\n%s", err, result)
	}
	err = runCLI(t, "finetune", "--linear", "--data", data, "--init", run, "--out", filepath.Join(t.TempDir(), "ft0"),
		"--probe-weight-decay", "-1", "--quiet")
	if cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("--probe-weight-decay -1: error %v, want a usage error", err)
	}
	pre, err := train.LoadStore(run, "backbone")
	if err != nil {
		t.Fatal(err)
	}
	got, err := train.LoadStore(ft)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for v := range got.IterVariables() {
		if strings.HasPrefix(v.Path(), "/pretext/") {
			t.Errorf("the fine-tuned run carries pretext variable %s", v.Path())
		}
		if p := pre.GetVariable(v.Path()); p != nil {
			n++
			if !reflect.DeepEqual(p.MustValue().Value(), v.MustValue().Value()) {
				t.Errorf("%s differs from the pretrained value", v.Path())
			}
		}
	}
	if n != 2 {
		t.Errorf("%d of the pretrained backbone's 2 variables found in the fine-tuned run", n)
	}
	spec, err := os.ReadFile(filepath.Join(ft, "model.json"))
	if err != nil || !strings.Contains(string(spec), pretrainTinyArch) || !strings.Contains(string(spec), `"size": 16`) {
		t.Errorf("fine-tuned model.json %s (%v): want the pretrain run's arch and size", spec, err)
	}
}
