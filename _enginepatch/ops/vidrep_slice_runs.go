// This file is not part of vidrep's module: see _enginepatch/README.md. It
// only replaces how Slice copies its data; every result is the same, bit for
// bit.

package ops

import (
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
// columns, so each run holds a row of output positions.
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
	if run < minRunBytes {
		return execSlice(backend, node, inputs, inputsOwned)
	}

	output, dst, src, err := outputBytes(backend, node, operand)
	if err != nil || len(dst) == 0 {
		return output, err
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
	copyRuns(dst, src, offset, run, outDims[:axis+1], step)
	return output, nil
}
