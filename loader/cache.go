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
// prepare cache when it has a finished entry (with its exact frame count),
// refuses a sample prepare quarantined (with prepare's reason) and otherwise
// opens the original file. It also counts the coverage of samples.
func CacheLocator(root string, samples []dataset.Sample) (func(string, dataset.Sample) (string, int, error), CacheCoverage, error) {
	cov := CacheCoverage{Samples: len(samples)}
	index, err := prepare.LoadIndex(root)
	if err != nil {
		return nil, cov, err
	}
	q, err := prepare.LoadQuarantine(root)
	if err != nil {
		return nil, cov, err
	}
	quarantined := make(map[string]string, len(q.Files))
	for _, f := range q.Files {
		quarantined[filepath.Clean(f.Source)] = f.Reason
	}
	cached := make(map[string]prepare.Entry, len(index))
	for src, e := range index {
		cached[filepath.Clean(src)] = e
	}
	for _, s := range samples {
		key := filepath.Clean(s.Path)
		if _, ok := cached[key]; ok {
			cov.Cached++
		} else if _, ok := quarantined[key]; ok {
			cov.Quarantined++
		}
	}
	locate := func(root string, s dataset.Sample) (string, int, error) {
		key := filepath.Clean(s.Path)
		if e, ok := cached[key]; ok {
			return e.Path, e.Frames, nil
		}
		if reason, ok := quarantined[key]; ok {
			return "", 0, fmt.Errorf("quarantined by vidrep prepare: %s", reason)
		}
		return SourcePath(root, s.Path), 0, nil
	}
	return locate, cov, nil
}
