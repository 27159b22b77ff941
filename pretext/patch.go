package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vidrep/vidrep/loader"
)

// PatchSide is the side of the patch method's moving square, as a fraction
// of the frame's short side.
const PatchSide = 0.4

// PastePatch returns a copy of raw in which a side x side square cut from
// each frame at src (its top-left corner) is pasted at path[t] in frame t:
// a piece of the scene that slides along path over the rest of it.
func PastePatch(raw *loader.RawClip, side int, src [2]int, path [][2]int) (*loader.RawClip, error) {
	if len(path) != raw.T {
		return nil, fmt.Errorf("pretext: patch path of %d frames for a clip of %d", len(path), raw.T)
	}
	inside := func(c [2]int) bool { return c[0] >= 0 && c[1] >= 0 && c[0]+side <= raw.W && c[1]+side <= raw.H }
	if side < 1 || !inside(src) {
		return nil, fmt.Errorf("pretext: patch of side %d at %v does not fit a %dx%d frame", side, src, raw.W, raw.H)
	}
	out := &loader.RawClip{T: raw.T, H: raw.H, W: raw.W, Pix: append([]uint8(nil), raw.Pix...)}
	frame := raw.H * raw.W * 3
	for t, dst := range path {
		if !inside(dst) {
			return nil, fmt.Errorf("pretext: patch of side %d at %v in frame %d leaves the %dx%d frame", side, dst, t, raw.W, raw.H)
		}
		from, to := raw.Pix[t*frame:(t+1)*frame], out.Pix[t*frame:(t+1)*frame]
		for y := range side {
			s := ((src[1]+y)*raw.W + src[0]) * 3
			d := ((dst[1]+y)*raw.W + dst[0]) * 3
			copy(to[d:d+side*3], from[s:s+side*3])
		}
	}
	return out, nil
}

// newPatch is moving-patch direction prediction: a square cut from the clip
// itself (at a random place, with that place's own changes over time) slides
// over the clip in one of PanDirections directions at pan's speed, and the
// head predicts the direction. Where pan moves the whole view, this moves a
// part of it, the way an object moves over a background, so the direction
// has to be read from local motion among the scene's own. Options.Augment,
// when set, replaces the default view transform and must not crop or flip.
func newPatch(o Options) (Method, error) {
	aug := o.Augment
	if aug == nil {
		aug = panAugment(o.Size)
	}
	return &classifier{name: "patch", views: 1, classes: PanDirections, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			raw, err := r.Read(randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride)
			if err != nil {
				return nil, 0, err
			}
			side := max(1, int(math.Round(PatchSide*float64(min(raw.W, raw.H)))))
			src := [2]int{rng.IntN(raw.W - side + 1), rng.IntN(raw.H - side + 1)}
			dir := rng.IntN(PanDirections)
			pasted, err := PastePatch(raw, side, src, PanPath(raw.W, raw.H, side, raw.T, dir, rng))
			if err != nil {
				return nil, 0, err
			}
			return []loader.ClipTensor{aug(pasted, rng)}, dir, nil
		}}, nil
}

func init() { register("patch", newPatch) }
