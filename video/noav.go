//go:build noav

package video

// noavOpener is the Opener of a binary built without libav.
type noavOpener struct{}

// NewOpener returns the default Opener; in a -tags noav build every Open
// fails with ErrNoDecoder.
func NewOpener() Opener { return noavOpener{} }

// Open always fails with ErrNoDecoder.
func (noavOpener) Open(path string) (Video, error) { return nil, ErrNoDecoder }
