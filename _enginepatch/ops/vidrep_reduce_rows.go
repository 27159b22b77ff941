// This file is not part of vidrep's module: see _enginepatch/README.md. It
// only replaces how ReduceSum walks its operand when the reduced axes lead;
// every sum adds the same values in the same order as the backend's, so
// results are the same, bit for bit.

package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeReduceSum, gobackend.PriorityUser, execReduceSumRows)
}

// execReduceSumRows executes a float32 ReduceSum over leading axes, keeping
// the trailing ones (batch norm's statistics and their gradients: [N,T,H,W,C]
// summed to [C]), by adding each operand row into the output row. The
// backend adds the operand's elements into output[index] in the operand's
// order too, asking an iterator for each index; each output element gets
// the same additions in the same order. Other reductions go to the backend.
func execReduceSumRows(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand := inputs[0]
	axes, _ := node.Data.([]int)
	dims := operand.RawShape.Dimensions
	if operand.RawShape.DType != dtypes.Float32 || operand.RawShape.IsDynamic() || node.Shape.IsDynamic() ||
		len(axes) == 0 || len(axes) >= len(dims) {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	for i, axis := range axes { // the reduced axes must be 0, 1, ..., k-1
		if axis != i {
			return execReduce(backend, node, inputs, inputsOwned)
		}
	}
	row := 1
	for _, d := range dims[len(axes):] {
		row *= d
	}
	if node.Shape.Size() != row || row == 0 {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	out, in := output.Flat.([]float32), operand.Flat.([]float32)
	for i := range out {
		out[i] = 0
	}
	for start := 0; start < len(in); start += row {
		for i, v := range in[start : start+row] {
			out[i] += v
		}
	}
	return output, nil
}
