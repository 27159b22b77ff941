package loader

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/testopener"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/prepare"
	"github.com/vidrep/vidrep/video"
)

// realOpener returns the default decoder, skipping the test in a noav build.
func realOpener(t *testing.T) video.Opener {
	t.Helper()
	testvideo.FFmpeg(t)
	op := video.NewOpener()
	if _, err := op.Open("/nonexistent"); errors.Is(err, video.ErrNoDecoder) {
		t.Skip("built without a decoder (noav)")
	}
	return op
}

func TestFileReaderMatchesFFmpeg(t *testing.T) {
	op := realOpener(t)
	dir := t.TempDir()
	for _, codec := range []string{"mpeg4", "h264"} {
		t.Run(codec, func(t *testing.T) {
			path := filepath.Join(dir, "clip_"+codec+map[string]string{"mpeg4": ".avi", "h264": ".mp4"}[codec])
			testvideo.Make(t, path, testvideo.Options{Frames: 12, Width: 64, Height: 48, Codec: codec, GOP: 4, Seed: 3})
			want, fw, fh := testvideo.DecodeRGB(t, path, 43, 32, "bilinear")
			r, err := OpenReader(op, path, 0, 32, Loop)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.NumFrames() != 12 {
				t.Fatalf("NumFrames %d want 12", r.NumFrames())
			}
			// Frames 7, 10, then looped 1, 4.
			c, err := r.Read(7, 4, 3)
			if err != nil {
				t.Fatal(err)
			}
			if c.W != fw || c.H != fh {
				t.Fatalf("decoded %dx%d, ffmpeg %dx%d", c.W, c.H, fw, fh)
			}
			for i, src := range []int{7, 10, 1, 4} {
				if d := meanAbsDiff(c.Frame(i), want[src]); d > 2 {
					t.Errorf("clip frame %d vs ffmpeg frame %d: mean abs diff %.2f", i, src, d)
				}
			}
		})
	}
}

func meanAbsDiff(a, b []uint8) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s / float64(len(a))
}

func TestLoaderOverRealVideos(t *testing.T) {
	op := realOpener(t)
	root := t.TempDir()
	var samples []dataset.Sample
	for i, codec := range []string{"mpeg4", "h264", "mpeg4", "h264"} {
		rel := filepath.Join("clips", "v_good_"+string(rune('a'+i))+map[string]string{"mpeg4": ".avi", "h264": ".mp4"}[codec])
		testvideo.Make(t, filepath.Join(root, rel), testvideo.Options{Frames: 16, Codec: codec, GOP: 8, Seed: i})
		samples = append(samples, dataset.Sample{Path: rel, Label: i % 2})
	}
	bad := map[string]bool{}
	for _, f := range testvideo.Hostile(t, root, "hostile") {
		samples = append(samples, dataset.Sample{Path: f.Rel, Label: 1})
		if !f.Decodable {
			bad[f.Rel] = true
		}
	}
	samples = append(samples, dataset.Sample{Path: "missing/v_gone.mp4", Label: 0})
	bad["missing/v_gone.mp4"] = true

	cfg := Config{
		Root: root, Samples: samples, Opener: op,
		Sampler:   RandomClip{Frames: 8, Stride: 2, Aug: AugTrain(32)},
		BatchSize: 4, Workers: 2, Seed: 1, Shuffle: true, DecodeShortSide: 40,
		Logf: func(string, ...any) {},
	}
	l := mustNew(t, cfg)
	runs := make([][]*Batch, 2)
	for k := range runs {
		if k == 1 { // a fresh loader with another worker count gives the same batches
			cfg.Workers = 3
			l = mustNew(t, cfg)
		}
		it, err := l.Epoch(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := it.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.ViewShape != [5]int{len(b.Index), 8, 32, 32, 3} {
				t.Fatalf("view shape %v", b.ViewShape)
			}
			for _, idx := range b.Index {
				if bad[samples[idx].Path] {
					t.Errorf("a clip of undecodable %s reached a batch", samples[idx].Path)
				}
			}
			for _, v := range b.Views[0] {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 5 {
					t.Fatalf("value %g out of the normalised range", v)
				}
			}
			runs[k] = append(runs[k], b)
		}
		it.Close()
	}
	if len(runs[0]) != l.StepsPerEpoch() {
		t.Errorf("%d batches, want %d", len(runs[0]), l.StepsPerEpoch())
	}
	if !sameBatches(runs[0], runs[1]) {
		t.Error("the same epoch through the real decoder gave different batches with 2 and 3 workers")
	}
	var failed []string
	for _, f := range l.FailedVideos() {
		failed = append(failed, f.Path)
	}
	slices.Sort(failed)
	var want []string
	for p := range bad {
		want = append(want, p)
	}
	slices.Sort(want)
	if !slices.Equal(failed, want) {
		t.Errorf("failed videos %v, want the undecodable %v", failed, want)
	}
}

