package loader

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/testopener"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/prepare"
)

// fakeCacheEntry writes root/rel and a finished prepare cache entry for it
// that records its size and mtime as prepare does, and returns the path of
// the cached video.
func fakeCacheEntry(t *testing.T, root, rel string) string {
	t.Helper()
	src := filepath.Join(root, rel)
	mustWrite(t, src, "source "+rel)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(src, old, old); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(prepare.CacheDir(root), rel)
	mustWrite(t, base+".mp4", "cached video")
	e := prepare.Entry{Source: rel, Frames: 16, Width: 8, Height: 6, FPS: 25, Bytes: int64(len("cached video")),
		SourceSize: st.Size(), SourceMTime: st.ModTime().UnixNano()}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, base+".json", string(data))
	return base + ".mp4"
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// staleCase is a cached video and what happens to its source after prepare.
type staleCase struct {
	name      string
	rel       string
	change    func(t *testing.T, src string)
	fromCache bool // the locator still serves the cache entry
}

var staleCases = []staleCase{
	{"unchanged", "a/v0.mp4", nil, true},
	{"replaced by another clip", "a/v1.mp4", func(t *testing.T, src string) {
		mustWrite(t, src, "a different, longer clip")
	}, false},
	{"touched", "b/v2.mp4", func(t *testing.T, src string) {
		now := time.Now()
		if err := os.Chtimes(src, now, now); err != nil {
			t.Fatal(err)
		}
	}, false},
	{"deleted", "b/v3.mp4", func(t *testing.T, src string) {
		if err := os.Remove(src); err != nil {
			t.Fatal(err)
		}
	}, false},
}

// staleRoot builds a cache of staleCases and applies their changes; it
// returns the root, the samples and each case's cached video.
func staleRoot(t *testing.T) (string, []dataset.Sample, []string) {
	t.Helper()
	root := t.TempDir()
	var samples []dataset.Sample
	var cached []string
	for i, c := range staleCases {
		cached = append(cached, fakeCacheEntry(t, root, c.rel))
		samples = append(samples, dataset.Sample{Path: c.rel, Label: i})
	}
	for _, c := range staleCases {
		if c.change != nil {
			c.change(t, filepath.Join(root, c.rel))
		}
	}
	return root, samples, cached
}

func TestCacheLocatorIgnoresStaleEntries(t *testing.T) {
	root, samples, cached := staleRoot(t)
	locate, n, err := CacheLocator(root, samples)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("serves %d samples from the cache, want 1 (only the unchanged one)", n)
	}
	for i, c := range staleCases {
		t.Run(c.name, func(t *testing.T) {
			path, frames := locate(root, samples[i])
			if c.fromCache {
				if path != cached[i] || frames != 16 {
					t.Errorf("locate = %s, %d; want the cache entry %s, 16", path, frames, cached[i])
				}
				return
			}
			if want := filepath.Join(root, c.rel); path != want || frames != 0 {
				t.Errorf("locate = %s, %d; want the source %s, 0 (not the stale cache)", path, frames, want)
			}
		})
	}
}

