package models

import (
	"math"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vidrep/vidrep/internal/engine"
)

// testBackend is the one Go backend the tests share (tensors cannot cross
// backend instances).
var testBackend = sync.OnceValue(func() compute.Backend {
	b, err := engine.New("go")
	if err != nil {
		panic(err)
	}
	return b
})

// convCase is one kernel/stride/padding configuration the backbones use.
type convCase struct {
	name string
	in   [5]int // B,T,H,W,Cin
	cout int
	spec ConvSpec
}

var convCases = []convCase{
	{"r3d 3x3x3 s1", [5]int{2, 4, 5, 5, 3}, 4, Cube(3, 1, 1)},
	{"r3d 3x3x3 s2", [5]int{2, 5, 6, 7, 3}, 4, Cube(3, 2, 1)},
	{"down 1x1x1 s2", [5]int{1, 5, 6, 5, 3}, 4, Cube(1, 2, 0)},
	{"1x1x1 s1", [5]int{1, 2, 3, 3, 3}, 2, Cube(1, 1, 0)},
	{"stem 3x7x7 s(1,2,2)", [5]int{1, 4, 9, 8, 3}, 4, ConvSpec{Kernel: [3]int{3, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 3, 3}}},
	{"stem no input grad", [5]int{1, 3, 8, 8, 3}, 2, ConvSpec{Kernel: [3]int{3, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 3, 3}, NoInputGrad: true}},
	{"(2+1)d stem 1x7x7", [5]int{1, 3, 8, 8, 3}, 3, ConvSpec{Kernel: [3]int{1, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 3, 3}}},
	{"mc3 1x3x3 s1", [5]int{1, 3, 5, 5, 3}, 2, ConvSpec{Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [3]int{0, 1, 1}}},
	{"mc3 1x3x3 s(1,2,2)", [5]int{1, 3, 6, 5, 3}, 2, ConvSpec{Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 1, 1}}},
	{"mc3 down 1x1x1 s(1,2,2)", [5]int{1, 3, 6, 5, 3}, 2, ConvSpec{Kernel: [3]int{1, 1, 1}, Stride: [3]int{1, 2, 2}}},
	{"(2+1)d 3x1x1 s1", [5]int{1, 5, 3, 3, 3}, 2, ConvSpec{Kernel: [3]int{3, 1, 1}, Stride: [3]int{1, 1, 1}, Padding: [3]int{1, 0, 0}}},
	{"(2+1)d 3x1x1 s(2,1,1)", [5]int{1, 6, 3, 3, 3}, 2, ConvSpec{Kernel: [3]int{3, 1, 1}, Stride: [3]int{2, 1, 1}, Padding: [3]int{1, 0, 0}}},
	{"c3d 3x3x3 s1 wide", [5]int{1, 2, 3, 3, 5}, 6, Cube(3, 1, 1)},
}

// randTensor returns a float64 tensor of uniform values in [-1, 1).
func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = rng.Float64()*2 - 1
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// convOutDims is the output shape of a case.
func convOutDims(c convCase) []int {
	out := []int{c.in[0]}
	for a := 0; a < 3; a++ {
		out = append(out, c.spec.outSize(c.in[a+1], a))
	}
	return append(out, c.cout)
}

// convLossAndGrads runs conv (matmul or native) in dtype and returns y,
// loss=sum(y*r), dloss/dx and dloss/dkernel, as float64.
func convLossAndGrads(t *testing.T, native bool, dtype dtypes.DType, c convCase, x, k, r *tensors.Tensor) []*tensors.Tensor {
	t.Helper()
	return MustExecOnceN(testBackend(), func(x, k, r *Node) []*Node {
		x, k, r = ConvertDType(x, dtype), ConvertDType(k, dtype), ConvertDType(r, dtype)
		var y *Node
		if native {
			y = Conv3DNative(x, k, c.spec)
		} else {
			y = conv3DMatmul(x, k, c.spec)
		}
		loss := ReduceAllSum(Mul(y, r))
		grads := Gradient(loss, x, k)
		out := []*Node{y, loss, grads[0], grads[1]}
		for i := range out {
			out[i] = ConvertDType(out[i], dtypes.Float64)
		}
		return out
	}, x, k, r)
}

// maxRelDiff is max|a-b| / max(1, max|b|).
func maxRelDiff(a, b []float64) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / math.Max(1, m)
}

// TestConv3DMatchesNative compares values and gradients with GoMLX's own
// convolution: in float64 (tight), and in float32 with even channel counts,
// which takes im2col's packed (int64-bitcast) path.
func TestConv3DMatchesNative(t *testing.T) {
	defer func(was func() bool) { int64Views = was }(int64Views)
	for _, views := range []bool{false, true} {
		int64Views = func() bool { return views }
		testConv3DMatchesNative(t, map[bool]string{false: "", true: " int64 views"}[views])
	}
}

