package loader

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// KineticsMean and KineticsStd are the per-channel RGB statistics (on 0..1
// values) that torchvision's video models (r3d_18, mc3_18, r2plus1d_18) were
// trained with; the presets normalise with them so imported weights see the
// inputs they expect.
var (
	KineticsMean = [3]float32{0.43216, 0.394666, 0.37645}
	KineticsStd  = [3]float32{0.22803, 0.22145, 0.216989}
)

// AugConfig describes how a RawClip becomes a ClipTensor. Every random
// parameter is drawn once per call and applied to every frame of the clip, so
// motion is preserved; two calls (two views) draw independently.
type AugConfig struct {
	// Size is the side of the square output (H = W = Size).
	Size int
	// Random selects the training transform (random resized crop, flip,
	// colour, grayscale, blur). When false the deterministic evaluation
	// transform is used: resize the short side to EvalResize and take the
	// centre Size x Size crop (or Crops crops, see EvalCrops).
	Random bool

	// ScaleMin, ScaleMax bound the crop's area as a fraction of the frame.
	ScaleMin, ScaleMax float64
	// RatioMin, RatioMax bound the crop's aspect ratio (width / height),
	// sampled log-uniformly.
	RatioMin, RatioMax float64
	// FlipProb is the probability of a horizontal flip.
	FlipProb float64

	// JitterProb is the probability of applying colour jitter at all.
	JitterProb float64
	// Brightness, Contrast, Saturation: factors are drawn from [1-x, 1+x].
	Brightness, Contrast, Saturation float64
	// Hue: a rotation of the hue by a fraction of the colour circle drawn
	// from [-Hue, Hue] (at most 0.5).
	Hue float64
	// GrayProb is the probability of converting the clip to grayscale.
	GrayProb float64
	// BlurProb is the probability of a Gaussian blur whose sigma (in output
	// pixels) is drawn from [BlurSigmaMin, BlurSigmaMax].
	BlurProb                   float64
	BlurSigmaMin, BlurSigmaMax float64

	// EvalResize is the short side the evaluation transform resizes to before
	// cropping Size x Size (0 means Size: the crop spans the short side).
	EvalResize int
	// Crops is the number of evaluation crops EvalCrops returns: 1 (centre) or
	// 3 (left/top, centre, right/bottom along the long side). 0 means 1.
	Crops int

	// Mean and Std normalise each channel: (x/255 - Mean) / Std. A zero Std
	// channel means 1 (the zero AugConfig yields plain [0,1] values).
	Mean, Std [3]float32
}

// AugTrain is the usual supervised training transform: a moderate random
// resized crop, horizontal flip and light colour jitter.
func AugTrain(size int) AugConfig {
	return AugConfig{
		Size: size, Random: true,
		ScaleMin: 0.3, ScaleMax: 1, RatioMin: 3.0 / 4, RatioMax: 4.0 / 3,
		FlipProb:   0.5,
		JitterProb: 0.5, Brightness: 0.2, Contrast: 0.2, Saturation: 0.2,
		Mean: KineticsMean, Std: KineticsStd,
	}
}

// AugStrong is the contrastive-view transform (SimCLR/CVRL style): a wide
// random resized crop, flip, strong colour jitter, random grayscale and blur.
func AugStrong(size int) AugConfig {
	return AugConfig{
		Size: size, Random: true,
		ScaleMin: 0.2, ScaleMax: 1, RatioMin: 0.5, RatioMax: 2,
		FlipProb:   0.5,
		JitterProb: 0.8, Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1,
		GrayProb: 0.2,
		BlurProb: 0.5, BlurSigmaMin: 0.1, BlurSigmaMax: 2.0,
		Mean: KineticsMean, Std: KineticsStd,
	}
}

// AugEval is the deterministic test transform: resize the short side to
// size*8/7 (128 for 112) and crop the centre size x size.
func AugEval(size int) AugConfig {
	return AugConfig{Size: size, EvalResize: size * 8 / 7, Crops: 1, Mean: KineticsMean, Std: KineticsStd}
}

