package evaluate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Linear probes of one backbone share the test set's features: a later probe
// runs no test clip, and gets the numbers of a probe that extracted them
// itself. Another backbone, or a test video changed on disk, misses.
func TestLinearProbesShareTheTestFeatures(t *testing.T) {
	data := tinyData(t)
	dir := t.TempDir()
	cache := NewFeatureCache(DefaultFeatureCacheBytes)
	probe := func(name, init string, seed uint64, c *FeatureCache) *Result {
		t.Helper()
		cfg := tinyFinetune(data, filepath.Join(dir, name))
		cfg.Linear, cfg.LinearClips, cfg.Labels, cfg.Seed = true, 2, "2/class", seed
		if init != "" {
			cfg.Init, cfg.Arch, cfg.Widths = init, "", nil
		}
		cfg.Runtime.Features = c
		r, err := Finetune(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := probe("first", "", 3, cache) // random init from seed 3
	if first.Test.FeaturesReused || first.Test.ClipsPerS == 0 {
		t.Fatalf("the first probe reused features (%v) or ran no clip (%.1f clips/s)", first.Test.FeaturesReused, first.Test.ClipsPerS)
	}

	// Another label draw on the same backbone reuses the test features.
	again := probe("again", first.RunDir, 4, cache)
	if !again.Test.FeaturesReused || again.Test.ClipsPerS != 0 {
		t.Errorf("a probe of the same backbone: reused %v, %.1f clips/s; want the kept features", again.Test.FeaturesReused, again.Test.ClipsPerS)
	}
	alone := probe("alone", first.RunDir, 4, NewFeatureCache(0))
	if alone.Test.FeaturesReused {
		t.Error("a cache that keeps nothing gave features")
	}
	if !reflect.DeepEqual(again.Test.Video, alone.Test.Video) || !reflect.DeepEqual(again.Test.Clip, alone.Test.Clip) ||
		!sameFile(t, filepath.Join(again.RunDir, "eval", "predictions.csv"), filepath.Join(alone.RunDir, "eval", "predictions.csv")) {
		t.Errorf("reused features score %+v, extracted ones %+v", again.Test.Video, alone.Test.Video)
	}

	// Another random backbone misses.
	if other := probe("other", "", 5, cache); other.Test.FeaturesReused {
		t.Error("a probe of another backbone reused the first one's features")
	}
	// So does the same backbone once a test video has changed on disk.
	tests, err := filepath.Glob(filepath.Join(data, "test", "*", "*.mp4"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no test videos (%v)", err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(tests[0], later, later); err != nil {
		t.Fatal(err)
	}
	if changed := probe("changed", first.RunDir, 4, cache); changed.Test.FeaturesReused {
		t.Errorf("features reused after %s changed", tests[0])
	}
}

// blockingExtract counts its calls and, once release is closed, returns a
// one-row perView, or err.
type blockingExtract struct {
	mu      sync.Mutex
	calls   int
	release chan struct{}
	err     error
}

func (b *blockingExtract) extract() (*perView, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	<-b.release
	if b.err != nil {
		return nil, b.err
	}
	return &perView{Index: []int{0}, Rows: [][][]float32{{{1, 2, 3}}}, Clips: 1}, nil
}

func (b *blockingExtract) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// askAll has n goroutines ask c for key at once while ext blocks, then
// releases it and returns what each got.
func askAll(t *testing.T, c *FeatureCache, n int, ext *blockingExtract) (pvs []*perView, reused []bool, errs []error) {
	t.Helper()
	pvs, reused, errs = make([]*perView, n), make([]bool, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pvs[i], reused[i], errs[i] = c.features(context.Background(), [32]byte{1}, ext.extract)
		}()
	}
	for ext.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the first
	close(ext.release)
	wg.Wait()
	return pvs, reused, errs
}

func TestFeatureCacheExtractsOnceForConcurrentProbes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int64
		keeps  bool
	}{{"kept", 1 << 20, true}, {"over budget", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewFeatureCache(tc.budget)
			ext := &blockingExtract{release: make(chan struct{})}
			pvs, reused, errs := askAll(t, c, 4, ext)
			if ext.count() != 1 {
				t.Fatalf("%d extractions for 4 probes at once, want 1", ext.count())
			}
			fresh := 0
			for i := range pvs {
				if errs[i] != nil || pvs[i] != pvs[0] {
					t.Fatalf("probe %d got %v, %v; want the one extraction", i, pvs[i], errs[i])
				}
				if !reused[i] {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d probes say they extracted, want 1", fresh)
			}
			// A later probe finds the features only if they were kept.
			later := &blockingExtract{release: make(chan struct{})}
			close(later.release)
			wantCalls := 0
			if !tc.keeps {
				wantCalls = 1
			}
			if _, hit, _ := c.features(context.Background(), [32]byte{1}, later.extract); hit != tc.keeps || later.count() != wantCalls {
				t.Errorf("a later probe: reused %v after %d extractions of its own, want reused %v and %d", hit, later.count(), tc.keeps, wantCalls)
			}
		})
	}
}

func TestFeatureCacheRetriesAfterAFailedExtraction(t *testing.T) {
	c := NewFeatureCache(1 << 20)
	failing := &blockingExtract{release: make(chan struct{}), err: errors.New("decoder gone")}
	done := make(chan error)
	go func() {
		_, _, err := c.features(context.Background(), [32]byte{2}, failing.extract)
		done <- err
	}()
	for failing.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A second probe waits for the first; when that fails, it extracts itself.
	second := &blockingExtract{release: make(chan struct{})}
	close(second.release)
	got := make(chan *perView)
	go func() {
		pv, _, err := c.features(context.Background(), [32]byte{2}, second.extract)
		if err != nil {
			t.Error(err)
		}
		got <- pv
	}()
	time.Sleep(20 * time.Millisecond)
	close(failing.release)
	if err := <-done; err == nil || err.Error() != "decoder gone" {
		t.Errorf("the failing probe got %v, want its own error", err)
	}
	if pv := <-got; pv == nil || second.count() != 1 {
		t.Errorf("the waiting probe got %v after %d extractions of its own, want its own features", pv, second.count())
	}

	// A waiter whose context ends stops waiting.
	slow := &blockingExtract{release: make(chan struct{})}
	go c.features(context.Background(), [32]byte{3}, slow.extract)
	for slow.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.features(ctx, [32]byte{3}, slow.extract); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled waiter got %v, want context.Canceled", err)
	}
	close(slow.release)

	// An extraction that panics leaves nothing behind: the next probe extracts.
	func() {
		defer func() { _ = recover() }()
		c.features(context.Background(), [32]byte{4}, func() (*perView, error) { panic("boom") })
	}()
	after := &blockingExtract{release: make(chan struct{})}
	close(after.release)
	if pv, hit, err := c.features(context.Background(), [32]byte{4}, after.extract); err != nil || hit || pv == nil {
		t.Errorf("after a panicked extraction: %v, reused %v, %v; want a fresh extraction", pv, hit, err)
	}
}
