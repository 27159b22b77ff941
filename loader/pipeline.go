package loader

import (
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/video"
)

// Config configures a Loader.
type Config struct {
	// Root is the dataset root that relative sample paths are joined to.
	Root string
	// Samples are the videos, in the loader's index order (Batch.Index).
	Samples []dataset.Sample
	// Opener decodes the videos (one Video per example, per worker).
	Opener video.Opener
	// Sampler makes an Example from each video.
	Sampler Sampler
	// BatchSize is the number of examples per batch.
	BatchSize int
	// Workers is the number of goroutines making examples (at least 1).
	Workers int
	// Prefetch is the number of batches prepared ahead of the consumer (0 means 2).
	Prefetch int
	// Seed fixes the epoch orders and every example's random choices.
	Seed uint64
	// Shuffle permutes the samples each epoch (a permutation derived from Seed and the epoch).
	Shuffle bool
	// DropLast drops the last partial batch of an epoch.
	DropLast bool
	// DecodeShortSide is the short side frames are decoded at (0 keeps the stored size).
	DecodeShortSide int
	// ShortVideo is the policy for reads past the end of a video (Loop by default).
	ShortVideo ShortPolicy
	// Locate maps a sample to the file to decode and its exact frame count (0
	// when unknown), e.g. the prepare cache's entry. nil reads Root's prepare
	// cache when it has an entry whose source is unchanged (see CacheLocator;
	// New logs once per run how many videos changed since prepare) and
	// otherwise opens Root/Path (an absolute Path as is) with the probe's
	// frame count.
	Locate func(root string, s dataset.Sample) (path string, frames int)
	// NoCache ignores the prepare cache and quarantine report under Root. By
	// default files that prepare quarantined are left out (reported as
	// failed, with prepare's reason) whether or not Locate is given.
	NoCache bool
	// Logf reports each failing video once; nil uses log.Printf.
	Logf func(format string, args ...any)
}

// Batches yields the batches of one pass in order. Next returns io.EOF after
// the last batch; Close stops the workers and may be called at any time.
type Batches interface {
	Next() (*Batch, error)
	Close() error
}

// Stats are the loader's counters since it was made. WorkerBusy against
// Workers*Wall says how busy the workers were; ConsumerWait against Wall says
// how long the consumer (the training step) sat waiting for data.
type Stats struct {
	Examples     int64         // examples made
	Batches      int64         // batches handed to the consumer
	Failed       int64         // distinct videos that failed to decode or sample
	Substituted  int64         // examples replaced by another video in training passes
	Dropped      int64         // examples left out of evaluation batches because their video failed
	WorkerBusy   time.Duration // total time workers spent making examples
	ConsumerWait time.Duration // total time Next blocked waiting for a batch
	Wall         time.Duration // total time passes were open
	Workers      int
}

// WorkerUtilisation is WorkerBusy / (Workers * Wall), in [0,1].
func (s Stats) WorkerUtilisation() float64 {
	if s.Wall <= 0 || s.Workers <= 0 {
		return 0
	}
	return s.WorkerBusy.Seconds() / (float64(s.Workers) * s.Wall.Seconds())
}

// WaitFraction is ConsumerWait / Wall: the share of time the consumer was data-bound.
func (s Stats) WaitFraction() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return s.ConsumerWait.Seconds() / s.Wall.Seconds()
}

// FailedVideo is a video the loader could not use, with the reason.
type FailedVideo struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Loader makes batches of examples from a list of videos.
type Loader struct {
	cfg        Config
	cov        CacheCoverage
	quarantine map[string]string // cleaned sample path -> prepare's reason
	mu         sync.Mutex
	failed     map[int]string // sample index -> reason
	order      []int          // failure order, for FailedVideos
	busyNs     atomic.Int64
	waitNs     atomic.Int64
	wallNs     atomic.Int64
	nEx        atomic.Int64
	nBatch     atomic.Int64
	nSubst     atomic.Int64
	nDrop      atomic.Int64
	nFailed    atomic.Int64
}

// validator is implemented by Samplers that can check their settings.
type validator interface{ Validate() error }