func TestLoaderReadsPrepareCache(t *testing.T) {
	op := &testopener.Recording{Opener: realOpener(t)}
	root := t.TempDir()
	var samples []dataset.Sample
	var paths []string
	for i := range 2 {
		rel := filepath.Join("c", "v_ok_"+string(rune('a'+i))+".avi")
		testvideo.Make(t, filepath.Join(root, rel), testvideo.Options{Frames: 20, Codec: "mpeg4", Seed: i})
		samples = append(samples, dataset.Sample{Path: rel, Label: i})
		paths = append(paths, rel)
	}
	testvideo.ZeroByte(t, filepath.Join(root, "c", "v_zero.mp4"))
	samples = append(samples, dataset.Sample{Path: "c/v_zero.mp4", Label: 0})
	paths = append(paths, "c/v_zero.mp4")
	if _, err := prepare.Run(context.Background(), prepare.Options{Root: root, Paths: paths, Workers: 1, Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Root: root, Samples: samples, Opener: op,
		Sampler:   UniformClips{K: 2, Frames: 4, Stride: 2, Aug: AugEval(16)},
		BatchSize: 2, Workers: 1, DecodeShortSide: 24, Logf: func(string, ...any) {},
	}
	l := mustNew(t, cfg)
	if c := l.Cache(); c.Cached != 2 || c.Quarantined != 1 {
		t.Fatalf("cache coverage %v, want 2 cached and 1 quarantined", c)
	}
	var seen []int
	if err := l.ForEach(func(b *Batch) error { seen = append(seen, b.Index...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, 1}) {
		t.Errorf("evaluated %v, want the two cached videos", seen)
	}
	for _, p := range op.Paths() {
		if !strings.HasPrefix(p, prepare.CacheDir(root)) {
			t.Errorf("opened %s outside the cache", p)
		}
	}
	// Source names what was opened, and that the quarantined file was not.
	for i := range samples {
		path, frames, ok := l.Source(i)
		if quarantined := i == 2; ok == quarantined {
			t.Errorf("sample %d: Source says read %v, want %v", i, ok, !quarantined)
		} else if ok && (!slices.Contains(op.Paths(), path) || frames != 20) {
			t.Errorf("sample %d: Source %s with %d frames; opened %v, 20 frames", i, path, frames, op.Paths())
		}
	}
	if f := l.FailedVideos(); len(f) != 1 || !strings.Contains(f[0].Reason, "quarantined") {
		t.Errorf("failed %v, want the zero-byte file reported as quarantined", f)
	}
	cfg.NoCache = true
	if c := mustNew(t, cfg).Cache(); c.Cached != 0 || c.Quarantined != 0 {
		t.Errorf("NoCache still uses the cache: %v", c)
	}
	// A caller's own Locate still gets the quarantine applied.
	cfg.NoCache = false
	cfg.Locate = func(root string, s dataset.Sample) (string, int) { return filepath.Join(root, s.Path), 0 }
	l = mustNew(t, cfg)
	if err := l.ForEach(func(*Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f := l.FailedVideos(); len(f) != 1 || !strings.Contains(f[0].Reason, "quarantined") {
		t.Errorf("with a custom Locate, failed %v, want the zero-byte file reported as quarantined", f)
	}
}
