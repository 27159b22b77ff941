package loader

import (
	"fmt"
	"math/rand/v2"

	"github.com/vidrep/vidrep/dataset"
)

// Span is the number of source frames a clip of frames frames at stride covers.
func Span(frames, stride int) int {
	return (frames-1)*stride + 1
}

// RandomStart draws a clip start so that the clip fits in n frames; when it
// cannot fit, the start is 0 and the reader's short-video policy fills in.
func RandomStart(n, frames, stride int, rng *rand.Rand) int {
	room := n - Span(frames, stride)
	if room <= 0 {
		return 0
	}
	return rng.IntN(room + 1)
}

// UniformStarts returns k clip starts spread evenly over n frames, first at 0
// and last ending at the last frame (one clip is centred).
func UniformStarts(n, frames, stride, k int) []int {
	room := max(0, n-Span(frames, stride))
	starts := make([]int, k)
	for i := range starts {
		if k == 1 {
			starts[i] = room / 2
		} else {
			starts[i] = (2*i*room + (k - 1)) / (2 * (k - 1)) // round(i*room/(k-1))
		}
	}
	return starts
}

// labelTargets is [label] for a labeled sample and nothing for an unlabeled one.
func labelTargets(label int) []int32 {
	if label == dataset.Unlabeled {
		return nil
	}
	return []int32{int32(label)}
}

// checkClip validates the common clip fields of a Sampler.
func checkClip(name string, frames, stride int, aug AugConfig) error {
	if frames <= 0 || stride <= 0 {
		return fmt.Errorf("%s: frames %d and stride %d must be positive", name, frames, stride)
	}
	if err := aug.Validate(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// RandomClip is the training sampler: one clip at a random start, one view,
// target = the label (no target for unlabeled samples).
type RandomClip struct {
	Frames, Stride int
	Aug            AugConfig
}

// Validate checks the fields.
func (s RandomClip) Validate() error { return checkClip("random clip", s.Frames, s.Stride, s.Aug) }

// Sample reads one random clip and augments it.
func (s RandomClip) Sample(r VideoReader, label int, rng *rand.Rand) (Example, error) {
	start := RandomStart(r.NumFrames(), s.Frames, s.Stride, rng)
	raw, err := r.Read(start, s.Frames, s.Stride)
	if err != nil {
		return Example{}, err
	}
	return Example{Views: []ClipTensor{Augment(raw, s.Aug, rng)}, Targets: labelTargets(label)}, nil
}

// UniformClips is the testing sampler: K clips spaced uniformly over the
// video, each cut into Crops evaluation crops (Aug.Crops is overridden). The
// example holds K*Crops views ordered clip-major (view k*Crops+c is crop c of
// clip k); target = the label. With Aug.Random the views are random
// augmentations instead of fixed crops (one per clip unless Crops > 1).
type UniformClips struct {
	K, Frames, Stride int
	Aug               AugConfig
	Crops             int // 1 or 3; 0 means 1
}

// Validate checks the fields.
func (s UniformClips) Validate() error {
	if s.K <= 0 {
		return fmt.Errorf("uniform clips: K %d must be positive", s.K)
	}
	if s.Crops != 0 && s.Crops != 1 && s.Crops != 3 {
		return fmt.Errorf("uniform clips: %d crops; use 1 or 3", s.Crops)
	}
	return checkClip("uniform clips", s.Frames, s.Stride, s.Aug)
}

// Views is the number of views per example (K * Crops).
func (s UniformClips) Views() int { return s.K * max(1, s.Crops) }

// Sample reads the K clips and crops each.
func (s UniformClips) Sample(r VideoReader, label int, rng *rand.Rand) (Example, error) {
	crops := max(1, s.Crops)
	aug := s.Aug
	aug.Crops = crops
	ex := Example{Views: make([]ClipTensor, 0, s.K*crops), Targets: labelTargets(label)}
	for _, start := range UniformStarts(r.NumFrames(), s.Frames, s.Stride, s.K) {
		raw, err := r.Read(start, s.Frames, s.Stride)
		if err != nil {
			return Example{}, err
		}
		if aug.Random {
			for range crops {
				ex.Views = append(ex.Views, Augment(raw, aug, rng))
			}
			continue
		}
		ex.Views = append(ex.Views, EvalCrops(raw, aug)...)
	}
	return ex, nil
}

// TwoClips is the contrastive sampler: N clips (2 when N is 0) of one video,
// each with its own augmentation. Clip 0 starts at a random frame; every other
// clip starts a distance drawn from [MinDistance, MaxDistance] frames later
// (MaxDistance < 0: anywhere later in the video; 0: the same start, so only
// the augmentation differs). Distances are shrunk to fit the video. Target =
// the label for labeled samples, none otherwise.
type TwoClips struct {
	Frames, Stride int
	MinDistance    int
	MaxDistance    int
	N              int
	Aug            AugConfig
}

// Validate checks the fields.
func (s TwoClips) Validate() error {
	if s.N < 0 || s.N == 1 {
		return fmt.Errorf("two clips: N %d; use 0 (two clips) or at least 2", s.N)
	}
	if s.MinDistance < 0 || (s.MaxDistance >= 0 && s.MinDistance > s.MaxDistance) {
		return fmt.Errorf("two clips: distance range [%d,%d] must be non-negative and ordered", s.MinDistance, s.MaxDistance)
	}
	return checkClip("two clips", s.Frames, s.Stride, s.Aug)
}

// Starts draws the clip starts for a video of n frames.
func (s TwoClips) Starts(n int, rng *rand.Rand) []int {
	count := s.N
	if count == 0 {
		count = 2
	}
	room := max(0, n-Span(s.Frames, s.Stride)) // latest start that fits
	hi := s.MaxDistance
	if hi < 0 || hi > room {
		hi = room
	}
	lo := min(s.MinDistance, hi)
	d := make([]int, count)
	maxD := 0
	for i := 1; i < count; i++ {
		d[i] = lo + rng.IntN(hi-lo+1)
		maxD = max(maxD, d[i])
	}
	first := rng.IntN(room - maxD + 1)
	for i := range d {
		d[i] += first
	}
	return d
}

// Sample reads the clips and augments each independently.
func (s TwoClips) Sample(r VideoReader, label int, rng *rand.Rand) (Example, error) {
	starts := s.Starts(r.NumFrames(), rng)
	ex := Example{Views: make([]ClipTensor, len(starts)), Targets: labelTargets(label)}
	for i, start := range starts {
		raw, err := r.Read(start, s.Frames, s.Stride)
		if err != nil {
			return Example{}, err
		}
		ex.Views[i] = Augment(raw, s.Aug, rng)
	}
	return ex, nil
}
