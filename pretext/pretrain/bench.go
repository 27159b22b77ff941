package pretrain

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/internal/memstat"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/models/bench"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/train"
)

// BenchConfig sets up Bench: the pretraining step of Method on Arch, fed
// one batch drawn from synthetic noise videos (no decoding, no files).
// Of Config, Bench reads the method, the network, the clip geometry, Batch,
// LR, WeightDecay, DType, Seed and Pretext; the rest (data, output, loader,
// Backend, and Config's own Steps and Warmup, which the fields below
// replace) is not used. MoCo's queue is DefaultQueue unless Pretext sets it.
type BenchConfig struct {
	Config
	Steps, Warmup int             // timed steps, and untimed ones after the first (compiling) call
	Engine        compute.Backend // the backend to run on (required)
}

// BenchResult is what Bench measured.
type BenchResult struct {
	BenchConfig
	Views     int     // clips per video the method reads
	Params    int     // backbone parameters
	FirstMs   float64 // first call: graph building, compilation, one step
	StepsMs   []float64
	MedianMs  float64
	VideosPS  float64 // videos (examples) per second at the median step
	ClipsPS   float64 // clips per second: videos x views
	PeakRSSMB float64
	LastLoss  float64
}

// benchFrames is the length of the synthetic videos: enough for every
// method's longest draw (speed's 8x rate, vcop's three clips).
const benchFrames = 128

// Bench times the pretraining step of c.Method on c.Arch.
func Bench(c BenchConfig) (BenchResult, error) {
	cfg, err := c.Config.filled()
	if err != nil {
		return BenchResult{}, err
	}
	c.Config = cfg
	if c.Steps < 1 || c.Warmup < 0 {
		return BenchResult{}, cli.Usagef("bench pretrain: --steps must be positive and --warmup not negative")
	}
	if c.Engine == nil {
		return BenchResult{}, fmt.Errorf("bench pretrain: no backend to run on")
	}
	bb, err := models.New(c.Arch, models.Options{Width: c.Width, Frames: c.Frames, Size: c.Size})
	if err != nil {
		return BenchResult{}, cli.Usagef("bench pretrain: %v", err)
	}
	if err := pretext.CheckSpec(c.Method); err != nil {
		return BenchResult{}, cli.Usagef("%v", err)
	}
	method, err := newMethod(c.Config, bb, 2*DefaultQueue) // as many videos as give the largest queue
	if err != nil {
		return BenchResult{}, err
	}
	batch, err := noiseBatch(method, c.Batch, c.Size, c.Seed)
	if err != nil {
		return BenchResult{}, err
	}
	store := model.NewStore()
	st, err := train.TimeSteps(c.Engine, store, trainConfig(c.Config), method.Loss(bb), batch, c.Warmup, c.Steps)
	if err != nil {
		return BenchResult{}, err
	}
	res := BenchResult{BenchConfig: c, Views: len(batch.Views), FirstMs: ms(st.First),
		PeakRSSMB: memstat.PeakRSSMB(), LastLoss: st.Losses[len(st.Losses)-1]}
	for _, d := range st.Steps {
		res.StepsMs = append(res.StepsMs, ms(d))
	}
	res.MedianMs = bench.Median(res.StepsMs)
	res.VideosPS = float64(c.Batch) / (res.MedianMs / 1e3)
	res.ClipsPS = res.VideosPS * float64(res.Views)
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), "/"+pretext.BackboneScope+"/") {
			res.Params += v.Shape().Size()
		}
	}
	return res, nil
}

// noiseBatch draws one batch of the method's examples from videos of
// uniform noise, benchFrames long, a seventh larger than the crops (as a
// 128-pixel decode is to 112-pixel crops).
func noiseBatch(m pretext.Method, batch, size int, seed uint64) (*loader.Batch, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	side := size + size/7
	exs := make([]loader.Example, batch)
	index := make([]int, batch)
	for i := range exs {
		v := noiseVideo{frames: benchFrames, side: side, rng: rng}
		ex, err := m.Sampler().Sample(v, dataset.Unlabeled, rng)
		if err != nil {
			return nil, fmt.Errorf("bench pretrain: drawing an example: %w", err)
		}
		exs[i], index[i] = ex, i
	}
	return loader.Stack(exs, index)
}

// noiseVideo is a loader.VideoReader of uniform random pixels.
type noiseVideo struct {
	frames, side int
	rng          *rand.Rand
}

// NumFrames is the video's length.
func (v noiseVideo) NumFrames() int { return v.frames }

// Read returns frames of fresh noise (the positions asked for do not matter).
func (v noiseVideo) Read(start, frames, stride int) (*loader.RawClip, error) {
	pix := make([]uint8, frames*v.side*v.side*3)
	for i := range pix {
		pix[i] = uint8(v.rng.UintN(256))
	}
	return &loader.RawClip{T: frames, H: v.side, W: v.side, Pix: pix}, nil
}

// String is the one-line summary "RESULT vidrep pretrain ..." that bench
// scripts parse.
func (r BenchResult) String() string {
	return fmt.Sprintf("RESULT vidrep pretrain method=%s arch=%s batch=%d views=%d frames=%d size=%d dtype=%s backend=%s "+
		"params=%d median_ms=%.1f videos_per_s=%.1f clips_per_s=%.1f peak_rss_mb=%.0f first_ms=%.0f loss=%.4f all_ms=[%s]",
		r.Method, r.Arch, r.Batch, r.Views, r.Frames, r.Size, r.DType, engine.Describe(r.Engine.String()),
		r.Params, r.MedianMs, r.VideosPS, r.ClipsPS, r.PeakRSSMB, r.FirstMs, r.LastLoss, bench.JoinMs(r.StepsMs))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
