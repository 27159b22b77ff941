package evaluate

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// twoBN is a backbone whose batch-norm inputs can be computed by hand:
// bn1 normalises the pixels, bn2 normalises relu(bn1)*2.
type twoBN struct{}

func (twoBN) Name() string    { return "two-bn" }
func (twoBN) FeatureDim() int { return 3 }
func (twoBN) Features(scope *model.Scope, x *graph.Node, training bool) *graph.Node {
	y := models.Relu(models.BatchNorm(scope.In("bn1"), x, training))
	y = models.BatchNorm(scope.In("bn2"), graph.MulScalar(y, 2), training)
	return graph.ReduceMean(y, 1, 2, 3)
}

// sliceBatches yields fixed batches.
type sliceBatches struct{ b []*loader.Batch }

func (s *sliceBatches) Next() (*loader.Batch, error) {
	if len(s.b) == 0 {
		return nil, io.EOF
	}
	b := s.b[0]
	s.b = s.b[1:]
	return b, nil
}
func (s *sliceBatches) Close() error { return nil }

// pooled returns the per-channel mean and unbiased variance of rows of 3 channels.
func pooled(vals [][3]float64) (mean, variance [3]float64) {
	for _, v := range vals {
		for c := range 3 {
			mean[c] += v[c] / float64(len(vals))
		}
	}
	for _, v := range vals {
		for c := range 3 {
			variance[c] += (v[c] - mean[c]) * (v[c] - mean[c]) / float64(len(vals)-1)
		}
	}
	return mean, variance
}

// bn1Outputs normalises one batch's pixels with its own statistics and
// gamma/beta, then applies relu and the x2 (bn2's input).
func bn1Outputs(px [][3]float64, gamma, beta []float32) [][3]float64 {
	m, v := pooled(px)
	n := float64(len(px))
	out := make([][3]float64, len(px))
	for i, p := range px {
		for c := range 3 {
			biased := v[c] * (n - 1) / n
			y := float64(gamma[c])*(p[c]-m[c])/math.Sqrt(biased+models.BatchNormEpsilon) + float64(beta[c])
			out[i][c] = 2 * max(y, 0)
		}
	}
	return out
}

func TestRecomputeBNMatchesDatasetMoments(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	const clips, frames, side = 2, 2, 3
	n := &network{backend: backend, store: model.NewStore(), spec: ModelSpec{Frames: frames, Size: side}, bb: twoBN{}}
	if err := n.ensureBackbone(1); err != nil {
		t.Fatal(err)
	}
	gamma, beta := []float32{0.5, 2, 1}, []float32{0.3, -0.1, 0}
	set := func(path string, v []float32) {
		if err := n.store.GetVariable(path).SetValue(tensors.FromFlatDataAndDimensions(v, len(v))); err != nil {
			t.Fatal(err)
		}
	}
	set("/backbone/bn1/weight", gamma)
	set("/backbone/bn1/bias", beta)
	set("/backbone/bn2/running_mean", []float32{7, 7, 7}) // stale values must go
	rng := rand.New(rand.NewPCG(1, 2))
	var batches []*loader.Batch
	var px [][][3]float64 // per batch, pixels
	for b := 0; b < 3; b++ {
		vals := make([]float32, clips*frames*side*side*3)
		var rows [][3]float64
		for i := range vals {
			vals[i] = float32(rng.NormFloat64()*float64(1+i%3) + float64(b+i%3)) // batches differ in mean
		}
		for i := 0; i < len(vals); i += 3 {
			rows = append(rows, [3]float64{float64(vals[i]), float64(vals[i+1]), float64(vals[i+2])})
		}
		px = append(px, rows)
		batches = append(batches, &loader.Batch{Views: [][]float32{vals}, ViewShape: [5]int{clips, frames, side, side, 3}})
	}
	before := snapshot(t, n.store)
	sum, err := recomputeBN(context.Background(), backend, n.store, twoBN{}, &sliceBatches{batches}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Layers != 2 || sum.Batches != 2 || sum.Clips != 4 {
		t.Errorf("summary %+v, want 2 layers, 2 batches (the limit), 4 clips", sum)
	}
	// Expected: moments of each layer's input over the first two batches.
	m1, v1 := pooled(append(append([][3]float64{}, px[0]...), px[1]...))
	m2, v2 := pooled(append(bn1Outputs(px[0], gamma, beta), bn1Outputs(px[1], gamma, beta)...))
	for _, c := range []struct {
		path string
		want [3]float64
	}{{"/backbone/bn1/running_mean", m1}, {"/backbone/bn1/running_var", v1}, {"/backbone/bn2/running_mean", m2}, {"/backbone/bn2/running_var", v2}} {
		got := values(t, n.store, c.path)
		for i := range 3 {
			if math.Abs(float64(got[i])-c.want[i]) > 1e-4*(1+math.Abs(c.want[i])) {
				t.Errorf("%s = %v, want the dataset moments %v", c.path, got, c.want)
				break
			}
		}
	}
	// Nothing else changed: weights, biases, num_batches_tracked.
	after := snapshot(t, n.store)
	for path, v := range before {
		if !isRunningStat(path) && !slices.Equal(v, after[path]) {
			t.Errorf("%s changed: %v -> %v", path, v, after[path])
		}
	}
}

func isRunningStat(path string) bool {
	return strings.HasSuffix(path, "/running_mean") || strings.HasSuffix(path, "/running_var")
}

// snapshot copies every backbone variable as float32 (int64 counters converted).
func snapshot(t *testing.T, store *model.Store) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range store.IterVariables() {
		if v.HasValue() && strings.HasPrefix(v.Path(), "/"+BackboneScope+"/") {
			out[v.Path()] = values(t, store, v.Path())
		}
	}
	return out
}

