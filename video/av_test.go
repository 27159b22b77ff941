//go:build !noav

package video

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/testvideo"
)

// refFlags are the ffmpeg CLI scaler flags that give the same scaling as
// ReadClip: bilinear with full horizontal chroma interpolation.
const refFlags = "bilinear+full_chroma_int"

// meanAbsDiff is the mean absolute difference of two equal-length byte slices.
func meanAbsDiff(a, b []byte) float64 {
	s := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return float64(s) / float64(len(a))
}

// checkClip compares clip against the ffmpeg CLI's frames ref for req.
// It returns the largest per-frame mean absolute difference.
func checkClip(t *testing.T, clip *Clip, ref [][]byte, req ClipRequest, wantT int) float64 {
	t.Helper()
	worst := 0.0
	if clip.T != wantT {
		t.Fatalf("%+v: got %d frames, want %d", req, clip.T, wantT)
	}
	for k := 0; k < clip.T; k++ {
		idx := req.Start + k*req.Stride
		if d := meanAbsDiff(clip.Frame(k), ref[idx]); d >= 2 {
			t.Fatalf("%+v: frame %d (index %d) differs from ffmpeg's by %.2f (mean abs, 0-255)", req, k, idx, d)
		} else {
			worst = max(worst, d)
		}
		if idx+1 < len(ref) && meanAbsDiff(clip.Frame(k), ref[idx+1]) < 2 {
			t.Fatalf("%+v: frame %d also matches index %d: the test pattern cannot tell frames apart", req, k, idx+1)
		}
	}
	return worst
}

func TestReadClipMatchesFFmpeg(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	files := []struct {
		name string
		opt  testvideo.Options
	}{
		{"ucf.avi", testvideo.Options{Frames: 40, Width: 64, Height: 48, Codec: "mpeg4", GOP: 12}},
		{"kin.mp4", testvideo.Options{Frames: 40, Width: 48, Height: 64, Codec: "h264", GOP: 8}},
	}
	// One Video serves every request in order: forward reads, backward seeks,
	// reads past the end and a change of output size.
	reqs := []struct {
		req   ClipRequest
		wantT int
	}{
		{ClipRequest{Start: 0, Frames: 8, Stride: 2, ShortSide: 32}, 8},
		{ClipRequest{Start: 17, Frames: 4, Stride: 1, ShortSide: 32}, 4},
		{ClipRequest{Start: 3, Frames: 5, Stride: 3, ShortSide: 32}, 5},
		{ClipRequest{Start: 30, Frames: 8, Stride: 2, ShortSide: 32}, 5},
		{ClipRequest{Start: 25, Frames: 3, Stride: 5, ShortSide: 32}, 3},
		{ClipRequest{Start: 9, Frames: 2, Stride: 7, ShortSide: 0}, 2},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, f.name)
			testvideo.Make(t, path, f.opt)
			v, err := NewOpener().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			info := v.Info()
			if info.Frames != 40 || info.Width != f.opt.Width || info.Height != f.opt.Height || info.FPS != 25 {
				t.Fatalf("info %+v, want 40 frames %dx%d at 25 fps", info, f.opt.Width, f.opt.Height)
			}
			if info.Codec != f.opt.Codec || info.Duration < 1.55 || info.Duration > 1.65 {
				t.Fatalf("info %+v, want codec %s and 1.6 s", info, f.opt.Codec)
			}
			refs, worst := map[int][][]byte{}, 0.0
			for _, r := range reqs {
				w, h := ScaledSize(info.Width, info.Height, r.req.ShortSide)
				if refs[w] == nil {
					refs[w], _, _ = testvideo.DecodeRGB(t, path, w, h, refFlags)
				}
				clip, err := v.ReadClip(r.req)
				if err != nil {
					t.Fatalf("%+v: %v", r.req, err)
				}
				if clip.W != w || clip.H != h {
					t.Fatalf("%+v: clip %dx%d, want %dx%d", r.req, clip.W, clip.H, w, h)
				}
				worst = max(worst, checkClip(t, clip, refs[w], r.req, r.wantT))
			}
			t.Logf("largest mean abs difference from the ffmpeg CLI over all frames: %.3f", worst)
		})
	}
}

func TestReadClipVariableFrameRate(t *testing.T) {
	testvideo.FFmpeg(t)
	path := filepath.Join(t.TempDir(), "vfr.mp4")
	testvideo.VFR(t, path)
	v, err := NewOpener().Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if n := v.Info().Frames; n != len(testvideo.VFRTimes) {
		t.Fatalf("%d frames, want %d", n, len(testvideo.VFRTimes))
	}
	ref, _, _ := testvideo.DecodeRGB(t, path, 0, 0, refFlags)
	// Backward seeks into both the 40 ms and the 120 ms stretch.
	for _, req := range []ClipRequest{{Start: 14, Frames: 4, Stride: 1}, {Start: 2, Frames: 6, Stride: 3}, {Start: 11, Frames: 3, Stride: 2}} {
		clip, err := v.ReadClip(req)
		if err != nil {
			t.Fatal(err)
		}
		checkClip(t, clip, ref, req, req.Frames)
	}
}

