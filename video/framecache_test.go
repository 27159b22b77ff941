//go:build !noav

package video

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vidrep/vidrep/internal/testvideo"
)

// countingOpener counts the Opens that reach the decoder.
type countingOpener struct {
	Opener
	opens atomic.Int64
}

func (o *countingOpener) Open(path string) (Video, error) {
	o.opens.Add(1)
	return o.Opener.Open(path)
}

func sameClip(a, b *Clip) bool {
	return a.T == b.T && a.H == b.H && a.W == b.W && slices.Equal(a.Pix, b.Pix)
}

func TestFrameCacheReadsWhatTheDecoderReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.mp4")
	testvideo.Make(t, path, testvideo.Options{Frames: 16, Width: 48, Height: 32, GOP: 4})
	requests := []ClipRequest{
		{Start: 0, Frames: 4, Stride: 3},
		{Start: 5, Frames: 4, Stride: 3},
		{Start: 10, Frames: 8, Stride: 1}, // runs past the end: 6 frames
		{Start: 14, Frames: 4, Stride: 2}, // one frame left
		{Start: 3, Frames: 4, Stride: 3, ShortSide: 16},
		{Start: 1, Frames: 5, Stride: 2, ShortSide: 16},
	}
	inner := &countingOpener{Opener: NewOpener()}
	cache := NewFrameCache(inner, 1<<20)
	for round := range 2 { // the first round fills the cache, the second reads it
		for _, req := range requests {
			want := readVia(t, NewOpener(), path, req)
			if got := readVia(t, cache, path, req); !sameClip(got, want) {
				t.Errorf("round %d, %+v: cached read %dx%dx%d differs from the decoder's %dx%dx%d",
					round, req, got.T, got.H, got.W, want.T, want.H, want.W)
			}
		}
	}
	// two short sides were decoded once each, by the first round's first Opens
	if n := inner.opens.Load(); n > 2 {
		t.Errorf("the decoder was opened %d times; a cached video should not be opened again", n)
	}
	if want := int64(16*48*32*3 + 16*24*16*3); cache.Used() != want {
		t.Errorf("cache holds %d bytes, want %d (the video at two sizes)", cache.Used(), want)
	}
}

func TestFrameCacheOverBudgetReadsThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.mp4")
	testvideo.Make(t, path, testvideo.Options{Frames: 8, Width: 32, Height: 32})
	inner := &countingOpener{Opener: NewOpener()}
	cache := NewFrameCache(inner, 8*32*32*3-1) // one byte short
	req := ClipRequest{Start: 2, Frames: 3, Stride: 2}
	want := readVia(t, NewOpener(), path, req)
	for range 3 {
		if got := readVia(t, cache, path, req); !sameClip(got, want) {
			t.Fatal("a read through the cache differs from the decoder's")
		}
	}
	if cache.Used() != 0 || inner.opens.Load() != 3 {
		t.Errorf("over budget: %d bytes cached, %d opens; want 0 and one open per read", cache.Used(), inner.opens.Load())
	}
}

func TestFrameCacheSeesAChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.mp4")
	testvideo.Make(t, path, testvideo.Options{Frames: 8, Width: 32, Height: 32, Seed: 1})
	cache := NewFrameCache(NewOpener(), 1<<20)
	req := ClipRequest{Start: 0, Frames: 4, Stride: 2}
	before := readVia(t, cache, path, req)
	testvideo.Make(t, path, testvideo.Options{Frames: 8, Width: 32, Height: 32, Seed: 2})
	later := time.Now().Add(time.Minute) // a new modification time even on a coarse clock
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	after := readVia(t, cache, path, req)
	if sameClip(before, after) {
		t.Fatal("the rewritten file was served from the cache")
	}
	if want := readVia(t, NewOpener(), path, req); !sameClip(after, want) {
		t.Error("the rewritten file's cached read differs from the decoder's")
	}
}