// testConv3DMatchesNative compares every conv case with the native
// convolution in float64 and float32 (even channel counts, so that float32
// pairs can move as int64 when int64Views says so).
func testConv3DMatchesNative(t *testing.T, suffix string) {
	for _, dtype := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
		for _, c := range convCases {
			tol := 1e-9
			if dtype == dtypes.Float32 {
				c.in[4], c.cout, tol = 4, 6, 1e-4
			}
			t.Run(dtype.String()+" "+c.name+suffix, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				x := randTensor(rng, c.in[:]...)
				k := randTensor(rng, c.spec.Kernel[0], c.spec.Kernel[1], c.spec.Kernel[2], c.in[4], c.cout)
				r := randTensor(rng, convOutDims(c)...)
				got := convLossAndGrads(t, false, dtype, c, x, k, r)
				want := convLossAndGrads(t, true, dtype, c, x, k, r)
				for i, name := range []string{"y", "loss", "dx", "dkernel"} {
					if name == "dx" && c.spec.NoInputGrad {
						continue
					}
					if !got[i].Shape().Equal(want[i].Shape()) {
						t.Fatalf("%s: shape %s, want %s", name, got[i].Shape(), want[i].Shape())
					}
					if d := maxRelDiff(tensors.MustCopyFlatData[float64](got[i]), tensors.MustCopyFlatData[float64](want[i])); d > tol {
						t.Errorf("%s: max relative difference %g vs native convolution", name, d)
					}
				}
			})
		}
	}
}

// TestConv3DFiniteDifferences checks the hand-written gradient against
// central differences of the loss along random directions.
func TestConv3DFiniteDifferences(t *testing.T) {
	backend := testBackend()
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			x := randTensor(rng, c.in[:]...)
			k := randTensor(rng, c.spec.Kernel[0], c.spec.Kernel[1], c.spec.Kernel[2], c.in[4], c.cout)
			r := randTensor(rng, convOutDims(c)...)
			dx := randTensor(rng, c.in[:]...)
			dk := randTensor(rng, k.Shape().Dimensions...)
			const eps = 1e-4
			// Returns the analytic directional derivative and the central difference.
			out := MustExecOnceN(backend, func(x, k, r, dx, dk *Node) []*Node {
				loss := func(x, k *Node) *Node { return ReduceAllSum(Mul(conv3DMatmul(x, k, c.spec), r)) }
				g := Gradient(loss(x, k), x, k)
				gk := ReduceAllSum(Mul(g[1], dk))
				fdK := DivScalar(Sub(loss(x, Add(k, MulScalar(dk, eps))), loss(x, Sub(k, MulScalar(dk, eps)))), 2*eps)
				gx := ReduceAllSum(Mul(g[0], dx))
				fdX := DivScalar(Sub(loss(Add(x, MulScalar(dx, eps)), k), loss(Sub(x, MulScalar(dx, eps)), k)), 2*eps)
				return []*Node{gk, fdK, gx, fdX}
			}, x, k, r, dx, dk)
			v := func(i int) float64 { return out[i].Value().(float64) }
			if math.Abs(v(0)-v(1)) > 1e-6*math.Max(1, math.Abs(v(1))) {
				t.Errorf("kernel: analytic %g, finite difference %g", v(0), v(1))
			}
			if c.spec.NoInputGrad {
				if v(2) != 0 {
					t.Errorf("NoInputGrad: input gradient %g, want 0", v(2))
				}
				return
			}
			if math.Abs(v(2)-v(3)) > 1e-6*math.Max(1, math.Abs(v(3))) {
				t.Errorf("input: analytic %g, finite difference %g", v(2), v(3))
			}
		})
	}
}

// shapesOf is a float32 shape with the given dimensions.
func shapesOf(dims []int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// benchConv times one conv's forward+backward (loss = sum(y*r)) in float32.
func benchConv(b *testing.B, in [5]int, cout int, spec ConvSpec, native bool) {
	backend := testBackend()
	exec, err := NewExec(backend, func(x, k *Node) []*Node {
		var y *Node
		if native {
			y = Conv3DNative(x, k, spec)
		} else {
			y = conv3DMatmul(x, k, spec)
		}
		return Gradient(ReduceAllSum(Mul(y, y)), x, k)
	})
	if err != nil {
		b.Fatal(err)
	}
	x := tensors.FromShape(shapesOf(in[:]))
	k := tensors.FromShape(shapesOf([]int{spec.Kernel[0], spec.Kernel[1], spec.Kernel[2], in[4], cout}))
	c0 := cpuSeconds()
	for b.Loop() {
		out, err := exec.Call(x, k)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			o.MustFinalizeAll()
		}
	}
	b.ReportMetric((cpuSeconds()-c0)*1e3/float64(b.N), "cpu-ms/op")
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// The r3d-small layers that dominate its FLOPs (batch 8, 8x32x32 input).
func BenchmarkConvLayer1(b *testing.B) {
	benchConv(b, [5]int{8, 8, 16, 16, 8}, 8, Cube(3, 1, 1), false)
}
func BenchmarkConvStem(b *testing.B) {
	benchConv(b, [5]int{8, 8, 32, 32, 3}, 8, ConvSpec{Kernel: [3]int{3, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 3, 3}, NoInputGrad: true}, false)
}
func BenchmarkConvLayer2Down(b *testing.B) {
	benchConv(b, [5]int{8, 8, 16, 16, 8}, 16, Cube(3, 2, 1), false)
}

// BenchmarkMatmul1024 is the Go backend's matmul alone, for context.
func BenchmarkMatmul1024(b *testing.B) {
	exec, err := NewExec(testBackend(), func(x, y *Node) *Node { return Dot(x, y).Product() })
	if err != nil {
		b.Fatal(err)
	}
	x := tensors.FromShape(shapesOf([]int{1024, 1024}))
	c0 := cpuSeconds()
	for b.Loop() {
		out, err := exec.Call(x, x)
		if err != nil {
			b.Fatal(err)
		}
		out[0].MustFinalizeAll()
	}
	cpu := (cpuSeconds() - c0) / float64(b.N)
	b.ReportMetric(2*1024*1024*1024/cpu/1e9, "GFLOP/cpu-s")
}
