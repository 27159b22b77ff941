package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/safetensors"
	"github.com/vidrep/vidrep/train"
)

// torchvisionFile writes a torchvision-style state dict of arch (values
// from a sine, fc head of 5 classes) and returns its path.
func torchvisionFile(t *testing.T, arch string) string {
	t.Helper()
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	bb, err := models.New(arch, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := models.TraceVariables(backend, store, evaluate.BackboneScope, bb); err != nil {
		t.Fatal(err)
	}
	k := 0
	for v := range store.IterVariables() {
		value := tensors.FromShape(v.Shape())
		if v.DType() == dtypes.Float32 {
			data := make([]float32, v.Shape().Size())
			for i := range data {
				data[i] = float32(math.Sin(float64(k)))
				k++
			}
			value = tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...)
		}
		if err := v.SetValue(value); err != nil {
			t.Fatal(err)
		}
	}
	head := make([]float32, 5*bb.FeatureDim())
	for i := range head {
		head[i] = float32(i)
	}
	must := func(_ any, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.CreateVariable("/head/weight", tensors.FromFlatDataAndDimensions(head, 5, bb.FeatureDim())))
	must(store.CreateVariable("/head/bias", tensors.FromFlatDataAndDimensions(make([]float32, 5), 5)))
	file := filepath.Join(t.TempDir(), arch+".safetensors")
	if _, err := models.ExportTorchvision(store, "", "", file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestImportExportCommands imports a state dict into a run, checks the run
// is one finetune --init accepts, exports it and compares every tensor.
func TestImportExportCommands(t *testing.T) {
	src := torchvisionFile(t, "r3d-small")
	run := filepath.Join(t.TempDir(), "run")
	imp := ImportCmd{Arch: "r3d-small", Weights: src, Out: run, Inflate: "centre", Frames: 16, Stride: 2, Size: 112, Backend: "go"}
	if err := imp.Run(); err != nil {
		t.Fatal(err)
	}
	if kind, err := evaluate.ResolveInit(run); err != nil || kind != evaluate.InitRun {
		t.Fatalf("finetune --init %s: kind %v, err %v", run, kind, err)
	}
	spec, err := evaluate.ReadModelSpec(run)
	if err != nil || spec.Arch != "r3d-small" || len(spec.Classes) != 5 || spec.Frames != 16 {
		t.Errorf("model spec %+v (err %v), want r3d-small with 5 classes and 16 frames", spec, err)
	}
	if err := imp.Run(); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("second import into the same run: %v", err)
	}

	out := filepath.Join(t.TempDir(), "back.safetensors")
	if err := (&ExportCmd{Ckpt: run, Out: out}).Run(); err != nil {
		t.Fatal(err)
	}
	a, err := safetensors.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if strings.Join(a.Names(), ",") != strings.Join(b.Names(), ",") {
		t.Fatalf("exported keys differ from the imported ones:\n%v\n%v", a.Names(), b.Names())
	}
	for _, name := range a.Names() {
		ra, _ := a.Bytes(name)
		rb, _ := b.Bytes(name)
		if string(ra) != string(rb) {
			t.Errorf("%s changed in the import/export round trip", name)
		}
	}
}

// TestImportRefusals checks the one-line errors of bad invocations.
func TestImportRefusals(t *testing.T) {
	src := torchvisionFile(t, "mc3-small")
	dir := t.TempDir()
	classes := filepath.Join(dir, "classes.txt")
	if err := os.WriteFile(classes, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cmd  ImportCmd
		want string
	}{
		{"wrong arch", ImportCmd{Arch: "r3d-small", Weights: src}, "not a r3d-small state dict"},
		{"unknown arch", ImportCmd{Arch: "resnet9000", Weights: src}, "unknown architecture"},
		{"no file", ImportCmd{Arch: "mc3-small", Weights: filepath.Join(dir, "none.safetensors")}, "no such file"},
		{"class count", ImportCmd{Arch: "mc3-small", Weights: src, Classes: classes}, "2 names, but the fc head has 5 classes"},
	}
	for i, c := range cases {
		c.cmd.Out = filepath.Join(dir, "run", string(rune('a'+i)))
		c.cmd.Inflate, c.cmd.Backend = "centre", "go"
		if err := c.cmd.Run(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	if err := (&ExportCmd{Ckpt: dir, Out: filepath.Join(dir, "x.safetensors")}).Run(); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("export of a directory without a run: %v", err)
	}
}

// TestFinetuneFromImport fine-tunes, for one epoch on tiny videos, from a
// run that vidrep import wrote, and checks that the backbone started from
// the imported weights (the run records its init and trains without error).
func TestFinetuneFromImport(t *testing.T) {
	testvideo.FFmpeg(t)
	src := torchvisionFile(t, "r3d-small")
	imported := filepath.Join(t.TempDir(), "imported")
	if err := (&ImportCmd{Arch: "r3d-small", Weights: src, Out: imported, Inflate: "centre", Frames: 4, Stride: 2, Size: 16, Backend: "go"}).Run(); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	for i, p := range []string{"train/a/a0.mp4", "train/b/b0.mp4", "test/a/a1.mp4", "test/b/b1.mp4"} {
		testvideo.Make(t, filepath.Join(data, p), testvideo.Options{Frames: 12, Width: 32, Height: 32, Seed: 3 * i})
	}
	run := filepath.Join(t.TempDir(), "ft")
	cmd := FinetuneCmd{Data: data, Format: "auto", Out: run, Init: imported, Labels: "all", Split: 1,
		Epochs: 1, Batch: 2, LR: 1e-3, BackboneLRMult: 1, WeightDecay: 1e-2, WarmupEpochs: 1,
		Optimizer: "adamw", Augment: "train", LinearClips: 1, EvalClips: 1, EvalCrops: 1, NoEval: true,
		RuntimeFlags: RuntimeFlags{Backend: "go", Workers: 1, Quiet: true}}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	spec, err := evaluate.ReadModelSpec(run)
	if err != nil || spec.Arch != "r3d-small" || spec.Frames != 4 || spec.Size != 16 || spec.Init != imported {
		t.Errorf("fine-tuned run's spec %+v (err %v), want r3d-small 4x16x16 from %s", spec, err, imported)
	}
	// One AdamW step of lr 1e-3 moves a weight by about 1e-3: the fine-tuned
	// kernel must still be the imported one, not a fresh initialisation.
	before, err := train.LoadStore(imported, evaluate.BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	after, err := train.LoadStore(run, evaluate.BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	const kernel = "/backbone/layer1/0/conv1/0/weight"
	a := tensors.MustCopyFlatData[float32](before.GetVariable(kernel).MustValue())
	b := tensors.MustCopyFlatData[float32](after.GetVariable(kernel).MustValue())
	var diff, scale float64
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i]-b[i])))
		scale = max(scale, math.Abs(float64(a[i])))
	}
	if diff > 0.05*scale {
		t.Errorf("%s moved by up to %g (weights up to %g) in one step: fine-tuning did not start from the import", kernel, diff, scale)
	}
}
