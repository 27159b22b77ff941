package loader

import (
	"fmt"
	"path/filepath"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/prepare"
)

// CacheCoverage says how many samples the prepare cache serves.
type CacheCoverage struct {
	Samples     int // samples the loader was given
	Cached      int // read from the cache (exact frame counts)
	Quarantined int // left out: prepare could not decode them
}

// String renders "12 of 14 samples from the cache, 2 quarantined".
func (c CacheCoverage) String() string {
	return fmt.Sprintf("%d of %d samples from the cache, %d quarantined", c.Cached, c.Samples, c.Quarantined)
}

// CacheLocator returns a Config.Locate that reads each sample from root's
// prepare cache when it has a finished entry (with its exact frame count) and
// otherwise opens the original file, with the number of samples it serves
// from the cache.
func CacheLocator(root string, samples []dataset.Sample) (func(string, dataset.Sample) (string, int), int, error) {
	index, err := prepare.LoadIndex(root)
	if err != nil {
		return nil, 0, err
	}
	cached := make(map[string]prepare.Entry, len(index))
	for src, e := range index {
		cached[filepath.Clean(src)] = e
	}
	n := 0
	for _, s := range samples {
		if _, ok := cached[filepath.Clean(s.Path)]; ok {
			n++
		}
	}
	locate := func(root string, s dataset.Sample) (string, int) {
		if e, ok := cached[filepath.Clean(s.Path)]; ok {
			return e.Path, e.Frames
		}
		return SourcePath(root, s.Path), 0
	}
	return locate, n, nil
}

// QuarantinedFiles reads root's prepare quarantine report into a map from
// the cleaned sample path to prepare's reason (empty when there is none).
func QuarantinedFiles(root string) (map[string]string, error) {
	q, err := prepare.LoadQuarantine(root)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(q.Files))
	for _, f := range q.Files {
		out[filepath.Clean(f.Source)] = f.Reason
	}
	return out, nil
}
