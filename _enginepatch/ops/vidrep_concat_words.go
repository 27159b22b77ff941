// This file is not part of vidrep's module: see _enginepatch/README.md.

package ops

import (
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
)

func init() {
	gobackend.SetNodeExecutor(compute.OpTypeConcatenate, gobackend.PriorityUser, execConcatenateWords)
}

// concatWordsMaxBytes is the longest per-input block moved word by word;
// longer blocks go through copy, as in the backend's own Concatenate.
const concatWordsMaxBytes = 64

// execConcatenateWords executes Concatenate output row by output row, moving
// each input's block as 8-byte words when every block is short and a whole
// number of them, or as 4-byte words when every block is a whole number of
// those (the stem's three float32 channels, 12 bytes). im2col concatenates
// its taps along the channels, so each block is one position's channels
// (12-64 bytes), where a copy call per block costs more than the bytes it
// moves. Anything else goes to the backend's own executor.
func execConcatenateWords(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	axis := node.Data.(int)
	shape := node.Shape
	if !byteAddressed(shape) {
		return execConcatenate(backend, node, inputs, inputsOwned)
	}
	elem := shape.DType.Size()
	outer, inner := 1, elem
	for a := range axis {
		outer *= shape.Dimensions[a]
	}
	for a := axis + 1; a < shape.Rank(); a++ {
		inner *= shape.Dimensions[a]
	}
	blocks := make([]int, len(inputs)) // each input's block, in bytes
	wordBytes := 8
	for i, in := range inputs {
		blocks[i] = in.RawShape.Dimensions[axis] * inner
		if !byteAddressed(in.RawShape) || blocks[i]%4 != 0 || blocks[i] > concatWordsMaxBytes {
			return execConcatenate(backend, node, inputs, inputsOwned)
		}
		if blocks[i]%8 != 0 {
			wordBytes = 4
		}
	}
	output, err := backend.GetBuffer(shape)
	if err != nil {
		return nil, err
	}
	dst, err := output.MutableBytes()
	if err != nil {
		backend.PutBuffer(output)
		return nil, err
	}
	src := make([][]byte, len(inputs))
	for i, in := range inputs {
		if src[i], err = in.MutableBytes(); err != nil {
			backend.PutBuffer(output)
			return nil, err
		}
	}
	var ok bool
	if wordBytes == 8 {
		ok = concatWords[uint64](dst, src, blocks, outer)
	} else {
		ok = concatWords[uint32](dst, src, blocks, outer)
	}
	if !ok {
		backend.PutBuffer(output)
		return execConcatenate(backend, node, inputs, inputsOwned)
	}
	return output, nil
}

// concatWords writes into dst, for each of outer rows, every input's block
// of blocks[i] bytes in turn, moving them as words of W; ok is false (and
// nothing is written) when a buffer does not start on a W boundary or a
// block is not a whole number of words.
func concatWords[W uint32 | uint64](dst []byte, src [][]byte, blocks []int, outer int) (ok bool) {
	size := int(unsafe.Sizeof(W(0)))
	d, ok := asWords[W](dst)
	s := make([][]W, len(src))
	words := make([]int, len(src))
	for i, b := range src {
		var aligned bool
		s[i], aligned = asWords[W](b)
		ok = ok && aligned && blocks[i]%size == 0
		words[i] = blocks[i] / size
	}
	if !ok {
		return false
	}
	out := 0
	for o := range outer {
		for i, n := range words {
			from := s[i][o*n : o*n+n]
			to := d[out : out+n]
			for k := range from {
				to[k] = from[k]
			}
			out += n
		}
	}
	return true
}