func values(t *testing.T, store *model.Store, path string) []float32 {
	t.Helper()
	v := store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	tv, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := tensors.CopyFlatData[float32](tv); err == nil {
		return f
	}
	i, err := tensors.CopyFlatData[int64](tv)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]float32, len(i))
	for k := range i {
		out[k] = float32(i[k])
	}
	return out
}

func TestDefaultPreciseBNBatches(t *testing.T) {
	for _, c := range []struct{ videos, batch, want int }{
		{4, 4, 16},     // 2/class of 2 classes: 64 clips, 16 passes
		{202, 16, 13},  // 2/class of 101 classes: one pass
		{9537, 16, 16}, // all of UCF101: 256 clips
		{3, 5, 13},
	} {
		if got := defaultPreciseBNBatches(c.videos, c.batch); got != c.want {
			t.Errorf("defaultPreciseBNBatches(%d, %d) = %d, want %d", c.videos, c.batch, got, c.want)
		}
	}
}

// testPreciseBN checks the precise batch-norm pass of the end-to-end run a,
// then compares a short fine-tune (6 steps on batches holding every training
// video, so training learns the two patterns) with and without it: the
// running averages lag behind the weights, the recomputed statistics do not.
func testPreciseBN(t *testing.T, data string, a *Result) {
	want := defaultPreciseBNBatches(6, 2)
	if p := a.PreciseBN; p == nil || p.Batches != want || p.Clips != 2*want || p.Layers == 0 {
		t.Fatalf("precise batch norm summary %+v, want %d batches of 2 clips over every layer", p, want)
	}
	run := func(name string, off bool) *Result {
		cfg := tinyFinetune(data, filepath.Join(t.TempDir(), name))
		cfg.Batch, cfg.Epochs, cfg.NoPreciseBN = 6, 6, off
		r, err := Finetune(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	precise, stale := run("precise", false), run("stale", true)
	if stale.PreciseBN != nil || fileExists(filepath.Join(stale.RunDir, PreciseBNFile)) {
		t.Errorf("NoPreciseBN run recorded a precise batch-norm pass")
	}
	if stale.Train.Loss != precise.Train.Loss {
		t.Errorf("precise batch norm changed training: loss %v vs %v", precise.Train.Loss, stale.Train.Loss)
	}
	t.Logf("6 steps: test video top-1 %.2f with recomputed statistics, %.2f with running averages (train accuracy %.2f)",
		precise.Test.Video.Top1, stale.Test.Video.Top1, *precise.Train.Accuracy)
	if !(precise.Test.Video.Top1 >= stale.Test.Video.Top1+0.25) {
		t.Errorf("test top-1 with recomputed statistics %.2f (confusion %v), with running averages %.2f (%v): want clearly better",
			precise.Test.Video.Top1, precise.Test.Video.Confusion, stale.Test.Video.Top1, stale.Test.Video.Confusion)
	}
	// The checkpoint holds the recomputed statistics; the stale run's differ.
	got, err := train.LoadStore(precise.RunDir, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	old, err := train.LoadStore(stale.RunDir, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + BackboneScope + "/stem/1/running_var"
	if slices.Equal(values(t, got, path), values(t, old, path)) {
		t.Errorf("%s is the same with and without precise batch norm", path)
	}
}

// testResumeFinished resumes a finished run and checks that nothing changed.
func testResumeFinished(t *testing.T, cfg FinetuneConfig) {
	t.Helper()
	before, err := train.LoadStore(cfg.Out, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	record, _ := os.ReadFile(filepath.Join(cfg.Out, PreciseBNFile))
	cfg.Resume = true
	if _, err := Finetune(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	after, err := train.LoadStore(cfg.Out, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	b, a := snapshot(t, before), snapshot(t, after)
	for path := range b {
		if !slices.Equal(b[path], a[path]) {
			t.Errorf("resuming the finished run changed %s", path)
		}
	}
	if again, _ := os.ReadFile(filepath.Join(cfg.Out, PreciseBNFile)); len(record) == 0 || string(again) != string(record) {
		t.Errorf("resuming the finished run redid the precise batch-norm pass: %s then %s", record, again)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// testStopInPreciseBN cancels a run after its last step, so the precise
// batch-norm pass stops, then resumes it and compares with the full run a.
func testStopInPreciseBN(t *testing.T, data string, a *Result, out string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := tinyFinetune(data, out)
	cfg.AfterStep = func(step int) error {
		if step == a.Train.Steps {
			cancel()
		}
		return nil
	}
	if _, err := Finetune(ctx, cfg); err == nil || !strings.Contains(err.Error(), "precise batch norm interrupted") {
		t.Fatalf("run cancelled after its last step: err = %v, want the precise batch-norm pass interrupted", err)
	}
	if fileExists(filepath.Join(out, PreciseBNFile)) {
		t.Errorf("an interrupted pass wrote %s", PreciseBNFile)
	}
	cfg.AfterStep, cfg.Resume = nil, true
	r, err := Finetune(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.PreciseBN == nil || r.PreciseBN.Batches != a.PreciseBN.Batches {
		t.Errorf("resumed run's precise batch-norm pass %+v, want %+v", r.PreciseBN, a.PreciseBN)
	}
	if !reflect.DeepEqual(r.Test.Video, a.Test.Video) ||
		!sameFile(t, filepath.Join(a.RunDir, "eval", "predictions.csv"), filepath.Join(out, "eval", "predictions.csv")) {
		t.Errorf("run resumed after an interrupted precise batch-norm pass differs from the uninterrupted one")
	}
	want, err := train.LoadStore(a.RunDir, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	got, err := train.LoadStore(out, BackboneScope)
	if err != nil {
		t.Fatal(err)
	}
	g := snapshot(t, got)
	for path, v := range snapshot(t, want) {
		if !slices.Equal(v, g[path]) {
			t.Errorf("resumed run's %s differs from the uninterrupted run's", path)
		}
	}
}

// flat is a backbone without batch norm (a ViT has none).
type flat struct{}

func (flat) Name() string    { return "flat" }
func (flat) FeatureDim() int { return 3 }
func (flat) Features(scope *model.Scope, x *graph.Node, training bool) *graph.Node {
	return graph.ReduceMean(x, 1, 2, 3)
}

func TestRecomputeBNWithoutBatchNorm(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	vals := make([]float32, 2*2*2*2*3)
	b := func() *loader.Batch {
		return &loader.Batch{Views: [][]float32{vals}, ViewShape: [5]int{2, 2, 2, 2, 3}}
	}
	sum, err := recomputeBN(context.Background(), backend, model.NewStore(), flat{}, &sliceBatches{[]*loader.Batch{b(), b(), b()}}, 3)
	if err != nil || sum.Layers != 0 || sum.Batches != 1 {
		t.Errorf("backbone without batch norm: %+v, %v; want 0 layers after one batch", sum, err)
	}
	if _, err := recomputeBN(context.Background(), backend, model.NewStore(), flat{}, &sliceBatches{}, 3); err == nil {
		t.Error("no batch: want an error")
	}
}
