//go:build !(goexperiment.simd && amd64)

package loader

// axpy adds a*src to dst element-wise (len(dst) >= len(src)).
func axpy(dst, src []float32, a float32) { axpyScalar(dst, src, a) }
