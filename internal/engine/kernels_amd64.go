//go:build amd64 && goexperiment.simd

package engine

import (
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

// matmulEnabledEnv is the variable GoMLX's matmul package reads to turn its
// SIMD kernels off altogether (matmul.EnabledEnv, in an internal package).
const matmulEnabledEnv = "GOMLX_DOT_MATMUL"

// MatmulKernels names the float32 matmul kernels GoMLX's Go backend
// registers in this process, by the same test its matmul package makes:
// "avx512" when the CPU has AVX-512 and GOMLX_SIMD_AVX512 does not turn it
// off, else "avx2" likewise, else "" (scalar). The two SIMD kernels sum in
// different orders, so a training run's digits differ between an AVX2 and an
// AVX-512 machine; reports name the kernels so that two runs can be compared.
func MatmulKernels() string {
	on := func(name string) bool {
		v, err := envutil.ReadBool(name, true)
		return v && err == nil
	}
	switch {
	case !on(matmulEnabledEnv):
		return ""
	case on(envutil.SIMD_AVX512_Env) && archsimd.X86.AVX512():
		return "avx512"
	case on(envutil.SIMD_AVX2_Env) && archsimd.X86.AVX2():
		return "avx2"
	}
	return ""
}
