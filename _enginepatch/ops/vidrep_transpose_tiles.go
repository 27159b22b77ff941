// This file is not part of vidrep's module: see _enginepatch/README.md.

package ops

import (
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeTranspose, gobackend.PriorityUser, execTransposeTiles)
}

// transposeTile is the side of the square tiles a swap of two axes is
// copied in, so that both the reads and the writes stay within a few cache
// lines per row.
const transposeTile = 16

// execTransposeTiles executes Transpose after merging the axes that stay
// together: when the innermost axis stays innermost, by copying its runs;
// when what is left swaps two axes (under an optional batch axis) of 4- or
// 8-byte elements, tile by tile. The backend's iterator computes an index
// per element, which matmul's operand layouts and the convolutions' weight
// gradients pay on large [rows, channels] matrices. Anything else goes to
// the backend's own executor.
func execTransposeTiles(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand := inputs[0]
	if !byteAddressed(node.Shape) || !byteAddressed(operand.RawShape) {
		return execTranspose(backend, node, inputs, inputsOwned)
	}
	elem := node.Shape.DType.Size()
	dims, perm := mergeTransposeAxes(operand.RawShape.Dimensions, node.Data.([]int))
	r := len(dims)
	kind := 0 // 1: innermost runs; 2: a swap of the last two axes
	switch {
	case r >= 1 && perm[r-1] == r-1 && dims[r-1]*elem >= minRunBytes:
		kind = 1
	case (elem == 4 || elem == 8) && (r == 2 && perm[0] == 1 || r == 3 && perm[0] == 0 && perm[1] == 2):
		kind = 2
	}
	if kind == 0 {
		return execTranspose(backend, node, inputs, inputsOwned)
	}
	output, dst, src, err := outputBytes(backend, node, operand)
	if err != nil || len(dst) == 0 {
		return output, err
	}
	if kind == 1 {
		copyTransposedRuns(dst, src, dims, perm, elem)
		return output, nil
	}
	batch, rows, cols := 1, dims[r-2], dims[r-1]
	if r == 3 {
		batch = dims[0]
	}
	var ok bool
	if elem == 4 {
		ok = swapWordTiles[uint32](dst, src, batch, rows, cols)
	} else {
		ok = swapWordTiles[uint64](dst, src, batch, rows, cols)
	}
	if !ok {
		backend.PutBuffer(output)
		return execTranspose(backend, node, inputs, inputsOwned)
	}
	return output, nil
}

// swapWordTiles runs swapTiles on dst and src viewed as elements of W; ok
// is false (and nothing is written) when either does not start on a W
// boundary.
func swapWordTiles[W uint32 | uint64](dst, src []byte, batch, rows, cols int) (ok bool) {
	d, okDst := asWords[W](dst)
	s, okSrc := asWords[W](src)
	if !okDst || !okSrc {
		return false
	}
	swapTiles(d, s, batch, rows, cols)
	return true
}

// mergeTransposeAxes drops the axes of size 1 and merges the operand axes
// that follow each other in the output too, returning the merged operand
// dimensions and the permutation over them (output axis i reads merged
// operand axis perm[i]).
func mergeTransposeAxes(dims, perm []int) (mergedDims, mergedPerm []int) {
	pos := make([]int, len(dims)) // an operand axis's place among those larger than 1
	n := 0
	for a, d := range dims {
		if d > 1 {
			pos[a] = n
			n++
		}
	}
	var kept []int // output order of the operand axes larger than 1
	for _, a := range perm {
		if dims[a] > 1 {
			kept = append(kept, a)
		}
	}
	// groups of operand axes, in output order
	var groups [][]int
	for i, a := range kept {
		if i > 0 && pos[a] == pos[kept[i-1]]+1 {
			groups[len(groups)-1] = append(groups[len(groups)-1], a)
			continue
		}
		groups = append(groups, []int{a})
	}
	// the groups in operand order; output group i is merged operand axis
	// mergedPerm[i]
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return groups[a][0] - groups[b][0] })
	mergedDims = make([]int, len(groups))
	mergedPerm = make([]int, len(groups))
	for place, g := range order {
		mergedPerm[g] = place
		mergedDims[place] = 1
		for _, a := range groups[g] {
			mergedDims[place] *= dims[a]
		}
	}
	return mergedDims, mergedPerm
}

// copyTransposedRuns writes the output, whose innermost axis is the
// operand's, one run of that axis per copy.
func copyTransposedRuns(dst, src []byte, dims, perm []int, elem int) {
	r := len(dims)
	stride := byteStrides(dims, elem) // of the operand
	outer, step := make([]int, r-1), make([]int, r-1)
	for i, a := range perm[:r-1] {
		outer[i], step[i] = dims[a], stride[a]
	}
	copyRuns(dst, src, 0, dims[r-1]*elem, outer, step)
}

// narrowCols is the most columns a matrix may have for swapTiles to write
// its few, long output rows one stretch of narrowStretch elements at a time.
const (
	narrowCols    = 32
	narrowStretch = 64
)

// swapTiles writes dst[b][c][r] = src[b][r][c] for batch matrices of rows x
// cols, tile by tile, or, when cols is at most narrowCols, stretch by
// stretch of each output row (swapNarrow).
func swapTiles[T uint32 | uint64](dst, src []T, batch, rows, cols int) {
	size := rows * cols
	for b := range batch {
		in, out := src[b*size:(b+1)*size], dst[b*size:(b+1)*size]
		if cols <= narrowCols {
			swapNarrow(out, in, rows, cols)
			continue
		}
		for r0 := 0; r0 < rows; r0 += transposeTile {
			r1 := min(r0+transposeTile, rows)
			for c0 := 0; c0 < cols; c0 += transposeTile {
				c1 := min(c0+transposeTile, cols)
				for r := r0; r < r1; r++ {
					row := in[r*cols : r*cols+cols]
					for c := c0; c < c1; c++ {
						out[c*rows+r] = row[c]
					}
				}
			}
		}
	}
}

// swapNarrow transposes one rows x cols matrix with few columns (a
// convolution's dL/dy, [positions, channels], on its way to the weight
// gradient): for each block of narrowStretch rows it writes that stretch of
// every output row in turn. Square tiles write a handful of elements to
// each of cols output rows per tile; when a row's length in bytes is a
// multiple of 4 KiB (24,576 positions), those rows share the same cache sets
// and evict each other, which made the tiles 3-4x slower on this shape.
func swapNarrow[T uint32 | uint64](out, in []T, rows, cols int) {
	for r0 := 0; r0 < rows; r0 += narrowStretch {
		n := min(narrowStretch, rows-r0)
		block := in[r0*cols : (r0+n)*cols]
		for c := range cols {
			stretch := out[c*rows+r0 : c*rows+r0+n]
			for i := range stretch {
				stretch[i] = block[i*cols+c]
			}
		}
	}
}
