// Package video decodes video files into RGB clips.
//
// Decoding sits behind the small Opener/Video interface so that the rest of
// vidrep (the loader, prepare, predict) does not care which library decodes.
// The default implementation (build without the "noav" tag) uses go-astiav
// over libavformat/libavcodec/libswscale 5.1; a binary built with -tags noav
// (for machines without libav, such as GPU servers) reads only raw YUV4MPEG2
// (.y4m) files, with a pure-Go reader, and Open returns ErrNoDecoder for
// anything else.
package video

import (
	"errors"
	"fmt"
)

// maxPixels bounds the picture size accepted from a file header, so a
// hostile header cannot make a reader allocate gigabytes.
const maxPixels = 8192 * 8192

// Info describes a video stream as probed from its container.
type Info struct {
	Path     string  `json:"path"`
	Codec    string  `json:"codec"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	FPS      float64 `json:"fps"`
	Duration float64 `json:"duration_s"` // seconds
	Frames   int     `json:"frames"`     // frame count (exact after a full decode, estimated from duration*fps otherwise)
}

// ClipRequest asks for Frames frames, taking every Stride-th frame from frame
// index Start, scaled so that the short side is ShortSide pixels (0 keeps the
// original size).
type ClipRequest struct {
	Start     int
	Frames    int
	Stride    int
	ShortSide int
}

// Clip holds decoded RGB frames laid out as [T][H][W][3] bytes.
type Clip struct {
	T, H, W int
	Pix     []uint8
}

// NewClip allocates a zeroed clip of t frames of h x w pixels.
func NewClip(t, h, w int) *Clip {
	return &Clip{T: t, H: h, W: w, Pix: make([]uint8, t*h*w*3)}
}

// Frame returns the pixels of frame i as a [H][W][3] slice of c.Pix.
func (c *Clip) Frame(i int) []uint8 {
	n := c.H * c.W * 3
	return c.Pix[i*n : (i+1)*n]
}

// Video is one opened file. It is not safe for concurrent use: each loader
// worker opens its own.
type Video interface {
	// Info returns the probed stream description.
	Info() Info
	// ReadClip decodes the requested frames. When the video ends early the
	// returned clip has fewer frames (Clip.T < req.Frames) and no error.
	ReadClip(req ClipRequest) (*Clip, error)
	// Close releases the decoder.
	Close() error
}

// Opener opens video files.
type Opener interface {
	Open(path string) (Video, error)
}

// DecodesH264 reports whether o reads H.264, the codec of prepare's cache:
// false only for an Opener that says so (the noav build's, which reads
// .y4m files alone); true for any other.
func DecodesH264(o Opener) bool {
	d, ok := o.(interface{ DecodesH264() bool })
	return !ok || d.DecodesH264()
}

// ErrNoDecoder is returned by Open in a binary built without a decoder (-tags noav).
var ErrNoDecoder = errors.New("this vidrep binary was built without video decoding (tag noav): it reads only raw .y4m files; use a build with libav* 5.1, or convert with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m")

// Validate checks a request's fields.
func (r ClipRequest) Validate() error {
	if r.Frames <= 0 || r.Stride <= 0 || r.Start < 0 || r.ShortSide < 0 {
		return fmt.Errorf("invalid clip request %+v: frames and stride must be positive, start and short side non-negative", r)
	}
	return nil
}

// ScaledSize returns the output size of a w x h picture scaled so that its
// short side is short pixels, keeping the aspect ratio (rounded to the nearest
// pixel, at least 1). short <= 0 keeps the size.
func ScaledSize(w, h, short int) (int, int) {
	if short <= 0 || w <= 0 || h <= 0 {
		return w, h
	}
	if w <= h {
		return short, max(1, (h*short+w/2)/w)
	}
	return max(1, (w*short+h/2)/h), short
}

// Probe opens path with the default Opener and returns its Info.
func Probe(path string) (Info, error) {
	v, err := NewOpener().Open(path)
	if err != nil {
		return Info{}, err
	}
	defer v.Close()
	return v.Info(), nil
}
