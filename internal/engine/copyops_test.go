package engine

import (
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// The Go backend's copying ops, checked against naive references with or
// without the engine patch (_enginepatch/README.md), whose executors must
// give the backend's results bit for bit.

// copyBackend is the one Go backend every copy test runs on, so that later
// cases get buffers from its pool holding earlier cases' bytes: an executor
// that skipped part of its output would show them.
var copyBackend = sync.OnceValues(func() (compute.Backend, error) { return New("go") })

// runOp runs fn on the shared backend over inputs of element type T (flat
// data xs[k] of dimensions dims[k]) and returns its output's flat data.
func runOp[T dtypes.Supported](t *testing.T, fn func([]*graph.Node) *graph.Node, xs [][]T, dims [][]int) []T {
	t.Helper()
	b, err := copyBackend()
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(xs))
	for k, x := range xs {
		args[k] = tensors.FromFlatDataAndDimensions(x, dims[k]...)
	}
	out := graph.MustExecOnceN(b, func(ns []*graph.Node) []*graph.Node { return []*graph.Node{fn(ns)} }, args...)
	return tensors.MustCopyFlatData[T](out[0])
}

// checkOp fills inputs of dimensions dims with value(0), value(1), ... in
// order, runs fn on them and compares the output with ref's.
func checkOp[T dtypes.Supported](t *testing.T, fn func([]*graph.Node) *graph.Node, dims [][]int, ref func([][]T) []T, value func(int) T) {
	t.Helper()
	xs, next := make([][]T, len(dims)), 0
	for k, d := range dims {
		size := 1
		for _, n := range d {
			size *= n
		}
		xs[k] = make([]T, size)
		for i := range xs[k] {
			xs[k][i] = value(next)
			next++
		}
	}
	if got, want := runOp(t, fn, xs, dims), ref(xs); !slices.Equal(got, want) {
		t.Errorf("%T: got %v, want %v", want, got, want)
	}
}

// Distinct non-zero values of each element width: 1, 2, 4 and 8 bytes.
func u8(i int) uint8    { return uint8(i*7 + 1) }
func u16(i int) uint16  { return uint16(i*31 + 1) }
func f32(i int) float32 { return float32(i) + 0.5 }
func i64(i int) int64   { return int64(i)*1_000_003 + 1 }

// sliceCase is one Slice: an operand shape and, per axis, start, limit and
// stride.
type sliceCase struct {
	name                   string
	dims                   []int
	starts, limits, stride []int
}

// The cases cover what the engine patch's run copies must get right: whole
// trailing axes merged into one block, a partial axis with stride 1 joining
// the run, strided outer axes, and short runs or a strided last axis, which
// keep the element-by-element loop; the im2col slices of a 3x3 tap on
// channels-last clips are the first kind.
var sliceCases = []sliceCase{
	{"im2col tap", []int{2, 3, 6, 7, 8}, []int{0, 1, 1, 2, 0}, []int{2, 3, 5, 7, 8}, []int{1, 1, 1, 1, 1}},
	{"strided tap", []int{2, 4, 9, 9, 8}, []int{0, 0, 1, 2, 0}, []int{2, 4, 9, 9, 8}, []int{1, 2, 2, 2, 1}},
	{"whole tensor", []int{3, 5, 16}, []int{0, 0, 0}, []int{3, 5, 16}, []int{1, 1, 1}},
	{"leading range", []int{6, 4, 10}, []int{2, 0, 0}, []int{5, 4, 10}, []int{1, 1, 1}},
	{"inner range", []int{3, 40}, []int{0, 5}, []int{3, 37}, []int{1, 1}},
	{"strided last axis", []int{4, 64}, []int{1, 3}, []int{4, 64}, []int{1, 3}},
	{"short runs", []int{5, 6, 2}, []int{1, 1, 0}, []int{4, 5, 2}, []int{1, 2, 1}},
	{"one element", []int{4, 4}, []int{2, 3}, []int{3, 4}, []int{1, 1}},
	{"rank 1", []int{100}, []int{7}, []int{90}, []int{1}},
	{"stem tap (three channels, stride 2)", []int{2, 3, 9, 9, 3}, []int{0, 0, 1, 0, 0}, []int{2, 3, 9, 9, 3}, []int{1, 1, 2, 2, 1}},
	{"short runs off an 8-byte boundary", []int{4, 6, 4}, []int{0, 1, 1}, []int{4, 6, 3}, []int{1, 2, 1}},
}

