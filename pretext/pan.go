package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vidrep/vidrep/loader"
)

// Geometry of the pan method, as fractions of the frame's short side.
const (
	// PanDirections is the number of pan directions the method tells apart:
	// direction k moves the view along the angle 2*pi*k/PanDirections,
	// measured from +x (right) towards +y (down in the image).
	PanDirections = 8
	// PanWindow is the side of the moving square view.
	PanWindow = 0.69
	// PanStep is how far the view moves between two frames of the clip; it
	// shrinks when the clip is too long for the whole path to fit in the frame.
	PanStep = 0.078
)

// PanPath returns the top-left corners (x, y) of a side x side window at each
// of frames frames when the view pans in direction dir across a w x h frame:
// a straight path at constant speed whose midpoint is drawn at random among
// those that keep every window inside the frame.
func PanPath(w, h, side, frames, dir int, rng *rand.Rand) [][2]int {
	return panPathAt(w, h, side, frames, dir, 1, rng)
}

// panPathAt is PanPath with the step multiplied by speed (still shrunk where
// the whole path would not fit in the frame).
func panPathAt(w, h, side, frames, dir int, speed float64, rng *rand.Rand) [][2]int {
	short := min(w, h)
	step := speed * PanStep * float64(short)
	if frames > 1 {
		step = min(step, float64(short-side)/float64(frames-1))
	}
	angle := 2 * math.Pi * float64(dir) / PanDirections
	vx, vy := step*math.Cos(angle), step*math.Sin(angle)
	mid := float64(frames-1) / 2
	// the corner at the middle frame, drawn so that the ends stay inside
	cx := uniformIn(rng, math.Abs(vx)*mid, float64(w-side)-math.Abs(vx)*mid)
	cy := uniformIn(rng, math.Abs(vy)*mid, float64(h-side)-math.Abs(vy)*mid)
	path := make([][2]int, frames)
	for t := range path {
		x := int(math.Round(cx + vx*(float64(t)-mid)))
		y := int(math.Round(cy + vy*(float64(t)-mid)))
		path[t] = [2]int{min(max(x, 0), w-side), min(max(y, 0), h-side)}
	}
	return path
}

// uniformIn draws from [lo, hi], or returns their midpoint when hi < lo.
func uniformIn(rng *rand.Rand, lo, hi float64) float64 {
	if hi <= lo {
		return (lo + hi) / 2
	}
	return lo + (hi-lo)*rng.Float64()
}

// PanClip cuts a side x side window out of each frame of raw at the corners
// of path, as a camera panning over the scene would see it.
func PanClip(raw *loader.RawClip, side int, path [][2]int) (*loader.RawClip, error) {
	if len(path) != raw.T {
		return nil, fmt.Errorf("pretext: pan path of %d frames for a clip of %d", len(path), raw.T)
	}
	if side < 1 || side > raw.W || side > raw.H {
		return nil, fmt.Errorf("pretext: pan window %d does not fit a %dx%d frame", side, raw.W, raw.H)
	}
	out := &loader.RawClip{T: raw.T, H: side, W: side, Pix: make([]uint8, raw.T*side*side*3)}
	for t, corner := range path {
		src := raw.Pix[t*raw.H*raw.W*3:]
		dst := out.Pix[t*side*side*3:]
		for y := 0; y < side; y++ {
			row := ((corner[1]+y)*raw.W + corner[0]) * 3
			copy(dst[y*side*3:(y+1)*side*3], src[row:row+side*3])
		}
	}
	return out, nil
}

// panAugment is pan's default view transform: the window is resized to the
// crop size with the usual light colour jitter, and no random crop or flip,
// which would change the apparent direction of the pan.
func panAugment(size int) AugmentFunc {
	cfg := loader.AugTrain(size)
	cfg.ScaleMin, cfg.ScaleMax = 1, 1
	cfg.RatioMin, cfg.RatioMax = 1, 1
	cfg.FlipProb = 0
	return func(raw *loader.RawClip, rng *rand.Rand) loader.ClipTensor { return loader.Augment(raw, cfg, rng) }
}

// newPan is camera-pan prediction: a square view slides across the frames
// of a clip in one of PanDirections directions at constant speed, and the
// head predicts the direction. Telling a pan from the scene's own motion
// needs direction-selective motion filters, the cue the motion-statistics
// pretext of Wang et al. (CVPR 2019) reads from optical flow; here the
// motion is made, so no flow is computed. Options.Augment, when set,
// replaces the default view transform and must not crop or flip.
func newPan(o Options) (Method, error) {
	return movingViewMethod("pan", PanDirections, o, func(raw *loader.RawClip, rng *rand.Rand) (*loader.RawClip, int, error) {
		side := panSide(raw.W, raw.H)
		dir := rng.IntN(PanDirections)
		panned, err := PanClip(raw, side, PanPath(raw.W, raw.H, side, raw.T, dir, rng))
		return panned, dir, err
	}), nil
}

// panSide is the side of pan's view in a w x h clip: PanWindow of its short
// side.
func panSide(w, h int) int { return int(math.Round(PanWindow * float64(min(w, h)))) }

// movingViewMethod is a one-view classifier for pan-like methods: move
// makes the view from one clip read at a random start and returns it with
// its target among classes; the view is then transformed by Options.Augment
// or, by default, panAugment (no crop, no flip).
func movingViewMethod(name string, classes int, o Options, move func(raw *loader.RawClip, rng *rand.Rand) (*loader.RawClip, int, error)) Method {
	aug := o.Augment
	if aug == nil {
		aug = panAugment(o.Size)
	}
	return &classifier{name: name, views: 1, classes: classes, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			raw, err := r.Read(randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride)
			if err != nil {
				return nil, 0, err
			}
			view, target, err := move(raw, rng)
			if err != nil {
				return nil, 0, err
			}
			return []loader.ClipTensor{aug(view, rng)}, target, nil
		}}
}

func init() { register("pan", newPan) }
