//go:build !amd64 || !goexperiment.simd

package engine

// MatmulKernels names the SIMD matmul kernels GoMLX's Go backend uses in
// this process; without GOEXPERIMENT=simd on amd64 there are none ("").
func MatmulKernels() string { return "" }
