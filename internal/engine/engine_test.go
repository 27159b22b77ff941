package engine

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	cases := []struct{ flag, env, want string }{
		{"", "", "go"},
		{"", "xla:cuda", "xla:cuda"},
		{"go", "xla:cuda", "go"},
		{" xla:cpu ", "", "xla:cpu"},
	}
	for _, c := range cases {
		t.Setenv(EnvVar, c.env)
		if got := Resolve(c.flag); got != c.want {
			t.Errorf("Resolve(%q) with $%s=%q: %q, want %q", c.flag, EnvVar, c.env, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"go", "go:ops_sequential", "xla", "xla:cuda"} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"tpu", "xla:", "go:", "cuda"} {
		err := Validate(bad)
		if err == nil || !strings.Contains(err.Error(), "--backend") {
			t.Errorf("Validate(%q) = %v, want an error naming --backend", bad, err)
		}
	}
}

func TestNewGo(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if !IsGo(b) {
		t.Errorf("IsGo(%s) = false", b.Name())
	}
	if _, err := New("nosuch"); err == nil {
		t.Error("New accepted an unknown backend")
	}
}

func TestDescribe(t *testing.T) {
	simd := "-simd"
	if SIMD {
		simd = "+simd"
		if k := MatmulKernels(); k != "" {
			simd += "+" + k
		}
	}
	if runtime.GOARCH != "amd64" {
		simd = ""
	}
	if Patched() != "" {
		simd += "+patch"
	}
	cases := []struct{ config, want string }{
		{"go", "go" + simd},
		{"go:ops_sequential", "go:ops_sequential" + simd},
		{"xla:cuda", "xla:cuda"},
	}
	for _, c := range cases {
		want := c.want
		if got := Describe(c.config); got != want {
			t.Errorf("Describe(%q) = %q, want %q", c.config, got, want)
		}
	}
}

// TestSIMDBuild guards the build: `make test` sets VIDREP_REQUIRE_SIMD, so a
// Makefile that lost GOEXPERIMENT=simd fails here instead of silently
// halving the Go backend's speed.
func TestSIMDBuild(t *testing.T) {
	if os.Getenv("VIDREP_REQUIRE_SIMD") == "" || runtime.GOARCH != "amd64" {
		t.Skip("VIDREP_REQUIRE_SIMD not set or not amd64")
	}
	if !SIMD {
		t.Fatal("built without GOEXPERIMENT=simd; the Makefile must export it")
	}
}

// TestPatchedBuild guards the engine patch the same way: `make test` sets
// VIDREP_REQUIRE_PATCH, so a Makefile that stopped building against the
// patched compute module fails here instead of silently losing its speed.
func TestPatchedBuild(t *testing.T) {
	if os.Getenv("VIDREP_REQUIRE_PATCH") == "" {
		t.Skip("VIDREP_REQUIRE_PATCH not set")
	}
	if Patched() == "" {
		t.Fatalf("built without the engine patch (GOWORK=%q); the Makefile must build against .build/go.work", os.Getenv("GOWORK"))
	}
}

// TestPatchedReadsOwnProcess checks that only a marker naming this process
// counts as the engine patch.
func TestPatchedReadsOwnProcess(t *testing.T) {
	own := strconv.Itoa(os.Getpid())
	cases := []struct{ value, want string }{
		{"copy-runs@" + own, "copy-runs"},
		{"copy-runs@1" + own, ""}, // another process's
		{"copy-runs", ""},
		{"", ""},
	}
	for _, c := range cases {
		t.Setenv(PatchEnvVar, c.value)
		if got := Patched(); got != c.want {
			t.Errorf("%s=%q: Patched() = %q, want %q", PatchEnvVar, c.value, got, c.want)
		}
	}
}

// TestWithChannelsLastConv checks that the channels-last flag is added to
// XLA_FLAGS, keeping the user's flags, unless the user chose a layout.
func TestWithChannelsLastConv(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ChannelsLastConvFlag},
		{"--xla_gpu_cuda_data_dir=/usr/local/cuda", "--xla_gpu_cuda_data_dir=/usr/local/cuda " + ChannelsLastConvFlag},
		{"--xla_gpu_force_conv_nchw=true", "--xla_gpu_force_conv_nchw=true"},
		{"--xla_gpu_force_conv_nhwc=false", "--xla_gpu_force_conv_nhwc=false"},
	}
	for _, c := range cases {
		if got := WithChannelsLastConv(c.in); got != c.want {
			t.Errorf("WithChannelsLastConv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMatmulKernelsFollowsTheEnvironment checks that the kernels a report
// names follow the variables GoMLX's matmul package reads when the program
// starts: it runs this test binary again with each set, and reads what the
// child reports.
func TestMatmulKernelsFollowsTheEnvironment(t *testing.T) {
	if os.Getenv("VIDREP_TEST_PRINT_KERNELS") == "1" {
		fmt.Printf("kernels=%q\n", MatmulKernels())
		return
	}
	if MatmulKernels() == "" {
		t.Skip("no SIMD matmul kernels in this build or on this CPU")
	}
	child := func(env ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMatmulKernelsFollowsTheEnvironment$")
		cmd.Env = append(append(os.Environ(), "VIDREP_TEST_PRINT_KERNELS=1"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %v: %v\n%s", env, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if k, ok := strings.CutPrefix(line, "kernels="); ok {
				return strings.Trim(k, `"`)
			}
		}
		t.Fatalf("child %v printed no kernels:\n%s", env, out)
		return ""
	}
	if k := child(); k != MatmulKernels() {
		t.Errorf("child with the same environment: %q, want %q", k, MatmulKernels())
	}
	if k := child("GOMLX_SIMD_AVX512=false"); k != "avx2" && k != "" {
		t.Errorf("with GOMLX_SIMD_AVX512=false: %q, want avx2 or none", k)
	}
	if k := child("GOMLX_SIMD_AVX512=false", "GOMLX_SIMD_AVX2=off"); k != "" {
		t.Errorf("with both SIMD kernels off: %q, want none", k)
	}
}
