package loader

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vidrep/vidrep/dataset"
)

// fakeSet makes n fake videos v0..v(n-1) of 12+i frames, labelled i%3, and
// applies the given overrides.
func fakeSet(n int, override map[int]fakeFile) ([]dataset.Sample, *fakeOpener) {
	op := &fakeOpener{files: map[string]fakeFile{}}
	var samples []dataset.Sample
	for i := range n {
		path := fmt.Sprintf("root/v%d.mp4", i)
		f := fakeFile{frames: 12 + i, h: 6, w: 8, seed: i}
		if o, ok := override[i]; ok {
			f = o
			f.seed = i
		}
		op.files[path] = f
		samples = append(samples, dataset.Sample{Path: fmt.Sprintf("v%d.mp4", i), Label: i % 3})
	}
	return samples, op
}

// logCounter counts log lines (safe for concurrent use).
type logCounter struct {
	mu    sync.Mutex
	lines []string
}

func (c *logCounter) logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
}

func testConfig(samples []dataset.Sample, op *fakeOpener, workers int, seed uint64) Config {
	return Config{
		Root: "root", Samples: samples, Opener: op,
		Sampler:   RandomClip{Frames: 4, Stride: 2, Aug: AugStrong(8)},
		BatchSize: 3, Workers: workers, Prefetch: 2, Seed: seed, Shuffle: true,
		Logf: func(string, ...any) {},
	}
}

// collect drains a pass.
func collect(t *testing.T, it Batches) []*Batch {
	t.Helper()
	defer it.Close()
	var out []*Batch
	for {
		b, err := it.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

func epochBatches(t *testing.T, l *Loader, epoch, skip int) []*Batch {
	t.Helper()
	it, err := l.Epoch(epoch, skip)
	if err != nil {
		t.Fatal(err)
	}
	return collect(t, it)
}

func mustNew(t *testing.T, cfg Config) *Loader {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sameBatches(a, b []*Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].Index, b[i].Index) || a[i].ViewShape != b[i].ViewShape || len(a[i].Views) != len(b[i].Views) {
			return false
		}
		for v := range a[i].Views {
			if !slices.Equal(a[i].Views[v], b[i].Views[v]) {
				return false
			}
		}
		for j := range a[i].Targets {
			if !slices.Equal(a[i].Targets[j], b[i].Targets[j]) {
				return false
			}
		}
	}
	return true
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	samples, op := fakeSet(10, nil)
	one := epochBatches(t, mustNew(t, testConfig(samples, op, 1, 7)), 0, 0)
	three := epochBatches(t, mustNew(t, testConfig(samples, op, 3, 7)), 0, 0)
	if len(one) != 4 || one[3].ViewShape[0] != 1 {
		t.Fatalf("10 samples in batches of 3 gave %d batches, last of %d", len(one), one[len(one)-1].ViewShape[0])
	}
	if !sameBatches(one, three) {
		t.Fatal("1 and 3 workers gave different batches for the same seed")
	}
	other := epochBatches(t, mustNew(t, testConfig(samples, op, 3, 8)), 0, 0)
	if sameBatches(one, other) {
		t.Fatal("seeds 7 and 8 gave identical batches")
	}
	next := epochBatches(t, mustNew(t, testConfig(samples, op, 2, 7)), 1, 0)
	if sameBatches(one, next) {
		t.Fatal("epochs 0 and 1 gave identical batches")
	}
}

func TestEpochIsAPermutationWithLabels(t *testing.T) {
	samples, op := fakeSet(10, nil)
	l := mustNew(t, testConfig(samples, op, 2, 3))
	var seen []int
	for _, b := range epochBatches(t, l, 0, 0) {
		if !slices.Equal(b.ViewShape[1:], []int{4, 8, 8, 3}) {
			t.Fatalf("view shape %v", b.ViewShape)
		}
		for e, idx := range b.Index {
			if got := b.Targets[0][e]; got != int32(samples[idx].Label) {
				t.Errorf("sample %d target %d want %d", idx, got, samples[idx].Label)
			}
		}
		seen = append(seen, b.Index...)
	}
	if slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Error("shuffled epoch kept the list order")
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("epoch visited %v, want every sample once", seen)
	}
	if l.StepsPerEpoch() != 4 {
		t.Errorf("StepsPerEpoch %d want 4", l.StepsPerEpoch())
	}
}

