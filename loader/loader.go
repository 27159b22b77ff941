// Package loader turns videos into batches of clips: it samples clips, augments
// them consistently across the frames of a clip, normalises them, stacks them
// into the channels-last tensor layout the models use ([B,T,H,W,3] float32),
// and prefetches with workers. Batches are identical for the same seed and
// worker count.
//
// What a batch holds is decided by a Sampler: the standard ones (RandomClip:
// one random clip with its label; UniformClips: K uniform clips x 1 or 3
// crops for testing; TwoClips: two or more clips of a video at a bounded
// temporal distance for contrastive views) live here; the pretext package
// adds its own (clip order, playback speed, rotation, ...).
//
// Augment applies one draw of random parameters (resized crop, flip, colour
// jitter, grayscale, blur) to every frame of a clip; presets are AugTrain,
// AugStrong and AugEval. Reads past the end of a short video loop (or pad
// with the last frame). The Loader reads the prepare cache under the dataset
// root when it has an entry and leaves out the files prepare quarantined.
// Each example's random stream comes from (Seed, epoch, sample index), so
// batches do not depend on the number of workers and Epoch(e, skip) resumes
// exactly; a video that fails is reported once and replaced by the next one
// of the epoch's order (training) or left out of its batch (evaluation).
package loader

import (
	"math/rand/v2"
)

// ClipTensor is one processed clip: float32 values laid out [T][H][W][3],
// augmented and normalised, ready for a model.
type ClipTensor struct {
	T, H, W int
	Data    []float32
}

// VideoReader gives a Sampler access to the frames of one video. Reads past
// the end follow the loader's short-video policy (loop or pad), so a Sampler
// always gets the number of frames it asked for.
type VideoReader interface {
	// NumFrames is the number of decodable frames (at least 1).
	NumFrames() int
	// Read returns frames start, start+stride, ... (frames of them) at the
	// loader's decode size, as ClipTensor-ready uint8 RGB via the clip augmenter.
	Read(start, frames, stride int) (*RawClip, error)
}

// RawClip is decoded RGB bytes [T][H][W][3], before augmentation.
type RawClip struct {
	T, H, W int
	Pix     []uint8
}

// Example is what a Sampler makes of one video.
type Example struct {
	Views   []ClipTensor // one or more views, all of the same shape
	Targets []int32      // integer targets (class label, permutation index, speed class, ...)
}

// Sampler makes one Example from one video. label is the dataset label, or
// dataset.Unlabeled when the loader serves unlabeled data (pretraining).
type Sampler interface {
	Sample(r VideoReader, label int, rng *rand.Rand) (Example, error)
}

// Batch stacks the Examples of B videos.
type Batch struct {
	// Views[v] holds view v of every example, [B][T][H][W][3] flattened.
	Views [][]float32
	// ViewShape is [B, T, H, W, 3] of each view.
	ViewShape [5]int
	// Targets[j] holds target j of every example, length B.
	Targets [][]int32
	// Index holds the position of each example's video in the loader's list.
	Index []int
}