// naiveSlice is the reference: every output element read by its index.
func naiveSlice[T any](x []T, c sliceCase) []T {
	rank := len(c.dims)
	out := []T{}
	idx := slices.Clone(c.starts)
	for {
		off := 0
		for a := range rank {
			off = off*c.dims[a] + idx[a]
		}
		out = append(out, x[off])
		a := rank - 1
		for ; a >= 0; a-- {
			idx[a] += c.stride[a]
			if idx[a] < c.limits[a] {
				break
			}
			idx[a] = c.starts[a]
		}
		if a < 0 {
			return out
		}
	}
}

// TestSliceMatchesNaive checks the Go backend's Slice against reading
// every element by its index, for elements of 1, 2, 4 and 8 bytes.
func TestSliceMatchesNaive(t *testing.T) {
	for _, c := range sliceCases {
		t.Run(c.name, func(t *testing.T) {
			fn := func(ns []*graph.Node) *graph.Node {
				specs := make([]graph.SliceAxisSpec, len(c.dims))
				for a := range specs {
					specs[a] = graph.AxisRange(c.starts[a], c.limits[a]).Stride(c.stride[a])
				}
				return graph.Slice(ns[0], specs...)
			}
			dims := [][]int{c.dims}
			checkOp(t, fn, dims, func(xs [][]uint8) []uint8 { return naiveSlice(xs[0], c) }, u8)
			checkOp(t, fn, dims, func(xs [][]uint16) []uint16 { return naiveSlice(xs[0], c) }, u16)
			checkOp(t, fn, dims, func(xs [][]float32) []float32 { return naiveSlice(xs[0], c) }, f32)
			checkOp(t, fn, dims, func(xs [][]int64) []int64 { return naiveSlice(xs[0], c) }, i64)
		})
	}
}

// concatCase is one Concatenate: the inputs' shapes (equal but on axis).
type concatCase struct {
	name   string
	inputs [][]int
	axis   int
}

// The cases cover the engine patch's word moves (short blocks of whole
// 8-byte words: im2col's taps along the channels) and what it leaves to the
// backend (odd or long blocks, the first axis).
var concatCases = []concatCase{
	{"im2col taps", [][]int{{2, 3, 4, 8}, {2, 3, 4, 8}, {2, 3, 4, 8}}, 3},
	{"mixed widths", [][]int{{5, 2}, {5, 4}, {5, 16}}, 1},
	{"inner axis kept", [][]int{{3, 1, 4}, {3, 2, 4}}, 1},
	{"odd blocks", [][]int{{4, 3}, {4, 5}}, 1},
	{"long blocks", [][]int{{2, 40}, {2, 24}}, 1},
	{"first axis", [][]int{{2, 6}, {3, 6}}, 0},
	{"empty input", [][]int{{3, 0}, {3, 4}}, 1},
	{"stem taps (three channels)", [][]int{{2, 5, 3}, {2, 5, 3}, {2, 5, 3}}, 2},
	{"words of 4 and 8 bytes", [][]int{{3, 2}, {3, 1}, {3, 3}}, 1},
}

// naiveConcat is the reference: output rows of the inputs' rows in turn.
func naiveConcat[T any](xs [][]T, c concatCase) []T {
	outer := 1
	for _, d := range c.inputs[0][:c.axis] {
		outer *= d
	}
	out := []T{}
	for o := range outer {
		for _, x := range xs {
			block := len(x) / outer
			out = append(out, x[o*block:(o+1)*block]...)
		}
	}
	return out
}