// Validate reports the first inconsistent field as a one-line error.
func (c AugConfig) Validate() error {
	switch {
	case c.Size <= 0:
		return fmt.Errorf("augmentation: size %d must be positive", c.Size)
	case c.Std[0] < 0 || c.Std[1] < 0 || c.Std[2] < 0:
		return fmt.Errorf("augmentation: std %v has a negative channel; use loader.KineticsStd or {1,1,1}", c.Std)
	case c.Crops != 0 && c.Crops != 1 && c.Crops != 3:
		return fmt.Errorf("augmentation: %d crops; use 1 or 3", c.Crops)
	case c.EvalResize != 0 && c.EvalResize < c.Size:
		return fmt.Errorf("augmentation: eval resize %d is smaller than the crop size %d", c.EvalResize, c.Size)
	}
	if !c.Random {
		return nil
	}
	switch {
	case c.ScaleMin <= 0 || c.ScaleMax > 1 || c.ScaleMin > c.ScaleMax:
		return fmt.Errorf("augmentation: crop scale range [%g,%g] must lie in (0,1]", c.ScaleMin, c.ScaleMax)
	case c.RatioMin <= 0 || c.RatioMin > c.RatioMax:
		return fmt.Errorf("augmentation: aspect ratio range [%g,%g] must be positive and ordered", c.RatioMin, c.RatioMax)
	case c.Hue < 0 || c.Hue > 0.5:
		return fmt.Errorf("augmentation: hue %g must lie in [0,0.5]", c.Hue)
	case c.BlurProb > 0 && (c.BlurSigmaMin <= 0 || c.BlurSigmaMin > c.BlurSigmaMax):
		return fmt.Errorf("augmentation: blur sigma range [%g,%g] must be positive and ordered", c.BlurSigmaMin, c.BlurSigmaMax)
	}
	return nil
}

// box is a crop rectangle in source pixels (floating point).
type box struct{ x, y, w, h float64 }

// params are the random choices for one clip.
type params struct {
	crop       box
	flip       bool
	jitter     bool
	order      [4]int // order of brightness, contrast, saturation, hue
	bright     float32
	contrast   float32
	saturation float32
	hue        float64
	gray       bool
	blurSigma  float64 // 0: no blur
}

// Augment turns a decoded clip into a normalised [T][Size][Size][3] tensor.
// With cfg.Random it draws one set of parameters from rng and applies it to
// every frame; otherwise it applies the deterministic centre-crop evaluation
// transform and rng may be nil. A clip with no pixels yields a zero tensor of
// the right shape.
func Augment(raw *RawClip, cfg AugConfig, rng *rand.Rand) ClipTensor {
	if cfg.Size <= 0 {
		return ClipTensor{T: raw.T}
	}
	if !cfg.Random {
		return evalCrop(raw, cfg, 1, 3)
	}
	p := drawParams(raw.W, raw.H, cfg, rng)
	out := resizeCrop(raw, p.crop, p.flip, cfg.Size, unit)
	frame := cfg.Size * cfg.Size * 3
	for t := 0; t < out.T; t++ {
		f := out.Data[t*frame : (t+1)*frame]
		applyColour(f, p)
		if p.blurSigma > 0 {
			gaussianBlur(f, cfg.Size, cfg.Size, p.blurSigma)
		}
	}
	normalise(out.Data, cfg.Mean, cfg.Std)
	return out
}

// EvalCrops returns the deterministic evaluation crops of a clip: the centre
// crop when cfg.Crops is 0 or 1; the left, centre and right crops (top,
// centre, bottom for a portrait video) when cfg.Crops is 3.
func EvalCrops(raw *RawClip, cfg AugConfig) []ClipTensor {
	n := cfg.Crops
	if cfg.Size <= 0 {
		return []ClipTensor{{T: raw.T}}
	}
	if n != 3 {
		return []ClipTensor{evalCrop(raw, cfg, 1, 3)}
	}
	return []ClipTensor{evalCrop(raw, cfg, 0, 3), evalCrop(raw, cfg, 1, 3), evalCrop(raw, cfg, 2, 3)}
}

