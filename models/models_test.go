package models

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func TestRegistry(t *testing.T) {
	names := Names()
	for _, want := range []string{"r3d_18", "mc3_18", "r2plus1d_18", "c3d", "vit_tiny", "vit_small", "vit_base", "r3d-small"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() lacks %q: %v", want, names)
		}
	}
	if _, err := New("resnet9000", Options{}); err == nil {
		t.Error("New accepted an unknown name")
	}
	if _, err := New("r3d_18", Options{Widths: []int{1, 2}}); err == nil {
		t.Error("New accepted 2 stage widths for a 4-stage network")
	}
	bb, err := New("r3d_18", Options{Width: 0.25})
	if err != nil || bb.FeatureDim() != 128 {
		t.Errorf("r3d_18 at width 0.25: feature dim %v (err %v), want 128", bb, err)
	}
	vit, err := New("vit_small", Options{Tubelet: [3]int{2, 8, 8}})
	if err != nil || vit.(*ViT).Tubelet != [3]int{2, 8, 8} || vit.FeatureDim() != 384 {
		t.Errorf("vit_small with tubelet 2x8x8: %+v, %v", vit, err)
	}
}

// randClips is a [b,t,s,s,3] float32 tensor in [-1,1).
func randClips(seed uint64, b, t, s int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, b*t*s*s*3)
	for i := range data {
		data[i] = rng.Float32()*2 - 1
	}
	return tensors.FromFlatDataAndDimensions(data, b, t, s, s, 3)
}

// adamSteps trains bb plus a 3-class linear head on one fixed batch of 3
// random clips (frames x size x size) for steps AdamW steps at lr, checks
// the feature shape, and returns the loss of every step.
func adamSteps(t *testing.T, bb Backbone, frames, size int, lr float64, steps int) []float32 {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	opt := optimizer.Adam().LearningRate(lr).Done()
	exec, err := model.NewExec(testBackend(), store, func(scope *model.Scope, clips, labels *Node) []*Node {
		feats := bb.Features(scope, clips, true)
		logits := LinearHead(scope.In("fc"), feats, 3)
		// Cross entropy: -log softmax at the label.
		onehot := OneHot(labels, 3, dtypes.Float32)
		loss := Neg(ReduceAllMean(ReduceSum(Mul(onehot, LogSoftmax(logits, -1)), -1)))
		opt.UpdateGraph(scope, clips.Graph(), loss)
		return []*Node{loss, feats}
	})
	if err != nil {
		t.Fatal(err)
	}
	clips, labels := randClips(7, 3, frames, size), tensors.FromValue([]int32{0, 1, 2})
	losses := make([]float32, steps)
	for step := range losses {
		out, err := exec.Call(clips, labels)
		if err != nil {
			t.Fatal(err)
		}
		if d := out[1].Shape().Dimensions; d[0] != 3 || d[1] != bb.FeatureDim() {
			t.Fatalf("features %v, want [3 %d]", d, bb.FeatureDim())
		}
		losses[step] = out[0].Value().(float32)
	}
	return losses
}

// TestSmallBackbonesTrain checks, for each small variant, the feature
// shape and that a few AdamW steps on one batch lower the loss.
func TestSmallBackbonesTrain(t *testing.T) {
	for _, arch := range []string{"r3d-small", "mc3-small", "r2plus1d-small", "c3d-small", "vit-micro"} {
		t.Run(arch, func(t *testing.T) {
			bb, err := New(arch, Options{})
			if err != nil {
				t.Fatal(err)
			}
			frames := 4
			if arch == "c3d-small" {
				frames = 8 // three (2,2,2) pools
			}
			const steps = 8
			losses := adamSteps(t, bb, frames, 16, 3e-4, steps)
			first := losses[0]
			last := (losses[steps-3] + losses[steps-2] + losses[steps-1]) / 3
			if !(last < first) || math.IsNaN(float64(last)) {
				t.Errorf("loss went from %g to a mean of %g over the last 3 of %d AdamW steps, want a decrease", first, last, steps)
			}
		})
	}
}