// New checks cfg and returns a Loader.
func New(cfg Config) (*Loader, error) {
	switch {
	case len(cfg.Samples) == 0:
		return nil, errors.New("loader: no samples; check the dataset path and split")
	case cfg.Opener == nil:
		return nil, errors.New("loader: no video opener configured")
	case cfg.Sampler == nil:
		return nil, errors.New("loader: no sampler configured")
	case cfg.BatchSize <= 0:
		return nil, fmt.Errorf("loader: batch size %d must be positive", cfg.BatchSize)
	case cfg.DecodeShortSide < 0:
		return nil, fmt.Errorf("loader: decode short side %d must not be negative", cfg.DecodeShortSide)
	case cfg.DropLast && len(cfg.Samples) < cfg.BatchSize:
		return nil, fmt.Errorf("loader: %d samples make no full batch of %d; lower --batch", len(cfg.Samples), cfg.BatchSize)
	}
	if v, ok := cfg.Sampler.(validator); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("loader: %w", err)
		}
	}
	cfg.Workers = max(1, cfg.Workers)
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 2
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	l := &Loader{cfg: cfg, cov: CacheCoverage{Samples: len(cfg.Samples)}, failed: map[int]string{}}
	if cfg.NoCache {
		return l, nil
	}
	q, err := QuarantinedFiles(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	l.quarantine = q
	for _, s := range cfg.Samples {
		if _, ok := q[filepath.Clean(s.Path)]; ok {
			l.cov.Quarantined++
		}
	}
	if cfg.Locate == nil {
		locate, cached, index, err := cacheLocator(cfg.Root, cfg.Samples)
		if err != nil {
			return nil, fmt.Errorf("loader: %w", err)
		}
		if cached > 0 && !video.DecodesH264(cfg.Opener) {
			cfg.Logf("loader: this build reads no H.264, so the prepare cache under %s is not used; its %d videos are read from their source files", cfg.Root, cached)
			return l, nil
		}
		l.cfg.Locate, l.cov.Cached = locate, cached
		noticeStale(cfg.Logf, cfg.Root, index)
	}
	return l, nil
}

// Cache says how many samples the prepare cache serves and how many prepare
// quarantined (Cached is 0 when Config.Locate was given; both are 0 with
// NoCache or when Root has no cache).
func (l *Loader) Cache() CacheCoverage { return l.cov }

// Len is the number of samples.
func (l *Loader) Len() int { return len(l.cfg.Samples) }

// BatchSize is the configured batch size.
func (l *Loader) BatchSize() int { return l.cfg.BatchSize }

// StepsPerEpoch is the number of batches Epoch yields.
func (l *Loader) StepsPerEpoch() int {
	n, b := len(l.cfg.Samples), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order returns the sample indices of epoch e in the order Epoch visits them.
func (l *Loader) Order(epoch int) []int {
	n := len(l.cfg.Samples)
	if !l.cfg.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	return rand.New(rand.NewPCG(l.cfg.Seed, mix(0x5eed0f0e9, uint64(epoch)))).Perm(n)
}

// Epoch starts training pass epoch, skipping its first skip batches (to
// resume). Batches are identical for the same Seed whatever the number of
// workers, and the batches after a skip are those the full pass would give.
// A video that fails is replaced by the next video of the epoch's order that
// works (reported once), so every batch is full.
func (l *Loader) Epoch(epoch, skip int) (Batches, error) {
	if skip < 0 {
		return nil, fmt.Errorf("loader: skip %d must not be negative", skip)
	}
	return l.start(epoch, skip, l.Order(epoch), l.StepsPerEpoch(), true), nil
}

// Iterate returns one evaluation pass: every sample once, in list order, the
// last partial batch kept, random choices drawn as in epoch 0. An example
// whose video fails is left out of its batch (Batch.Index says which
// remain); a batch whose videos all fail is skipped.
func (l *Loader) Iterate() Batches {
	n, b := len(l.cfg.Samples), l.cfg.BatchSize
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return l.start(0, 0, order, (n+b-1)/b, false)
}

// ForEach runs fn on every batch of an evaluation pass (see Iterate) and
// stops at the first error.
func (l *Loader) ForEach(fn func(*Batch) error) error {
	it := l.Iterate()
	defer it.Close()
	for {
		b, err := it.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
}

// Stats returns the counters so far.
func (l *Loader) Stats() Stats {
	return Stats{
		Examples:     l.nEx.Load(),
		Batches:      l.nBatch.Load(),
		Failed:       l.nFailed.Load(),
		Substituted:  l.nSubst.Load(),
		Dropped:      l.nDrop.Load(),
		WorkerBusy:   time.Duration(l.busyNs.Load()),
		ConsumerWait: time.Duration(l.waitNs.Load()),
		Wall:         time.Duration(l.wallNs.Load()),
		Workers:      l.cfg.Workers,
	}
}

// FailedVideos lists the videos that failed so far, in the order they failed.
func (l *Loader) FailedVideos() []FailedVideo {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]FailedVideo, len(l.order))
	for i, idx := range l.order {
		out[i] = FailedVideo{Path: l.cfg.Samples[idx].Path, Reason: l.failed[idx]}
	}
	return out
}

