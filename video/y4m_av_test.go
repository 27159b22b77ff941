//go:build !noav

package video

import (
	"fmt"
	"testing"
)

// patterned returns count frames of w x h with chroma planes of cw x ch
// (none when cw is 0): a busy pattern, so that any difference in filtering
// shows.
func patterned(count, w, h, cw, ch int) []y4mFrame {
	frames := make([]y4mFrame, count)
	for i := range frames {
		y, u, v := make([]byte, w*h), make([]byte, cw*ch), make([]byte, cw*ch)
		for p := range y {
			y[p] = byte(16 + (p*7+i*13)%219)
		}
		for p := range u {
			u[p], v[p] = byte(64+(p*3+i)%128), byte(200-(p*5)%128)
		}
		frames[i] = y4mFrame{y, u, v}
	}
	return frames
}

// TestY4MReaderMatchesLibav reads patterned files with the pure-Go reader
// (what a noav build uses) and with libav, at the stored size, scaled up as
// the loader asks (short side 32 -> 36) and scaled down, and bounds the
// difference: both are BT.601 with the same filters, but libswscale
// computes in fixed point. Measured: mean 0.96 and max 3 at worst at the
// stored size, 0.01 and 1 scaled. Not covered, because the reader does not
// copy libav there: 4:2:0 of odd height at the stored size (libswscale's
// generic path places chroma otherwise; mean 11 on a 34x17 pattern),
// shrinking by a ratio that is not a whole number (edge pixels differ by up
// to 12), and a range tag, which the libav build ignores (it reads 4:2:x as
// limited range and monochrome as full).
func TestY4MReaderMatchesLibav(t *testing.T) {
	cases := []struct {
		w, h, cw, ch int
		cs           string
	}{
		{32, 32, 16, 16, "420jpeg"},
		{33, 18, 17, 9, "420mpeg2"},
		{32, 31, 16, 31, "422"},
		{33, 17, 17, 17, "422"},
		{20, 12, 20, 12, "444"},
		{16, 16, 0, 0, "mono"},
	}
	for _, c := range cases {
		path := writeY4M(t, fmt.Sprintf("W%d H%d F25:1 Ip A1:1 C%s", c.w, c.h, c.cs), patterned(3, c.w, c.h, c.cw, c.ch))
		for _, short := range []int{0, 36, min(c.w, c.h) / 2} {
			name := fmt.Sprintf("%dx%d %s, short side %d", c.w, c.h, c.cs, short)
			mean, worst := compareWithLibav(t, path, ClipRequest{Frames: 3, Stride: 1, ShortSide: short})
			t.Logf("%s: mean |diff| %.2f, max %d", name, mean, worst)
			if mean > 1.5 || worst > 4 {
				t.Errorf("%s: mean |diff| %.2f, max %d against libav, want at most 1.5 and 4", name, mean, worst)
			}
		}
	}
}

// compareWithLibav reads req from path with both readers and returns the
// mean and largest absolute difference of their pixels.
func compareWithLibav(t *testing.T, path string, req ClipRequest) (float64, int) {
	t.Helper()
	ours := readY4M(t, path, req)
	av, err := NewOpener().Open(path)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := av.ReadClip(req)
	av.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ours.T != theirs.T || ours.H != theirs.H || ours.W != theirs.W {
		t.Fatalf("%s: ours %dx%dx%d, libav %dx%dx%d", path, ours.T, ours.H, ours.W, theirs.T, theirs.H, theirs.W)
	}
	sum, worst := 0, 0
	for i := range ours.Pix {
		d := abs(int(ours.Pix[i]) - int(theirs.Pix[i]))
		sum += d
		worst = max(worst, d)
	}
	return float64(sum) / float64(len(ours.Pix)), worst
}

// BenchmarkY4MRead reads a 1080p 4:2:0 .y4m at short side 128 (what prepare
// and the loader ask of a large source) with the pure-Go reader and with
// libav, per frame.
func BenchmarkY4MRead(b *testing.B) {
	const w, h = 1920, 1080
	path := writeY4M(b, fmt.Sprintf("W%d H%d F25:1 C420jpeg", w, h), patterned(4, w, h, w/2, h/2))
	for _, name := range []string{"go", "libav"} {
		b.Run(name, func(b *testing.B) {
			open := openY4M
			if name == "libav" {
				open = NewOpener().Open
			}
			v, err := open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.ReadClip(ClipRequest{Frames: 4, Stride: 1, ShortSide: 128}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(4*b.N), "ms/frame")
		})
	}
}