func TestLoaderReportsStaleCacheOnce(t *testing.T) {
	root, samples, cached := staleRoot(t)
	// The opener knows every cached video but only the sources still on disk.
	op := &fakeOpener{files: map[string]fakeFile{}}
	for i, c := range staleCases {
		op.files[cached[i]] = fakeFile{frames: 16, h: 6, w: 8, seed: 100 + i}
		if _, err := os.Stat(filepath.Join(root, c.rel)); err == nil {
			op.files[filepath.Join(root, c.rel)] = fakeFile{frames: 16, h: 6, w: 8, seed: i}
		}
	}
	rec := &testopener.Recording{Opener: op}
	var log logCounter
	cfg := Config{
		Root: root, Samples: samples, Opener: rec,
		Sampler:   UniformClips{K: 1, Frames: 2, Stride: 1, Aug: AugEval(6)},
		BatchSize: 2, Workers: 1, Logf: log.logf,
	}
	l := mustNew(t, cfg)
	if c := l.Cache(); c.Cached != 1 {
		t.Errorf("cache coverage %v, want 1 cached", c)
	}
	notices := func() []string {
		var out []string
		for _, line := range log.lines {
			if strings.Contains(line, "vidrep prepare --data") {
				out = append(out, line)
			}
		}
		return out
	}
	n := notices()
	if len(n) != 1 || !strings.Contains(n[0], "2 cached videos changed") || !strings.Contains(n[0], "--data "+root) || strings.Contains(n[0], "\n") {
		t.Fatalf("stale-cache notices %q, want one line naming 2 changed videos and vidrep prepare --data %s", n, root)
	}
	if err := l.ForEach(func(*Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	opened := rec.Paths()
	slices.Sort(opened)
	want := []string{cached[0], filepath.Join(root, "a/v1.mp4"), filepath.Join(root, "b/v2.mp4"), filepath.Join(root, "b/v3.mp4")}
	slices.Sort(want)
	if !slices.Equal(opened, want) {
		t.Errorf("opened %q, want %q: the unchanged video from the cache, the others from their sources", opened, want)
	}
	f := l.FailedVideos()
	if len(f) != 1 || f[0].Path != "b/v3.mp4" || !strings.Contains(f[0].Reason, "no such file") {
		t.Errorf("failed videos %v, want the deleted b/v3.mp4 reported missing, not read from the cache", f)
	}
	// A second loader over the same root in the same run says nothing more.
	mustNew(t, cfg)
	if n := notices(); len(n) != 1 {
		t.Errorf("%d stale-cache notices after a second loader, want 1", len(n))
	}
}

// TestLoaderReadsSwappedSource is QA's report end to end: prepare a dataset,
// copy another clip over one of its videos, and the loader must decode the
// new clip, exactly as without the cache, not the cached old one.
func TestLoaderReadsSwappedSource(t *testing.T) {
	op := &testopener.Recording{Opener: realOpener(t)}
	root := t.TempDir()
	var samples []dataset.Sample
	var paths []string
	for i := range 2 {
		rel := filepath.Join("c", "v"+string(rune('a'+i))+".avi")
		testvideo.Make(t, filepath.Join(root, rel), testvideo.Options{Frames: 20, Codec: "mpeg4", Seed: i})
		samples = append(samples, dataset.Sample{Path: rel, Label: i})
		paths = append(paths, rel)
	}
	if _, err := prepare.Run(context.Background(), prepare.Options{Root: root, Paths: paths, Workers: 1, Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	swapped := filepath.Join(root, paths[1])
	testvideo.Make(t, swapped, testvideo.Options{Frames: 24, Codec: "mpeg4", Seed: 7})
	var log logCounter
	cfg := Config{
		Root: root, Samples: samples, Opener: op,
		Sampler:   UniformClips{K: 1, Frames: 4, Stride: 2, Aug: AugEval(16)},
		BatchSize: 2, Workers: 1, DecodeShortSide: 24, Logf: log.logf,
	}
	l := mustNew(t, cfg)
	if c := l.Cache(); c.Cached != 1 {
		t.Errorf("cache coverage %v, want 1 cached", c)
	}
	got := collect(t, l.Iterate())
	if len(log.lines) != 1 || !strings.Contains(log.lines[0], "1 cached video changed") {
		t.Errorf("log %q, want one stale-cache notice", log.lines)
	}
	if !slices.Contains(op.Paths(), swapped) {
		t.Errorf("opened %v, want the swapped source %s", op.Paths(), swapped)
	}
	cfg.NoCache = true
	want := collect(t, mustNew(t, cfg).Iterate())
	if len(got) != 1 || len(want) != 1 || !slices.Equal(example(got[0], 1), example(want[0], 1)) {
		t.Errorf("the swapped video's clip differs from reading it without the cache")
	}
}

// example returns example k of view 0 of b.
func example(b *Batch, k int) []float32 {
	n := len(b.Views[0]) / b.ViewShape[0]
	return b.Views[0][k*n : (k+1)*n]
}

// noH264Opener is a fakeOpener that, like the noav build's, says it cannot
// read the prepare cache's H.264.
type noH264Opener struct{ *testopener.Recording }

func (noH264Opener) DecodesH264() bool { return false }

// TestLoaderSkipsCacheItCannotDecode: a dataset prepared by a libav build
// and copied with its cache to a machine whose binary reads no H.264 (a GPU
// server) is read from its source files, with one line saying why, instead
// of failing on every cached video.
func TestLoaderSkipsCacheItCannotDecode(t *testing.T) {
	root := t.TempDir()
	cached := fakeCacheEntry(t, root, "a/v0.y4m")
	src := filepath.Join(root, "a/v0.y4m")
	rec := &testopener.Recording{Opener: &fakeOpener{files: map[string]fakeFile{
		cached: {frames: 16, h: 6, w: 8, seed: 1}, src: {frames: 16, h: 6, w: 8, seed: 2}}}}
	var log logCounter
	l := mustNew(t, Config{
		Root: root, Samples: []dataset.Sample{{Path: "a/v0.y4m"}}, Opener: noH264Opener{rec},
		Sampler:   UniformClips{K: 1, Frames: 2, Stride: 1, Aug: AugEval(6)},
		BatchSize: 1, Workers: 1, Logf: log.logf,
	})
	if c := l.Cache(); c.Cached != 0 {
		t.Errorf("cache coverage %v, want none cached", c)
	}
	if err := l.ForEach(func(*Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := rec.Paths(); !slices.Equal(got, []string{src}) {
		t.Errorf("opened %q, want the source %s only", got, src)
	}
	if len(log.lines) != 1 || !strings.Contains(log.lines[0], "reads no H.264") || !strings.Contains(log.lines[0], root) {
		t.Errorf("log %q, want one line saying the cache under %s is not used", log.lines, root)
	}
}
