package loader

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/prepare"
	"github.com/vidrep/vidrep/video"
)

// benchClip is a 16-frame 171x128 clip, the decode size of a 112 crop.
func benchClip() *RawClip { return repeatedClip(16, 128, 171, 1) }

// cpuTime is the process's user+system CPU time (wall time is meaningless on
// a shared machine; CPU time per op is what the throughput targets count).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ms/op metric measured since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkAugment(b *testing.B) {
	raw := benchClip()
	blur := AugStrong(112)
	blur.BlurProb, blur.BlurSigmaMin, blur.BlurSigmaMax = 1, 2, 2
	cases := []struct {
		name string
		cfg  AugConfig
	}{{"eval", AugEval(112)}, {"train", AugTrain(112)}, {"strong", AugStrong(112)}, {"blur-sigma2", blur}}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			start := cpuTime()
			for b.Loop() {
				Augment(raw, tc.cfg, rng)
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkLoaderCache measures training clips (16x112x112, stride 2,
// AugTrain) per CPU-second through the whole loader, reading a prepare cache
// (H.264, GOP 16, short side 128) of 320x240 MPEG-4 sources.
func BenchmarkLoaderCache(b *testing.B) {
	testvideo.FFmpeg(b)
	root := b.TempDir()
	var samples []dataset.Sample
	var paths []string
	for i := range 4 {
		rel := fmt.Sprintf("v_%d.avi", i)
		testvideo.Make(b, filepath.Join(root, rel), testvideo.Options{Frames: 150, Width: 320, Height: 240, Codec: "mpeg4", Seed: i})
		samples = append(samples, dataset.Sample{Path: rel, Label: i})
		paths = append(paths, rel)
	}
	if _, err := prepare.Run(context.Background(), prepare.Options{Root: root, Paths: paths, Workers: 2, Progress: io.Discard}); err != nil {
		b.Fatal(err)
	}
	// Baseline in the same run: open the cache entry and decode the clip with
	// the video package alone (what anchors.md's cache-read row measures).
	b.Run("decode-only", func(b *testing.B) {
		locate, _, err := CacheLocator(root, samples)
		if err != nil {
			b.Fatal(err)
		}
		op := video.NewOpener()
		rng := rand.New(rand.NewPCG(1, 1))
		start := cpuTime()
		clips := 0
		for i := 0; b.Loop(); i++ {
			path, n := locate(root, samples[i%len(samples)])
			v, err := op.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := v.ReadClip(video.ClipRequest{Start: RandomStart(n, 16, 2, rng), Frames: 16, Stride: 2, ShortSide: 128}); err != nil {
				b.Fatal(err)
			}
			v.Close()
			clips++
		}
		b.ReportMetric(float64(clips)/(cpuTime()-start).Seconds(), "clips/cpu-s")
	})
	for _, tc := range []struct {
		name string
		aug  AugConfig
	}{{"eval", AugEval(112)}, {"train", AugTrain(112)}} {
		b.Run(tc.name, func(b *testing.B) {
			l, err := New(Config{Root: root, Samples: samples, Opener: video.NewOpener(),
				Sampler:   RandomClip{Frames: 16, Stride: 2, Aug: tc.aug},
				BatchSize: 4, Workers: 1, Shuffle: true, DecodeShortSide: 128})
			if err != nil {
				b.Fatal(err)
			}
			if l.Cache().Cached != 4 {
				b.Fatalf("cache coverage %v", l.Cache())
			}
			start := cpuTime()
			clips := 0
			for e := 0; b.Loop(); e++ {
				it, _ := l.Epoch(e, 0)
				bt, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				clips += bt.ViewShape[0]
				it.Close()
			}
			cpu := cpuTime() - start
			b.ReportMetric(float64(clips)/cpu.Seconds(), "clips/cpu-s")
		})
	}
}
