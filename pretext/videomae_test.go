package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// tinyViT is a TokenBackbone for tests: linear patch embedding with a
// learned position embedding, one transformer block, mean pooling.
type tinyViT struct{ dim int }

func (v tinyViT) Name() string    { return "tiny-vit" }
func (v tinyViT) FeatureDim() int { return v.dim }
func (v tinyViT) Grid(t, h, w int) ([3]int, error) {
	if t%2 != 0 || h%4 != 0 || w%4 != 0 {
		return [3]int{}, fmt.Errorf("clip %dx%dx%d is not a multiple of 2x4x4", t, h, w)
	}
	return [3]int{t / 2, h / 4, w / 4}, nil
}
func (v tinyViT) Embed(scope *model.Scope, clips *Node) *Node {
	p := PatchTargets(clips, [3]int{2, 4, 4}) // normalised patches are a fine input too
	x := linear(scope.In("patch"), p, v.dim)
	pos := scope.WithInitializer(smallNormal).VariableWithShape("pos", x.Shape()).NodeValue(x.Graph())
	return Add(x, Slice(pos, AxisRange(0, 1)))
}
func (v tinyViT) Encode(scope *model.Scope, tokens *Node, _ bool) *Node {
	return transformerBlock(scope.In("block"), tokens, 2)
}
func (v tinyViT) Features(scope *model.Scope, clips *Node, training bool) *Node {
	return layerNorm(scope.In("fc_norm"), ReduceMean(v.Encode(scope, v.Embed(scope, clips), training), 1))
}

func TestTubeMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		idx := TubeMask(3, 16, 2, rng)
		if len(idx) != 6 || !slices.IsSorted(idx) {
			t.Fatalf("TubeMask = %v: want 6 sorted indices", idx)
		}
		for ti := range 3 {
			for j := range 2 {
				// Same spatial positions in every temporal slot: a tube.
				if idx[ti*2+j]-ti*16 != idx[j] {
					t.Fatalf("mask %v is not a tube", idx)
				}
			}
		}
		if idx[0] == idx[1] {
			t.Fatalf("repeated visible position in %v", idx)
		}
	}
}

func TestVideoMAETargetsAndRatio(t *testing.T) {
	o := testOptions()
	o.Frames, o.Tubelet, o.MaskRatio = 4, [3]int{2, 4, 4}, 0.75
	m := newMethod(t, "videomae", o)
	// 8x8 frames of 4x4 patches: 4 spatial positions, 1 visible (75% masked), 2 temporal slots.
	if m.NumTargets() != 2 {
		t.Fatalf("videomae targets = %d, want 2 visible tokens", m.NumTargets())
	}
	ex, _ := sampleOne(t, m, 3)
	if ex.Targets[1]-ex.Targets[0] != 4 {
		t.Errorf("visible tokens %v are not one tube", ex.Targets)
	}
	if _, err := New("videomae", Options{Frames: 3, Size: 112}); err == nil {
		t.Error("odd frame count with a 2-frame tubelet accepted")
	}
	if _, err := New("videomae", Options{MaskRatio: 0.3}); err == nil {
		t.Error("mask ratio 0.3 accepted")
	}
}

func TestPatchTargets(t *testing.T) {
	// One clip, 2 frames of 2x4 pixels, tubelet 1x2x2: 2*1*2 = 4 patches of 12 values.
	clip := make([]float32, 2*2*4*3)
	for i := range clip {
		clip[i] = float32(i*i%17) + float32(i%3)
	}
	got := evalGraph(t, func(_ *Graph, in []*Node) *Node {
		return PatchTargets(Reshape(in[0], 1, 2, 2, 4, 3), [3]int{1, 2, 2})
	}, clip).Value().([][][]float32)[0]
	at := func(tt, y, x, c int) float64 { return float64(clip[((tt*2+y)*4+x)*3+c]) }
	for p := range 4 {
		tt, px := p/2, p%2
		for c := range 3 {
			var vals []float64
			for y := range 2 {
				for x := range 2 {
					vals = append(vals, at(tt, y, px*2+x, c))
				}
			}
			mean, vr := 0.0, 0.0
			for _, v := range vals {
				mean += v / 4
			}
			for _, v := range vals {
				vr += (v - mean) * (v - mean) / 4
			}
			for k, v := range vals {
				want := (v - mean) / math.Sqrt(vr+1e-6)
				if g := float64(got[p][k*3+c]); math.Abs(g-want) > 1e-4 {
					t.Fatalf("patch %d value %d channel %d = %v, want %v", p, k, c, g, want)
				}
			}
		}
	}
}

func TestSelectorMasksTheRest(t *testing.T) {
	out := evalGraph(t, func(_ *Graph, in []*Node) *Node {
		_, masked := Selector([]*Node{in[0], in[1]}, 5)
		return masked
	}, []int32{0, 2}, []int32{3, 4}).Value().([][]float32)
	want := [][]float32{{0, 1, 1, 0, 1}, {1, 1, 0, 1, 0}}
	if !slices.EqualFunc(out, want, slices.Equal) {
		t.Errorf("masked = %v, want %v", out, want)
	}
}

func TestVideoMAELossDecreases(t *testing.T) {
	o := testOptions()
	o.Frames, o.Tubelet, o.MaskRatio, o.DecoderDim, o.DecoderDepth, o.DecoderHeads = 4, [3]int{2, 4, 4}, 0.75, 16, 1, 2
	m := newMethod(t, "videomae", o)
	if err := CheckBackbone(m, tinyBackbone{dim: 8}); err == nil {
		t.Error("videomae accepted a backbone without tokens")
	}
	if err := CheckBackbone(m, tinyViT{dim: 16}); err != nil {
		t.Fatal(err)
	}
	losses, _ := trainLosses(t, m, tinyViT{dim: 16}, 40, 8, 0.01)
	t.Logf("videomae: loss %.4f -> %.4f", losses[0], losses[len(losses)-1])
	if first, last := losses[0], losses[len(losses)-1]; !(last < 0.8*first) {
		t.Errorf("videomae loss did not fall: %.4f -> %.4f", first, last)
	}
}
