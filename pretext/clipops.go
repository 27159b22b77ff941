package pretext

import (
	"fmt"
	"math/rand/v2"

	"github.com/vidrep/vidrep/loader"
)

// frameLen is the number of values of one frame of c.
func frameLen(c loader.ClipTensor) int { return c.H * c.W * 3 }

// RotateClip returns c with every frame turned k quarter turns
// counter-clockwise (k mod 4; negative k turns clockwise). Frames must be
// square unless k is even.
func RotateClip(c loader.ClipTensor, k int) loader.ClipTensor {
	k = ((k % 4) + 4) % 4
	if k%2 == 1 && c.H != c.W {
		panic(fmt.Sprintf("pretext: rotating a %dx%d frame by 90 degrees needs a square crop", c.H, c.W))
	}
	out := loader.ClipTensor{T: c.T, H: c.H, W: c.W, Data: make([]float32, len(c.Data))}
	if k%2 == 1 {
		out.H, out.W = c.W, c.H
	}
	n := frameLen(c)
	for t := 0; t < c.T; t++ {
		src, dst := c.Data[t*n:(t+1)*n], out.Data[t*n:(t+1)*n]
		for y := 0; y < c.H; y++ {
			for x := 0; x < c.W; x++ {
				ny, nx := rotatedPos(y, x, c.H, c.W, k)
				copy(dst[(ny*out.W+nx)*3:(ny*out.W+nx)*3+3], src[(y*c.W+x)*3:(y*c.W+x)*3+3])
			}
		}
	}
	return out
}

// rotatedPos is where pixel (y,x) of an h x w frame lands after k
// counter-clockwise quarter turns.
func rotatedPos(y, x, h, w, k int) (int, int) {
	switch k {
	case 1:
		return w - 1 - x, y
	case 2:
		return h - 1 - y, w - 1 - x
	case 3:
		return x, h - 1 - y
	}
	return y, x
}

// PermuteFrames returns c with its frames in the order perm: frame i of the
// result is frame perm[i] of c.
func PermuteFrames(c loader.ClipTensor, perm []int) loader.ClipTensor {
	if len(perm) != c.T {
		panic(fmt.Sprintf("pretext: permutation of %d frames for a clip of %d", len(perm), c.T))
	}
	out := loader.ClipTensor{T: c.T, H: c.H, W: c.W, Data: make([]float32, len(c.Data))}
	n := frameLen(c)
	for i, p := range perm {
		copy(out.Data[i*n:(i+1)*n], c.Data[p*n:(p+1)*n])
	}
	return out
}

// ReverseFrames returns c played backwards.
func ReverseFrames(c loader.ClipTensor) loader.ClipTensor {
	perm := make([]int, c.T)
	for i := range perm {
		perm[i] = c.T - 1 - i
	}
	return PermuteFrames(c, perm)
}

// concatRaw stacks raw clips of the same frame size along time, so that one
// augmentation call treats them all the same way.
func concatRaw(clips []*loader.RawClip) (*loader.RawClip, error) {
	first := clips[0]
	out := &loader.RawClip{H: first.H, W: first.W}
	for _, c := range clips {
		if c.H != first.H || c.W != first.W {
			return nil, fmt.Errorf("pretext: clips of one video differ in size (%dx%d vs %dx%d)", c.H, c.W, first.H, first.W)
		}
		out.T += c.T
		out.Pix = append(out.Pix, c.Pix...)
	}
	return out, nil
}

// splitClip cuts c along time into k clips of c.T/k frames.
func splitClip(c loader.ClipTensor, k int) []loader.ClipTensor {
	t := c.T / k
	n := frameLen(c) * t
	out := make([]loader.ClipTensor, k)
	for i := range out {
		out[i] = loader.ClipTensor{T: t, H: c.H, W: c.W, Data: c.Data[i*n : (i+1)*n]}
	}
	return out
}

// randomStart draws the first frame of a window of span frames in a video of
// n frames; short videos start at 0 (the reader loops or pads past the end).
func randomStart(n, span int, rng *rand.Rand) int {
	if n <= span {
		return 0
	}
	return rng.IntN(n - span + 1)
}

// span is the number of source frames frames frames at stride cover.
func span(frames, stride int) int { return (frames-1)*stride + 1 }

// readClips reads clips of frames frames each, at stride, starting at starts,
// and augments them together (the same crop, flip and colour change on all).
func readClips(r loader.VideoReader, starts []int, frames, stride int, aug AugmentFunc, rng *rand.Rand) ([]loader.ClipTensor, error) {
	if aug == nil {
		return nil, fmt.Errorf("pretext: no augmentation configured (Options.Augment is nil)")
	}
	raws := make([]*loader.RawClip, len(starts))
	for i, s := range starts {
		raw, err := r.Read(s, frames, stride)
		if err != nil {
			return nil, err
		}
		if raw.T != frames {
			return nil, fmt.Errorf("pretext: reader gave %d frames, asked for %d", raw.T, frames)
		}
		raws[i] = raw
	}
	all, err := concatRaw(raws)
	if err != nil {
		return nil, err
	}
	return splitClip(aug(all, rng), len(starts)), nil
}

// readClip reads and augments one clip.
func readClip(r loader.VideoReader, start, frames, stride int, aug AugmentFunc, rng *rand.Rand) (loader.ClipTensor, error) {
	cs, err := readClips(r, []int{start}, frames, stride, aug, rng)
	if err != nil {
		return loader.ClipTensor{}, err
	}
	return cs[0], nil
}
