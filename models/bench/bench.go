// Package bench times a backbone's training step (forward, backward, AdamW)
// or inference on synthetic clips, for "vidrep bench train|infer".
package bench

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/internal/memstat"
	"github.com/vidrep/vidrep/models"
)

// Config is one benchmark.
type Config struct {
	Arch                string
	Options             models.Options
	Batch, Frames, Size int
	Warmup, Steps       int
	DType               string // "f32" or "bf16"
	Train               bool   // training step (else inference)
	Classes             int    // head size for training (0 means 10, the anchor's)
	Optimizer           string // "adamw" (default, the anchors') or "sgd" (no moment buffers)
	CPUProfile          string // pprof CPU profile of the timed steps, if set
	Backend             compute.Backend
}

// Result is what a benchmark measured.
type Result struct {
	Config
	FirstMs   float64   // first call: graph build, compile and one step
	StepsMs   []float64 // each timed step, wall clock
	CPUMs     []float64 // each timed step, process CPU time (user+system)
	MedianMs  float64
	MedianCPU float64 // median of CPUMs
	ClipsPerS float64
	PeakRSSMB float64 // VmHWM of the process, MiB
	Params    int     // trainable parameters
	Variables int     // every variable in the store (weights, statistics, optimizer state): device buffers per call

	trainableVariables int // trainable variables, head included, optimizer state excluded
}