// evalCrop follows torchvision's test transform: resize the short side to
// EvalResize (at least Size), then take crop i of n Size x Size squares
// spaced along the long side (i = 1 of 3 is the centre), at whole-pixel
// offsets of the resized frame. A frame already decoded at EvalResize is
// copied without interpolation.
func evalCrop(raw *RawClip, cfg AugConfig, i, n int) ClipTensor {
	resize := max(cfg.EvalResize, cfg.Size)
	short := min(raw.W, raw.H)
	if short <= 0 {
		return resizeCrop(raw, box{}, false, cfg.Size, normAffine(cfg.Mean, cfg.Std))
	}
	f := float64(resize) / float64(short) // resized = source * f
	rw, rh := int(math.Round(float64(raw.W)*f)), int(math.Round(float64(raw.H)*f))
	rw, rh = max(rw, cfg.Size), max(rh, cfg.Size)
	x, y := (rw-cfg.Size+1)/2, (rh-cfg.Size+1)/2
	if rw >= rh {
		x = (rw - cfg.Size) * i / (n - 1)
	} else {
		y = (rh - cfg.Size) * i / (n - 1)
	}
	if i == (n-1)/2 { // centre: torchvision rounds half up
		x, y = int(math.Round(float64(rw-cfg.Size)/2)), int(math.Round(float64(rh-cfg.Size)/2))
	}
	side := float64(cfg.Size) / f
	b := box{x: float64(x) / f, y: float64(y) / f, w: side, h: side}
	if f == 1 {
		b = box{x: float64(x), y: float64(y), w: float64(cfg.Size), h: float64(cfg.Size)}
	}
	return resizeCrop(raw, b, false, cfg.Size, normAffine(cfg.Mean, cfg.Std))
}

// drawParams draws the random parameters for one clip of w x h frames.
func drawParams(w, h int, cfg AugConfig, rng *rand.Rand) params {
	var p params
	p.crop = randomCrop(float64(w), float64(h), cfg, rng)
	p.flip = rng.Float64() < cfg.FlipProb
	if rng.Float64() < cfg.JitterProb {
		p.jitter = true
		p.bright = float32(uniform(rng, 1-cfg.Brightness, 1+cfg.Brightness))
		p.contrast = float32(uniform(rng, 1-cfg.Contrast, 1+cfg.Contrast))
		p.saturation = float32(uniform(rng, 1-cfg.Saturation, 1+cfg.Saturation))
		p.hue = uniform(rng, -cfg.Hue, cfg.Hue)
		perm := rng.Perm(4)
		copy(p.order[:], perm)
	}
	p.gray = rng.Float64() < cfg.GrayProb
	if rng.Float64() < cfg.BlurProb {
		p.blurSigma = uniform(rng, cfg.BlurSigmaMin, cfg.BlurSigmaMax)
	}
	return p
}

// uniform draws from [lo, hi].
func uniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*rng.Float64()
}

// randomCrop draws a box whose area fraction lies in the scale range and
// whose aspect ratio lies in the ratio range (log-uniform); after 10 misses
// it falls back to the largest centred box with the ratio clamped to range.
func randomCrop(w, h float64, cfg AugConfig, rng *rand.Rand) box {
	area := w * h
	logLo, logHi := math.Log(cfg.RatioMin), math.Log(cfg.RatioMax)
	for range 10 {
		target := area * uniform(rng, cfg.ScaleMin, cfg.ScaleMax)
		ratio := math.Exp(uniform(rng, logLo, logHi))
		cw, ch := math.Sqrt(target*ratio), math.Sqrt(target/ratio)
		if cw <= w && ch <= h && cw >= 1 && ch >= 1 {
			return box{x: rng.Float64() * (w - cw), y: rng.Float64() * (h - ch), w: cw, h: ch}
		}
	}
	ratio := w / h
	cw, ch := w, h
	if ratio < cfg.RatioMin {
		ch = w / cfg.RatioMin
	} else if ratio > cfg.RatioMax {
		cw = h * cfg.RatioMax
	}
	return box{x: (w - cw) / 2, y: (h - ch) / 2, w: cw, h: ch}
}