func TestResumeWithSkip(t *testing.T) {
	samples, op := fakeSet(10, nil)
	full := epochBatches(t, mustNew(t, testConfig(samples, op, 2, 5)), 2, 0)
	for skip := range 5 {
		rest := epochBatches(t, mustNew(t, testConfig(samples, op, 3, 5)), 2, skip)
		if !sameBatches(full[skip:], rest) {
			t.Errorf("skip %d: batches differ from the tail of the full epoch", skip)
		}
	}
}

func TestDropLast(t *testing.T) {
	samples, op := fakeSet(10, nil)
	cfg := testConfig(samples, op, 2, 5)
	cfg.DropLast = true
	l := mustNew(t, cfg)
	bs := epochBatches(t, l, 0, 0)
	if l.StepsPerEpoch() != 3 || len(bs) != 3 {
		t.Fatalf("drop-last: %d steps, %d batches, want 3", l.StepsPerEpoch(), len(bs))
	}
	for _, b := range bs {
		if b.ViewShape[0] != 3 {
			t.Errorf("batch of %d", b.ViewShape[0])
		}
	}
}

// blueIDs returns the video id (the blue value of the first pixel) of each
// example of a batch whose views are plain [0,1] values.
func blueIDs(b *Batch) []int {
	per := b.ViewShape[1] * b.ViewShape[2] * b.ViewShape[3] * 3
	ids := make([]int, b.ViewShape[0])
	for e := range ids {
		ids[e] = int(math.Round(float64(b.Views[0][e*per+2]) * 255))
	}
	return ids
}

func TestFailingVideosAreSkipped(t *testing.T) {
	bad := map[int]fakeFile{
		2: {openErr: errCorrupt},
		5: {frames: 8, h: 6, w: 8, readErr: errCorrupt},
		7: {frames: 0, estimate: 30, h: 6, w: 8}, // no decodable frames
	}
	samples, op := fakeSet(10, bad)
	logs := &logCounter{}
	cfg := testConfig(samples, op, 3, 11)
	cfg.Sampler = RandomClip{Frames: 4, Stride: 2, Aug: AugConfig{Size: 4}} // plain values
	cfg.Logf = logs.logf
	l := mustNew(t, cfg)
	for epoch := range 2 {
		bs := epochBatches(t, l, epoch, 0)
		if len(bs) != 4 {
			t.Fatalf("%d batches want 4", len(bs))
		}
		for _, b := range bs {
			if b.ViewShape[0] != len(b.Index) || (b.ViewShape[0] != 3 && b != bs[3]) {
				t.Fatalf("batch of %d examples, index %v", b.ViewShape[0], b.Index)
			}
			for e, id := range blueIDs(b) {
				if id == 2 || id == 5 || id == 7 || id != b.Index[e] {
					t.Errorf("example from video %d (index %d) in a batch", id, b.Index[e])
				}
			}
		}
	}
	if s := l.Stats(); s.Failed != 3 || s.Substituted != 6 {
		t.Errorf("stats %+v, want 3 failed and 6 substituted over 2 epochs", s)
	}
	if len(logs.lines) != 3 {
		t.Errorf("logged %d lines, want each bad video once: %v", len(logs.lines), logs.lines)
	}
	var paths []string
	for _, f := range l.FailedVideos() {
		paths = append(paths, f.Path)
		if f.Reason == "" {
			t.Errorf("%s failed without a reason", f.Path)
		}
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"v2.mp4", "v5.mp4", "v7.mp4"}) {
		t.Errorf("failed videos %v", paths)
	}
}

func TestAllVideosFailing(t *testing.T) {
	samples, op := fakeSet(4, map[int]fakeFile{0: {openErr: errCorrupt}, 1: {openErr: errCorrupt}, 2: {openErr: errCorrupt}, 3: {openErr: errCorrupt}})
	it, err := mustNew(t, testConfig(samples, op, 2, 1)).Epoch(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if _, err := it.Next(); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("error %v, want one saying the videos failed", err)
	}
}

