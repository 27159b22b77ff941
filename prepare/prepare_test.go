package prepare

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/video"
)

// goodFile is a clean source of the test dataset with its expected entry.
type goodFile struct {
	rel          string
	opt          testvideo.Options
	wantW, wantH int
}

var goodFiles = []goodFile{
	// Downscaled to short side 128 (200x150 -> 170x128).
	{"ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", testvideo.Options{Frames: 20, Width: 200, Height: 150, Codec: "mpeg4"}, 170, 128},
	// Portrait, downscaled: 150x200 -> 128x170.
	{"Archery/v_Archery_g01_c01.mp4", testvideo.Options{Frames: 12, Width: 150, Height: 200, Codec: "h264", Seed: 1}, 128, 170},
	// Smaller than 128: never upscaled.
	{"Archery/v_Archery_g02_c01.mp4", testvideo.Options{Frames: 40, Width: 64, Height: 48, Codec: "h264", Seed: 2}, 64, 48},
}

// makeDataset writes the good files and every hostile kind under a new root
// and returns the root and the list of sources to prepare (with one missing).
func makeDataset(t *testing.T) (string, []string, []testvideo.File) {
	root := t.TempDir()
	var paths []string
	for _, g := range goodFiles {
		testvideo.Make(t, filepath.Join(root, g.rel), g.opt)
		paths = append(paths, g.rel)
	}
	hostile := testvideo.Hostile(t, root, "Bad")
	for _, h := range hostile {
		paths = append(paths, h.Rel)
	}
	paths = append(paths, "Bad/v_missing.avi", goodFiles[0].rel) // a missing file and a duplicate
	return root, paths, hostile
}

func TestRunHostileDataset(t *testing.T) {
	testvideo.FFmpeg(t)
	root, paths, hostile := makeDataset(t)
	opt := Options{Root: root, Paths: append(paths, "../outside.mp4"), Workers: 2, Progress: io.Discard}
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	wantOK := len(goodFiles) + 3 // truncated, 3-frame and vfr decode
	if sum.Total != len(paths) || sum.OK != wantOK || sum.Quarantined != 5 || sum.Skipped != 0 {
		t.Fatalf("summary %+v, want %d total, %d cached, 5 quarantined", sum, len(paths), wantOK)
	}
	idx, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != wantOK {
		t.Fatalf("index has %d entries, want %d", len(idx), wantOK)
	}
	for _, g := range goodFiles {
		e, ok := Lookup(root, g.rel)
		if !ok || e.Frames != g.opt.Frames || e.Width != g.wantW || e.Height != g.wantH {
			t.Fatalf("%s: entry %+v (found %v), want %d frames %dx%d", g.rel, e, ok, g.opt.Frames, g.wantW, g.wantH)
		}
		checkCacheFile(t, e)
	}
	checkHostileEntries(t, root, hostile)
	checkQuarantine(t, root, map[string]string{
		"Bad/v_zero.mp4":    "empty file",
		"Bad/v_text.mp4":    "not a video file",
		"Bad/v_audio.mp4":   "no video stream",
		"Bad/v_missing.avi": "missing",
		"../outside.mp4":    "leaves the dataset root",
	})

	// A second run finds everything done and touches nothing.
	before := mtimes(t, root)
	sum2, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Skipped != wantOK || sum2.OK != 0 || sum2.Quarantined != 5 || sum2.Bytes != sum.Bytes {
		t.Fatalf("second run %+v, want %d skipped, 5 quarantined, %d bytes", sum2, wantOK, sum.Bytes)
	}
	if after := mtimes(t, root); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second run rewrote cache files:\n%v\n%v", before, after)
	}
}

// checkCacheFile checks an entry's video: H.264, the recorded frame count,
// and a keyframe at least every 16 frames.
func checkCacheFile(t *testing.T, e Entry) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=codec_name:packet=flags", "-of", "csv=p=0", e.Path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", e.Path, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 || lines[len(lines)-1] != "h264" {
		t.Fatalf("%s: ffprobe says %q, want an h264 stream", e.Path, lines)
	}
	packets, sinceKey := lines[:len(lines)-1], 0
	for _, f := range packets {
		if sinceKey++; strings.HasPrefix(f, "K") {
			sinceKey = 0
		}
		if sinceKey >= 16 {
			t.Fatalf("%s: more than 16 frames without a keyframe", e.Path)
		}
	}
	if len(packets) != e.Frames {
		t.Fatalf("%s: %d packets, sidecar says %d frames", e.Path, len(packets), e.Frames)
	}
}

// checkHostileEntries checks the decodable hostile files' entries: the
// 3-frame file keeps 3 frames, the VFR file keeps its timestamps, the
// truncated one keeps the frames that decoded.
func checkHostileEntries(t *testing.T, root string, hostile []testvideo.File) {
	t.Helper()
	for _, h := range hostile {
		e, ok := Lookup(root, h.Rel)
		if ok != h.Decodable {
			t.Fatalf("%s: cached=%v, want %v", h.Kind, ok, h.Decodable)
		}
		switch h.Kind {
		case testvideo.KindThree:
			if e.Frames != 3 {
				t.Fatalf("3-frame file cached with %d frames", e.Frames)
			}
		case testvideo.KindTruncated:
			if e.Frames < 1 || e.Frames >= 50 {
				t.Fatalf("truncated file cached with %d frames, want 1..49", e.Frames)
			}
		case testvideo.KindVFR:
			checkVFR(t, e)
		}
	}
}

