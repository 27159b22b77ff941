package models

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// runFeatures builds arch, runs Features on zero clips of the given shape
// and returns the features and the store.
func runFeatures(t *testing.T, arch string, opts Options, dims []int, training bool) (*tensors.Tensor, *model.Store) {
	t.Helper()
	bb, err := New(arch, opts)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	exec, err := model.NewExec(testBackend(), store, func(scope *model.Scope, clips *Node) *Node {
		return bb.Features(scope, clips, training)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(tensors.FromShape(shapesOf(dims)))
	if err != nil {
		t.Fatal(err)
	}
	return out[0], store
}

// trainableCount sums the sizes of trainable variables.
func trainableCount(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}

func TestVideoResNetParameterCounts(t *testing.T) {
	// Counts from torchvision 0.14 (Debian): sum of parameters minus fc.
	cases := []struct {
		arch string
		want int
		keys int // state-dict entries without fc.weight/fc.bias
	}{
		{"r3d_18", 33166272, 120},
		{"mc3_18", 11490240, 120},
		{"r2plus1d_18", 31300125, 222},
	}
	for _, c := range cases {
		t.Run(c.arch, func(t *testing.T) {
			feats, store := runFeatures(t, c.arch, Options{}, []int{1, 2, 16, 16, 3}, false)
			if got := trainableCount(store); got != c.want {
				t.Errorf("trainable parameters %d, torchvision has %d", got, c.want)
			}
			if d := feats.Shape().Dimensions; d[0] != 1 || d[1] != 512 {
				t.Errorf("features shape %v, want [1 512]", d)
			}
			keys := 0
			for v := range store.IterVariables() {
				if v.Scope() != "/" { // skips the RNG state
					keys++
				}
			}
			if keys != c.keys {
				t.Errorf("%d variables, torchvision's state dict has %d (without fc)", keys, c.keys)
			}
		})
	}
}

func TestVariableNamesMirrorTorchvision(t *testing.T) {
	_, store := runFeatures(t, "r2plus1d-small", Options{}, []int{1, 2, 16, 16, 3}, false)
	for _, path := range []string{
		"/stem/0/weight", "/stem/1/running_var", "/stem/3/weight", "/stem/4/num_batches_tracked",
		"/layer1/0/conv1/0/0/weight", "/layer1/0/conv1/0/1/running_mean", "/layer1/0/conv1/0/3/weight",
		"/layer1/0/conv1/1/weight", "/layer2/0/downsample/0/weight", "/layer4/1/conv2/1/bias",
	} {
		if store.GetVariable(path) == nil {
			t.Errorf("no variable %s", path)
		}
	}
}
