package loader

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gradientClip makes t frames of h x w where pixel (y,x) of frame f is
// (x*10 + f, y*10, 100) so each frame is distinct and geometry is readable.
func gradientClip(t, h, w int) *RawClip {
	c := &RawClip{T: t, H: h, W: w, Pix: make([]uint8, t*h*w*3)}
	for f := 0; f < t; f++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p := ((f*h+y)*w + x) * 3
				c.Pix[p], c.Pix[p+1], c.Pix[p+2] = uint8(x*10+f), uint8(y*10), 100
			}
		}
	}
	return c
}

// repeatedClip makes t identical frames of random-looking content.
func repeatedClip(t, h, w int, seed uint64) *RawClip {
	rng := rand.New(rand.NewPCG(seed, 1))
	frame := make([]uint8, h*w*3)
	for i := range frame {
		frame[i] = uint8(rng.IntN(256))
	}
	c := &RawClip{T: t, H: h, W: w}
	for range t {
		c.Pix = append(c.Pix, frame...)
	}
	return c
}

func TestAugmentSameParametersOnEveryFrame(t *testing.T) {
	presets := map[string]AugConfig{"train": AugTrain(16), "strong": AugStrong(16), "eval": AugEval(16)}
	for name, cfg := range presets {
		t.Run(name, func(t *testing.T) {
			raw := repeatedClip(4, 24, 32, 7)
			for seed := range uint64(20) {
				out := Augment(raw, cfg, rand.New(rand.NewPCG(seed, 2)))
				if out.T != 4 || out.H != 16 || out.W != 16 || len(out.Data) != 4*16*16*3 {
					t.Fatalf("shape %dx%dx%d len %d", out.T, out.H, out.W, len(out.Data))
				}
				f0 := out.Frame(0)
				for f := 1; f < out.T; f++ {
					for i, v := range out.Frame(f) {
						if v != f0[i] {
							t.Fatalf("seed %d: frame %d differs from frame 0 at %d: %g vs %g", seed, f, i, v, f0[i])
						}
					}
				}
			}
		})
	}
}

