package train

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

var (
	backendOnce sync.Once
	testBackend compute.Backend
)

// goBackend is the pure-Go backend shared by the tests.
func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	backendOnce.Do(func() {
		b, err := compute.NewWithConfig("go")
		if err != nil {
			panic(err)
		}
		testBackend = b
	})
	return testBackend
}

// Toy clips are [T=2,H=2,W=2,3]; class k has channel k brighter, plus noise.
const (
	toyT, toyH, toyW = 2, 2, 2
	toyClasses       = 3
)

// toyData is an in-memory Data: n clips, batches of b, shuffled per epoch
// from the seed; nanAt (>= 0) poisons the batch of that global position.
type toyData struct {
	clips  [][]float32
	labels []int32
	batch  int
	seed   uint64
	nanAt  int
	served int
}

func newToyData(n, batch int, seed uint64) *toyData {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &toyData{batch: batch, seed: seed, nanAt: -1}
	size := toyT * toyH * toyW * 3
	for i := 0; i < n; i++ {
		label := int32(i % toyClasses)
		clip := make([]float32, size)
		for j := range clip {
			clip[j] = float32(rng.NormFloat64() * 0.5)
			if int32(j%3) == label {
				clip[j] += 1
			}
		}
		d.clips = append(d.clips, clip)
		d.labels = append(d.labels, label)
	}
	return d
}

func (d *toyData) StepsPerEpoch() int { return len(d.clips) / d.batch }

func (d *toyData) Epoch(epoch, skip int) (Batches, error) {
	order := rand.New(rand.NewPCG(d.seed, uint64(epoch))).Perm(len(d.clips))
	return &toyBatches{d: d, order: order, next: skip, epoch: epoch}, nil
}

type toyBatches struct {
	d     *toyData
	order []int
	next  int
	epoch int
}

func (b *toyBatches) Next() (*loader.Batch, error) {
	d := b.d
	if (b.next+1)*d.batch > len(b.order) {
		return nil, io.EOF
	}
	idx := b.order[b.next*d.batch : (b.next+1)*d.batch]
	global := b.epoch*d.StepsPerEpoch() + b.next
	b.next++
	out := &loader.Batch{ViewShape: [5]int{d.batch, toyT, toyH, toyW, 3}, Views: [][]float32{nil}, Targets: [][]int32{nil}}
	for _, i := range idx {
		out.Views[0] = append(out.Views[0], d.clips[i]...)
		out.Targets[0] = append(out.Targets[0], d.labels[i])
		out.Index = append(out.Index, i)
	}
	if global == d.nanAt {
		out.Views[0][0] = float32(math.NaN())
	}
	d.served++
	return out, nil
}

func (b *toyBatches) Close() error { return nil }

// toyLogits is a tiny network: mean-pool the clip to its 3 channels, a dense
// hidden layer, a layer-norm-like scale, and a dense output layer. With
// noise, it adds in-graph random noise to exercise the RNG state.
func toyLogits(scope *model.Scope, clips *Node, noise bool) *Node {
	g := clips.Graph()
	x := ReduceMean(clips, 1, 2, 3) // [B,3]
	if noise {
		x = Add(x, MulScalar(scope.RandomNormal(g, x.Shape()), 0.01))
	}
	dt := x.DType()
	hidden := scope.In("hidden")
	w1 := hidden.VariableWithShape("weights", shapes.Make(dtypes.Float32, 3, 8))
	b1 := hidden.VariableWithShape("biases", shapes.Make(dtypes.Float32, 8))
	h := Add(Dot(x, ConvertDType(w1.NodeValue(g), dt)).Product(), InsertAxes(ConvertDType(b1.NodeValue(g), dt), 0))
	h = Tanh(h)
	gain := scope.In("norm").VariableWithValue("scale", []float32{1, 1, 1, 1, 1, 1, 1, 1})
	h = Mul(h, InsertAxes(ConvertDType(gain.NodeValue(g), dt), 0))
	head := scope.In("head")
	w2 := head.VariableWithShape("weights", shapes.Make(dtypes.Float32, 8, toyClasses))
	b2 := head.VariableWithShape("biases", shapes.Make(dtypes.Float32, toyClasses))
	return Add(Dot(h, ConvertDType(w2.NodeValue(g), dt)).Product(), InsertAxes(ConvertDType(b2.NodeValue(g), dt), 0))
}

// toyLoss is the LossFn of the toy classifier.
func toyLoss(noise bool) LossFn {
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		logits := toyLogits(scope.In("model"), views[0], noise && training)
		return CrossEntropy(logits, targets[0], 0.1), Accuracy(logits, targets[0])
	}
}

// storeValues copies every variable of store (by path) as float32 or raw bits.
func storeValues(t *testing.T, store *model.Store) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for v := range store.IterVariables() {
		if underPrefix(v.Path(), stateScope+"/accum") {
			continue
		}
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if err := val.ConstBytes(func(b []byte) { out[v.Path()] = append([]byte{}, b...) }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func floats(t *testing.T, store *model.Store, path string) []float32 {
	t.Helper()
	v := store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	val.MustConstFlatData(func(flat any) { out = append(out, flat.([]float32)...) })
	return out
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string     { return fmt.Sprint(i) }
func ftoa(f float64) string { return fmt.Sprintf("%.9g", f) }
