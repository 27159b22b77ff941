package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// pattern is a smooth texture sampled at (x, y) in pixels.
func pattern(x, y float64) float64 {
	return 128 + 50*math.Sin(2*math.Pi*x/11)*math.Cos(2*math.Pi*y/9) + 30*math.Sin(2*math.Pi*(x+y)/13)
}

// warped renders a w x h grey frame whose pixel (j, i) shows the pattern at
// the point that the motion moved there: the inverse map of motion, applied
// about the frame's centre.
func warped(w, h int, inverse func(x, y float64) (float64, float64)) []float64 {
	g := make([]float64, w*h)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			x, y := inverse(float64(j)-cx, float64(i)-cy)
			g[i*w+j] = pattern(x+cx, y+cy)
		}
	}
	return g
}

func TestFitRecoversKnownMotions(t *testing.T) {
	const w, h = 32, 24
	half := float64(min(w, h)) / 2
	still := func(x, y float64) (float64, float64) { return x, y }
	const zoom, turn = 0.03, 0.03 // per frame
	tests := []struct {
		name string
		// inverse maps a point of the second frame back to the first.
		inverse           func(x, y float64) (float64, float64)
		u, v, div, curl   float64
		tolUV, tolDivCurl float64
	}{
		{"still", still, 0, 0, 0, 0, 0.02, 0.01},
		{"right 0.5 px", func(x, y float64) (float64, float64) { return x - 0.5, y }, 0.5, 0, 0, 0, 0.08, 0.05},
		{"down 0.4 px", func(x, y float64) (float64, float64) { return x, y - 0.4 }, 0, 0.4, 0, 0, 0.08, 0.05},
		// scaling by 1+zoom moves a point at x by zoom*x pixels, zoom*half per half side along each axis
		{"grow", func(x, y float64) (float64, float64) { return x / (1 + zoom), y / (1 + zoom) }, 0, 0, 2 * zoom * half, 0, 0.08, 0.12},
		{"shrink", func(x, y float64) (float64, float64) { return x * (1 + zoom), y * (1 + zoom) }, 0, 0, -2 * zoom * half, 0, 0.08, 0.12},
		// turning clockwise on the image (x right, y down) by a small angle
		{"turn clockwise", func(x, y float64) (float64, float64) {
			c, s := math.Cos(-turn), math.Sin(-turn)
			return c*x - s*y, s*x + c*y
		}, 0, 0, 0, 2 * turn * half, 0.08, 0.12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Fit(warped(w, h, still), warped(w, h, tc.inverse), w, h)
			u, v := a.Translation()
			if math.Abs(u-tc.u) > tc.tolUV || math.Abs(v-tc.v) > tc.tolUV {
				t.Errorf("translation (%.3f, %.3f), want (%.3f, %.3f)", u, v, tc.u, tc.v)
			}
			if math.Abs(a.Divergence()-tc.div) > tc.tolDivCurl || math.Abs(a.Curl()-tc.curl) > tc.tolDivCurl {
				t.Errorf("divergence %.3f curl %.3f, want %.3f and %.3f", a.Divergence(), a.Curl(), tc.div, tc.curl)
			}
		})
	}
}

func TestFitOfAFlatFrameIsZero(t *testing.T) {
	flat := make([]float64, 16*16)
	for i := range flat {
		flat[i] = 90
	}
	brighter := make([]float64, len(flat))
	for i := range brighter {
		brighter[i] = 120
	}
	if a := Fit(flat, brighter, 16, 16); a != (Affine{}) {
		t.Errorf("a frame without texture gave motion %v, want none", a)
	}
}

func TestClipFitsEveryConsecutivePair(t *testing.T) {
	const w, h, frames = 28, 20, 4 // not square: width and height must not be swapped
	const u, v = 0.5, -0.3         // pixels per frame
	pix := make([]uint8, frames*w*h*3)
	for f := range frames {
		for i := range h {
			for j := range w {
				g := uint8(math.Round(pattern(float64(j)-u*float64(f), float64(i)-v*float64(f))))
				copy(pix[((f*h+i)*w+j)*3:], []uint8{g, g, g})
			}
		}
	}
	fields := Clip(pix, frames, w, h)
	if len(fields) != frames-1 {
		t.Fatalf("%d fields for %d frames, want %d", len(fields), frames, frames-1)
	}
	for k, a := range fields {
		if gu, gv := a.Translation(); math.Abs(gu-u) > 0.1 || math.Abs(gv-v) > 0.1 {
			t.Errorf("pair %d: translation (%.3f, %.3f), want about (%.1f, %.1f)", k, gu, gv, u, v)
		}
	}
	if Clip(pix[:w*h*3], 1, w, h) != nil {
		t.Error("one frame gave fields; it has no pair")
	}
}

// fitNaive is Fit's sums written the plain way (every pixel's average taken
// where it is used, the whole normal matrix accumulated): the reference the
// faster Fit must match bit for bit.
func fitNaive(a, b []float64, w, h int) Affine {
	var ata [6][6]float64
	var atb [6]float64
	half := float64(min(w, h)) / 2
	for i := 1; i < h-1; i++ {
		y := (float64(i) - float64(h-1)/2) / half
		for j := 1; j < w-1; j++ {
			x := (float64(j) - float64(w-1)/2) / half
			m := func(ii, jj int) float64 { return (a[ii*w+jj] + b[ii*w+jj]) / 2 }
			ix := (m(i, j+1) - m(i, j-1)) / 2
			iy := (m(i+1, j) - m(i-1, j)) / 2
			it := b[i*w+j] - a[i*w+j]
			row := [6]float64{ix, ix * x, ix * y, iy, iy * x, iy * y}
			for p := range row {
				atb[p] -= row[p] * it
				for q := range row {
					ata[p][q] += row[p] * row[q]
				}
			}
		}
	}
	return solveRidge(ata, atb) // the solve is shared: what Fit changed is the sums above
}

// randomFrames returns two w x h grey frames of random texture.
func randomFrames(w, h int, seed uint64) (a, b []float64) {
	rng := rand.New(rand.NewPCG(seed, 9))
	a, b = make([]float64, w*h), make([]float64, w*h)
	for k := range a {
		a[k] = 255 * rng.Float64()
		b[k] = 255 * rng.Float64()
	}
	return a, b
}

func TestFitMatchesTheNaiveFitExactly(t *testing.T) {
	for _, size := range [][2]int{{32, 32}, {28, 20}, {3, 5}, {171, 128}} {
		a, b := randomFrames(size[0], size[1], uint64(size[0]))
		if got, want := Fit(a, b, size[0], size[1]), fitNaive(a, b, size[0], size[1]); got != want {
			t.Errorf("%dx%d: Fit %v, naive %v", size[0], size[1], got, want)
		}
	}
}

func BenchmarkFit(b *testing.B) {
	for _, size := range [][2]int{{32, 32}, {171, 128}} {
		f0, f1 := randomFrames(size[0], size[1], 1)
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			for b.Loop() {
				Fit(f0, f1, size[0], size[1])
			}
		})
	}
}
