package engine

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

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

// runSlice slices x (flat, of c.dims) on the Go backend.
func runSlice[T dtypes.Supported](t *testing.T, x []T, c sliceCase) []T {
	t.Helper()
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	in := tensors.FromFlatDataAndDimensions(x, c.dims...)
	out := graph.MustExecOnce(b, func(n *graph.Node) *graph.Node {
		specs := make([]graph.SliceAxisSpec, len(c.dims))
		for a := range specs {
			specs[a] = graph.AxisRange(c.starts[a], c.limits[a]).Stride(c.stride[a])
		}
		return graph.Slice(n, specs...)
	}, in)
	return tensors.MustCopyFlatData[T](out)
}

// TestSliceMatchesNaive checks the Go backend's Slice, with or without the
// engine patch, against reading every element by its index, for element
// sizes of 1, 4 and 8 bytes.
func TestSliceMatchesNaive(t *testing.T) {
	for _, c := range sliceCases {
		size := 1
		for _, d := range c.dims {
			size *= d
		}
		f32, i64, u8 := make([]float32, size), make([]int64, size), make([]uint8, size)
		for i := range size {
			f32[i], i64[i], u8[i] = float32(i)+0.5, int64(i)*1_000_003, uint8(i*7)
		}
		t.Run(c.name, func(t *testing.T) {
			check := func(dtype string, got, want any) {
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: Slice gave %v, want %v", dtype, got, want)
				}
			}
			check("float32", runSlice(t, f32, c), naiveSlice(f32, c))
			check("int64", runSlice(t, i64, c), naiveSlice(i64, c))
			check("uint8", runSlice(t, u8, c), naiveSlice(u8, c))
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

// runConcat concatenates xs (flat, of c.inputs) on the Go backend.
func runConcat[T dtypes.Supported](t *testing.T, xs [][]T, c concatCase) []T {
	t.Helper()
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]any, len(xs))
	for i, x := range xs {
		ins[i] = tensors.FromFlatDataAndDimensions(x, c.inputs[i]...)
	}
	out := graph.MustExecOnceN(b, func(ns []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Concatenate(ns, c.axis)}
	}, ins...)
	return tensors.MustCopyFlatData[T](out[0])
}

// TestConcatenateMatchesNaive checks the Go backend's Concatenate, with or
// without the engine patch, against appending the inputs' rows, for element
// sizes of 1, 4 and 8 bytes.
func TestConcatenateMatchesNaive(t *testing.T) {
	for _, c := range concatCases {
		t.Run(c.name, func(t *testing.T) {
			f32, i64, u8 := [][]float32{}, [][]int64{}, [][]uint8{}
			next := 0
			for _, dims := range c.inputs {
				size := 1
				for _, d := range dims {
					size *= d
				}
				a, b, u := make([]float32, size), make([]int64, size), make([]uint8, size)
				for i := range size {
					a[i], b[i], u[i] = float32(next)+0.25, int64(next)*999_983, uint8(next*5)
					next++
				}
				f32, i64, u8 = append(f32, a), append(i64, b), append(u8, u)
			}
			if got, want := runConcat(t, f32, c), naiveConcat(f32, c); !slices.Equal(got, want) {
				t.Errorf("float32: Concatenate gave %v, want %v", got, want)
			}
			if got, want := runConcat(t, i64, c), naiveConcat(i64, c); !slices.Equal(got, want) {
				t.Errorf("int64: Concatenate gave %v, want %v", got, want)
			}
			if got, want := runConcat(t, u8, c), naiveConcat(u8, c); !slices.Equal(got, want) {
				t.Errorf("uint8: Concatenate gave %v, want %v", got, want)
			}
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

// The cases cover the engine patch's two fast paths (the innermost axis kept,
// and a swap of two merged axes under an optional batch axis, in tiles that
// do not divide the sides) and what it leaves to the backend.
var transposeCases = []transposeCase{
	{"matrix", []int{37, 19}, []int{1, 0}},
	{"batched matrices", []int{3, 20, 17}, []int{0, 2, 1}},
	{"merged axes swap", []int{5, 6, 7, 3}, []int{2, 3, 0, 1}},
	{"innermost kept", []int{4, 3, 5, 16}, []int{1, 2, 0, 3}},
	{"size-one axes", []int{1, 9, 1, 33}, []int{3, 0, 2, 1}},
	{"three-way", []int{4, 5, 6}, []int{2, 0, 1}},
	{"identity", []int{3, 40}, []int{0, 1}},
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

// runTranspose transposes x (flat, of c.dims) on the Go backend.
func runTranspose[T dtypes.Supported](t *testing.T, x []T, c transposeCase) []T {
	t.Helper()
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	in := tensors.FromFlatDataAndDimensions(x, c.dims...)
	out := graph.MustExecOnce(b, func(n *graph.Node) *graph.Node {
		return graph.TransposeAllAxes(n, c.perm...)
	}, in)
	return tensors.MustCopyFlatData[T](out)
}

// TestTransposeMatchesNaive checks the Go backend's Transpose, with or
// without the engine patch, against reading every element by its index,
// for element sizes of 1, 4 and 8 bytes.
func TestTransposeMatchesNaive(t *testing.T) {
	for _, c := range transposeCases {
		size := 1
		for _, d := range c.dims {
			size *= d
		}
		f32, i64, u8 := make([]float32, size), make([]int64, size), make([]uint8, size)
		for i := range size {
			f32[i], i64[i], u8[i] = float32(i)+0.75, int64(i)*1_000_033, uint8(i*3)
		}
		t.Run(c.name, func(t *testing.T) {
			if got, want := runTranspose(t, f32, c), naiveTranspose(f32, c); !slices.Equal(got, want) {
				t.Errorf("float32: Transpose gave %v, want %v", got, want)
			}
			if got, want := runTranspose(t, i64, c), naiveTranspose(i64, c); !slices.Equal(got, want) {
				t.Errorf("int64: Transpose gave %v, want %v", got, want)
			}
			if got, want := runTranspose(t, u8, c), naiveTranspose(u8, c); !slices.Equal(got, want) {
				t.Errorf("uint8: Transpose gave %v, want %v", got, want)
			}
		})
	}
}
