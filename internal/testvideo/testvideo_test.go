package testvideo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ffprobeFrames returns the codec name and the presentation times of every
// video frame of path, as ffprobe reports them.
func ffprobeFrames(t *testing.T, path string) (string, []float64) {
	t.Helper()
	codec, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var ts []float64
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.Trim(l, ","), 64)
		if err != nil {
			t.Fatalf("ffprobe time %q: %v", l, err)
		}
		ts = append(ts, v)
	}
	return strings.TrimSpace(string(codec)), ts
}

func TestMake(t *testing.T) {
	FFmpeg(t)
	dir := t.TempDir()
	cases := []struct {
		name  string
		opt   Options
		codec string
	}{
		{"a.mp4", Options{Frames: 5, Width: 32, Height: 24, Codec: "h264"}, "h264"},
		{"b.avi", Options{Frames: 7, Width: 48, Height: 32, FPS: 10, Codec: "mpeg4", GOP: 4}, "mpeg4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "sub", c.name)
			Make(t, p, c.opt)
			codec, ts := ffprobeFrames(t, p)
			if codec != c.codec || len(ts) != c.opt.Frames {
				t.Fatalf("got codec %s with %d frames, want %s with %d", codec, len(ts), c.codec, c.opt.Frames)
			}
			frames, w, h := DecodeRGB(t, p, 0, 0, "")
			if len(frames) != c.opt.Frames || w != c.opt.Width || h != c.opt.Height {
				t.Fatalf("DecodeRGB: %d frames %dx%d, want %d %dx%d", len(frames), w, h, c.opt.Frames, c.opt.Width, c.opt.Height)
			}
			if string(frames[0]) == string(frames[1]) {
				t.Fatal("consecutive frames are identical; the pattern must move")
			}
		})
	}
}

func TestVFRTimes(t *testing.T) {
	FFmpeg(t)
	p := filepath.Join(t.TempDir(), "vfr.mp4")
	VFR(t, p)
	_, ts := ffprobeFrames(t, p)
	if len(ts) != len(VFRTimes) {
		t.Fatalf("%d frames, want %d", len(ts), len(VFRTimes))
	}
	for i := range ts {
		if d := ts[i] - ts[0] - VFRTimes[i]; d > 0.002 || d < -0.002 {
			t.Fatalf("frame %d at %.3fs (relative), want %.3fs", i, ts[i]-ts[0], VFRTimes[i])
		}
	}
}

func TestHostile(t *testing.T) {
	FFmpeg(t)
	dir := t.TempDir()
	files := Hostile(t, dir, "bad")
	if len(files) != 6 {
		t.Fatalf("%d files, want 6", len(files))
	}
	for _, f := range files {
		st, err := os.Stat(f.Path)
		if err != nil {
			t.Fatalf("%s: %v", f.Kind, err)
		}
		if f.Path != filepath.Join(dir, f.Rel) {
			t.Fatalf("%s: path %s is not dir + %s", f.Kind, f.Path, f.Rel)
		}
		if (st.Size() == 0) != (f.Kind == KindZeroByte) {
			t.Fatalf("%s: size %d", f.Kind, st.Size())
		}
		if f.Kind == KindAudioOnly {
			if codec, _ := ffprobeFrames(t, f.Path); codec != "" {
				t.Fatalf("audio-only file has a video stream %q", codec)
			}
		}
		if f.Kind == KindThree {
			if _, ts := ffprobeFrames(t, f.Path); len(ts) != 3 {
				t.Fatalf("3-frame file has %d frames", len(ts))
			}
		}
	}
}
