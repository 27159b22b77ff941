package loader

import (
	"fmt"
	"path/filepath"
	"sync"

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
// from the cache. An entry whose source changed since prepare cached it is
// not used: that sample is read from its source file; an entry whose source
// is gone is not used either, so reading that sample fails (and the loader
// reports it) as for any listed file that is missing.
func CacheLocator(root string, samples []dataset.Sample) (func(string, dataset.Sample) (string, int), int, error) {
	locate, n, _, err := cacheLocator(root, samples)
	return locate, n, err
}

// cacheLocator is CacheLocator that also returns the checked index, whose
// Changed list New reports.
func cacheLocator(root string, samples []dataset.Sample) (func(string, dataset.Sample) (string, int), int, prepare.Index, error) {
	index, err := prepare.ReadIndex(root)
	if err != nil {
		return nil, 0, prepare.Index{}, err
	}
	cached := make(map[string]prepare.Entry, len(index.Entries))
	for src, e := range index.Entries {
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
	return locate, n, index, nil
}

// staleNoticed holds the cleaned roots whose out-of-date cache entries were
// reported in this process, so that a run that makes several loaders over
// one dataset (train and test, features of each split) says it once.
var staleNoticed sync.Map

// noticeStale reports, once per root and process, in one line, how many
// videos changed since prepare cached them and are read from their source
// files. Entries of deleted sources are not counted: no listing names them
// any more (or, if one does, reading it fails and is reported per video),
// and prepare does not remove them, so its advice would not clear them.
func noticeStale(logf func(string, ...any), root string, index prepare.Index) {
	n := len(index.Changed)
	if n == 0 {
		return
	}
	if _, seen := staleNoticed.LoadOrStore(filepath.Clean(root), true); seen {
		return
	}
	what, read := fmt.Sprintf("%d cached videos changed", n), "them from their source files"
	if n == 1 {
		what, read = "1 cached video changed", "it from its source file"
	}
	logf("loader: %s since vidrep prepare (e.g. %s): reading %s, not the stale cache; vidrep prepare --data %s refreshes the cache",
		what, index.Changed[0], read, root)
}

// QuarantinedFiles reads root's prepare quarantine report into a map from
// the cleaned sample path to prepare's reason (empty when there is none).
// A file that changed since prepare quarantined it is left out: it is read
// again, and reported again if it still fails.
func QuarantinedFiles(root string) (map[string]string, error) {
	q, err := prepare.LoadQuarantine(root)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(q.Files))
	for _, f := range q.Files {
		if !f.Changed(root) {
			out[filepath.Clean(f.Source)] = f.Reason
		}
	}
	return out, nil
}