// TestViTTokens checks that encoding every embedded token equals Tokens
// without the norm, and that SelectTokens picks the requested ones.
func TestViTTokens(t *testing.T) {
	bb, _ := New("vit-micro", Options{})
	vit := bb.(*ViT)
	store := model.NewStore()
	exec, err := model.NewExec(testBackend(), store, func(scope *model.Scope, clips, idx *Node) []*Node {
		emb := vit.Embed(scope, clips)
		sel := SelectTokens(emb, idx)
		enc := vit.Encode(scope, sel, false)
		return []*Node{emb, sel, enc}
	})
	if err != nil {
		t.Fatal(err)
	}
	// 4x16x16 with tubelet 2x8x8: a 2x2x2 grid, 8 tokens.
	out, err := exec.Call(randClips(3, 2, 4, 16), tensors.FromValue([][]int32{{5, 0}, {7, 7}}))
	if err != nil {
		t.Fatal(err)
	}
	emb := out[0].Value().([][][]float32)
	sel := out[1].Value().([][][]float32)
	if len(emb[0]) != 8 || len(emb[0][0]) != 64 {
		t.Fatalf("embedding %dx%d, want 8 tokens x 64", len(emb[0]), len(emb[0][0]))
	}
	if !slices.Equal(sel[0][0], emb[0][5]) || !slices.Equal(sel[0][1], emb[0][0]) || !slices.Equal(sel[1][1], emb[1][7]) {
		t.Error("SelectTokens did not pick tokens (0,5), (0,0), (1,7)")
	}
	if d := out[2].Shape().Dimensions; !slices.Equal(d, []int{2, 2, 64}) {
		t.Errorf("Encode on 2 tokens gave %v, want [2 2 64]", d)
	}
	if _, err := vit.Grid(5, 16, 16); err == nil {
		t.Error("Grid accepted 5 frames with a 2-frame tubelet")
	}
}

