//go:build noav

package video

import (
	"errors"
	"fmt"
)

// noavOpener is the Opener of a binary built without libav: it reads only
// raw YUV4MPEG2 (.y4m) files.
type noavOpener struct{}

// NewOpener returns the default Opener; in a -tags noav build it opens .y4m
// files (by their content) and fails with ErrNoDecoder on anything else.
func NewOpener() Opener { return noavOpener{} }

// Open opens a YUV4MPEG2 file. Any other file fails with an error that
// names it and wraps ErrNoDecoder; Open("") returns ErrNoDecoder itself, so
// that a caller can ask whether this build decodes.
func (noavOpener) Open(path string) (Video, error) {
	if path == "" {
		return nil, ErrNoDecoder
	}
	v, err := openY4M(path)
	if errors.Is(err, errNotY4M) {
		return nil, fmt.Errorf("open video %s: %w", path, ErrNoDecoder)
	}
	return v, err
}

// DecodesH264 is false: this build reads .y4m files alone.
func (noavOpener) DecodesH264() bool { return false }
