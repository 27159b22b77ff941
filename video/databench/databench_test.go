package databench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/video"
)

func TestCentreCrop(t *testing.T) {
	c := video.NewClip(2, 3, 4) // 2 frames of 4x3
	for i := range c.Pix {
		c.Pix[i] = uint8(i)
	}
	dst := make([]uint8, 2*2*2*3)
	if err := centreCrop(c, 2, dst); err != nil {
		t.Fatal(err)
	}
	// Frame 0: rows 0..1, columns 1..2 (x0=1, y0=0); frame 1 starts at byte 36.
	want := []uint8{3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20, 39, 40, 41, 42, 43, 44, 51, 52, 53, 54, 55, 56}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("crop byte %d = %d, want %d (crop %v)", i, dst[i], want[i], dst)
		}
	}
	if err := centreCrop(c, 5, dst); err == nil {
		t.Fatal("crop larger than the clip accepted")
	}
}

func TestTimingAndRSSOnTinyFiles(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	var paths []string
	for i := range 2 {
		p := filepath.Join(dir, "v"+string(rune('0'+i))+".mp4")
		testvideo.Make(t, p, testvideo.Options{Frames: 12, Width: 40, Height: 32, GOP: 4, Seed: i})
		paths = append(paths, p)
	}
	cfg := withDefaults(Config{Frames: 4, Stride: 2, ShortSide: 24, Crop: 20, RSSClips: 40})
	r, err := timeClips(context.Background(), paths, cfg, 20)
	if err != nil {
		t.Fatal(err)
	}
	if r.Clips != 20 || r.WallS <= 0 || r.CPUS <= 0 || r.ClipsPerCPUS <= 0 {
		t.Fatalf("result %+v", r)
	}
	rep := &Report{Config: cfg, Results: []Result{r}}
	if err := rssRun(context.Background(), paths, cfg, rep); err != nil {
		t.Fatal(err)
	}
	if rep.RSSStartKB <= 0 || rep.RSSEndKB <= 0 || rep.PeakRSSKB < rep.RSSEndKB/2 {
		t.Fatalf("RSS numbers %+v", rep)
	}
	if md := rep.Markdown(); !strings.Contains(md, "4-frame clips, stride 2") {
		t.Fatalf("markdown lacks the settings: %s", md)
	}
	// A clip that does not fit is an error, not a short result.
	cfg.Frames = 20
	if _, err := timeClips(context.Background(), paths, cfg, 1); err == nil {
		t.Fatal("a 20-frame clip from a 12-frame file was not reported")
	}
}
