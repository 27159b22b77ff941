//go:build !noav

package video

import (
	"testing"
)

// TestY4MReaderMatchesLibav reads one patterned 4:2:0 file with the pure-Go
// reader (what a noav build uses) and with libav, at the stored size and
// scaled up as the loader asks (short side 32 -> 36) and down, and bounds
// the difference: both are BT.601 with the same filters, but libswscale
// computes in fixed point. Measured on this pattern: mean 0.96 and max 3 at
// the stored size, 0.01 and 1 scaled.
func TestY4MReaderMatchesLibav(t *testing.T) {
	const w, h = 32, 32
	frames := make([]y4mFrame, 3)
	for i := range frames {
		y, u, v := make([]byte, w*h), make([]byte, w*h/4), make([]byte, w*h/4)
		for p := range y {
			y[p] = byte(16 + (p*7+i*13)%219)
		}
		for p := range u {
			u[p], v[p] = byte(64+(p*3+i)%128), byte(200-(p*5)%128)
		}
		frames[i] = y4mFrame{y, u, v}
	}
	path := writeY4M(t, "W32 H32 F25:1 Ip A1:1 C420jpeg", frames)
	for _, short := range []int{0, 36, 16} {
		req := ClipRequest{Start: 0, Frames: 3, Stride: 1, ShortSide: short}
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
			t.Fatalf("short side %d: ours %dx%dx%d, libav %dx%dx%d", short, ours.T, ours.H, ours.W, theirs.T, theirs.H, theirs.W)
		}
		sum, worst := 0, 0
		for i := range ours.Pix {
			d := abs(int(ours.Pix[i]) - int(theirs.Pix[i]))
			sum += d
			worst = max(worst, d)
		}
		mean := float64(sum) / float64(len(ours.Pix))
		t.Logf("short side %d: mean |diff| %.2f, max %d", short, mean, worst)
		if mean > 1.5 || worst > 4 {
			t.Errorf("short side %d: mean |diff| %.2f, max %d against libav, want at most 1.5 and 4", short, mean, worst)
		}
	}
}
