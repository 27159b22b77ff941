package pretext

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidrep/vidrep/loader"
)

func TestPanPathStaysInsideAndMovesAlongItsDirection(t *testing.T) {
	cases := []struct{ w, h, frames int }{
		{32, 32, 4}, // the demo's clips
		{32, 24, 8}, // landscape, a long clip: the step shrinks to fit
		{128, 112, 16},
	}
	for _, c := range cases {
		short := min(c.w, c.h)
		side := int(math.Round(PanWindow * float64(short)))
		step := min(PanStep*float64(short), float64(short-side)/float64(c.frames-1))
		for dir := range PanDirections {
			for seed := range uint64(5) {
				path := PanPath(c.w, c.h, side, c.frames, dir, rand.New(rand.NewPCG(seed, 1)))
				for t2, p := range path {
					if p[0] < 0 || p[1] < 0 || p[0]+side > c.w || p[1]+side > c.h {
						t.Fatalf("%dx%d dir %d: window %d at %v leaves the frame (frame %d)", c.w, c.h, dir, side, p, t2)
					}
				}
				a := 2 * math.Pi * float64(dir) / PanDirections
				travel := step * float64(c.frames-1)
				dx, dy := float64(path[c.frames-1][0]-path[0][0]), float64(path[c.frames-1][1]-path[0][1])
				if math.Abs(dx-travel*math.Cos(a)) > 1 || math.Abs(dy-travel*math.Sin(a)) > 1 {
					t.Errorf("%dx%d T=%d dir %d: moved (%g,%g), want (%.2f,%.2f) within a pixel", c.w, c.h, c.frames, dir, dx, dy, travel*math.Cos(a), travel*math.Sin(a))
				}
			}
		}
	}
}

func TestPanClipCutsTheWindowAtEachCorner(t *testing.T) {
	const w, h, side = 10, 8, 4
	raw := &loader.RawClip{T: 2, H: h, W: w, Pix: make([]uint8, 2*h*w*3)}
	for i := range raw.Pix {
		raw.Pix[i] = uint8(i % 251)
	}
	path := [][2]int{{0, 0}, {6, 4}}
	out, err := PanClip(raw, side, path)
	if err != nil {
		t.Fatal(err)
	}
	for tt, corner := range path {
		for y := range side {
			for x := range side {
				for ch := range 3 {
					got := out.Pix[((tt*side+y)*side+x)*3+ch]
					want := raw.Pix[((tt*h+corner[1]+y)*w+corner[0]+x)*3+ch]
					if got != want {
						t.Fatalf("frame %d pixel (%d,%d,%d) = %d, want %d", tt, x, y, ch, got, want)
					}
				}
			}
		}
	}
	if _, err := PanClip(raw, 9, path); err == nil {
		t.Error("a window taller than the frame was accepted")
	}
	if _, err := PanClip(raw, side, path[:1]); err == nil {
		t.Error("a path shorter than the clip was accepted")
	}
}

// TestPanTargetsMatchMotion reads the window's position back from the fake
// video's gradients (green = 8x, blue = 4(x+y)) and checks that the view
// moved along the target direction.
func TestPanTargetsMatchMotion(t *testing.T) {
	o := testOptions()
	m := newMethod(t, "pan", o)
	seen := make([]bool, PanDirections)
	for seed := range uint64(64) {
		r := newFakeReader(seed, 200, 32)
		ex, err := m.Sampler().Sample(r, -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		c, k := ex.Views[0], int(ex.Targets[0])
		seen[k] = true
		x0, y0 := windowCorner(c, 0)
		x1, y1 := windowCorner(c, c.T-1)
		a := 2 * math.Pi * float64(k) / PanDirections
		if along := (x1-x0)*math.Cos(a) + (y1-y0)*math.Sin(a); along < 2 {
			t.Fatalf("target %d: the view moved (%g,%g), not along %.0f degrees", k, x1-x0, y1-y0, a*180/math.Pi)
		}
		if across := -(x1-x0)*math.Sin(a) + (y1-y0)*math.Cos(a); math.Abs(across) > 1.5 {
			t.Fatalf("target %d: the view moved (%g,%g), %g pixels off its direction", k, x1-x0, y1-y0, across)
		}
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("direction %d never drawn in 64 samples", k)
		}
	}
}

// windowCorner recovers the top-left corner of the window that frame t of a
// plainAugment'ed fake-video clip shows, from its bottom-right pixel.
func windowCorner(c loader.ClipTensor, t int) (x, y float64) {
	o := ((t*c.H+c.H-1)*c.W + c.W - 1) * 3
	byteAt := func(i int) float64 { return math.Round((float64(c.Data[o+i]) + 1) * 127.5) }
	x = byteAt(1)/8 - float64(c.W-1)
	y = byteAt(2)/4 - x - float64(c.W-1) - float64(c.H-1)
	return x, y
}