func TestAugmentViewsDiffer(t *testing.T) {
	raw := repeatedClip(2, 24, 32, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	a := Augment(raw, AugStrong(16), rng)
	b := Augment(raw, AugStrong(16), rng)
	if maxAbsDiff(a.Data, b.Data) < 1e-3 {
		t.Fatal("two calls with one rng gave the same view; views must draw independent parameters")
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// plain is a random transform with only the crop and flip (no colour), no normalisation.
func plain(size int, flip float64) AugConfig {
	return AugConfig{Size: size, Random: true, ScaleMin: 1, ScaleMax: 1, RatioMin: 0.01, RatioMax: 100, FlipProb: flip}
}

func TestCropAndFlipGeometry(t *testing.T) {
	// A 4x8 frame cropped at full scale to 4x4 with its own ratio (box = whole
	// frame) samples columns 0.5, 2.5, 4.5, 6.5 -> values (x*10) averaged.
	raw := gradientClip(2, 4, 8)
	cases := []struct {
		name string
		flip float64
		want []float64 // red channel along row 0 of frame 0, on 0..255
	}{
		{"no flip", 0, []float64{5, 25, 45, 65}},
		{"flip", 1, []float64{65, 45, 25, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plain(4, tc.flip)
			cfg.RatioMin, cfg.RatioMax = 2, 2 // the whole 8x4 frame
			out := Augment(raw, cfg, rand.New(rand.NewPCG(5, 5)))
			for x, want := range tc.want {
				got := float64(out.Data[x*3]) * 255
				if math.Abs(got-want) > 1e-3 {
					t.Errorf("x=%d red %g want %g", x, got, want)
				}
			}
			// Frame 1 adds 1 to red everywhere: geometry identical across frames.
			for x := range tc.want {
				d := float64(out.Frame(1)[x*3]-out.Frame(0)[x*3]) * 255
				if math.Abs(d-1) > 1e-3 {
					t.Errorf("x=%d frame1-frame0 red %g want 1", x, d)
				}
			}
		})
	}
}

func TestRandomCropStaysInsideAndRespectsRanges(t *testing.T) {
	cfg := AugStrong(8)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 500 {
		b := randomCrop(171, 128, cfg, rng)
		if b.x < 0 || b.y < 0 || b.x+b.w > 171+1e-9 || b.y+b.h > 128+1e-9 {
			t.Fatalf("crop %+v leaves the 171x128 frame", b)
		}
		r := b.w / b.h
		if r < cfg.RatioMin-1e-9 || r > cfg.RatioMax+1e-9 {
			t.Fatalf("crop ratio %g outside [%g,%g]", r, cfg.RatioMin, cfg.RatioMax)
		}
		s := b.w * b.h / (171 * 128)
		if s > cfg.ScaleMax+1e-9 {
			t.Fatalf("crop scale %g above %g", s, cfg.ScaleMax)
		}
	}
}

func TestEvalCrops(t *testing.T) {
	// 4x12 frame, size 4, EvalResize 4: squares of side 4 at x = 0, 4, 8.
	raw := gradientClip(1, 4, 12)
	cfg := AugConfig{Size: 4, Crops: 3}
	crops := EvalCrops(raw, cfg)
	if len(crops) != 3 {
		t.Fatalf("%d crops, want 3", len(crops))
	}
	for i, c := range crops {
		got := float64(c.Data[0]) * 255
		want := float64(i*4) * 10 // first column of square i
		if math.Abs(got-want) > 1e-3 {
			t.Errorf("crop %d first red %g want %g", i, got, want)
		}
	}
	centre := Augment(raw, cfg, nil)
	if maxAbsDiff(centre.Data, crops[1].Data) != 0 {
		t.Error("Augment in eval mode differs from the centre crop")
	}
	// Portrait video: crops go top to bottom.
	tall := gradientClip(1, 12, 4)
	crops = EvalCrops(tall, cfg)
	for i, c := range crops {
		got := float64(c.Data[1]) * 255
		if want := float64(i*4) * 10; math.Abs(got-want) > 1e-3 {
			t.Errorf("portrait crop %d first green %g want %g", i, got, want)
		}
	}
}

func TestNormalisation(t *testing.T) {
	raw := &RawClip{T: 1, H: 2, W: 2, Pix: []uint8{
		0, 128, 255, 0, 128, 255, 0, 128, 255, 0, 128, 255}}
	cfg := AugEval(2)
	out := Augment(raw, cfg, nil)
	for i, v := range out.Data {
		c := i % 3
		want := (float64(raw.Pix[i])/255 - float64(KineticsMean[c])) / float64(KineticsStd[c])
		if math.Abs(float64(v)-want) > 1e-5 {
			t.Fatalf("value %d = %g want %g", i, v, want)
		}
	}
}

func TestColourOps(t *testing.T) {
	px := func() []float32 { return []float32{0.2, 0.4, 0.6, 0.8, 0.5, 0.1} }
	cases := []struct {
		name string
		op   func([]float32)
		want []float32
	}{
		{"brightness x2 clamps", func(f []float32) { brightness(f, 2) }, []float32{0.4, 0.8, 1, 1, 1, 0.2}},
		{"contrast 0 gives mean luma", func(f []float32) { contrast(f, 0) }, rep(float32((0.299*0.2+0.587*0.4+0.114*0.6+0.299*0.8+0.587*0.5+0.114*0.1)/2), 6)},
		{"saturation 0 is gray", func(f []float32) { saturation(f, 0) }, []float32{0.363, 0.363, 0.363, 0.5441, 0.5441, 0.5441}},
		{"hue 0 is identity", func(f []float32) { hueRotate(f, 0) }, px()},
		{"hue full turn is identity", func(f []float32) { hueRotate(f, 1) }, px()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := px()
			tc.op(f)
			for i := range f {
				if math.Abs(float64(f[i]-tc.want[i])) > 2e-3 {
					t.Fatalf("got %v want %v", f, tc.want)
				}
			}
		})
	}
}

func rep(v float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestGaussianBlur(t *testing.T) {
	// A single bright pixel spreads symmetrically and keeps its total.
	const n = 9
	f := make([]float32, n*n*3)
	c := (4*n + 4) * 3
	f[c] = 1
	gaussianBlur(f, n, n, 1)
	var sum float32
	for i := 0; i < len(f); i += 3 {
		sum += f[i]
	}
	if math.Abs(float64(sum-1)) > 1e-4 {
		t.Errorf("blur changed the total from 1 to %g", sum)
	}
	left, right := f[(4*n+3)*3], f[(4*n+5)*3]
	if left != right || left <= 0 || left >= f[c] {
		t.Errorf("blur not symmetric/decaying: left %g centre %g right %g", left, f[c], right)
	}
	// A constant frame stays constant.
	g := rep(0.3, n*n*3)
	gaussianBlur(g, n, n, 2)
	for _, v := range g {
		if math.Abs(float64(v-0.3)) > 1e-5 {
			t.Fatalf("constant frame changed to %g", v)
		}
	}
}

func TestAugConfigValidate(t *testing.T) {
	bad := []AugConfig{
		{Size: 0},
		{Size: 8, Crops: 2},
		{Size: 8, EvalResize: 4},
		{Size: 8, Random: true, ScaleMin: 0, ScaleMax: 1, RatioMin: 1, RatioMax: 1},
		{Size: 8, Random: true, ScaleMin: 0.5, ScaleMax: 1, RatioMin: 2, RatioMax: 1},
	}
	for i, c := range bad {
		if c.Validate() == nil {
			t.Errorf("config %d %+v accepted", i, c)
		}
	}
	for _, c := range []AugConfig{AugTrain(112), AugStrong(112), AugEval(112)} {
		if err := c.Validate(); err != nil {
			t.Errorf("preset rejected: %v", err)
		}
	}
}

func TestAugmentEmptyClipDoesNotPanic(t *testing.T) {
	out := Augment(&RawClip{T: 2}, AugStrong(8), rand.New(rand.NewPCG(1, 1)))
	if len(out.Data) != 2*8*8*3 {
		t.Fatalf("len %d", len(out.Data))
	}
}

// Reference colour operations, one full pass each (torchvision's order of
// clamping), that the fused applyColour must reproduce.

// brightness scales every value by b.
func brightness(f []float32, b float32) {
	for i, v := range f {
		f[i] = clamp01(v * b)
	}
}

// contrast blends every value with the frame's mean luma.
func contrast(f []float32, c float32) {
	var sum float64
	for i := 0; i < len(f); i += 3 {
		sum += float64(lumR*f[i] + lumG*f[i+1] + lumB*f[i+2])
	}
	m := float32(sum / float64(max(1, len(f)/3)))
	for i, v := range f {
		f[i] = clamp01(m + c*(v-m))
	}
}

// saturation blends every pixel with its own luma.
func saturation(f []float32, s float32) {
	for i := 0; i < len(f); i += 3 {
		g := lumR*f[i] + lumG*f[i+1] + lumB*f[i+2]
		f[i] = clamp01(g + s*(f[i]-g))
		f[i+1] = clamp01(g + s*(f[i+1]-g))
		f[i+2] = clamp01(g + s*(f[i+2]-g))
	}
}

// hueRotate rotates the chroma of every pixel by h turns in YIQ space, which
// keeps luma and approximates an HSV hue shift with one 3x3 matrix.
func hueRotate(f []float32, h float64) {
	m := hueMatrix(h)
	for i := 0; i < len(f); i += 3 {
		r, g, b := f[i], f[i+1], f[i+2]
		f[i] = clamp01(m[0]*r + m[1]*g + m[2]*b)
		f[i+1] = clamp01(m[3]*r + m[4]*g + m[5]*b)
		f[i+2] = clamp01(m[6]*r + m[7]*g + m[8]*b)
	}
}

// referenceColour applies p's jitter op by op, then grayscale.
func referenceColour(f []float32, p params) {
	if p.jitter {
		for _, op := range p.order {
			switch op {
			case 0:
				brightness(f, p.bright)
			case 1:
				contrast(f, p.contrast)
			case 2:
				saturation(f, p.saturation)
			case 3:
				hueRotate(f, p.hue)
			}
		}
	}
	if p.gray {
		for i := 0; i < len(f); i += 3 {
			g := lumR*f[i] + lumG*f[i+1] + lumB*f[i+2]
			f[i], f[i+1], f[i+2] = g, g, g
		}
	}
}

func TestFusedColourMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	cfg := AugStrong(8)
	cfg.JitterProb, cfg.GrayProb = 0.9, 0.3
	for i := range 200 {
		p := drawParams(8, 8, cfg, rng)
		f := make([]float32, 8*8*3)
		for j := range f {
			f[j] = rng.Float32()
		}
		want := append([]float32(nil), f...)
		referenceColour(want, p)
		applyColour(f, p)
		if d := maxAbsDiff(f, want); d > 1e-5 {
			t.Fatalf("draw %d (%+v): fused colour differs from the reference by %g", i, p, d)
		}
	}
}

func TestAxpyMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 100} {
		src, dst := make([]float32, n), make([]float32, n+3)
		for i := range src {
			src[i] = rng.Float32()*2 - 1
		}
		for i := range dst {
			dst[i] = rng.Float32()
		}
		want := append([]float32(nil), dst...)
		axpyScalar(want, src, 0.37)
		axpy(dst, src, 0.37)
		if !slices.Equal(dst, want) {
			t.Fatalf("n=%d: axpy %v, scalar %v", n, dst, want)
		}
	}
}