// checkVFR checks that the cache kept the variable frame timing.
func checkVFR(t *testing.T, e Entry) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", e.Path).Output()
	if err != nil {
		t.Fatal(err)
	}
	ts := strings.Fields(string(out))
	if len(ts) != len(testvideo.VFRTimes) {
		t.Fatalf("VFR cache has %d frames, want %d", len(ts), len(testvideo.VFRTimes))
	}
	t0, _ := strconv.ParseFloat(ts[0], 64)
	for i, s := range ts {
		v, _ := strconv.ParseFloat(s, 64)
		if d := v - t0 - testvideo.VFRTimes[i]; d > 0.002 || d < -0.002 {
			t.Fatalf("VFR cache frame %d at %.3fs, want %.3fs", i, v-t0, testvideo.VFRTimes[i])
		}
	}
}

// checkQuarantine checks that the report holds exactly want (source -> part of the reason).
func checkQuarantine(t *testing.T, root string, want map[string]string) {
	t.Helper()
	q, err := LoadQuarantine(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Files) != len(want) {
		t.Fatalf("quarantine %+v, want %d files", q.Files, len(want))
	}
	for _, f := range q.Files {
		if !strings.Contains(f.Reason, want[f.Source]) || want[f.Source] == "" {
			t.Fatalf("quarantined %s with reason %q, want it to mention %q", f.Source, f.Reason, want[f.Source])
		}
	}
}

// mtimes returns the modification times of every file of the cache.
func mtimes(t *testing.T, root string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	filepath.Walk(CacheDir(root), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			m[p] = fi.ModTime()
		}
		return nil
	})
	return m
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(context.Background(), Options{Root: filepath.Join(t.TempDir(), "nope")}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("missing root: %v", err)
	}
	root := t.TempDir()
	if _, err := Run(context.Background(), Options{Root: root, FFmpeg: "no-such-ffmpeg-binary", Progress: io.Discard}); err == nil || !strings.Contains(err.Error(), "ffmpeg") {
		t.Fatalf("missing ffmpeg: %v", err)
	}
}

func TestLookupRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"../x.mp4", "..", "a/../../x.mp4"} {
		if _, err := entryBase(root, p); err == nil {
			t.Errorf("entryBase(%q) accepted a path outside the root", p)
		}
	}
	b, err := entryBase(root, "/abs/dir/v.avi")
	if err != nil || b != filepath.Join(CacheDir(root), "_abs/abs/dir/v.avi") {
		t.Errorf("absolute source cached at %q (%v)", b, err)
	}
}

// A sidecar whose video is missing or has another size is not an entry.
func TestIncompleteEntryIsNotDone(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(CacheDir(root), "c/v.avi")
	os.MkdirAll(filepath.Dir(base), 0o755)
	if err := writeSidecar(base, Entry{Source: "c/v.avi", Frames: 5, Bytes: 10}); err != nil {
		t.Fatal(err)
	}
	if _, ok := Lookup(root, "c/v.avi"); ok {
		t.Fatal("entry without its video passes as done")
	}
	os.WriteFile(base+".mp4", []byte("12345"), 0o644)
	if _, ok := Lookup(root, "c/v.avi"); ok {
		t.Fatal("entry with a short video passes as done")
	}
	os.WriteFile(base+".mp4", []byte("0123456789"), 0o644)
	if e, ok := Lookup(root, "c/v.avi"); !ok || e.Path != base+".mp4" {
		t.Fatalf("complete entry not found: %+v %v", e, ok)
	}
}

// readsBack checks that every indexed entry decodes with the video package.
func readsBack(t *testing.T, root string) map[string]Entry {
	t.Helper()
	idx, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	for src, e := range idx {
		v, err := video.NewOpener().Open(e.Path)
		if err != nil {
			t.Fatalf("%s: cached entry does not open: %v", src, err)
		}
		if n := v.Info().Frames; n != e.Frames {
			t.Fatalf("%s: cache video has %d frames, sidecar says %d", src, n, e.Frames)
		}
		c, err := v.ReadClip(video.ClipRequest{Start: e.Frames - 1, Frames: 1, Stride: 1})
		v.Close()
		if err != nil || c.T != 1 {
			t.Fatalf("%s: last frame of the cache does not decode: %v", src, err)
		}
	}
	return idx
}

// A source that changed after it was cached is cached again.
func TestChangedSourceIsRedone(t *testing.T) {
	testvideo.FFmpeg(t)
	root := t.TempDir()
	p := filepath.Join(root, "c", "v.mp4")
	testvideo.Make(t, p, testvideo.Options{Frames: 5})
	opt := Options{Root: root, Paths: []string{"c/v.mp4"}, Progress: io.Discard}
	if sum, err := Run(context.Background(), opt); err != nil || sum.OK != 1 {
		t.Fatalf("first run %+v %v", sum, err)
	}
	testvideo.Make(t, p, testvideo.Options{Frames: 9})
	sum, err := Run(context.Background(), opt)
	if err != nil || sum.OK != 1 || sum.Skipped != 0 {
		t.Fatalf("run after the source changed: %+v %v, want it cached again", sum, err)
	}
	if e, ok := Lookup(root, "c/v.mp4"); !ok || e.Frames != 9 {
		t.Fatalf("entry %+v (found %v), want the new 9 frames", e, ok)
	}
}
