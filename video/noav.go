//go:build noav

package video

import (
	"fmt"
	"os"
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
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, fmt.Errorf("open video %s: %w", path, err)
	case st.Size() == 0:
		return nil, fmt.Errorf("open video %s: the file is empty (0 bytes)", path)
	case IsY4M(path):
		return openY4M(path)
	}
	return nil, fmt.Errorf("open video %s: %w", path, ErrNoDecoder)
}

// DecodesH264 is false: this build reads .y4m files alone.
func (noavOpener) DecodesH264() bool { return false }
