package evaluate

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/train"
)

// tinyData writes a folder-per-class dataset with train/ and test/ sides:
// 2 classes, 3 train and 2 test videos each, 24 frames of 32x32. The classes
// are ffmpeg's two test patterns (testsrc, testsrc2), so a network learns
// them in a few steps; each video starts at another frame of its pattern.
func tinyData(t *testing.T) string {
	t.Helper()
	testvideo.FFmpeg(t)
	root := t.TempDir()
	for _, side := range []struct {
		dir string
		n   int
	}{{"train", 3}, {"test", 2}} {
		for c, class := range []string{"left", "right"} {
			src := []string{"testsrc", "testsrc2"}[c]
			for i := 0; i < side.n; i++ {
				p := filepath.Join(root, side.dir, class, fmt.Sprintf("%s_%d.mp4", class, i))
				os.MkdirAll(filepath.Dir(p), 0o755)
				skip := fmt.Sprintf("trim=start_frame=%d", 5*i+20*side.n)
				testvideo.Run(t, "-f", "lavfi", "-i", src+"=size=32x32:rate=10", "-vf", skip, "-frames:v", "24",
					"-c:v", "libx264", "-pix_fmt", "yuv420p", p)
			}
		}
	}
	return root
}

// tinyNet is the smallest network the protocols accept, quick on the Go backend.
func tinyFinetune(data, out string) FinetuneConfig {
	return FinetuneConfig{
		DataRoot: data, Out: out, Arch: "r3d-small", Widths: []int{8, 8, 8, 8}, Frames: 4, Stride: 2, Size: 16,
		Epochs: 3, Batch: 2, LR: 1e-2, Seed: 3, EvalClips: 2, EvalCrops: 3,
		Runtime: Runtime{Backend: "go", Workers: 2, Batch: 12, Quiet: true, Logf: func(string, ...any) {}},
	}
}

