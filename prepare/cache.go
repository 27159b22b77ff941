package prepare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Layout of the cache under a dataset root:
//
//	<root>/.vidrep/cache/<relative path>.mp4    the re-encoded video
//	<root>/.vidrep/cache/<relative path>.json   its sidecar (written last: it marks the entry done)
//	<root>/.vidrep/quarantine.json              the files that failed, with reasons
//
// A source given by absolute path (a user's own unlabeled list) is cached
// under <root>/.vidrep/cache/_abs/<absolute path without its leading />.
const (
	stateDir       = ".vidrep"
	cacheSub       = "cache"
	absSub         = "_abs"
	quarantineName = "quarantine.json"
	tmpMark        = ".tmp-"
)

// Entry is one finished cache entry, as recorded in its sidecar.
type Entry struct {
	Source      string  `json:"source"`            // the path as listed: relative to the root, or absolute
	Path        string  `json:"-"`                 // absolute path of the cached .mp4
	Frames      int     `json:"frames"`            // exact frame count of the cached video
	Width       int     `json:"width"`             // cached picture size
	Height      int     `json:"height"`            //
	FPS         float64 `json:"fps"`               // average frame rate
	Duration    float64 `json:"duration_s"`        // seconds
	Bytes       int64   `json:"bytes"`             // size of the cached .mp4, checked on lookup
	SourceSize  int64   `json:"source_size"`       // size of the source when it was cached
	SourceMTime int64   `json:"source_mtime"`      // modification time (Unix ns) of the source when it was cached
	Warning     string  `json:"warning,omitempty"` // decode errors met while caching (frames that decoded were kept)
}

// StateDir returns <root>/.vidrep, where prepare keeps its cache and reports.
func StateDir(root string) string { return filepath.Join(root, stateDir) }

// CacheDir returns the directory that holds the cache entries of root.
func CacheDir(root string) string { return filepath.Join(root, stateDir, cacheSub) }

// QuarantinePath returns the path of root's quarantine report.
func QuarantinePath(root string) string { return filepath.Join(root, stateDir, quarantineName) }

// entryBase returns the cache path of a source without extension
// (<cache>/<rel>), or an error when the path leaves the root.
func entryBase(root, src string) (string, error) {
	if filepath.IsAbs(src) {
		return filepath.Join(CacheDir(root), absSub, filepath.Clean(src)[1:]), nil
	}
	rel := filepath.Clean(src)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q leaves the dataset root", src)
	}
	return filepath.Join(CacheDir(root), rel), nil
}

// sourcePath returns where the source of src lives on disk.
func sourcePath(root, src string) string {
	if filepath.IsAbs(src) {
		return src
	}
	return filepath.Join(root, src)
}

// Lookup returns the finished cache entry of src (a path relative to root,
// or absolute) when there is one whose video is complete. It does not compare
// the entry with the source on disk; readers of a dataset use ReadIndex or
// LoadIndex, which leave out entries whose source changed.
func Lookup(root, src string) (Entry, bool) {
	base, err := entryBase(root, src)
	if err != nil {
		return Entry{}, false
	}
	e, err := readEntry(base)
	return e, err == nil
}

// readEntry reads and checks the sidecar of the entry at base.
func readEntry(base string) (Entry, error) {
	data, err := os.ReadFile(base + ".json")
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("sidecar %s.json: %w", base, err)
	}
	e.Path = base + ".mp4"
	st, err := os.Stat(e.Path)
	if err != nil {
		return Entry{}, err
	}
	if st.Size() != e.Bytes || e.Frames <= 0 {
		return Entry{}, fmt.Errorf("cache entry %s is incomplete (%d bytes, sidecar says %d)", e.Path, st.Size(), e.Bytes)
	}
	return e, nil
}

// Index is the prepare cache of a root checked against the sources on disk.
// An entry counts only while its source is the file that was cached: prepare
// records the source's size and modification time, and an entry whose
// source now differs (replaced, edited, touched) or is gone would serve
// frames of a video that is no longer in the dataset.
type Index struct {
	Entries map[string]Entry // finished entries whose source is unchanged, keyed by source path as listed
	Changed []string         // sources whose size or modification time differ from the recorded ones, sorted
	Missing []string         // sources no longer on disk (or that cannot be stat'ed), sorted
}

// ReadIndex returns root's finished cache entries split by whether their
// source is unchanged, at the cost of one stat per source. A root without a
// cache gives an empty index.
func ReadIndex(root string) (Index, error) {
	ix := Index{Entries: map[string]Entry{}}
	dir := CacheDir(root)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") || strings.Contains(d.Name(), tmpMark) {
			return nil
		}
		e, err := readEntry(strings.TrimSuffix(p, ".json"))
		if err != nil {
			return nil
		}
		switch st, err := os.Stat(sourcePath(root, e.Source)); {
		case err != nil:
			ix.Missing = append(ix.Missing, e.Source)
		case !e.matches(st):
			ix.Changed = append(ix.Changed, e.Source)
		default:
			ix.Entries[e.Source] = e
		}
		return nil
	})
	if err != nil {
		return Index{}, fmt.Errorf("read the cache index of %s: %w", root, err)
	}
	sort.Strings(ix.Changed)
	sort.Strings(ix.Missing)
	return ix, nil
}

// LoadIndex returns root's finished cache entries whose source is unchanged
// since it was cached, keyed by source path (as listed); entries whose source
// changed or is gone are left out (ReadIndex lists them). A root without a
// cache gives an empty index.
func LoadIndex(root string) (map[string]Entry, error) {
	ix, err := ReadIndex(root)
	if err != nil {
		return nil, err
	}
	return ix.Entries, nil
}

// matches reports whether st, the source as it is now, is the file e was
// made from (same size and modification time as recorded).
func (e Entry) matches(st os.FileInfo) bool { return sameSource(e.SourceSize, e.SourceMTime, st) }

// sameSource reports whether st, a source as it is now, has the size and
// modification time (Unix ns) prepare recorded of it.
func sameSource(size, mtime int64, st os.FileInfo) bool {
	return size == st.Size() && mtime == st.ModTime().UnixNano()
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced and then renamed, so that path is either absent, the old
// content, or complete.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+tmpMark+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// syncFile flushes a finished file to disk before it is renamed into place.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStale deletes leftovers of an interrupted run for the entry at base:
// temporary files, and a video whose sidecar was never written.
func removeStale(base string) {
	for _, ext := range []string{".mp4", ".json"} {
		olds, _ := filepath.Glob(globEscape(base+ext+tmpMark) + "*")
		for _, p := range olds {
			os.Remove(p)
		}
	}
	if _, err := os.Stat(base + ".json"); errors.Is(err, fs.ErrNotExist) {
		os.Remove(base + ".mp4")
	}
}

// globEscape escapes the glob metacharacters of a literal path.
func globEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(p)
}

// writeSidecar writes the sidecar of the entry at base; its presence marks
// the entry done.
func writeSidecar(base string, e Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(base+".json", append(data, '\n'))
}
