package pretrain

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/testopener"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/prepare"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/video"
)

// TestPretrainDataSkipsStaleCache: with no Locate given, pretraining reads a
// video from its source once the source changed after vidrep prepare, not
// the stale cache entry, and keeps the cache for the unchanged ones.
func TestPretrainDataSkipsStaleCache(t *testing.T) {
	testvideo.FFmpeg(t)
	root := t.TempDir()
	var samples []dataset.Sample
	var paths []string
	for i := range 2 {
		rel := filepath.Join("u", "v"+string(rune('a'+i))+".mp4")
		testvideo.Make(t, filepath.Join(root, rel), testvideo.Options{Frames: 24, Width: 32, Height: 32, Seed: i + 1})
		samples = append(samples, dataset.Sample{Path: rel, Label: dataset.Unlabeled})
		paths = append(paths, rel)
	}
	if _, err := prepare.Run(context.Background(), prepare.Options{Root: root, Paths: paths, Workers: 1, Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	swapped := filepath.Join(root, paths[1])
	testvideo.Make(t, swapped, testvideo.Options{Frames: 24, Width: 32, Height: 32, Seed: 9})
	op := &testopener.Recording{Opener: video.NewOpener()}
	c := Config{Batch: 2, Workers: 1, Seed: 1, Size: 16, Opener: op}
	m, err := pretext.New("rotation", pretext.Options{Frames: 4, Stride: 1, Size: 16})
	if err != nil {
		t.Fatal(err)
	}
	data, err := newData(c, root, samples, m)
	if err != nil {
		t.Fatal(err)
	}
	it, err := data.Epoch(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	opened := op.Paths()
	slices.Sort(opened)
	opened = slices.Compact(opened)
	want := []string{filepath.Join(prepare.CacheDir(root), paths[0]) + ".mp4", swapped}
	slices.Sort(want)
	if !slices.Equal(opened, want) {
		t.Errorf("opened %q, want %q: the unchanged video from the cache, the swapped one from its source", opened, want)
	}
}
