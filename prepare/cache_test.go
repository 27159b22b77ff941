package prepare

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeEntry writes a source file of src under root with content and a
// finished cache entry for it that records the source's size and mtime, as
// encode does (the cached video is a stand-in: ReadIndex does not decode it).
func fakeEntry(t *testing.T, root, src, content string) {
	t.Helper()
	st := writeBackdated(t, sourcePath(root, src), content)
	base, err := entryBase(root, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		t.Fatal(err)
	}
	video := []byte("cached video")
	if err := os.WriteFile(base+".mp4", video, 0o644); err != nil {
		t.Fatal(err)
	}
	e := Entry{Source: src, Frames: 10, Width: 8, Height: 8, FPS: 25, Bytes: int64(len(video)),
		SourceSize: st.Size(), SourceMTime: st.ModTime().UnixNano()}
	if err := writeSidecar(base, e); err != nil {
		t.Fatal(err)
	}
}

// writeBackdated writes content to path (making its folder) with a
// modification time an hour ago, so that a rewrite in the test gets a
// different one even on file systems with coarse timestamps, and returns
// what Stat says of it.
func writeBackdated(t *testing.T, path, content string) os.FileInfo {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReadIndexLeavesOutChangedSources(t *testing.T) {
	absDir := t.TempDir()
	tests := []struct {
		name   string
		src    string                        // as listed; "ABS/" is replaced by an absolute folder
		change func(t *testing.T, sp string) // what happens to the source after prepare
		want   string                        // "entry", "changed" or "missing"
	}{
		{"unchanged", "a/v1.mp4", nil, "entry"},
		{"replaced by another clip", "a/v2.mp4", func(t *testing.T, sp string) {
			writeFile(t, sp, "another clip, longer")
		}, "changed"},
		{"same size rewritten", "a/v3.mp4", func(t *testing.T, sp string) {
			writeFile(t, sp, "SOURCE a/v3.mp4")
		}, "changed"},
		{"size changed, mtime kept", "a/v4.mp4", func(t *testing.T, sp string) {
			st, _ := os.Stat(sp)
			writeFile(t, sp, "xx")
			os.Chtimes(sp, st.ModTime(), st.ModTime())
		}, "changed"},
		{"touched only", "a/v5.mp4", func(t *testing.T, sp string) {
			now := time.Now()
			os.Chtimes(sp, now, now)
		}, "changed"},
		{"deleted", "a/v6.mp4", func(t *testing.T, sp string) {
			os.Remove(sp)
		}, "missing"},
		{"absolute unchanged", "ABS/x1.mp4", nil, "entry"},
		{"absolute replaced", "ABS/x2.mp4", func(t *testing.T, sp string) {
			writeFile(t, sp, "another clip, longer")
		}, "changed"},
	}
	root := t.TempDir()
	srcOf := func(s string) string {
		if rest, ok := strings.CutPrefix(s, "ABS/"); ok {
			return filepath.Join(absDir, rest)
		}
		return s
	}
	for _, tc := range tests {
		fakeEntry(t, root, srcOf(tc.src), "source "+tc.src)
	}
	if idx, err := LoadIndex(root); err != nil || len(idx) != len(tests) {
		t.Fatalf("before the changes: %d entries (%v), want %d", len(idx), err, len(tests))
	}
	for _, tc := range tests {
		if tc.change != nil {
			tc.change(t, sourcePath(root, srcOf(tc.src)))
		}
	}
	ix, err := ReadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := srcOf(tc.src)
			_, inEntries := ix.Entries[src]
			_, inLoad := idx[src]
			got := map[bool]string{true: "entry"}[inEntries]
			if slices.Contains(ix.Changed, src) {
				got += "changed"
			}
			if slices.Contains(ix.Missing, src) {
				got += "missing"
			}
			if got != tc.want {
				t.Errorf("ReadIndex puts %s in %q, want %q", src, got, tc.want)
			}
			if inLoad != (tc.want == "entry") {
				t.Errorf("LoadIndex has %s: %v, want %v", src, inLoad, tc.want == "entry")
			}
			// Lookup stays a plain presence check: prepare compares itself.
			if _, ok := Lookup(root, src); !ok {
				t.Errorf("Lookup lost the finished entry of %s", src)
			}
		})
	}
	if !slices.IsSorted(ix.Changed) || !slices.IsSorted(ix.Missing) {
		t.Errorf("lists not sorted: %v %v", ix.Changed, ix.Missing)
	}
}

func TestReadIndexWithoutCache(t *testing.T) {
	ix, err := ReadIndex(t.TempDir())
	if err != nil || len(ix.Entries) != 0 || ix.Changed != nil || ix.Missing != nil {
		t.Fatalf("empty root: %+v, %v", ix, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
