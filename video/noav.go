//go:build noav

package video

// noavOpener is the Opener of a binary built without libav: it reads only
// raw YUV4MPEG2 (.y4m) files.
type noavOpener struct{}

// NewOpener returns the default Opener; in a -tags noav build it opens .y4m
// files (by their content) and fails with ErrNoDecoder on anything else.
func NewOpener() Opener { return noavOpener{} }

// Open opens a YUV4MPEG2 file, or fails with ErrNoDecoder.
func (noavOpener) Open(path string) (Video, error) {
	if IsY4M(path) {
		return openY4M(path)
	}
	return nil, ErrNoDecoder
}
