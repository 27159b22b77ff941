// Package engine selects the GoMLX compute backend the commands run on:
// "go" (the portable pure-Go backend, the default) or "xla:<plugin>"
// (e.g. "xla:cuda", "xla:cpu"), from a --backend flag or $GOMLX_BACKEND.
package engine

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"

	// Registers the "go" and "xla" backends.
	_ "github.com/gomlx/gomlx/backends/default"
)

// EnvVar is the environment variable read when no --backend flag is given.
const EnvVar = compute.ConfigEnvVar

// DefaultConfig is the backend used when neither the flag nor EnvVar is set.
const DefaultConfig = "go"

// Resolve returns the backend configuration to use: flag if set, else
// $GOMLX_BACKEND if set, else DefaultConfig.
func Resolve(flag string) string {
	if flag = strings.TrimSpace(flag); flag != "" {
		return flag
	}
	if env := strings.TrimSpace(os.Getenv(EnvVar)); env != "" {
		return env
	}
	return DefaultConfig
}

// Validate checks a backend configuration string ("go", "go:<options>",
// "xla" or "xla:<plugin>") and returns a one-line error naming the fix otherwise.
func Validate(config string) error {
	name, plugin, hasPlugin := strings.Cut(config, ":")
	switch name {
	case "go":
		// "go:<options>" (e.g. go:ops_sequential) passes options to the Go backend.
		if hasPlugin && plugin == "" {
			return fmt.Errorf("backend %q: give Go backend options after the colon (e.g. go:ops_sequential) or use --backend go", config)
		}
		return nil
	case "xla":
		if hasPlugin && plugin == "" {
			return fmt.Errorf("backend %q: name the PJRT plugin, e.g. --backend xla:cuda or xla:cpu", config)
		}
		return nil
	}
	return fmt.Errorf("unknown backend %q: use --backend go or --backend xla:<plugin> (e.g. xla:cuda), or set %s", config, EnvVar)
}

// newMu serialises New.
var newMu sync.Mutex

// New returns the compute backend for flag (see Resolve). Errors from the
// backend's constructor (a missing PJRT plugin, for instance) come back as
// errors, never panics.
func New(flag string) (b compute.Backend, err error) {
	config := Resolve(flag)
	if err := Validate(config); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", config, r)
		}
	}()
	// Backends created by concurrent runs (experiment --jobs) are created
	// one at a time: XLA_FLAGS must not change while a plugin reads it.
	newMu.Lock()
	defer newMu.Unlock()
	if name, plugin, _ := strings.Cut(config, ":"); name == "xla" && !strings.Contains(strings.ToLower(plugin), "cpu") {
		// Read by the PJRT plugin when it starts, so set before it does.
		os.Setenv(XLAFlagsVar, WithChannelsLastConv(os.Getenv(XLAFlagsVar)))
	}
	b, err = compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	if IsGo(b) {
		warnNoSIMD()
	}
	return b, nil
}

// XLAFlagsVar is the environment variable XLA reads its debug options from.
const XLAFlagsVar = "XLA_FLAGS"

// ChannelsLastConvFlag makes XLA's GPU compiler lay out every convolution
// channels-last (NDHWC), as vidrep's graphs already are. Left alone, XLA
// gives cuDNN channels-first layouts for 3D convolutions (it picks
// channels-last only for 2D ones in fp16/bf16) and transposes around each
// one; docs/benchmarks.md measures the difference on R3D-18.
const ChannelsLastConvFlag = "--xla_gpu_force_conv_nhwc=true"

// WithChannelsLastConv returns the XLA_FLAGS value flags with
// ChannelsLastConvFlag added, unless flags already chooses a convolution
// layout (--xla_gpu_force_conv_nhwc or --xla_gpu_force_conv_nchw).
func WithChannelsLastConv(flags string) string {
	if strings.Contains(flags, "xla_gpu_force_conv_") {
		return flags
	}
	return strings.TrimSpace(flags + " " + ChannelsLastConvFlag)
}

// SlowMatmulWarning is printed once on stderr when the Go backend runs in a
// binary built without GOEXPERIMENT=simd on amd64: its matmul then falls back
// to scalar kernels, about half the speed (docs/benchmarks.md).
const SlowMatmulWarning = "vidrep: warning: built without GOEXPERIMENT=simd, so the Go backend's matmul runs scalar (about 2x slower); rebuild with `make build`"

var warnOnce sync.Once

// warnNoSIMD prints SlowMatmulWarning once when it applies.
func warnNoSIMD() {
	if !SIMD && runtime.GOARCH == "amd64" {
		warnOnce.Do(func() { fmt.Fprintln(os.Stderr, SlowMatmulWarning) })
	}
}

// Describe names the backend for reports and benchmark lines: the config,
// plus "+simd" or "-simd" for the Go backend on amd64, then the matmul
// kernels in use ("+avx512" or "+avx2", MatmulKernels), and "+patch" for the
// Go backend of a binary built with the engine patch (Patched).
func Describe(config string) string {
	name, _, _ := strings.Cut(config, ":")
	if name != "go" {
		return config
	}
	if runtime.GOARCH == "amd64" {
		if SIMD {
			config += "+simd"
			if k := MatmulKernels(); k != "" {
				config += "+" + k
			}
		} else {
			config += "-simd"
		}
	}
	if Patched() != "" {
		config += "+patch"
	}
	return config
}

// PatchEnvVar names the engine patch (_enginepatch/README.md) in every
// process built with it: the patch's code sets it to "name@pid" when the
// program starts.
const PatchEnvVar = "VIDREP_ENGINE_PATCH"

// Patched returns the name of the engine patch this binary was built with,
// or "" without it. The patch (make build, make test) adds faster data
// copies to GoMLX's Go backend; it never changes a result. A value set for
// another process (a parent's, or the user's) does not count.
func Patched() string {
	name, pid, ok := strings.Cut(os.Getenv(PatchEnvVar), "@")
	if !ok || pid != strconv.Itoa(os.Getpid()) {
		return ""
	}
	return name
}

// IsGo reports whether b is the pure-Go backend, where layers replace slow
// native ops (convolution) with matmul-based versions.
func IsGo(b compute.Backend) bool {
	return b != nil && b.String() == "go"
}

// GraphIsGo reports whether the graph g is built for the pure-Go backend.
func GraphIsGo(g *graph.Graph) bool {
	return IsGo(g.Backend())
}
