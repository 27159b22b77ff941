package models

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestResidualInputIgnoresStaticContent checks what residual frames are for:
// adding the same image to every frame of a clip (a static scene) leaves
// r3d-small-res's features unchanged, while it changes r3d-small's, whose
// variables are the same.
func TestResidualInputIgnoresStaticContent(t *testing.T) {
	const b, frames, size = 2, 4, 16
	frame := size * size * 3
	rng := rand.New(rand.NewPCG(3, 1))
	clip := make([]float32, b*frames*frame)
	for i := range clip {
		clip[i] = rng.Float32()*2 - 1
	}
	withScene := append([]float32(nil), clip...)
	for i := 0; i < b; i++ {
		scene := make([]float32, frame)
		for j := range scene {
			scene[j] = rng.Float32()*2 - 1
		}
		for f := 0; f < frames; f++ {
			off := (i*frames + f) * frame
			for j := range scene {
				withScene[off+j] += scene[j]
			}
		}
	}
	store := model.NewStore()
	features := func(arch string, data []float32) []float32 {
		bb, err := New(arch, Options{})
		if err != nil {
			t.Fatal(err)
		}
		exec, err := model.NewExec(testBackend(), store, func(scope *model.Scope, x *Node) *Node {
			return bb.Features(scope.In("backbone"), x, false)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(data, b, frames, size, size, 3))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	maxDiff := func(a, c []float32) float64 {
		d := 0.0
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-c[i])))
		}
		return d
	}
	if d := maxDiff(features("r3d-small-res", clip), features("r3d-small-res", withScene)); d > 1e-4 {
		t.Errorf("r3d-small-res: a static scene changed the features by %g", d)
	}
	if d := maxDiff(features("r3d-small", clip), features("r3d-small", withScene)); d < 1e-3 {
		t.Errorf("r3d-small: a static scene changed the features by only %g; the check above would prove nothing", d)
	}
}
