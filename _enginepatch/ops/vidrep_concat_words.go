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
// number of words. im2col concatenates its taps along the channels, so each
// block is one position's channels (16-64 bytes), where a copy call per
// block costs more than the bytes it moves. Anything else goes to the
// backend's own executor.
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
	words := make([]int, len(inputs)) // each input's block, in words
	for i, in := range inputs {
		block := in.RawShape.Dimensions[axis] * inner
		if !byteAddressed(in.RawShape) || block%8 != 0 || block > concatWordsMaxBytes {
			return execConcatenate(backend, node, inputs, inputsOwned)
		}
		words[i] = block / 8
	}
	output, err := backend.GetBuffer(shape)
	if err != nil {
		return nil, err
	}
	dstBytes, err := output.MutableBytes()
	if err != nil {
		return nil, err
	}
	dst, ok := asWords(dstBytes)
	src := make([][]uint64, len(inputs))
	for i, in := range inputs {
		b, err := in.MutableBytes()
		if err != nil {
			return nil, err
		}
		var aligned bool
		src[i], aligned = asWords(b)
		ok = ok && aligned
	}
	if !ok {
		backend.PutBuffer(output)
		return execConcatenate(backend, node, inputs, inputsOwned)
	}
	out := 0
	for o := range outer {
		for i, n := range words {
			s := src[i][o*n : o*n+n]
			d := dst[out : out+n]
			for k := range s {
				d[k] = s[k]
			}
			out += n
		}
	}
	return output, nil
}

// asWords views b, a buffer's bytes, as 8-byte words; ok is false when b
// does not start on an 8-byte boundary (then it returns nil).
func asWords(b []byte) (words []uint64, ok bool) {
	if len(b) < 8 {
		return nil, true
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%8 != 0 {
		return nil, false
	}
	return unsafe.Slice((*uint64)(p), len(b)/8), true
}
