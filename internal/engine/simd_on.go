//go:build goexperiment.simd

package engine

// SIMD reports whether this binary was built with GOEXPERIMENT=simd, which
// gives the Go backend its AVX2/AVX-512 matmul kernels.
const SIMD = true
