package pretext

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func flat(t *testing.T, v *model.Variable) []float32 {
	t.Helper()
	var out []float32
	tensors.MustConstFlatData(v.MustValue(), func(f []float32) { out = slices.Clone(f) })
	return out
}

// pairs maps each trainable variable under /backbone to its copy under copyScope.
func copies(t *testing.T, store *model.Store, copyScope string) map[*model.Variable]*model.Variable {
	t.Helper()
	out := map[*model.Variable]*model.Variable{}
	for v := range store.IterVariables() {
		if !strings.HasPrefix(v.Path(), "/"+BackboneScope+"/") {
			continue
		}
		c := store.GetVariable(copyScope + strings.TrimPrefix(v.Path(), "/"+BackboneScope))
		if c == nil {
			t.Fatalf("no momentum copy of %s under %s", v.Path(), copyScope)
		}
		if c.Trainable {
			t.Errorf("momentum copy %s is trainable", c.Path())
		}
		out[v] = c
	}
	if len(out) == 0 {
		t.Fatal("no backbone variables")
	}
	return out
}

func TestMomentumEncoderIsEMA(t *testing.T) {
	const m = 0.9
	for _, name := range []string{"moco", "byol"} {
		t.Run(name, func(t *testing.T) {
			o := testOptions()
			o.Momentum = m
			meth := newMethod(t, name, o)
			copyScope := map[string]string{"moco": "/pretext/moco/key_backbone", "byol": "/pretext/byol/target_backbone"}[name]
			// No optimizer (lr 0): the online backbone stays fixed, so after
			// step 1 the copy equals it exactly; zeroing the copy before step 2
			// must leave (1-m)*online after it.
			_, _, _ = trainStore(t, meth, tinyBackbone{dim: 16}, 2, 4, 0, func(step int, store *model.Store) {
				for online, cp := range copies(t, store, copyScope) {
					ov, cv := flat(t, online), flat(t, cp)
					for i := range ov {
						want := ov[i]
						if step == 1 {
							want = float32(1-m) * ov[i]
						}
						if math.Abs(float64(cv[i]-want)) > 1e-6 {
							t.Fatalf("step %d: %s[%d] = %v, want %v", step, cp.Path(), i, cv[i], want)
						}
					}
					if step == 0 {
						cp.MustSetValue(tensors.FromShape(cp.Shape()))
					}
				}
			})
		})
	}
}

func TestMoCoQueueUpdate(t *testing.T) {
	o := testOptions()
	o.QueueSize = 12
	meth := newMethod(t, "moco", o)
	var before []float32
	_, _, _ = trainStore(t, meth, tinyBackbone{dim: 16}, 2, 4, 0, func(step int, store *model.Store) {
		q := store.GetVariable("/pretext/moco/queue")
		if q == nil || q.Trainable || q.DType() != dtypes.Float32 {
			t.Fatalf("queue variable missing, trainable or not float32: %v", q)
		}
		cur := flat(t, q)
		p := o.ProjDim
		for r := range 12 {
			n := 0.0
			for _, x := range cur[r*p : (r+1)*p] {
				n += float64(x) * float64(x)
			}
			if r < 4 && math.Abs(n-1) > 1e-4 {
				t.Errorf("step %d: newest key row %d has squared norm %v, want 1", step, r, n)
			}
		}
		if step == 1 {
			// The 4 new keys went first; old rows 0..7 moved to 4..11.
			if !near32(cur[4*p:], before[:8*p], 1e-6) {
				t.Errorf("queue rows did not shift by the batch size")
			}
		}
		before = cur
	})
}

func near32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func TestEnqueue(t *testing.T) {
	f := func(queue, keys [][]float32) [][]float32 {
		return evalGraph(t, func(_ *Graph, in []*Node) *Node { return Enqueue(in[0], in[1]) }, queue, keys).Value().([][]float32)
	}
	got := f([][]float32{{1}, {2}, {3}, {4}}, [][]float32{{9}, {8}})
	if want := [][]float32{{9}, {8}, {1}, {2}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Enqueue = %v, want %v", got, want)
	}
	got = f([][]float32{{1}, {2}}, [][]float32{{9}, {8}, {7}})
	if want := [][]float32{{9}, {8}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Enqueue with more keys than room = %v, want %v", got, want)
	}
}

// TestHeadsOutsideBackbone checks the scope layout that lets a saved
// backbone drop every pretext head: after one step of each method, the
// variables under /backbone are exactly the backbone's own.
func TestHeadsOutsideBackbone(t *testing.T) {
	for _, name := range []string{"vcop", "rotation", "simclr", "moco", "byol", "odd-one-out+speed"} {
		_, _, store := trainStore(t, newMethod(t, name, testOptions()), tinyBackbone{dim: 16}, 1, 4, 0.01, nil)
		var bb, heads int
		for v := range store.IterVariables() {
			switch {
			case strings.HasPrefix(v.Path(), "/backbone/"):
				bb++
				if !strings.HasPrefix(v.Path(), "/backbone/fc/") {
					t.Errorf("%s: %s is under the backbone scope but not the backbone's", name, v.Path())
				}
			case strings.HasPrefix(v.Path(), "/pretext/"):
				heads++
			}
		}
		if bb != 2 || heads == 0 {
			t.Errorf("%s: %d backbone variables (want 2: weights, biases), %d pretext variables", name, bb, heads)
		}
	}
}