// check validates a config with one-line errors naming the flag to fix.
func (c *Config) check() error {
	switch {
	case c.Batch < 1:
		return cli.Usagef("--batch must be >= 1, got %d", c.Batch)
	case c.Frames < 1:
		return cli.Usagef("--frames must be >= 1, got %d", c.Frames)
	case c.Size < 16:
		return cli.Usagef("--size must be >= 16, got %d", c.Size)
	case c.Steps < 1:
		return cli.Usagef("--steps must be >= 1, got %d", c.Steps)
	case c.Warmup < 0:
		return cli.Usagef("--warmup must be >= 0, got %d", c.Warmup)
	case c.DType != "f32" && c.DType != "bf16":
		return cli.Usagef("--dtype must be f32 or bf16, got %q", c.DType)
	case c.Classes < 0:
		return cli.Usagef("--classes must be >= 0 (0: 10), got %d", c.Classes)
	case c.Optimizer != "" && c.Optimizer != "adamw" && c.Optimizer != "sgd":
		return cli.Usagef("--optimizer must be adamw or sgd, got %q", c.Optimizer)
	}
	if c.Optimizer == "" {
		c.Optimizer = "adamw"
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
	return nil
}

// Run builds the graph, runs Warmup untimed and Steps timed calls, and
// reports. log receives one line per step.
func Run(cfg Config, log io.Writer) (res Result, err error) {
	if err := cfg.check(); err != nil {
		return res, err
	}
	opts := cfg.Options
	opts.Frames, opts.Size = cfg.Frames, cfg.Size
	bb, err := models.New(cfg.Arch, opts)
	if err != nil {
		return res, cli.Usagef("%v", err)
	}
	dtype := dtypes.Float32
	if cfg.DType == "bf16" {
		dtype = dtypes.BFloat16
	}
	store := model.NewStore()
	store.SetParam(optimizer.ParamLearningRate, 1e-3)
	opt := optimizer.Adam().WeightDecay(1e-4).LearningRate(1e-3).Done()
	if cfg.Optimizer == "sgd" {
		opt = optimizer.StochasticGradientDescent().WithLearningRate(1e-3).WithDecay(false).Done()
	}
	exec, err := model.NewExec(cfg.Backend, store, func(scope *model.Scope, clips, labels *Node) *Node {
		x := ConvertDType(clips, dtype)
		feats := bb.Features(scope, x, cfg.Train)
		if !cfg.Train {
			return ConvertDType(feats, dtypes.Float32)
		}
		logits := ConvertDType(models.LinearHead(scope.In("fc"), feats, cfg.Classes), dtypes.Float32)
		l := loss.SparseCategoricalCrossEntropyLogits([]*Node{ExpandAxes(labels, -1)}, []*Node{logits})
		l = ReduceAllMean(l)
		opt.UpdateGraph(scope, clips.Graph(), l)
		return l
	})
	if err != nil {
		return res, err
	}
	clips := syntheticClips(cfg.Batch, cfg.Frames, cfg.Size)
	labels := make([]int32, cfg.Batch)
	for i := range labels {
		labels[i] = int32(i % cfg.Classes)
	}
	labelsT := tensors.FromValue(labels)
	var lastCPU float64
	step := func() (float64, error) {
		t0, c0 := time.Now(), cpuSeconds()
		out, err := exec.Call(clips, labelsT)
		if err != nil {
			return 0, err
		}
		// Reading the output back waits for the device: on XLA a call
		// returns before the step has run, so without this the time would be
		// the dispatch alone.
		out[0].MaterializeLocal()
		out[0].MustFinalizeAll()
		lastCPU = (cpuSeconds() - c0) * 1e3
		return float64(time.Since(t0).Microseconds()) / 1e3, nil
	}
	res.Config = cfg
	if res.FirstMs, err = step(); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "  first call (build+compile+step): %.1f ms\n", res.FirstMs)
	for i := 0; i < cfg.Warmup; i++ {
		ms, err := step()
		if err != nil {
			return res, err
		}
		fmt.Fprintf(log, "  warmup %d: %.1f ms\n", i, ms)
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return res, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	for i := 0; i < cfg.Steps; i++ {
		ms, err := step()
		if err != nil {
			return res, err
		}
		res.StepsMs = append(res.StepsMs, ms)
		res.CPUMs = append(res.CPUMs, lastCPU)
	}
	res.MedianMs = Median(res.StepsMs)
	res.MedianCPU = Median(res.CPUMs)
	res.ClipsPerS = float64(cfg.Batch) / (res.MedianMs / 1e3)
	res.PeakRSSMB = memstat.PeakRSSMB()
	for v := range store.IterVariables() {
		res.Variables++
		if !v.Trainable || strings.Contains(v.Scope(), optimizer.AdamDefaultScope) {
			continue
		}
		res.trainableVariables++
		if !strings.HasPrefix(v.Scope(), "/fc") {
			res.Params += v.Shape().Size()
		}
	}
	return res, nil
}

// String is the one-line summary "RESULT ..." that bench scripts parse.
func (r Result) String() string {
	kind := "infer"
	if r.Train {
		kind = "train"
	}
	return fmt.Sprintf("RESULT vidrep %s arch=%s batch=%d frames=%d size=%d dtype=%s optimizer=%s backend=%s params=%d variables=%d median_ms=%.1f cpu_ms=%.1f clips_per_s=%.1f peak_rss_mb=%.0f first_ms=%.0f all_ms=[%s]",
		kind, r.Arch, r.Batch, r.Frames, r.Size, r.DType, r.optimizerName(), engine.Describe(r.Backend.String()), r.Params, r.Variables, r.MedianMs, r.MedianCPU, r.ClipsPerS, r.PeakRSSMB, r.FirstMs, JoinMs(r.StepsMs))
}

// optimizerName is the RESULT line's optimizer: "-" for inference.
func (r Result) optimizerName() string {
	if !r.Train {
		return "-"
	}
	return r.Optimizer
}

// JoinMs is a RESULT line's all_ms list: each time with one decimal,
// comma-separated.
func JoinMs(xs []float64) string {
	all := make([]string, len(xs))
	for i, v := range xs {
		all[i] = strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strings.Join(all, ",")
}

// syntheticClips is a deterministic [B,T,S,S,3] float32 tensor in [-1,1].
func syntheticClips(b, t, s int) *tensors.Tensor {
	data := make([]float32, b*t*s*s*3)
	seed := uint32(12345)
	for i := range data {
		seed = seed*1664525 + 1013904223
		data[i] = float32(seed>>8)/float32(1<<23) - 1
	}
	return tensors.FromFlatDataAndDimensions(data, b, t, s, s, 3)
}

// Median of xs (xs is not modified): the middle value, or the mean of the
// two middle ones for an even count.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuSeconds is the process's user+system CPU time; 0 if unavailable.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
