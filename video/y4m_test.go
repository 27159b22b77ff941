package video

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// y4mFrame is one frame's planes for writeY4M.
type y4mFrame struct{ y, u, v []byte }

// writeY4M writes a YUV4MPEG2 file with the given header tags and frames.
func writeY4M(t testing.TB, header string, frames []y4mFrame) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("YUV4MPEG2 " + header + "\n")
	for _, f := range frames {
		b.WriteString("FRAME\n")
		b.Write(f.y)
		b.Write(f.u)
		b.Write(f.v)
	}
	path := filepath.Join(t.TempDir(), "v.y4m")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flat returns n bytes of value v.
func flat(n int, v byte) []byte { return []byte(strings.Repeat(string([]byte{v}), n)) }

// flatFrames returns count 4:2:0 frames of w x h whose luma is the frame's
// index times 10 plus 16 and whose chroma is neutral.
func flatFrames(count, w, h int) []y4mFrame {
	out := make([]y4mFrame, count)
	for i := range out {
		c := ((w + 1) / 2) * ((h + 1) / 2)
		out[i] = y4mFrame{flat(w*h, byte(16+10*i)), flat(c, 128), flat(c, 128)}
	}
	return out
}

func TestY4MColours(t *testing.T) {
	// BT.601 limited range: (Y, Cb, Cr) -> RGB, computed by hand from
	// R = 1.164(Y-16) + 1.596(Cr-128), G = 1.164(Y-16) - 0.392(Cb-128) - 0.813(Cr-128),
	// B = 1.164(Y-16) + 2.017(Cb-128).
	cases := []struct {
		name      string
		y, cb, cr byte
		full      bool
		want      [3]uint8
	}{
		{"black", 16, 128, 128, false, [3]uint8{0, 0, 0}},
		{"white", 235, 128, 128, false, [3]uint8{255, 255, 255}},
		{"mid grey", 126, 128, 128, false, [3]uint8{128, 128, 128}},
		{"red", 81, 90, 240, false, [3]uint8{255, 0, 0}},
		{"blue", 41, 240, 110, false, [3]uint8{0, 0, 255}},
		{"full-range grey", 100, 128, 128, true, [3]uint8{100, 100, 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := "W4 H2 F25:1 Ip C420jpeg"
			if c.full {
				header += " XCOLORRANGE=FULL"
			}
			path := writeY4M(t, header, []y4mFrame{{flat(8, c.y), flat(2, c.cb), flat(2, c.cr)}})
			clip := readY4M(t, path, ClipRequest{Frames: 1, Stride: 1})
			for i := 0; i < len(clip.Pix); i += 3 {
				got := [3]uint8(clip.Pix[i : i+3])
				if diff(got, c.want) > 1 {
					t.Fatalf("pixel %d = %v, want %v (within 1)", i/3, got, c.want)
				}
			}
		})
	}
}

