// This file is not part of vidrep's module: `make` compiles it into GoMLX's
// Go backend (package github.com/gomlx/compute/internal/gobackend/ops)
// through the Makefile's workspace (see _enginepatch/README.md). It holds
// what the patch's executors share.

package ops

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// PatchEnvVar is set when the program starts, in every process built with
// the patch, to the patch's name and the process id ("copy-runs@1234"):
// vidrep reads it (engine.Patched) to name the patch in benchmark lines and
// reports, and `make test` to check the build. The pid keeps a child process
// or a user's environment from passing for a patched binary.
const PatchEnvVar = "VIDREP_ENGINE_PATCH"

func init() {
	_ = os.Setenv(PatchEnvVar, fmt.Sprintf("copy-runs@%d", os.Getpid()))
}

// minRunBytes is the shortest contiguous run worth one copy call; shorter
// runs keep the backend's element-by-element loops.
const minRunBytes = 32

// byteAddressed reports whether the patch's executors may move shape's data
// as whole elements of shape.DType.Size() bytes: a static shape whose dtype
// is not packed below a byte (Int4 and the like store two or more values per
// byte, which those moves would misplace). Other shapes go to the backend's
// own executors.
func byteAddressed(shape shapes.Shape) bool {
	return !shape.IsDynamic() && !shape.DType.IsPacked() && shape.DType.Size() >= 1
}

// outputBytes gets node's output buffer from the backend's pool, and the
// bytes of it and of operand.
func outputBytes(backend *gobackend.Backend, node *gobackend.Node, operand *gobackend.Buffer) (output *gobackend.Buffer, dst, src []byte, err error) {
	if output, err = backend.GetBuffer(node.Shape); err != nil {
		return nil, nil, nil, err
	}
	if src, err = operand.MutableBytes(); err != nil {
		return nil, nil, nil, err
	}
	if dst, err = output.MutableBytes(); err != nil {
		return nil, nil, nil, err
	}
	return output, dst, src, nil
}

// byteStrides returns the byte strides of a row-major array of dims whose
// elements take elem bytes.
func byteStrides(dims []int, elem int) []int {
	stride := make([]int, len(dims))
	s := elem
	for a := len(dims) - 1; a >= 0; a-- {
		stride[a] = s
		s *= dims[a]
	}
	return stride
}

// copyRuns fills dst with runs of run bytes read from src: the first at
// offset, each next one where an odometer over the output's outer axes
// (outer[i] positions, each moving the read by step[i] bytes; none: one run)
// puts it. Slice and Transpose both reduce to this once their contiguous
// inner axes are merged into the run.
func copyRuns(dst, src []byte, offset, run int, outer, step []int) {
	idx := make([]int, len(outer))
	for out := 0; out < len(dst); out += run {
		copy(dst[out:out+run], src[offset:offset+run])
		offset = nextRun(idx, outer, step, offset)
	}
}

// nextRun moves the odometer idx over outer to the next run and returns
// offset moved by the steps of the axes that turned.
func nextRun(idx, outer, step []int, offset int) int {
	for i := len(outer) - 1; i >= 0; i-- {
		idx[i]++
		offset += step[i]
		if idx[i] < outer[i] {
			break
		}
		offset -= outer[i] * step[i]
		idx[i] = 0
	}
	return offset
}

// asWords views b, a buffer's bytes, as words of W; ok is false when b does
// not start on a W boundary (then it returns nil).
func asWords[W uint32 | uint64](b []byte) (words []W, ok bool) {
	size := int(unsafe.Sizeof(W(0)))
	if len(b) < size {
		return nil, true
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%uintptr(size) != 0 {
		return nil, false
	}
	return unsafe.Slice((*W)(p), len(b)/size), true
}
