package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
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