// diff returns the largest channel difference of two pixels.
func diff(a, b [3]uint8) int {
	d := 0
	for i := range a {
		d = max(d, abs(int(a[i])-int(b[i])))
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// readY4M opens path with the Y4M reader and reads one clip.
func readY4M(t *testing.T, path string, req ClipRequest) *Clip {
	t.Helper()
	return readVia(t, openerFunc(openY4M), path, req)
}

func TestY4MFramesAndStride(t *testing.T) {
	path := writeY4M(t, "W6 H4 F30000:1001 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2", flatFrames(7, 6, 4))
	v, err := openY4M(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	info := v.Info()
	if info.Frames != 7 || info.Width != 6 || info.Height != 4 || info.Codec != "rawvideo" {
		t.Fatalf("Info = %+v, want 7 frames of 6x4 rawvideo", info)
	}
	if fps := info.FPS; fps < 29.96 || fps > 29.98 {
		t.Errorf("FPS = %v, want 29.97", fps)
	}
	cases := []struct {
		req   ClipRequest
		lumas []int // expected luma (as grey RGB) of each returned frame
	}{
		{ClipRequest{Start: 0, Frames: 3, Stride: 2}, []int{16, 36, 56}},
		{ClipRequest{Start: 5, Frames: 4, Stride: 1}, []int{66, 76}}, // past the end: a short clip
		{ClipRequest{Start: 7, Frames: 2, Stride: 1}, nil},
	}
	for _, c := range cases {
		clip, err := v.ReadClip(c.req)
		if err != nil {
			t.Fatal(err)
		}
		if clip.T != len(c.lumas) {
			t.Fatalf("%+v: %d frames, want %d", c.req, clip.T, len(c.lumas))
		}
		for k, l := range c.lumas {
			want := clampByte(float64(l-16) * 255 / 219)
			if got := clip.Frame(k)[0]; got != want {
				t.Errorf("%+v frame %d: red %d, want %d", c.req, k, got, want)
			}
		}
	}
}

func TestY4MScalesLikeNaiveBilinear(t *testing.T) {
	// A 4x2 grey ramp scaled to short side 4 (8x4): each output pixel is the
	// bilinear blend of its centre's neighbours in the source, edges clamped.
	y := []byte{16, 72, 128, 184, 16, 72, 128, 184}
	path := writeY4M(t, "W4 H2 C444 XCOLORRANGE=FULL", []y4mFrame{{y, flat(8, 128), flat(8, 128)}})
	clip := readY4M(t, path, ClipRequest{Frames: 1, Stride: 1, ShortSide: 4})
	if clip.W != 8 || clip.H != 4 {
		t.Fatalf("scaled to %dx%d, want 8x4", clip.W, clip.H)
	}
	row := []float64{16, 16 + 56*0.25, 16 + 56*0.75, 72 + 56*0.25, 72 + 56*0.75, 128 + 56*0.25, 128 + 56*0.75, 184}
	for yy := range 4 {
		for x := range 8 {
			if got, want := clip.Frame(0)[3*(yy*8+x)], clampByte(row[x]); got != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, yy, got, want)
			}
		}
	}
}

func TestY4MMonoAndTruncated(t *testing.T) {
	frames := []y4mFrame{{y: flat(4, 235)}, {y: flat(4, 16)}, {y: flat(3, 16)}} // the last is cut short
	path := writeY4M(t, "W2 H2 Cmono XCOLORRANGE=LIMITED", frames)
	v, err := openY4M(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if n := v.Info().Frames; n != 2 {
		t.Fatalf("Frames = %d, want 2 (a truncated last frame is dropped)", n)
	}
	clip, err := v.ReadClip(ClipRequest{Frames: 2, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	if clip.Frame(0)[1] != 255 || clip.Frame(1)[2] != 0 {
		t.Errorf("mono frames read as %v and %v, want white then black", clip.Frame(0)[:3], clip.Frame(1)[:3])
	}
}

func TestY4MCutInAFrameHeader(t *testing.T) {
	path := writeY4M(t, "W2 H2 Cmono", []y4mFrame{{y: flat(4, 16)}})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("FRA"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	v, err := openY4M(path)
	if err != nil {
		t.Fatalf("a file cut inside a frame header: %v, want its complete frames", err)
	}
	defer v.Close()
	if n := v.Info().Frames; n != 1 {
		t.Errorf("Frames = %d, want 1", n)
	}
}

func TestY4MRefusesWhatItCannotRead(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"not y4m", "RIFF....AVI ", "not a YUV4MPEG2 file"},
		{"empty", "", "the file is empty (0 bytes)"},
		{"interlaced", "YUV4MPEG2 W2 H2 It C420jpeg\nFRAME\n" + strings.Repeat("x", 6), "interlaced"},
		{"10-bit", "YUV4MPEG2 W2 H2 C420p10\nFRAME\n", "colorspace 420p10"},
		{"9-bit", "YUV4MPEG2 W2 H2 C420p9\nFRAME\n", "colorspace 420p9"},
		{"sides whose product overflows", "YUV4MPEG2 W4611686018427387904 H4 C420jpeg\n", "invalid picture size"},
		{"huge sides", "YUV4MPEG2 W4294967296 H4294967296 Cmono\n", "invalid picture size"},
		{"a header longer than the buffer", "YUV4MPEG2 W2 H2 X" + strings.Repeat("a", 5000) + "\n", "longer than 4096 bytes"},
		{"no size", "YUV4MPEG2 F25:1\n", "invalid picture size"},
		{"bad rate", "YUV4MPEG2 W2 H2 F25:0\n", "positive ratio"},
		{"no frames", "YUV4MPEG2 W2 H2\n", "no complete frame"},
		{"garbage frame header", "YUV4MPEG2 W2 H2\nFRAMX\n" + strings.Repeat("x", 6), "no FRAME header at byte 16 (damaged, or not the 8-bit format its header says); re-convert with ffmpeg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.y4m")
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := openY4M(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("openY4M: %v, want an error naming %s and saying %q", err, path, c.want)
			}
		})
	}
}

// TestY4MTellsOtherFilesApart checks what the noav Opener relies on to try
// every file as Y4M first: a file that is not one (even with a first line
// longer than a Y4M header may be) wraps errNotY4M, while a missing file
// and a damaged Y4M file do not.
func TestY4MTellsOtherFilesApart(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"x.mp4":       "\x00\x00\x00\x18ftypmp42",
		"long.bin":    strings.Repeat("z", 5000) + "\n",
		"damaged.y4m": "YUV4MPEG2 W2 H2 C420p10\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, notY4M := range map[string]bool{"x.mp4": true, "long.bin": true, "damaged.y4m": false, "missing.y4m": false} {
		_, err := openY4M(filepath.Join(dir, name))
		if err == nil || errors.Is(err, errNotY4M) != notY4M {
			t.Errorf("openY4M(%s): %v, want an error that is errNotY4M: %v", name, err, notY4M)
		}
	}
	v, err := openY4M(writeY4M(t, "W2 H2", flatFrames(1, 2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if _, err := v.ReadClip(ClipRequest{Frames: 1, Stride: 1}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("ReadClip after Close: %v, want a closed-video error", err)
	}
}

func TestParseY4MHeader(t *testing.T) {
	cases := []struct {
		header string
		want   y4mFormat
	}{
		{"YUV4MPEG2 W4 H2", y4mFormat{width: 4, height: 2, fps: 25, chromaW: 2, chromaH: 2}},
		{"YUV4MPEG2 W4 H2 F0:0 C422", y4mFormat{width: 4, height: 2, fps: 25, chromaW: 2, chromaH: 1}},
		{"YUV4MPEG2 W4 H2 F50:2 C444 XCOLORRANGE=FULL XYSCSS=444", y4mFormat{width: 4, height: 2, fps: 25, chromaW: 1, chromaH: 1, fullRange: true}},
		{"YUV4MPEG2 W4 H2 XCOLORRANGE=FULL XYSCSS=420JPEG", y4mFormat{width: 4, height: 2, fps: 25, chromaW: 2, chromaH: 2, fullRange: true}},
		{"YUV4MPEG2 W4 H2 Cmono", y4mFormat{width: 4, height: 2, fps: 25, fullRange: true}},
		{"YUV4MPEG2 W4 H2 Cmono XCOLORRANGE=LIMITED", y4mFormat{width: 4, height: 2, fps: 25}},
	}
	for _, c := range cases {
		got, err := parseY4MHeader(c.header)
		if err != nil || got != c.want {
			t.Errorf("parseY4MHeader(%q) = %+v, %v; want %+v", c.header, got, err, c.want)
		}
	}
}

// TestY4MReusedBuffersKeepNoStalePixels reads one file at a large size, a
// smaller one and the large one again through one opened reader (whose
// resampling buffers are reused), and compares each clip with a freshly
// opened reader's.
func TestY4MReusedBuffersKeepNoStalePixels(t *testing.T) {
	const w, h = 40, 30
	frames := make([]y4mFrame, 3)
	c := (w / 2) * (h / 2)
	for i := range frames {
		y, u, v := make([]byte, w*h), make([]byte, c), make([]byte, c)
		for k := range y {
			y[k] = byte(16 + (k*7+i*31)%200)
		}
		for k := range u {
			u[k], v[k] = byte(60+(k*3+i)%120), byte(200-(k*5+i)%120)
		}
		frames[i] = y4mFrame{y, u, v}
	}
	path := writeY4M(t, "W40 H30 F25:1 Ip C420jpeg", frames)
	shared, err := openY4M(path)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	for _, short := range []int{60, 12, 0, 60} {
		req := ClipRequest{Frames: 3, Stride: 1, ShortSide: short}
		got, err := shared.ReadClip(req)
		if err != nil {
			t.Fatal(err)
		}
		if want := readY4M(t, path, req); got.H != want.H || got.W != want.W || string(got.Pix) != string(want.Pix) {
			t.Errorf("short side %d: the reused reader's %dx%d clip differs from a fresh reader's %dx%d", short, got.W, got.H, want.W, want.H)
		}
	}
}
