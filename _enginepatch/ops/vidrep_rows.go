// This file is not part of vidrep's module: see _enginepatch/README.md. It
// only replaces how Add, Sub and Mul walk a broadcast operand; every result
// is the same, bit for bit (one float32 operation per element, as before).

package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/pkg/errors"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeAdd, gobackend.PriorityUser, rowsExecutor(rowsAdd, execAdd))
	gobackend.SetNodeExecutor(compute.OpTypeSub, gobackend.PriorityUser, rowsExecutor(rowsSub, execSub))
	gobackend.SetNodeExecutor(compute.OpTypeMul, gobackend.PriorityUser, rowsExecutor(rowsMul, execMul))
}

// rowsOp says which binary operation a rows executor computes.
type rowsOp int

const (
	rowsAdd rowsOp = iota
	rowsSub
	rowsMul
)

// rowsExecutor returns an executor of op for float32 operands where one is
// the whole output shape and the other a row repeated over the leading axes
// ([N,T,H,W,C] and [1,1,1,1,C]: batch norm's scale, shift and mean on
// channels-last activations). The backend walks such a pair with a
// broadcast iterator that computes three indices per element; here each
// output row is one loop over the row. Every other case goes to fallback,
// the backend's own executor.
func rowsExecutor(op rowsOp, fallback gobackend.NodeExecutor) gobackend.NodeExecutor {
	return func(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
		lhsShape, rhsShape := inputs[0].RawShape, inputs[1].RawShape
		if node.Shape.DType != dtypes.Float32 || node.Shape.IsDynamic() {
			return fallback(backend, node, inputs, inputsOwned)
		}
		rowLen, rowIsLHS := 0, false
		switch {
		case lhsShape.Equal(node.Shape):
			rowLen = repeatedRow(rhsShape, node.Shape)
		case rhsShape.Equal(node.Shape):
			rowLen, rowIsLHS = repeatedRow(lhsShape, node.Shape), true
		}
		if rowLen == 0 {
			return fallback(backend, node, inputs, inputsOwned)
		}
		lhs, rhs, output, _, _ := binaryOperandsAndOutputForExecution(backend, node, inputs, inputsOwned, node.Shape)
		if output == nil { // the backend is finalized: GetBuffer failed
			return nil, errors.Errorf("%s: no output buffer (backend finalized?)", node.OpType)
		}
		full, row := lhs.Flat.([]float32), rhs.Flat.([]float32)
		if rowIsLHS {
			full, row = row, full
		}
		applyRows(op, rowIsLHS, output.Flat.([]float32), full, row)
		return output, nil
	}
}

// repeatedRow returns the length of the row that operand repeats to make
// out: operand has out's rank, size 1 on a prefix of its axes (at least one
// of them larger than 1 in out) and out's sizes on the rest. 0 otherwise.
func repeatedRow(operand, out shapes.Shape) int {
	if operand.IsDynamic() || operand.Rank() != out.Rank() || operand.Rank() == 0 {
		return 0
	}
	dims, outDims := operand.Dimensions, out.Dimensions
	lead := 0
	for lead < len(dims) && dims[lead] == 1 {
		lead++
	}
	row, repeats := 1, 1
	for a := range dims {
		if a < lead {
			repeats *= outDims[a]
			continue
		}
		if dims[a] != outDims[a] {
			return 0
		}
		row *= dims[a]
	}
	if repeats == 1 || row < 2 {
		return 0 // nothing repeated, or a scalar the backend already handles
	}
	return row
}

// applyRows writes out = full op row (row op full when rowFirst), with row
// repeated along full: one specialised loop per operation and order.
func applyRows(op rowsOp, rowFirst bool, out, full, row []float32) {
	n := len(row)
	for start := 0; start < len(full); start += n {
		o, f := out[start:start+n], full[start:start+n]
		switch {
		case op == rowsAdd:
			for i, r := range row {
				o[i] = f[i] + r
			}
		case op == rowsMul:
			for i, r := range row {
				o[i] = f[i] * r
			}
		case op == rowsSub && rowFirst:
			for i, r := range row {
				o[i] = r - f[i]
			}
		default: // rowsSub
			for i, r := range row {
				o[i] = f[i] - r
			}
		}
	}
}