func TestHostileFiles(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	files := testvideo.Hostile(t, dir, "")
	missing := testvideo.File{Kind: "missing", Path: filepath.Join(dir, "nope.mp4")}
	for _, f := range append(files, missing) {
		t.Run(string(f.Kind), func(t *testing.T) {
			v, err := NewOpener().Open(f.Path)
			if err != nil {
				if f.Decodable {
					t.Fatalf("a decodable file failed to open: %v", err)
				}
				if !strings.Contains(err.Error(), f.Path) {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			defer v.Close()
			got, first := 0, -1
			for _, req := range []ClipRequest{{Start: 0, Frames: 64, Stride: 1, ShortSide: 16}, {Start: 1, Frames: 4, Stride: 9, ShortSide: 16}} {
				clip, err := v.ReadClip(req)
				if err != nil {
					continue
				}
				if clip.T > req.Frames || len(clip.Pix) != clip.T*clip.H*clip.W*3 {
					t.Fatalf("inconsistent clip T=%d %dx%d len %d", clip.T, clip.W, clip.H, len(clip.Pix))
				}
				got += clip.T
				if first < 0 {
					first = clip.T
				}
			}
			if f.Decodable && got == 0 {
				t.Fatal("a decodable file gave no frame")
			}
			if f.Kind == testvideo.KindThree && first != 3 {
				t.Fatalf("3-frame file: %d frames from the first read, want 3", first)
			}
		})
	}
}

func TestReadClipPastEnd(t *testing.T) {
	testvideo.FFmpeg(t)
	path := filepath.Join(t.TempDir(), "short.mp4")
	testvideo.Make(t, path, testvideo.Options{Frames: 5})
	v, err := NewOpener().Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ReadClip(ClipRequest{Frames: 1}); err == nil {
		t.Fatal("invalid request accepted")
	}
	clip, err := v.ReadClip(ClipRequest{Start: 9, Frames: 4, Stride: 1})
	if err != nil || clip.T != 0 {
		t.Fatalf("start past the end: T=%v err=%v, want an empty clip", clip, err)
	}
	v.Close()
	if err := v.Close(); err != nil {
		t.Fatal("second Close failed:", err)
	}
	if _, err := v.ReadClip(ClipRequest{Frames: 1, Stride: 1}); err == nil {
		t.Fatal("read after Close succeeded")
	}
}

// rssKB returns this process's resident set size in KiB.
func rssKB(t *testing.T) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Skip("no VmRSS line")
	return 0
}

func TestNoLeakOverOpenReadClose(t *testing.T) {
	testvideo.FFmpeg(t)
	path := filepath.Join(t.TempDir(), "leak.mp4")
	testvideo.Make(t, path, testvideo.Options{Frames: 24, Width: 32, Height: 24, GOP: 4})
	cycle := func(n int) {
		for i := 0; i < n; i++ {
			v, err := NewOpener().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.ReadClip(ClipRequest{Start: i % 20, Frames: 4, Stride: 1, ShortSide: 16}); err != nil {
				t.Fatal(err)
			}
			v.Close()
		}
		runtime.GC()
	}
	cycle(200) // warm up allocator pools
	before := rssKB(t)
	cycle(800)
	after := rssKB(t)
	// A leak of one decoder (tens of KiB) per cycle would add tens of MiB.
	if after > before+before/10+2048 {
		t.Fatalf("RSS grew from %d KiB to %d KiB over 800 open/read/close cycles", before, after)
	}
}

// Bytes corrupted inside the stream (after the headers) make the decoder
// reject packets; reads still return errors or clips, never a panic.
func TestCorruptStream(t *testing.T) {
	testvideo.FFmpeg(t)
	dir := t.TempDir()
	// c-h264.avi has B-frames and no pts: its frames are counted.
	for _, name := range []string{"c.avi", "c.mp4", "c-h264.avi"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			codec := map[string]string{"c.avi": "mpeg4", "c.mp4": "h264", "c-h264.avi": "h264"}[name]
			testvideo.Make(t, path, testvideo.Options{Frames: 40, Width: 64, Height: 48, Codec: codec, GOP: 10})
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(data) / 4; i < len(data)*3/4; i += 17 {
				data[i] ^= 0x5a
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := NewOpener().Open(path)
			if err != nil {
				return // the index itself was hit: an error is a fine answer
			}
			defer v.Close()
			got, failed := 0, 0
			for start := 0; start < 40; start += 7 {
				c, err := v.ReadClip(ClipRequest{Start: start, Frames: 8, Stride: 1, ShortSide: 24})
				if err != nil {
					failed++
					continue
				}
				if c.T > 8 || len(c.Pix) != c.T*c.H*c.W*3 {
					t.Fatalf("start %d: inconsistent clip T=%d len %d", start, c.T, len(c.Pix))
				}
				got += c.T
			}
			t.Logf("%d frames decoded, %d reads failed, of %d indexed frames", got, failed, v.Info().Frames)
		})
	}
}
