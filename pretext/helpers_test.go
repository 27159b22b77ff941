package pretext

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	_ "github.com/gomlx/gomlx/backends/default"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// fakeReader is an in-memory video: a bright square moving across an
// asymmetric background, every frame different. Frame f's pixel values
// encode f so that tests can tell which frames a clip holds.
type fakeReader struct {
	n, size int
	x0, y0  int
	vx, vy  int
	reads   []readCall
}

type readCall struct{ start, frames, stride int }

func newFakeReader(seed uint64, n, size int) *fakeReader {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := []int{-1, 1}
	return &fakeReader{n: n, size: size, x0: rng.IntN(size), y0: rng.IntN(size), vx: v[rng.IntN(2)], vy: rng.IntN(2)}
}

func (f *fakeReader) NumFrames() int { return f.n }

// frameID is the value the red channel of pixel (0,0) takes in frame i.
func frameID(i int) uint8 { return uint8(i) }

func (f *fakeReader) Read(start, frames, stride int) (*loader.RawClip, error) {
	f.reads = append(f.reads, readCall{start, frames, stride})
	s := f.size
	raw := &loader.RawClip{T: frames, H: s, W: s, Pix: make([]uint8, frames*s*s*3)}
	for t := range frames {
		idx := (start + t*stride) % f.n // loop past the end
		px, py := mod(f.x0+f.vx*idx, s), mod(f.y0+f.vy*idx, s)
		for y := range s {
			for x := range s {
				o := ((t*s+y)*s + x) * 3
				raw.Pix[o+1] = uint8(8 * x)       // left-right gradient
				raw.Pix[o+2] = uint8(4 * (y + x)) // diagonal gradient
				if y < s/4 && x < s/4 {
					raw.Pix[o+2] = 255 // a corner marker: orientation is visible
				}
				if abs(x-px) <= 1 && abs(y-py) <= 1 {
					raw.Pix[o] = 250
				}
			}
		}
		raw.Pix[(t*s*s)*3] = frameID(idx)
	}
	return raw, nil
}

func mod(a, n int) int { return ((a % n) + n) % n }
func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// plainAugment maps bytes to [-1,1] without changing geometry.
func plainAugment(raw *loader.RawClip, _ *rand.Rand) loader.ClipTensor {
	c := loader.ClipTensor{T: raw.T, H: raw.H, W: raw.W, Data: make([]float32, len(raw.Pix))}
	for i, p := range raw.Pix {
		c.Data[i] = float32(p)/127.5 - 1
	}
	return c
}

// frameOf recovers the source frame index of frame t of a plainAugment'ed clip.
func frameOf(c loader.ClipTensor, t int) int {
	v := c.Data[t*c.H*c.W*3]
	return int((v+1)*127.5 + 0.5)
}

// tinyBackbone pools each frame to a 2x2 grid, keeps time, and applies one
// Dense+ReLU: small, fast, and sensitive to order, rotation and speed.
type tinyBackbone struct{ dim int }

func (b tinyBackbone) Name() string    { return "tiny" }
func (b tinyBackbone) FeatureDim() int { return b.dim }
func (b tinyBackbone) Features(scope *model.Scope, clips *Node, _ bool) *Node {
	d := clips.Shape().Dimensions
	bs, t, h, w := d[0], d[1], d[2], d[3]
	x := Reshape(clips, bs, t, 2, h/2, 2, w/2, 3)
	x = ReduceMean(x, 3, 5) // [B,T,2,2,3]
	x = Reshape(x, bs, t*12)
	return activation.Relu(layers.Dense(scope.In("fc"), x, true, b.dim))
}

var _ models.Backbone = tinyBackbone{}

// testOptions are small options over plainAugment.
func testOptions() Options {
	return Options{Frames: 4, Stride: 1, Size: 8, Augment: plainAugment, Hidden: 32, ProjDim: 16, QueueSize: 32}
}

// makeBatch samples one Example from each of b fake videos and stacks them.
func makeBatch(t testing.TB, m Method, b int, rng *rand.Rand, size int) (views []*tensors.Tensor, targets []*tensors.Tensor) {
	t.Helper()
	s := m.Sampler()
	var exs []loader.Example
	for i := range b {
		ex, err := s.Sample(newFakeReader(uint64(i+1), 40, size), -1, rng)
		if err != nil {
			t.Fatalf("sample: %v", err)
		}
		if len(ex.Views) != m.NumViews() || len(ex.Targets) != m.NumTargets() {
			t.Fatalf("%s: %d views %d targets, want %d %d", m.Name(), len(ex.Views), len(ex.Targets), m.NumViews(), m.NumTargets())
		}
		exs = append(exs, ex)
	}
	for v := range m.NumViews() {
		c := exs[0].Views[v]
		data := make([]float32, 0, b*len(c.Data))
		for _, ex := range exs {
			data = append(data, ex.Views[v].Data...)
		}
		views = append(views, tensors.FromFlatDataAndDimensions(data, b, c.T, c.H, c.W, 3))
	}
	for j := range m.NumTargets() {
		col := make([]int32, b)
		for i, ex := range exs {
			col[i] = ex.Targets[j]
		}
		targets = append(targets, tensors.FromValue(col))
	}
	return views, targets
}

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	backend, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return backend
}

// trainLosses runs steps Adam steps of m's loss over a fixed batch and
// returns the losses before each step and the final accuracy.
func trainLosses(t testing.TB, m Method, bb models.Backbone, steps, batch int, lr float64) ([]float64, float64) {
	t.Helper()
	losses, acc, _ := trainStore(t, m, bb, steps, batch, lr, nil)
	return losses, acc
}

// trainStore is trainLosses with access to the store: lr 0 runs the loss
// graph without an optimizer (only the method's own in-graph updates), and
// between(step, store) is called after each step when not nil.
func trainStore(t testing.TB, m Method, bb models.Backbone, steps, batch int, lr float64, between func(int, *model.Store)) ([]float64, float64, *model.Store) {
	t.Helper()
	backend := testBackend(t)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	opt := optimizer.Adam().LearningRate(max(lr, 1e-9)).Done()
	lossFn := m.Loss(bb)
	nv := m.NumViews()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, inputs []*Node) []*Node {
		g := inputs[0].Graph()
		store.SetTraining(g, true)
		loss, acc := lossFn(scope, inputs[:nv], inputs[nv:], true)
		if lr > 0 {
			opt.UpdateGraph(scope, g, loss)
		}
		if acc == nil {
			acc = Scalar(g, dtypes.Float32, -1)
		}
		return []*Node{loss, acc}
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	views, targets := makeBatch(t, m, batch, rng, 8)
	var args []any
	for _, v := range views {
		args = append(args, v)
	}
	for _, tg := range targets {
		args = append(args, tg)
	}
	var losses []float64
	var acc float64
	for step := range steps {
		out, err := exec.Call(args...)
		if err != nil {
			t.Fatalf("%s step: %v", m.Name(), err)
		}
		losses = append(losses, scalar(out[0]))
		acc = scalar(out[1])
		if between != nil {
			between(step, store)
		}
	}
	return losses, acc, store
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("not a float scalar: %v", t))
}

// evalGraph runs fn once on the Go backend with the given inputs.
func evalGraph(t testing.TB, fn func(g *Graph, in []*Node) *Node, args ...any) *tensors.Tensor {
	t.Helper()
	out, err := model.CallOnce(testBackend(t), model.NewStore(), func(scope *model.Scope, in []*Node) *Node {
		return fn(in[0].Graph(), in)
	}, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var _ = shapes.Make
var _ = dtypes.Float32
