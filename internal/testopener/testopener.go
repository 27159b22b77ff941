// Package testopener holds video.Opener wrappers that tests share.
package testopener

import (
	"sync"

	"github.com/vidrep/vidrep/video"
)

// Recording is a video.Opener that remembers the paths it was asked to
// open, in order, and opens them with the Opener it wraps.
type Recording struct {
	video.Opener
	mu    sync.Mutex
	paths []string
}

// Open records path and opens it with the wrapped Opener.
func (o *Recording) Open(path string) (video.Video, error) {
	o.mu.Lock()
	o.paths = append(o.paths, path)
	o.mu.Unlock()
	return o.Opener.Open(path)
}

// Paths returns a copy of the paths opened so far.
func (o *Recording) Paths() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.paths...)
}