// TestBatchNorm checks train-mode normalisation, the running-statistics
// update (momentum 0.1, unbiased variance) and eval mode against a hand
// computation on a [4,1,1,1,2] input.
func TestBatchNorm(t *testing.T) {
	x := [][][][][]float32{{{{{1, 10}}}}, {{{{2, 20}}}}, {{{{3, 30}}}}, {{{{6, 60}}}}}
	store := model.NewStore()
	train, err := model.NewExec(testBackend(), store, func(scope *model.Scope, x *Node) *Node {
		return BatchNorm(scope.In("bn"), x, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := train.Call(x)
	if err != nil {
		t.Fatal(err)
	}
	// Channel 0: mean 3, biased var (4+1+0+9)/4 = 3.5, unbiased 14/3.
	y := out[0].Value().([][][][][]float32)
	if want := (1 - 3) / math.Sqrt(3.5+1e-5); math.Abs(float64(y[0][0][0][0][0])-want) > 1e-5 {
		t.Errorf("train output %g, want %g", y[0][0][0][0][0], want)
	}
	mean := store.GetVariable("/bn/running_mean").MustValue().Value().([]float32)
	vr := store.GetVariable("/bn/running_var").MustValue().Value().([]float32)
	if math.Abs(float64(mean[0])-0.3) > 1e-6 || math.Abs(float64(vr[0])-(0.9+0.1*14.0/3)) > 1e-5 {
		t.Errorf("running stats after one step: mean %g var %g, want 0.3 and %g", mean[0], vr[0], 0.9+0.1*14.0/3)
	}
	if n := store.GetVariable("/bn/num_batches_tracked").MustValue().Value().(int64); n != 1 {
		t.Errorf("num_batches_tracked %d, want 1", n)
	}
	eval, err := model.NewExec(testBackend(), store, func(scope *model.Scope, x *Node) *Node {
		return BatchNorm(scope.In("bn"), x, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err = eval.Call(x)
	if err != nil {
		t.Fatal(err)
	}
	y = out[0].Value().([][][][][]float32)
	if want := (1 - 0.3) / math.Sqrt(float64(vr[0])+1e-5); math.Abs(float64(y[0][0][0][0][0])-want) > 1e-5 {
		t.Errorf("eval output %g, want %g (running statistics)", y[0][0][0][0][0], want)
	}
}

// TestBatchNormGradient compares batchNormTrain's hand-written gradient
// (with and without the folded ReLU) with GoMLX's autodiff of the plain
// formula, in float64.
func TestBatchNormGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randTensor(rng, 2, 3, 2, 2, 4)
	gamma, beta := randTensor(rng, 4), randTensor(rng, 4)
	r := randTensor(rng, 2, 3, 2, 2, 4)
	res := randTensor(rng, 2, 3, 2, 2, 4)
	cases := []struct{ relu, residual bool }{{false, false}, {true, false}, {true, true}}
	for _, c := range cases {
		relu := c.relu
		run := func(custom bool) []*tensors.Tensor {
			return MustExecOnceN(testBackend(), func(x, gamma, beta, r, res *Node) []*Node {
				var y *Node
				residual := res
				if !c.residual {
					residual = nil
				}
				if custom {
					y, _, _ = batchNormTrain(x, gamma, beta, residual, relu)
				} else {
					mean := ReduceAndKeep(x, ReduceMean, 0, 1, 2, 3)
					xc := Sub(x, mean)
					variance := ReduceAndKeep(Mul(xc, xc), ReduceMean, 0, 1, 2, 3)
					y = Add(Mul(Div(xc, Sqrt(AddScalar(variance, BatchNormEpsilon))), Reshape(gamma, 1, 1, 1, 1, 4)), Reshape(beta, 1, 1, 1, 1, 4))
					if residual != nil {
						y = Add(y, residual)
					}
					if relu {
						y = Max(y, ZerosLike(y))
					}
				}
				// dL/dy = r*(1+2y) is non-zero where ReLU clips, so the mask matters.
				loss := ReduceAllSum(Mul(Add(y, Mul(y, y)), r))
				return append([]*Node{y}, Gradient(loss, x, gamma, beta, res)...)
			}, x, gamma, beta, r, res)
		}
		got, want := run(true), run(false)
		for i, name := range []string{"y", "dx", "dgamma", "dbeta", "dresidual"} {
			if d := maxRelDiff(tensors.MustCopyFlatData[float64](got[i]), tensors.MustCopyFlatData[float64](want[i])); d > 1e-9 {
				t.Errorf("%+v %s: max relative difference %g vs autodiff", c, name, d)
			}
		}
	}
}

// TestBatchNormTrainBF16 checks that a bf16 input gives a bf16 output and
// bf16 input and residual gradients (statistics stay in float32), matching
// the float64 computation to bf16's precision.
func TestBatchNormTrainBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, res, r := randTensor(rng, 2, 3, 2, 2, 4), randTensor(rng, 2, 3, 2, 2, 4), randTensor(rng, 2, 3, 2, 2, 4)
	gamma, beta := randTensor(rng, 4), randTensor(rng, 4)
	run := func(io, acc dtypes.DType) []*tensors.Tensor {
		return MustExecOnceN(testBackend(), func(x, gamma, beta, r, res *Node) []*Node {
			xi, resi := ConvertDType(x, io), ConvertDType(res, io)
			y, _, _ := batchNormTrain(xi, ConvertDType(gamma, acc), ConvertDType(beta, acc), resi, true)
			loss := ReduceAllSum(Mul(ConvertDType(y, dtypes.Float64), r))
			grads := Gradient(loss, xi, resi)
			out := []*Node{y}
			for _, n := range append(out, grads...) {
				if n.DType() != io {
					t.Errorf("io %s: a node has dtype %s", io, n.DType())
				}
			}
			return []*Node{ConvertDType(y, dtypes.Float64), ConvertDType(grads[0], dtypes.Float64), ConvertDType(grads[1], dtypes.Float64)}
		}, x, gamma, beta, r, res)
	}
	got, want := run(dtypes.BFloat16, dtypes.Float32), run(dtypes.Float64, dtypes.Float64)
	for i, name := range []string{"y", "dx", "dresidual"} {
		if d := maxRelDiff(tensors.MustCopyFlatData[float64](got[i]), tensors.MustCopyFlatData[float64](want[i])); d > 3e-2 {
			t.Errorf("%s: max relative difference %g against float64", name, d)
		}
	}
}

// TestWidthScalesSmallVariants checks that a width multiplier on a small
// variant scales the variant's own widths, not the full network's.
func TestWidthScalesSmallVariants(t *testing.T) {
	cases := []struct {
		arch  string
		opts  Options
		wantF int // FeatureDim: the last stage's width
	}{
		{"r3d-small", Options{}, 64},
		{"r3d-small", Options{Width: 0.5}, 32},
		{"r3d-small", Options{Widths: []int{4, 4, 4, 16}}, 16},
		{"r3d_18", Options{Width: 0.25}, 128},
	}
	for _, c := range cases {
		bb, err := New(c.arch, c.opts)
		if err != nil {
			t.Fatalf("%s %+v: %v", c.arch, c.opts, err)
		}
		if got := bb.FeatureDim(); got != c.wantF {
			t.Errorf("%s %+v: FeatureDim %d, want %d", c.arch, c.opts, got, c.wantF)
		}
	}
}

// TestNegativeWidthIsRefused: a small variant scales its own widths, so a
// negative multiplier must be caught before scaling clamps every stage to one
// channel, as the full networks already refuse it.
func TestNegativeWidthIsRefused(t *testing.T) {
	for _, arch := range []string{"r3d-small", "r3d_18", "vit-micro", "c3d-small"} {
		if _, err := New(arch, Options{Width: -1}); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("%s with width -1: error %v, want a refusal", arch, err)
		}
	}
}

// TestCheckClip: New refuses a clip that a backbone declares too small for
// it (ClipChecker), when told the clip.
func TestCheckClip(t *testing.T) {
	cases := []struct {
		arch          string
		frames, size  int
		wantErrSubstr string
	}{
		{"c3d-small", 8, 16, ""},
		{"c3d-small", 4, 32, "--frames 8 or more"},
		{"c3d-small", 16, 8, "--size 16 or more"},
		{"r3d-small", 1, 8, ""}, // declares no minimum
	}
	for _, c := range cases {
		_, err := New(c.arch, Options{Frames: c.frames, Size: c.size})
		if (c.wantErrSubstr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErrSubstr)) {
			t.Errorf("%s %d frames %d px: error %v, want %q", c.arch, c.frames, c.size, err, c.wantErrSubstr)
		}
	}
}
