//go:build goexperiment.simd && amd64

package loader

import "simd/archsimd"

// useAVX2 is set when the CPU has the 256-bit float instructions axpy uses.
var useAVX2 = archsimd.X86.AVX2()

// axpy adds a*src to dst element-wise (len(dst) >= len(src)), eight lanes at
// a time on AVX2. It multiplies then adds (no fused multiply-add), so the
// result is bit-identical to the scalar loop.
func axpy(dst, src []float32, a float32) {
	i := 0
	if useAVX2 {
		va := archsimd.BroadcastFloat32x8(a)
		for ; i+8 <= len(src); i += 8 {
			d := archsimd.LoadFloat32x8Slice(dst[i:])
			s := archsimd.LoadFloat32x8Slice(src[i:])
			d.Add(s.Mul(va)).StoreSlice(dst[i:])
		}
	}
	axpyScalar(dst[i:], src[i:], a)
}