func TestIterateKeepsOrderAndDropsFailures(t *testing.T) {
	samples, op := fakeSet(7, map[int]fakeFile{4: {openErr: errCorrupt}})
	cfg := testConfig(samples, op, 3, 1)
	cfg.DropLast = true
	cfg.Sampler = UniformClips{K: 2, Frames: 4, Stride: 1, Aug: AugEval(4), Crops: 3}
	l := mustNew(t, cfg)
	var seen []int
	err := l.ForEach(func(b *Batch) error {
		if len(b.Views) != 6 {
			t.Errorf("%d views want 2 clips x 3 crops", len(b.Views))
		}
		seen = append(seen, b.Index...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, 1, 2, 3, 5, 6}) {
		t.Errorf("evaluation visited %v, want 0..6 without the failing 4, last partial batch kept", seen)
	}
	if s := l.Stats(); s.Dropped != 1 || s.Failed != 1 {
		t.Errorf("stats %+v want 1 dropped", s)
	}
	stop := errors.New("stop")
	if err := l.ForEach(func(*Batch) error { return stop }); err != stop {
		t.Errorf("ForEach returned %v, want the callback's error", err)
	}
}

func TestUnlabeledHasNoTargets(t *testing.T) {
	samples, op := fakeSet(4, nil)
	for i := range samples {
		samples[i].Label = dataset.Unlabeled
	}
	cfg := testConfig(samples, op, 2, 1)
	cfg.Sampler = TwoClips{Frames: 4, Stride: 1, MaxDistance: 4, Aug: AugStrong(8)}
	for _, b := range epochBatches(t, mustNew(t, cfg), 0, 0) {
		if len(b.Targets) != 0 || len(b.Views) != 2 {
			t.Fatalf("unlabeled batch has %d targets and %d views, want 0 and 2", len(b.Targets), len(b.Views))
		}
	}
}

func TestCloseEarlyAndStats(t *testing.T) {
	samples, op := fakeSet(12, nil)
	l := mustNew(t, testConfig(samples, op, 3, 1))
	it, _ := l.Epoch(0, 0)
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	it.Close()
	if _, err := it.Next(); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	s := l.Stats()
	if s.Batches != 1 || s.Examples < 3 || s.WorkerBusy <= 0 || s.Wall <= 0 || s.Workers != 3 {
		t.Errorf("stats %+v", s)
	}
	if u := s.WorkerUtilisation(); u <= 0 || u > 1 {
		t.Errorf("utilisation %g", u)
	}
	if f := s.WaitFraction(); f < 0 || f > 1 {
		t.Errorf("wait fraction %g", f)
	}
	if _, err := l.Epoch(0, -1); err == nil {
		t.Error("negative skip accepted")
	}
	if bs := epochBatches(t, l, 0, 9); len(bs) != 0 {
		t.Errorf("skip past the end gave %d batches", len(bs))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	samples, op := fakeSet(2, nil)
	good := testConfig(samples, op, 1, 1)
	cases := map[string]func(*Config){
		"no samples":   func(c *Config) { c.Samples = nil },
		"no opener":    func(c *Config) { c.Opener = nil },
		"no sampler":   func(c *Config) { c.Sampler = nil },
		"batch 0":      func(c *Config) { c.BatchSize = 0 },
		"drop all":     func(c *Config) { c.DropLast = true; c.BatchSize = 5 },
		"bad sampler":  func(c *Config) { c.Sampler = RandomClip{Frames: 0, Stride: 1, Aug: AugEval(8)} },
		"bad aug":      func(c *Config) { c.Sampler = RandomClip{Frames: 4, Stride: 1, Aug: AugConfig{Size: 8, Random: true}} },
		"neg decoding": func(c *Config) { c.DecodeShortSide = -1 },
	}
	for name, mod := range cases {
		cfg := good
		mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// panicSampler panics on one video, to check a sampler bug is contained.
type panicSampler struct{ RandomClip }

func (p panicSampler) Sample(r VideoReader, label int, rng *rand.Rand) (Example, error) {
	if label == 1 {
		panic("boom")
	}
	return p.RandomClip.Sample(r, label, rng)
}

func TestSamplerPanicIsContained(t *testing.T) {
	samples, op := fakeSet(3, nil)
	cfg := testConfig(samples, op, 2, 1)
	cfg.Shuffle = false
	cfg.Sampler = panicSampler{RandomClip{Frames: 2, Stride: 1, Aug: AugEval(4)}}
	l := mustNew(t, cfg)
	var seen []int
	if err := l.ForEach(func(b *Batch) error { seen = append(seen, b.Index...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, 2}) {
		t.Errorf("visited %v", seen)
	}
	if f := l.FailedVideos(); len(f) != 1 || !strings.Contains(f[0].Reason, "boom") {
		t.Errorf("failed %v", f)
	}
}
