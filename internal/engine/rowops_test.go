package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
)

// TestBroadcastArithmeticMatchesNaive checks Add, Sub and Mul of float32
// operands where one repeats along leading axes (batch norm's [1,1,1,1,C]
// against [N,T,H,W,C], which the engine patch's rows executor takes) or
// along other axes (which the backend keeps), in both operand orders,
// against a naive broadcast, bit for bit.
func TestBroadcastArithmeticMatchesNaive(t *testing.T) {
	ops := []struct {
		name string
		fn   func(a, b *graph.Node) *graph.Node
		ref  func(a, b float32) float32
	}{
		{"Add", graph.Add, func(a, b float32) float32 { return a + b }},
		{"Sub", graph.Sub, func(a, b float32) float32 { return a - b }},
		{"Mul", graph.Mul, func(a, b float32) float32 { return a * b }},
	}
	pairs := [][2][]int{
		{{16, 4, 16, 16, 8}, {1, 1, 1, 1, 8}}, // a row per position: the rows executor
		{{2, 3, 5, 7}, {1, 1, 5, 7}},          // a row of two axes
		{{6, 33}, {1, 33}},                    // rank 2, an odd row
		{{4, 3, 2}, {4, 1, 2}},                // a middle axis repeated: the backend's
		{{5, 4}, {5, 1}},                      // a column repeated: the backend's
		{{3, 1, 4}, {1, 1, 4}},                // one repeat only
	}
	value := func(i int) float32 { return float32(math.Sin(float64(i)*0.7))*3 + 0.1 }
	for _, op := range ops {
		for _, p := range pairs {
			for _, dims := range [][][]int{{p[0], p[1]}, {p[1], p[0]}} {
				t.Run(fmt.Sprintf("%s%v%v", op.name, dims[0], dims[1]), func(t *testing.T) {
					xs := [][]float32{fill(dims[0], value, 0), fill(dims[1], value, 1000)}
					want := naiveBroadcast(xs[0], xs[1], dims[0], dims[1], op.ref)
					// As parameters, and as intermediate results (Neg twice
					// is exact), whose buffers the op may reuse for its output.
					for _, owned := range []bool{false, true} {
						got := runOp(t, func(ns []*graph.Node) *graph.Node {
							a, b := ns[0], ns[1]
							if owned {
								a, b = graph.Neg(graph.Neg(a)), graph.Neg(graph.Neg(b))
							}
							return op.fn(a, b)
						}, xs, dims)
						if len(got) != len(want) {
							t.Fatalf("%d values, want %d", len(got), len(want))
						}
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("intermediate operands %v, element %d: %v, want %v", owned, i, got[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}

// fill returns a tensor of dims holding value(first), value(first+1), ...
func fill(dims []int, value func(int) float32, first int) []float32 {
	size := 1
	for _, d := range dims {
		size *= d
	}
	xs := make([]float32, size)
	for i := range xs {
		xs[i] = value(first + i)
	}
	return xs
}

// naiveBroadcast computes op(a, b) element by element, reading a size-1
// axis of either operand at index 0 for every output index.
func naiveBroadcast(a, b []float32, da, db []int, op func(x, y float32) float32) []float32 {
	out := make([]int, len(da))
	size := 1
	for i := range da {
		out[i] = max(da[i], db[i])
		size *= out[i]
	}
	flat := func(dims, idx []int) int {
		f := 0
		for i, d := range dims {
			k := idx[i]
			if d == 1 {
				k = 0
			}
			f = f*d + k
		}
		return f
	}
	res := make([]float32, size)
	idx := make([]int, len(out))
	for n := range res {
		res[n] = op(a[flat(da, idx)], b[flat(db, idx)])
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return res
}

// TestReduceSumMatchesNaive checks float32 ReduceSum over leading axes
// (batch norm's statistics, which the engine patch's ReduceSum executor takes)
// and over other axes (the backend's) against a naive sum that adds the
// operand's elements in its own order, as the backend does: bit for bit.
func TestReduceSumMatchesNaive(t *testing.T) {
	cases := []struct {
		dims, axes []int
	}{
		{[]int{16, 4, 16, 16, 8}, []int{0, 1, 2, 3}},
		{[]int{3, 5, 7}, []int{0}},
		{[]int{3, 5, 7}, []int{0, 1}},
		{[]int{3, 5, 7}, []int{1, 2}}, // trailing: the backend's
		{[]int{3, 5, 7}, []int{0, 2}}, // not a prefix: the backend's
		{[]int{4, 6}, []int{0, 1}},    // everything: the backend's
	}
	value := func(i int) float32 { return float32(math.Sin(float64(i)*0.37))*5 + 0.01 }
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v over %v", c.dims, c.axes), func(t *testing.T) {
			x := fill(c.dims, value, 0)
			got := runOp(t, func(ns []*graph.Node) *graph.Node { return graph.ReduceSum(ns[0], c.axes...) }, [][]float32{x}, [][]int{c.dims})
			want := naiveReduceSum(x, c.dims, c.axes)
			if len(got) != len(want) {
				t.Fatalf("%d values, want %d", len(got), len(want))
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("element %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// naiveReduceSum sums x over axes, adding x's elements in x's own order.
func naiveReduceSum(x []float32, dims, axes []int) []float32 {
	reduced := make([]bool, len(dims))
	for _, a := range axes {
		reduced[a] = true
	}
	size := 1
	for a, d := range dims {
		if !reduced[a] {
			size *= d
		}
	}
	out := make([]float32, size)
	idx := make([]int, len(dims))
	for _, v := range x {
		o := 0
		for a, d := range dims {
			if !reduced[a] {
				o = o*d + idx[a]
			}
		}
		out[o] += v
		for a := len(idx) - 1; a >= 0; a-- {
			if idx[a]++; idx[a] < dims[a] {
				break
			}
			idx[a] = 0
		}
	}
	return out
}