// TestConcatenateMatchesNaive checks the Go backend's Concatenate against
// appending the inputs' rows, for elements of 1, 2, 4 and 8 bytes.
func TestConcatenateMatchesNaive(t *testing.T) {
	for _, c := range concatCases {
		t.Run(c.name, func(t *testing.T) {
			fn := func(ns []*graph.Node) *graph.Node { return graph.Concatenate(ns, c.axis) }
			checkOp(t, fn, c.inputs, func(xs [][]uint8) []uint8 { return naiveConcat(xs, c) }, u8)
			checkOp(t, fn, c.inputs, func(xs [][]uint16) []uint16 { return naiveConcat(xs, c) }, u16)
			checkOp(t, fn, c.inputs, func(xs [][]float32) []float32 { return naiveConcat(xs, c) }, f32)
			checkOp(t, fn, c.inputs, func(xs [][]int64) []int64 { return naiveConcat(xs, c) }, i64)
		})
	}
}

// transposeCase is one Transpose: operand dimensions and the permutation
// (output axis i is operand axis perm[i]).
type transposeCase struct {
	name string
	dims []int
	perm []int
}

// The cases cover the engine patch's fast paths (the innermost axis kept; a
// swap of two merged axes under an optional batch axis, in tiles that do not
// divide the sides, or, with at most 32 columns, in stretches of 64 rows that
// do not divide them either) and what it leaves to the backend.
var transposeCases = []transposeCase{
	{"matrix", []int{37, 19}, []int{1, 0}},
	{"batched matrices", []int{3, 20, 17}, []int{0, 2, 1}},
	{"merged axes swap", []int{5, 6, 7, 3}, []int{2, 3, 0, 1}},
	{"innermost kept", []int{4, 3, 5, 16}, []int{1, 2, 0, 3}},
	{"size-one axes", []int{1, 9, 1, 33}, []int{3, 0, 2, 1}},
	{"three-way", []int{4, 5, 6}, []int{2, 0, 1}},
	{"identity", []int{3, 40}, []int{0, 1}},
	{"merged batch axes", []int{2, 3, 20, 17}, []int{0, 1, 3, 2}},
	{"runs under three axes", []int{2, 3, 4, 5, 16}, []int{3, 1, 0, 2, 4}},
	{"size-one gap", []int{4, 1, 8, 16}, []int{2, 1, 0, 3}},
	{"narrow matrix, several stretches", []int{150, 24}, []int{1, 0}},
	{"batched narrow matrices", []int{2, 130, 8}, []int{0, 2, 1}},
	{"wide matrix", []int{40, 45}, []int{1, 0}},
	{"batched wide matrices", []int{2, 17, 40}, []int{0, 2, 1}},
}

// naiveTranspose is the reference: every output element read by its index.
func naiveTranspose[T any](x []T, c transposeCase) []T {
	rank := len(c.dims)
	outDims := make([]int, rank)
	for i, a := range c.perm {
		outDims[i] = c.dims[a]
	}
	idx := make([]int, rank) // output index
	var out []T
	for range len(x) {
		in := make([]int, rank)
		for i, a := range c.perm {
			in[a] = idx[i]
		}
		off := 0
		for a := range rank {
			off = off*c.dims[a] + in[a]
		}
		out = append(out, x[off])
		for i := rank - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < outDims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// TestTransposeMatchesNaive checks the Go backend's Transpose against
// reading every element by its index, for elements of 1, 2, 4 and 8 bytes.
func TestTransposeMatchesNaive(t *testing.T) {
	for _, c := range transposeCases {
		t.Run(c.name, func(t *testing.T) {
			fn := func(ns []*graph.Node) *graph.Node { return graph.TransposeAllAxes(ns[0], c.perm...) }
			dims := [][]int{c.dims}
			checkOp(t, fn, dims, func(xs [][]uint8) []uint8 { return naiveTranspose(xs[0], c) }, u8)
			checkOp(t, fn, dims, func(xs [][]uint16) []uint16 { return naiveTranspose(xs[0], c) }, u16)
			checkOp(t, fn, dims, func(xs [][]float32) []float32 { return naiveTranspose(xs[0], c) }, f32)
			checkOp(t, fn, dims, func(xs [][]int64) []int64 { return naiveTranspose(xs[0], c) }, i64)
		})
	}
}
