// This file is not part of vidrep's module: see _enginepatch/README.md. It
// only replaces how Slice copies its data; every result is the same, bit for
// bit.

package ops

import (
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/pkg/errors"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeSlice, gobackend.PriorityUser, execSliceRuns)
}

// execSliceRuns executes Slice by copying contiguous runs of bytes: the
// trailing axes taken whole merge into one block, and the last axis that is
// not taken whole joins the run when its stride is 1. The im2col slices of a
// convolution in channels-last layout take whole channels and a range of
// columns, so each run holds a row of output positions; with a stride, each
// run is one position's channels, moved word by word when shorter than
// minRunBytes.
func execSliceRuns(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	params, ok := node.Data.(*sliceNode)
	if !ok {
		return nil, errors.Errorf("internal error: node.data for Slice op is not *sliceNode, but %T", node.Data)
	}
	operand := inputs[0]
	if !byteAddressed(node.Shape) || !byteAddressed(operand.RawShape) {
		return execSlice(backend, node, inputs, inputsOwned)
	}
	elem := node.Shape.DType.Size()
	dims := operand.RawShape.Dimensions
	outDims := node.Shape.Dimensions
	rank := len(dims)

	// run: bytes per copy; axis: the innermost axis the odometer walks.
	run, axis := elem, rank-1
	for axis >= 0 && params.starts[axis] == 0 && outDims[axis] == dims[axis] && params.strides[axis] == 1 {
		run *= dims[axis]
		axis--
	}
	if axis >= 0 && params.strides[axis] == 1 {
		run *= outDims[axis]
		axis--
	}
	// the first run's offset in the operand, and each outer axis's step
	stride := byteStrides(dims, elem)
	offset := 0
	for a := range rank {
		offset += params.starts[a] * stride[a]
	}
	step := make([]int, axis+1)
	for a := range step {
		step[a] = params.strides[a] * stride[a]
	}
	word := wordFor(run, offset, step)
	if run < minRunBytes && word == 0 {
		return execSlice(backend, node, inputs, inputsOwned)
	}

	output, dst, src, err := outputBytes(backend, node, operand)
	if err != nil || len(dst) == 0 {
		return output, err
	}
	outer := outDims[:axis+1]
	switch {
	case run >= minRunBytes:
		copyRuns(dst, src, offset, run, outer, step)
	case word == 8 && copyRunWords[uint64](dst, src, offset, run, outer, step):
	case word == 4 && copyRunWords[uint32](dst, src, offset, run, outer, step):
	default:
		backend.PutBuffer(output)
		return execSlice(backend, node, inputs, inputsOwned)
	}
	return output, nil
}

// wordFor returns the widest word, 8 or 4 bytes, that divides the run, the
// first offset and every step, so that copyRunWords can move the runs as
// whole words; 0 when neither does.
func wordFor(run, offset int, step []int) int {
	for _, w := range []int{8, 4} {
		ok := run%w == 0 && offset%w == 0
		for _, s := range step {
			ok = ok && s%w == 0
		}
		if ok {
			return w
		}
	}
	return 0
}

// copyRunWords is copyRuns for runs shorter than minRunBytes, each moved as
// words of W in a loop: the strided im2col taps of a convolution with few
// channels (the stem's three, 12 bytes a run), which the backend copies
// element by element, computing each one's index. run, offset and every step
// must be whole numbers of words (wordFor); ok is false (and nothing is
// written) when a buffer does not start on a W boundary.
func copyRunWords[W uint32 | uint64](dst, src []byte, offset, run int, outer, step []int) (ok bool) {
	d, okDst := asWords[W](dst)
	s, okSrc := asWords[W](src)
	if !okDst || !okSrc {
		return false
	}
	size := int(unsafe.Sizeof(W(0)))
	n, at := run/size, offset/size
	wordStep := make([]int, len(step))
	for i := range step {
		wordStep[i] = step[i] / size
	}
	idx := make([]int, len(outer))
	for out := 0; out < len(d); out += n {
		from, to := s[at:at+n], d[out:out+n]
		for k := range from {
			to[k] = from[k]
		}
		at = nextRun(idx, outer, wordStep, at)
	}
	return true
}
