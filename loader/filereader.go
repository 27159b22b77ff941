package loader

import (
	"fmt"

	"github.com/vidrep/vidrep/video"
)

// FileReader is a VideoReader over one opened video. Its frame count starts
// from the exact count the prepare cache recorded, or else the probe's
// estimate, and shrinks when a read finds the video shorter; missing frames
// then follow the short-video policy, so a Read returns exactly the frames
// asked for or an error, never a short clip.
type FileReader struct {
	v         video.Video
	path      string
	n         int
	shortSide int
	policy    ShortPolicy
}

// maxShrinks bounds how often one Read re-plans after finding the video shorter.
const maxShrinks = 32

// unknownFrames stands for a frame count the probe could not estimate; the
// first reads discover the real one.
const unknownFrames = 1 << 20

// OpenReader opens path with op. frames is the exact frame count when known
// (from the prepare cache), 0 to use the probe's estimate. Frames are scaled
// to shortSide (0 keeps the stored size).
func OpenReader(op video.Opener, path string, frames, shortSide int, policy ShortPolicy) (*FileReader, error) {
	v, err := op.Open(path)
	if err != nil {
		return nil, err
	}
	n := frames
	if n <= 0 {
		n = v.Info().Frames
	}
	if n <= 0 {
		n = unknownFrames
	}
	return &FileReader{v: v, path: path, n: n, shortSide: shortSide, policy: policy}, nil
}

// NumFrames is the frame count as currently known (at least 1).
func (r *FileReader) NumFrames() int { return r.n }

// Close releases the decoder.
func (r *FileReader) Close() error { return r.v.Close() }

// Read decodes frames start, start+stride, ... and fills reads past the end
// by the policy. Runs of consecutive indices are decoded with one request.
func (r *FileReader) Read(start, frames, stride int) (*RawClip, error) {
	if err := checkRead(start, frames, stride); err != nil {
		return nil, fmt.Errorf("%s: %w", r.path, err)
	}
	got := map[int][]uint8{}
	var h, w int
	if idx := r.policy.clipIndices(start, frames, stride, r.n); isRun(idx, stride) {
		// The common case: one request, and its frames are the clip as is.
		c, n, err := r.readRun(idx[0], frames, stride, got, &h, &w)
		if err != nil {
			return nil, err
		}
		if n == frames {
			return &RawClip{T: n, H: c.H, W: c.W, Pix: c.Pix[:n*c.H*c.W*3]}, nil
		}
		if err := r.shrink(idx[0], n, stride); err != nil {
			return nil, err
		}
	}
	for range maxShrinks {
		idx := r.policy.clipIndices(start, frames, stride, r.n)
		short, err := r.readRuns(idx, stride, got, &h, &w)
		if err != nil {
			return nil, err
		}
		if !short {
			return assemble(idx, got, h, w), nil
		}
	}
	return nil, fmt.Errorf("%s: the frame count kept shrinking while reading; the file is probably damaged (re-run vidrep prepare to quarantine it)", r.path)
}

// readRuns decodes the indices missing from got, one request per run of
// indices that advance by stride. It reports short when the video ended
// early, after lowering r.n to what was found.
func (r *FileReader) readRuns(idx []int, stride int, got map[int][]uint8, h, w *int) (short bool, err error) {
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[j-1]+stride {
			j++
		}
		if !allPresent(idx[i:j], got) {
			_, n, err := r.readRun(idx[i], j-i, stride, got, h, w)
			if err != nil {
				return false, err
			}
			if n < j-i {
				return true, r.shrink(idx[i], n, stride)
			}
		}
		i = j
	}
	return false, nil
}

// readRun decodes count frames from start at stride into got and returns the
// clip and how many frames came back.
func (r *FileReader) readRun(start, count, stride int, got map[int][]uint8, h, w *int) (*video.Clip, int, error) {
	c, err := r.v.ReadClip(video.ClipRequest{Start: start, Frames: count, Stride: stride, ShortSide: r.shortSide})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", r.path, err)
	}
	if c.T > 0 && *h == 0 {
		*h, *w = c.H, c.W
	}
	if c.T > 0 && (c.H != *h || c.W != *w) {
		return nil, 0, fmt.Errorf("%s: frame size changed from %dx%d to %dx%d between reads", r.path, *w, *h, c.W, c.H)
	}
	if c.T > count || len(c.Pix) < c.T*c.H*c.W*3 {
		return nil, 0, fmt.Errorf("%s: decoder returned %d frames with %d bytes for a request of %d", r.path, c.T, len(c.Pix), count)
	}
	for k := 0; k < c.T; k++ {
		got[start+k*stride] = c.Frame(k)
	}
	return c, c.T, nil
}

// isRun reports whether idx advances by stride throughout.
func isRun(idx []int, stride int) bool {
	for i := 1; i < len(idx); i++ {
		if idx[i] != idx[i-1]+stride {
			return false
		}
	}
	return true
}

// shrink lowers the frame count after a run from start returned n frames.
func (r *FileReader) shrink(start, n, stride int) error {
	// Nothing at start: the count is at most start; halve it so that a
	// wildly wrong estimate converges in a few reads under either policy.
	newN := min(start, max(1, start/2))
	if n > 0 {
		newN = start + (n-1)*stride + 1
	}
	if newN < 1 {
		return fmt.Errorf("%s: no decodable frames", r.path)
	}
	r.n = min(newN, r.n-1)
	return nil
}

// allPresent reports whether every index is in got.
func allPresent(idx []int, got map[int][]uint8) bool {
	for _, i := range idx {
		if _, ok := got[i]; !ok {
			return false
		}
	}
	return true
}

// assemble copies the frames named by idx into one clip.
func assemble(idx []int, got map[int][]uint8, h, w int) *RawClip {
	n := h * w * 3
	c := &RawClip{T: len(idx), H: h, W: w, Pix: make([]uint8, len(idx)*n)}
	for i, src := range idx {
		copy(c.Pix[i*n:(i+1)*n], got[src])
	}
	return c
}