// mix hashes two words into one (splitmix64 finaliser over a combination).
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 + b + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ExampleRNG is the random source of the example made from sample index idx
// in epoch epoch (attempt > 0 for a substitute in another video's slot).
func ExampleRNG(seed uint64, epoch, idx, attempt int) *rand.Rand {
	return rand.New(rand.NewPCG(mix(seed, uint64(epoch)), mix(uint64(idx), uint64(attempt))))
}

// badReason returns why sample idx failed before, if it did.
func (l *Loader) badReason(idx int) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.failed[idx]
	return r, ok
}

// markBad records a failing video and logs it the first time.
func (l *Loader) markBad(idx int, err error) {
	l.mu.Lock()
	_, seen := l.failed[idx]
	if !seen {
		l.failed[idx] = err.Error()
		l.order = append(l.order, idx)
	}
	l.mu.Unlock()
	if !seen {
		l.nFailed.Add(1)
		l.cfg.Logf("loader: skipping %s: %v", l.cfg.Samples[idx].Path, err)
	}
}

// makeExample samples one example from video idx, turning a decoder or
// sampler panic into an error.
func (l *Loader) makeExample(idx int, rng *rand.Rand) (ex Example, err error) {
	if reason, bad := l.badReason(idx); bad {
		return Example{}, errors.New(reason)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic while sampling: %v\n%s", p, debug.Stack())
		}
	}()
	s := l.cfg.Samples[idx]
	path, frames, ok := l.Source(idx)
	if !ok {
		return Example{}, fmt.Errorf("quarantined by vidrep prepare: %s", l.quarantine[filepath.Clean(s.Path)])
	}
	r, err := OpenReader(l.cfg.Opener, path, frames, l.cfg.DecodeShortSide, l.cfg.ShortVideo)
	if err != nil {
		return Example{}, err
	}
	defer r.Close()
	ex, err = l.cfg.Sampler.Sample(r, s.Label, rng)
	if err != nil {
		return Example{}, err
	}
	return ex, checkExample(ex)
}

// Source is the file the loader reads for sample i (the prepare cache's
// copy where it serves the sample) and that file's frame count when the
// cache knows it (else 0); ok is false when prepare quarantined the sample,
// which is then not read at all.
func (l *Loader) Source(i int) (path string, frames int, ok bool) {
	s := l.cfg.Samples[i]
	if _, bad := l.quarantine[filepath.Clean(s.Path)]; bad {
		return "", 0, false
	}
	path, frames = l.locate(s)
	return path, frames, true
}

// locate gives the file to open for s and its known frame count.
func (l *Loader) locate(s dataset.Sample) (string, int) {
	if l.cfg.Locate != nil {
		return l.cfg.Locate(l.cfg.Root, s)
	}
	return SourcePath(l.cfg.Root, s.Path), 0
}

// SourcePath joins a sample path to the dataset root (an absolute path is kept).
func SourcePath(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// checkExample verifies that an example's views are well formed.
func checkExample(ex Example) error {
	if len(ex.Views) == 0 {
		return errors.New("sampler returned no views")
	}
	for i, v := range ex.Views {
		if v.T <= 0 || v.H <= 0 || v.W <= 0 || len(v.Data) != v.T*v.H*v.W*3 {
			return fmt.Errorf("sampler returned view %d of shape %dx%dx%d with %d values", i, v.T, v.H, v.W, len(v.Data))
		}
	}
	return nil
}
