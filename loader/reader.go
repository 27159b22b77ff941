package loader

import (
	"fmt"
	"strings"
)

// ShortPolicy says what a read past the last frame of a video returns.
type ShortPolicy int

const (
	// Loop wraps around to the first frame (the default).
	Loop ShortPolicy = iota
	// Pad repeats the last frame.
	Pad
)

// String returns "loop" or "pad".
func (p ShortPolicy) String() string {
	if p == Pad {
		return "pad"
	}
	return "loop"
}

// ParseShortPolicy parses "loop" or "pad" (case-insensitive; "" means loop).
func ParseShortPolicy(s string) (ShortPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "loop":
		return Loop, nil
	case "pad":
		return Pad, nil
	}
	return Loop, fmt.Errorf("unknown short-video policy %q; use loop or pad", s)
}

// frameIndex maps the wanted frame index i onto [0, n) by the policy.
func (p ShortPolicy) frameIndex(i, n int) int {
	if i < n {
		return i
	}
	if p == Pad {
		return n - 1
	}
	return i % n
}

// clipIndices lists the source frames of a read of frames frames at stride
// from start in a video of n frames.
func (p ShortPolicy) clipIndices(start, frames, stride, n int) []int {
	idx := make([]int, frames)
	for i := range idx {
		idx[i] = p.frameIndex(start+i*stride, n)
	}
	return idx
}

// checkRead validates the arguments of VideoReader.Read.
func checkRead(start, frames, stride int) error {
	if start < 0 || frames <= 0 || stride <= 0 {
		return fmt.Errorf("invalid clip read: start %d, frames %d, stride %d (need start >= 0, frames and stride > 0)", start, frames, stride)
	}
	return nil
}

// MemoryReader is a VideoReader over frames held in memory (tests, and videos
// decoded once). Reads past the end follow Policy.
type MemoryReader struct {
	Clip   *RawClip
	Policy ShortPolicy
}

// NumFrames returns the number of frames held.
func (m *MemoryReader) NumFrames() int { return m.Clip.T }

// Read copies the requested frames into a new RawClip.
func (m *MemoryReader) Read(start, frames, stride int) (*RawClip, error) {
	if err := checkRead(start, frames, stride); err != nil {
		return nil, err
	}
	c := m.Clip
	if c.T <= 0 {
		return nil, fmt.Errorf("video has no frames")
	}
	n := c.H * c.W * 3
	if len(c.Pix) < c.T*n {
		return nil, fmt.Errorf("raw clip holds %d bytes, want %d for %dx%dx%dx3", len(c.Pix), c.T*n, c.T, c.H, c.W)
	}
	out := &RawClip{T: frames, H: c.H, W: c.W, Pix: make([]uint8, frames*n)}
	for i, src := range m.Policy.clipIndices(start, frames, stride, c.T) {
		copy(out.Pix[i*n:(i+1)*n], c.Pix[src*n:(src+1)*n])
	}
	return out, nil
}

// Frame returns the pixels of frame i as a [H][W][3] slice of c.Pix.
func (c *RawClip) Frame(i int) []uint8 {
	n := c.H * c.W * 3
	return c.Pix[i*n : (i+1)*n]
}

// Frame returns the values of frame i as a [H][W][3] slice of c.Data.
func (c *ClipTensor) Frame(i int) []float32 {
	n := c.H * c.W * 3
	return c.Data[i*n : (i+1)*n]
}
