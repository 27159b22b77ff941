package pretext

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidrep/vidrep/loader"
)

// coordReader serves still frames whose red and green channels are 8x and 8y,
// so every pixel says where in the frame it came from.
type coordReader struct{ n, size int }

func (r coordReader) NumFrames() int { return r.n }

func (r coordReader) Read(_, frames, _ int) (*loader.RawClip, error) {
	s := r.size
	raw := &loader.RawClip{T: frames, H: s, W: s, Pix: make([]uint8, frames*s*s*3)}
	for t := range frames {
		for y := range s {
			for x := range s {
				o := ((t*s+y)*s + x) * 3
				raw.Pix[o], raw.Pix[o+1], raw.Pix[o+2] = uint8(8*x), uint8(8*y), uint8(40*t)
			}
		}
	}
	return raw, nil
}

func TestPastePatchMovesACopyOfTheSource(t *testing.T) {
	raw, _ := coordReader{n: 10, size: 12}.Read(0, 3, 1)
	src, path := [2]int{1, 2}, [][2]int{{6, 6}, {7, 5}, {8, 4}}
	const side = 3
	out, err := PastePatch(raw, side, src, path)
	if err != nil {
		t.Fatal(err)
	}
	for tt, dst := range path {
		for y := range 12 {
			for x := range 12 {
				o := ((tt*12+y)*12 + x) * 3
				wantX, wantY := x, y // untouched outside the patch
				if x >= dst[0] && x < dst[0]+side && y >= dst[1] && y < dst[1]+side {
					wantX, wantY = src[0]+x-dst[0], src[1]+y-dst[1]
				}
				if got := [3]uint8{out.Pix[o], out.Pix[o+1], out.Pix[o+2]}; got != [3]uint8{uint8(8 * wantX), uint8(8 * wantY), uint8(40 * tt)} {
					t.Fatalf("frame %d pixel (%d,%d) = %v, want the source pixel (%d,%d) of the same frame", tt, x, y, got, wantX, wantY)
				}
			}
		}
	}
	if raw.Pix[((0*12+6)*12+6)*3] != 8*6 {
		t.Error("PastePatch wrote into its input")
	}
	for _, bad := range []struct {
		src  [2]int
		path [][2]int
	}{
		{[2]int{10, 0}, path},                    // source leaves the frame
		{src, [][2]int{{6, 6}, {10, 5}, {8, 4}}}, // destination leaves it
		{src, path[:2]},                          // path shorter than the clip
	} {
		if _, err := PastePatch(raw, side, bad.src, bad.path); err == nil {
			t.Errorf("src %v path %v accepted", bad.src, bad.path)
		}
	}
}

// TestPatchTargetsMatchMotion finds the pasted patch in each frame of a
// sampled clip (the pixels whose coordinates do not match their place) and
// checks that it slides along the target direction.
func TestPatchTargetsMatchMotion(t *testing.T) {
	m := newMethod(t, "patch", testOptions())
	seen := make([]bool, PanDirections)
	const size = 32
	for seed := range uint64(64) {
		ex, err := m.Sampler().Sample(coordReader{n: 100, size: size}, -1, rand.New(rand.NewPCG(seed, 3)))
		if err != nil {
			t.Fatal(err)
		}
		c, k := ex.Views[0], int(ex.Targets[0])
		seen[k] = true
		x0, y0, ok0 := patchCorner(c, 0)
		x1, y1, ok1 := patchCorner(c, c.T-1)
		if !ok0 || !ok1 {
			continue // the patch sat on its own source in one of the two frames
		}
		a := 2 * math.Pi * float64(k) / PanDirections
		if along := (x1-x0)*math.Cos(a) + (y1-y0)*math.Sin(a); along < 2 {
			t.Fatalf("target %d: the patch moved (%g,%g), not along %.0f degrees", k, x1-x0, y1-y0, a*180/math.Pi)
		}
		if across := -(x1-x0)*math.Sin(a) + (y1-y0)*math.Cos(a); math.Abs(across) > 1.5 {
			t.Fatalf("target %d: the patch moved (%g,%g), %g pixels off its direction", k, x1-x0, y1-y0, across)
		}
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("direction %d never drawn in 64 samples", k)
		}
	}
}

// patchCorner returns the top-left corner of the pixels of frame t of a
// plainAugment'ed coordReader clip that show another place than their own.
func patchCorner(c loader.ClipTensor, t int) (x, y float64, ok bool) {
	minX, minY := c.W, c.H
	for j := range c.H {
		for i := range c.W {
			o := ((t*c.H+j)*c.W + i) * 3
			gotX := math.Round((float64(c.Data[o]) + 1) * 127.5 / 8)
			gotY := math.Round((float64(c.Data[o+1]) + 1) * 127.5 / 8)
			if int(gotX) != i || int(gotY) != j {
				minX, minY = min(minX, i), min(minY, j)
				ok = true
			}
		}
	}
	return float64(minX), float64(minY), ok
}