func TestFinetuneEvaluateEndToEnd(t *testing.T) {
	data := tinyData(t)
	ctx := context.Background()
	dir := t.TempDir()
	a, err := Finetune(ctx, tinyFinetune(data, filepath.Join(dir, "a")))
	if err != nil {
		t.Fatal(err)
	}
	if a.TrainVideos != 6 || a.Train == nil || a.Train.Steps != 9 || a.Test == nil {
		t.Fatalf("result %+v: want 6 train videos, 9 steps (3 epochs x 3 batches) and test results", a)
	}
	if a.Test.Video.N != 4 || a.Test.Clip.N != 4*2*3 {
		t.Errorf("video N %d clip N %d, want 4 and 24 (2 clips x 3 crops)", a.Test.Video.N, a.Test.Clip.N)
	}
	// Nine steps on batches of two are too few to learn much, so test
	// accuracy says little here; the training loss must fall (the linear
	// probe below checks the labels through testing). The precise batch-norm
	// subtest checks that recomputed statistics beat the lagging running
	// averages on a short run that does learn.
	t.Run("precise batch norm", func(t *testing.T) { testPreciseBN(t, data, a) })
	recs, err := train.ReadMetrics(filepath.Join(a.RunDir, train.MetricsFile))
	if err != nil || len(recs) < 2 || !(recs[len(recs)-1].Loss < 0.9*recs[0].Loss) {
		t.Errorf("training loss did not fall on two test patterns: %+v (%v)", recs, err)
	}
	for _, f := range []string{"model.json", "config.json", "checkpoint.safetensors", "metrics.jsonl", "summary.json",
		"result.json", "eval/eval.json", "eval/confusion.csv", "eval/per_class.csv", "eval/predictions.csv"} {
		if st, err := os.Stat(filepath.Join(a.RunDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	checkPNG(t, filepath.Join(a.RunDir, "eval", "confusion.png"))

	// The same seed gives the same run, bit for bit, on the Go backend.
	b, err := Finetune(ctx, tinyFinetune(data, filepath.Join(dir, "b")))
	if err != nil {
		t.Fatal(err)
	}
	if a.Train.Loss != b.Train.Loss || !reflect.DeepEqual(a.Test.Clip, b.Test.Clip) || !reflect.DeepEqual(a.Test.Video, b.Test.Video) {
		t.Errorf("two runs with seed 3 differ: loss %v vs %v, test %+v vs %+v", a.Train.Loss, b.Train.Loss, a.Test.Video, b.Test.Video)
	}
	if !sameFile(t, filepath.Join(a.RunDir, "eval", "predictions.csv"), filepath.Join(b.RunDir, "eval", "predictions.csv")) {
		t.Error("two runs with seed 3 predict differently")
	}

	// A run killed after step 4 (checkpoint at step 3) and resumed ends as the
	// uninterrupted one.
	cut := tinyFinetune(data, filepath.Join(dir, "cut"))
	cut.AfterStep = func(step int) error {
		if step == 4 {
			return errors.New("simulated crash")
		}
		return nil
	}
	if _, err := Finetune(ctx, cut); err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("interrupted run: err = %v", err)
	}
	cut.AfterStep, cut.Resume = nil, true
	c, err := Finetune(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if c.Train.Loss != a.Train.Loss || !reflect.DeepEqual(c.Test.Video, a.Test.Video) ||
		!sameFile(t, filepath.Join(a.RunDir, "eval", "predictions.csv"), filepath.Join(c.RunDir, "eval", "predictions.csv")) {
		t.Errorf("resumed run differs: loss %v vs %v", c.Train.Loss, a.Train.Loss)
	}

	// Resuming the finished run does nothing new: the statistics stay those
	// of the first pass, which is not run again.
	testResumeFinished(t, cut)
	// A run stopped during the precise batch-norm pass (after its last step)
	// resumes from its last checkpoint and ends as the uninterrupted one.
	testStopInPreciseBN(t, data, a, filepath.Join(dir, "stop"))

	// Evaluate re-reads the run and gets what Finetune measured.
	ev, err := Evaluate(ctx, EvalConfig{DataRoot: data, Ckpt: a.RunDir, Clips: 2, Crops: 3, Out: filepath.Join(dir, "ev"), Runtime: a2rt()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev.Video, a.Test.Video) || !reflect.DeepEqual(ev.Clip, a.Test.Clip) {
		t.Errorf("Evaluate %+v differs from Finetune's test %+v", ev.Video, a.Test.Video)
	}
	// A finished run is not overwritten without --resume.
	if _, err := Finetune(ctx, tinyFinetune(data, a.RunDir)); !isUsage(err) {
		t.Errorf("finetune into a finished run: err = %v, want a usage error", err)
	}
	t.Run("linear probe from the run", func(t *testing.T) { testLinear(t, data, a.RunDir) })
	t.Run("linear probe on random features learns", func(t *testing.T) { testLinearLearns(t, data) })
	t.Run("fine-tuning from the probe's head", func(t *testing.T) { testProbeHead(t, data) })
	t.Run("init from a weights file", func(t *testing.T) { testInitFile(t, data, a.RunDir) })
	t.Run("retrieval and knn", func(t *testing.T) { testRetrieveKNN(t, data, a.RunDir) })
	t.Run("predict", func(t *testing.T) { testPredict(t, data, a.RunDir) })
}

func a2rt() Runtime {
	return Runtime{Backend: "go", Workers: 2, Batch: 12, Quiet: true, Logf: func(string, ...any) {}}
}

func testLinear(t *testing.T, data, init string) {
	ctx := context.Background()
	dir := t.TempDir()
	run := func(name string) *Result {
		cfg := tinyFinetune(data, filepath.Join(dir, name))
		cfg.Init, cfg.Arch, cfg.Widths, cfg.Linear, cfg.LinearClips = init, "", nil, true, 3
		cfg.Runtime.Features = NewFeatureCache(0) // each run extracts: the check below is of repeatability
		r, err := Finetune(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run("a"), run("b")
	if a.Probe == nil || a.Probe.Rows != 6*3 || a.Train != nil {
		t.Fatalf("linear probe summary %+v, want 18 rows (6 videos x 3 clips) and no training run", a.Probe)
	}
	if !reflect.DeepEqual(a.Test.Video, b.Test.Video) || a.Probe.Loss != b.Probe.Loss {
		t.Errorf("linear probe not repeatable: %+v vs %+v", a.Test.Video, b.Test.Video)
	}
	// The probe's backbone runs in inference mode: its batch-norm statistics
	// (and every other backbone variable) are the init run's.
	want, err := train.LoadStore(init, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	got, err := train.LoadStore(a.RunDir, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	w, g := snapshot(t, want), snapshot(t, got)
	if len(w) == 0 || len(w) != len(g) {
		t.Errorf("probe run saved %d backbone variables, the init run has %d", len(g), len(w))
	}
	for path := range w {
		if !slices.Equal(w[path], g[path]) {
			t.Errorf("linear probe changed backbone variable %s", path)
		}
	}
	spec, err := ReadModelSpec(a.RunDir)
	if err != nil || spec.Arch != "r3d-small" || !spec.Linear || len(spec.Classes) != 2 {
		t.Errorf("model.json %+v (%v): want the init run's arch, linear, 2 classes", spec, err)
	}
	// The saved run (frozen backbone + fitted head) evaluates to the same numbers.
	ev, err := Evaluate(ctx, EvalConfig{DataRoot: data, Ckpt: a.RunDir, Clips: 2, Crops: 3, Runtime: a2rt()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev.Video, a.Test.Video) {
		t.Errorf("evaluating the saved linear run gives %+v, the probe measured %+v", ev.Video, a.Test.Video)
	}
}

// testProbeHead checks LP-FT: with ProbeHead, fine-tuning starts from the
// head a linear probe fits on the same clips. At a learning rate of 1e-9 the
// head that training saves is still that probe's head.
func testProbeHead(t *testing.T, data string) {
	dir := t.TempDir()
	probe := tinyFinetune(data, filepath.Join(dir, "probe"))
	probe.Linear, probe.LinearClips, probe.SkipEval = true, 2, true
	ft := tinyFinetune(data, filepath.Join(dir, "lpft"))
	ft.ProbeHead, ft.LinearClips, ft.SkipEval, ft.NoPreciseBN, ft.Epochs, ft.LR = true, 2, true, true, 1, 1e-9
	var heads []map[string][]float32
	for _, cfg := range []FinetuneConfig{probe, ft} {
		r, err := Finetune(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Probe == nil || r.Probe.Rows != 6*2 {
			t.Fatalf("%s: probe summary %+v, want 12 rows (6 videos x 2 clips)", cfg.Out, r.Probe)
		}
		store, err := train.LoadStore(cfg.Out, HeadScope)
		if err != nil {
			t.Fatal(err)
		}
		head := map[string][]float32{}
		for v := range store.IterVariables() {
			if v.HasValue() {
				head[v.Path()] = values(t, store, v.Path())
			}
		}
		heads = append(heads, head)
	}
	if len(heads[0]) != 2 || len(heads[1]) != 2 {
		t.Fatalf("head variables: probe %d, fine-tune %d, want weight and bias", len(heads[0]), len(heads[1]))
	}
	for path, want := range heads[0] {
		got := heads[1][path]
		if len(got) != len(want) {
			t.Fatalf("%s: %d values after fine-tuning, %d in the probe", path, len(got), len(want))
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s[%d]: fine-tuning started from %g, the probe fitted %g", path, i, got[i], want[i])
			}
		}
	}
}

// testLinearLearns fits the probe on a seeded random backbone's features:
// the two patterns are separable, so every test video must come out right,
// which checks labels through extraction, fitting, the saved head and testing.
func testLinearLearns(t *testing.T, data string) {
	cfg := tinyFinetune(data, filepath.Join(t.TempDir(), "lin"))
	cfg.Linear, cfg.LinearClips = true, 2
	r, err := Finetune(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Probe.TrainAcc != 1 || r.Test.Video.Top1 != 1 {
		t.Errorf("probe on two test patterns: train %.2f, test %.2f (confusion %v), want 1 and 1",
			r.Probe.TrainAcc, r.Test.Video.Top1, r.Test.Video.Confusion)
	}
}

func testInitFile(t *testing.T, data, run string) {
	store, err := train.LoadStore(run, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backbone.safetensors")
	if err := train.SaveStore(store, file, BackboneScope); err != nil {
		t.Fatal(err)
	}
	cfg := tinyFinetune(data, filepath.Join(t.TempDir(), "f"))
	cfg.Init, cfg.Epochs, cfg.SkipEval = file, 1, true
	r, err := Finetune(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Test != nil || r.Train.Steps != 3 {
		t.Errorf("SkipEval run: test %v, steps %d (want nil, 3)", r.Test, r.Train.Steps)
	}
	// Weights made for another architecture are refused, not dropped in
	// favour of a random backbone reported as pretrained.
	for _, arch := range []string{"vit-micro", "c3d-small"} {
		cfg := tinyFinetune(data, filepath.Join(t.TempDir(), "other"))
		cfg.Init, cfg.Arch, cfg.Widths, cfg.Frames, cfg.Epochs, cfg.SkipEval = file, arch, nil, 8, 1, true
		var u *cli.UsageError
		if _, err := Finetune(context.Background(), cfg); !errors.As(err, &u) || !strings.Contains(err.Error(), "does not fit") {
			t.Errorf("r3d-small weights fine-tuned as %s: error %v, want a usage error saying they do not fit", arch, err)
		}
	}
	// A label budget keeps the same videos whatever the initialisation.
	subsets := map[string]string{}
	for _, init := range []string{"scratch", file} {
		cfg := tinyFinetune(data, filepath.Join(t.TempDir(), "budget"))
		cfg.Init, cfg.Labels, cfg.Epochs, cfg.SkipEval = init, "2/class", 1, true
		r, err := Finetune(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(r.RunDir, SubsetFile))
		subsets[init] = string(b)
		if r.TrainVideos != 4 || strings.Count(subsets[init], "\n") != 4 {
			t.Errorf("2/class of 2 classes kept %d videos:\n%s", r.TrainVideos, b)
		}
	}
	if subsets["scratch"] != subsets[file] {
		t.Errorf("the label budget chose different videos for different inits:\n%s\nvs\n%s", subsets["scratch"], subsets[file])
	}
	cfg = tinyFinetune(data, filepath.Join(t.TempDir(), "g"))
	cfg.Init, cfg.Arch = file, ""
	if _, err := Finetune(context.Background(), cfg); !isUsage(err) {
		t.Errorf("weights file without --arch: err = %v, want a usage error", err)
	}
}

func testRetrieveKNN(t *testing.T, data, run string) {
	ctx := context.Background()
	fc := FeatureConfig{DataRoot: data, Ckpt: run, Clips: 3, Runtime: a2rt()}
	outFile := filepath.Join(t.TempDir(), "cell", "r.json")
	r1, err := Retrieve(ctx, RetrieveConfig{FeatureConfig: fc, Ks: []int{1, 2, 6}, Out: outFile})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(outFile); err != nil || !json.Valid(b) {
		t.Errorf("Out ending in .json: %s not written as JSON (%v)", outFile, err)
	}
	if r1.Queries != 4 || r1.Gallery != 6 || len(r1.Recall) != 3 {
		t.Fatalf("retrieval %+v: want 4 queries, 6 gallery videos, 3 cut-offs", r1)
	}
	// k = the gallery size: every class is among the neighbours.
	if r1.At(6) != 1 || r1.At(1) > r1.At(2) {
		t.Errorf("R@k %+v: want non-decreasing with R@6 = 1", r1.Recall)
	}
	// A caller's shared backend gives the same numbers and stays usable.
	shared, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Finalize()
	fc2 := fc
	fc2.Engine = shared
	r2, err := Retrieve(ctx, RetrieveConfig{FeatureConfig: fc2, Ks: []int{1, 2, 6}})
	if err != nil || !reflect.DeepEqual(r1.Recall, r2.Recall) {
		t.Errorf("retrieval not repeatable: %v vs %v (%v)", r1.Recall, r2.Recall, err)
	}
	if shared.IsFinalized() {
		t.Error("Retrieve released the caller's backend")
	}
	scratch := FeatureConfig{DataRoot: data, Ckpt: "scratch", Arch: "r3d-small", Widths: []int{8, 8, 8, 8}, Frames: 4, Size: 16, Clips: 2, Seed: 5, Runtime: a2rt()}
	k1, err := KNN(ctx, KNNConfig{FeatureConfig: scratch, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := KNN(ctx, KNNConfig{FeatureConfig: scratch, K: 3})
	if err != nil || !reflect.DeepEqual(k1.Metrics, k2.Metrics) || k1.Metrics.N != 4 {
		t.Errorf("kNN on a seeded scratch backbone: %+v vs %+v (%v)", k1.Metrics, k2.Metrics, err)
	}
	f, err := ExtractFeatures(ctx, FeatureConfig{DataRoot: data, Ckpt: run, Subset: "test", Clips: 2, Runtime: a2rt()})
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(t.TempDir(), "feat")
	if err := f.Write(base); err != nil {
		t.Fatal(err)
	}
	rows, dim := readNPY(t, base+".npy")
	if rows != 4 || dim != 8 || len(f.IDs) != 4 {
		t.Errorf("features.npy is %dx%d with %d ids, want 4x8 and 4", rows, dim, len(f.IDs))
	}
	ids, _ := os.ReadFile(base + ".ids.txt")
	if got := strings.Fields(string(ids)); !reflect.DeepEqual(got, f.IDs) {
		t.Errorf("ids.txt %v, want %v", got, f.IDs)
	}
	checkNumpy(t, base+".npy", f.X)
}

func testPredict(t *testing.T, data, run string) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.mp4")
	testvideo.Make(t, long, testvideo.Options{Frames: 60, Width: 32, Height: 32, FPS: 10})
	text := filepath.Join(dir, "notes.mp4")
	testvideo.TextAsVideo(t, text)
	short := filepath.Join(data, "test", "left", "left_0.mp4")
	preds, err := Predict(context.Background(), PredictConfig{Ckpt: run, Files: []string{short, text, long}, TopK: 2, Clips: 3, Runtime: a2rt()})
	if err != nil {
		t.Fatal(err)
	}
	if preds[0].Error != "" || len(preds[0].Top) != 2 || len(preds[0].Timeline) != 0 {
		t.Errorf("short video: %+v, want 2 top classes and no timeline", preds[0])
	}
	if sum := preds[0].Top[0].Prob + preds[0].Top[1].Prob; sum < 0.999 || sum > 1.001 || preds[0].Top[0].Prob < preds[0].Top[1].Prob {
		t.Errorf("top-2 of 2 classes should be sorted and sum to 1: %+v", preds[0].Top)
	}
	if preds[1].Error == "" || !strings.Contains(preds[1].Error, "notes.mp4") {
		t.Errorf("a text file named .mp4 gave %+v, want an error naming it", preds[1])
	}
	// 60 frames, clips of 4 frames at stride 2 span 7: windows at 0, 7, ..., 49.
	if n := len(preds[2].Timeline); n != 8 || preds[2].Timeline[1].Start != 0.7 {
		t.Errorf("long video timeline has %d windows (second at %v s), want 8 (0.7 s)", n, preds[2].Timeline)
	}
	out := FormatPredictions(preds)
	for _, want := range []string{"timeline (8 windows, ", "error:", "1. "} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal table lacks %q:\n%s", want, out)
		}
	}
	if _, err := Predict(context.Background(), PredictConfig{Ckpt: filepath.Join(dir, "nope"), Files: []string{short}, Runtime: a2rt()}); !isUsage(err) {
		t.Errorf("missing checkpoint: err = %v, want a usage error", err)
	}
}

func isUsage(err error) bool {
	var u *cli.UsageError
	return errors.As(err, &u)
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("%s: not a usable PNG (%v)", path, err)
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// readNPY checks the .npy header and returns the shape.
func readNPY(t *testing.T, path string) (rows, dim int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("%s: bad magic", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hl)%64 != 0 {
		t.Errorf("header not 64-byte aligned: %d", 10+hl)
	}
	header := string(b[10 : 10+hl])
	if _, err := fmt.Sscanf(header[strings.Index(header, "'shape': (")+10:], "%d, %d)", &rows, &dim); err != nil {
		t.Fatalf("header %q: %v", header, err)
	}
	if len(b)-10-hl != rows*dim*4 {
		t.Errorf("payload %d bytes, want %d", len(b)-10-hl, rows*dim*4)
	}
	return rows, dim
}

// checkNumpy loads the file with NumPy when it is installed and compares.
func checkNumpy(t *testing.T, path string, want [][]float32) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 absent: NumPy cross-check skipped")
		return
	}
	out, err := exec.Command(py, "-c", "import json,sys,numpy as np; a=np.load(sys.argv[1]); print(json.dumps(a.astype(float).tolist()))", path).Output()
	if err != nil {
		t.Logf("NumPy cross-check skipped: %v", err)
		return
	}
	var got [][]float64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if float32(got[i][j]) != want[i][j] {
				t.Fatalf("numpy reads [%d][%d] = %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}
