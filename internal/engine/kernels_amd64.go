//go:build amd64 && goexperiment.simd

package engine

import (
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

// matmulEnabledEnv is the variable GoMLX's matmul package reads to turn
// itself off (matmul.EnabledEnv, in an internal package): every Dot of the Go
// backend then fails, so no kernel is named.
const matmulEnabledEnv = "GOMLX_DOT_MATMUL"

// matmulKernels is decided once, when the program starts, as GoMLX decides
// which kernels to register.
var matmulKernels = detectMatmulKernels()

// MatmulKernels names the float32 matmul kernels GoMLX's Go backend
// registered in this process: "avx512" when the CPU has AVX-512 and
// GOMLX_SIMD_AVX512 did not turn it off at start-up, else "avx2" likewise,
// else "" (scalar). The two SIMD kernels sum in different orders, so a
// training run's digits differ between an AVX2 and an AVX-512 machine;
// reports name the kernels so that two runs can be compared.
func MatmulKernels() string { return matmulKernels }

// detectMatmulKernels makes the test GoMLX's matmul package makes in its init
// functions: its switch, then the CPU's features and their switches.
func detectMatmulKernels() string {
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
