package loader

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vidrep/vidrep/dataset"
)

func TestUniformStarts(t *testing.T) {
	cases := []struct {
		n, frames, stride, k int
		want                 []int
	}{
		{100, 16, 2, 1, []int{34}},            // room 69, centred
		{100, 16, 2, 4, []int{0, 23, 46, 69}}, // last clip ends on frame 99
		{10, 16, 2, 3, []int{0, 0, 0}},        // shorter than a clip
		{40, 1, 1, 5, []int{0, 10, 20, 29, 39}},
	}
	for _, tc := range cases {
		if got := UniformStarts(tc.n, tc.frames, tc.stride, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("UniformStarts(%d,%d,%d,%d) = %v want %v", tc.n, tc.frames, tc.stride, tc.k, got, tc.want)
		}
	}
}

func TestRandomStartFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	seen := map[int]bool{}
	for range 2000 {
		s := RandomStart(40, 8, 3, rng) // span 22: starts 0..18
		if s < 0 || s > 18 {
			t.Fatalf("start %d outside [0,18]", s)
		}
		seen[s] = true
	}
	if len(seen) != 19 {
		t.Errorf("saw %d distinct starts, want all 19", len(seen))
	}
	if s := RandomStart(5, 8, 3, rng); s != 0 {
		t.Errorf("short video start %d want 0", s)
	}
}

func TestTwoClipsDistance(t *testing.T) {
	cases := []struct {
		name     string
		s        TwoClips
		n        int
		min, max int
	}{
		{"bounded", TwoClips{Frames: 4, Stride: 2, MinDistance: 3, MaxDistance: 10}, 100, 3, 10},
		{"same start", TwoClips{Frames: 4, Stride: 2, MaxDistance: 0}, 100, 0, 0},
		{"anywhere", TwoClips{Frames: 4, Stride: 2, MaxDistance: -1}, 50, 0, 43},
		{"shrunk to fit", TwoClips{Frames: 4, Stride: 2, MinDistance: 20, MaxDistance: 30}, 20, 13, 13},
		{"three clips", TwoClips{Frames: 4, Stride: 1, MaxDistance: 5, N: 3}, 30, 0, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, 2))
			for range 500 {
				st := tc.s.Starts(tc.n, rng)
				want := max(2, tc.s.N)
				if len(st) != want {
					t.Fatalf("%d starts want %d", len(st), want)
				}
				for _, s := range st[1:] {
					d := s - st[0]
					if d < tc.min || d > tc.max {
						t.Fatalf("distance %d outside [%d,%d]", d, tc.min, tc.max)
					}
					if s+Span(tc.s.Frames, tc.s.Stride) > tc.n {
						t.Fatalf("clip at %d runs past %d frames", s, tc.n)
					}
				}
			}
		})
	}
}

func TestSamplersOnMemoryVideo(t *testing.T) {
	clip := countingClip(30)
	r := &MemoryReader{Clip: clip}
	rng := rand.New(rand.NewPCG(3, 3))
	plainAug := AugConfig{Size: 2} // values = pixel/255
	cases := []struct {
		name    string
		s       Sampler
		label   int
		views   int
		targets []int32
	}{
		{"random clip", RandomClip{Frames: 4, Stride: 2, Aug: AugTrain(2)}, 2, 1, []int32{2}},
		{"random clip unlabeled", RandomClip{Frames: 4, Stride: 2, Aug: AugTrain(2)}, dataset.Unlabeled, 1, nil},
		{"uniform 5x1", UniformClips{K: 5, Frames: 4, Stride: 1, Aug: plainAug}, 1, 5, []int32{1}},
		{"uniform 2x3", UniformClips{K: 2, Frames: 4, Stride: 1, Aug: plainAug, Crops: 3}, 0, 6, []int32{0}},
		{"two clips", TwoClips{Frames: 4, Stride: 1, MaxDistance: 8, Aug: AugStrong(2)}, dataset.Unlabeled, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := tc.s.Sample(r, tc.label, rng)
			if err != nil {
				t.Fatal(err)
			}
			if len(ex.Views) != tc.views || !slices.Equal(ex.Targets, tc.targets) {
				t.Fatalf("%d views targets %v, want %d and %v", len(ex.Views), ex.Targets, tc.views, tc.targets)
			}
			if err := checkExample(ex); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Uniform clips read the frames UniformStarts names (green = frame index).
	ex, _ := UniformClips{K: 3, Frames: 2, Stride: 1, Aug: plainAug}.Sample(r, 0, nil)
	for k, want := range UniformStarts(30, 2, 1, 3) {
		got := int(ex.Views[k].Data[1]*255 + 0.5)
		if got != want {
			t.Errorf("clip %d starts at frame %d want %d", k, got, want)
		}
	}
}
