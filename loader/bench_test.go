package loader

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
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
