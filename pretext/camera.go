package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vidrep/vidrep/loader"
)

// Motions of the camera method. Targets 0 to PanDirections-1 are pan's eight
// directions; the four after them change the view's size or angle in place.
const (
	// CameraZoomIn shrinks the view frame by frame: the scene grows.
	CameraZoomIn = PanDirections + iota
	// CameraZoomOut widens the view frame by frame: the scene shrinks.
	CameraZoomOut
	// CameraRollClockwise turns the view clockwise on the image frame by
	// frame: the scene appears to turn counterclockwise.
	CameraRollClockwise
	// CameraRollCounterclockwise turns the view counterclockwise: the scene
	// appears to turn clockwise.
	CameraRollCounterclockwise
	// CameraMotions is the number of classes the camera method tells apart.
	CameraMotions
)

// Rates of the camera method's zooms and rolls, per frame of the clip. Zoom
// changes the log of the view's side by CameraZoomRate (less when a long clip
// would push the view out of the frame); roll turns it by CameraRollRate
// radians. At the demo's 32-pixel frames a zoom moves the view's border by
// about 1.1 pixels per frame and a roll its corners by about 3.9, where a pan
// moves the whole view by 2.5.
const (
	CameraZoomRate = 0.1
	CameraRollRate = 0.25
)

// View is what a virtual camera sees of one frame: a square of Side pixels
// centred on (X, Y) in pixel coordinates (the centre of pixel (i, j) is at
// (i, j)), turned by Angle radians from +x towards +y (clockwise on the image).
type View struct {
	X, Y, Side, Angle float64
}

// CameraPath returns the view at each of frames frames of a w x h clip for
// camera motion motion (a pan direction, CameraZoomIn, CameraZoomOut,
// CameraRollClockwise or CameraRollCounterclockwise). side is the view's side
// at the middle frame. Pans follow PanPath; zooms and rolls keep the centre
// still, drawn at random among the positions that keep every view inside the
// frame (a rolled view needs its whole diagonal; CameraSide picks a side
// that leaves room for it). Every path is then shifted by a random fraction
// of a pixel (within the frame), so that every motion's frames are
// resampled, pans included, and sharpness cannot tell pans from the rest.
func CameraPath(w, h, side, frames, motion int, rng *rand.Rand) ([]View, error) {
	return cameraPathAt(w, h, side, frames, motion, 1, rng)
}

// cameraPathAt is CameraPath with a pan's step multiplied by panSpeed.
func cameraPathAt(w, h, side, frames, motion int, panSpeed float64, rng *rand.Rand) ([]View, error) {
	if motion < 0 || motion >= CameraMotions {
		return nil, fmt.Errorf("pretext: camera motion %d outside [0,%d)", motion, CameraMotions)
	}
	if frames < 1 {
		return nil, fmt.Errorf("pretext: camera path of %d frames; a clip has at least one", frames)
	}
	if side < 1 || side >= min(w, h) {
		return nil, fmt.Errorf("pretext: camera view of side %d does not fit inside a %dx%d clip with room to move", side, w, h)
	}
	var views []View
	if motion < PanDirections {
		half := float64(side-1) / 2
		for _, corner := range panPathAt(w, h, side, frames, motion, panSpeed, rng) {
			views = append(views, View{X: float64(corner[0]) + half, Y: float64(corner[1]) + half, Side: float64(side)})
		}
	} else {
		views = inPlaceViews(side, frames, motion, min(w, h))
		reach := maxReach(views)
		if 2*reach > float64(min(w, h))+reachSlack {
			return nil, fmt.Errorf("pretext: camera motion %d with a view of side %d spans %.1f pixels, more than the %dx%d clip has; use a smaller side (CameraSide)",
				motion, side, 2*reach, w, h)
		}
		cx := uniformIn(rng, reach-0.5, float64(w)-0.5-reach)
		cy := uniformIn(rng, reach-0.5, float64(h)-0.5-reach)
		for t := range views {
			views[t].X, views[t].Y = cx, cy
		}
	}
	shiftSubPixel(views, w, h, rng)
	return views, nil
}

// inPlaceViews returns the views of a zoom or a roll, without their centre;
// a zoom slows down where its widest view would exceed short pixels (side <
// short keeps it moving).
func inPlaceViews(side, frames, motion, short int) []View {
	mid := float64(frames-1) / 2
	zoom, roll := 0.0, 0.0
	switch motion {
	case CameraZoomIn, CameraZoomOut:
		zoom = CameraZoomRate
		if frames > 1 {
			zoom = min(zoom, math.Log(float64(short)/float64(side))/mid)
		}
		if motion == CameraZoomIn {
			zoom = -zoom
		}
	case CameraRollClockwise:
		roll = CameraRollRate
	case CameraRollCounterclockwise:
		roll = -CameraRollRate
	}
	views := make([]View, frames)
	for t := range views {
		views[t] = View{Side: float64(side) * math.Exp(zoom*(float64(t)-mid)), Angle: roll * (float64(t) - mid)}
	}
	return views
}

// reachSlack absorbs rounding in a view's extent: a zoom slowed down to just
// fit the frame can come out a few ulps wider than it.
const reachSlack = 1e-9

// maxReach is the largest half-extent along x or y of any of views.
func maxReach(views []View) float64 {
	reach := 0.0
	for _, v := range views {
		reach = max(reach, v.Side/2*(math.Abs(math.Cos(v.Angle))+math.Abs(math.Sin(v.Angle))))
	}
	return reach
}

// shiftSubPixel moves every view by one random offset of at most half a
// pixel per axis, as far as the frame allows.
func shiftSubPixel(views []View, w, h int, rng *rand.Rand) {
	reach := maxReach(views)
	lowX, highX, lowY, highY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, v := range views {
		lowX, highX = min(lowX, v.X), max(highX, v.X)
		lowY, highY = min(lowY, v.Y), max(highY, v.Y)
	}
	dx := uniformIn(rng, max(-0.5, reach-0.5-lowX), min(0.5, float64(w)-0.5-reach-highX))
	dy := uniformIn(rng, max(-0.5, reach-0.5-lowY), min(0.5, float64(h)-0.5-reach-highY))
	for t := range views {
		views[t].X += dx
		views[t].Y += dy
	}
}

// CameraSide is the side of the camera method's view for frames-frame clips
// of w x h: PanWindow of the short side, made smaller where a roll over
// that many frames would not fit, so that every motion sees the same scale.
func CameraSide(w, h, frames int) int {
	short := min(w, h)
	side := panSide(w, h)
	for side > 1 && 2*maxReach(inPlaceViews(side, frames, CameraRollClockwise, short)) > float64(short)+reachSlack {
		side--
	}
	return side
}

// WarpClip renders frame t of raw as views[t] shows it, resampled to a
// side x side image with bilinear interpolation (points outside the frame take
// the nearest edge pixel). A view of side pixels at angle 0 centred on a
// pixel grid position copies pixels exactly, as PanClip does.
func WarpClip(raw *loader.RawClip, side int, views []View) (*loader.RawClip, error) {
	if len(views) != raw.T {
		return nil, fmt.Errorf("pretext: camera path of %d frames for a clip of %d", len(views), raw.T)
	}
	if side < 1 {
		return nil, fmt.Errorf("pretext: camera output side %d must be positive", side)
	}
	for t, v := range views {
		if !(v.Side > 0) || math.IsInf(v.Side, 0) || math.IsNaN(v.X+v.Y+v.Angle) || math.IsInf(v.X+v.Y+v.Angle, 0) {
			return nil, fmt.Errorf("pretext: camera view %d is %+v; its side must be positive and every value finite", t, v)
		}
	}
	out := &loader.RawClip{T: raw.T, H: side, W: side, Pix: make([]uint8, raw.T*side*side*3)}
	half := float64(side-1) / 2
	for t, v := range views {
		src := raw.Pix[t*raw.H*raw.W*3 : (t+1)*raw.H*raw.W*3]
		dst := out.Pix[t*side*side*3:]
		scale := v.Side / float64(side)
		cos, sin := math.Cos(v.Angle)*scale, math.Sin(v.Angle)*scale
		for j := range side {
			for i := range side {
				u, w := float64(i)-half, float64(j)-half
				x, y := v.X+u*cos-w*sin, v.Y+u*sin+w*cos
				bilinear(src, raw.W, raw.H, x, y, dst[(j*side+i)*3:(j*side+i)*3+3])
			}
		}
	}
	return out, nil
}

// bilinear writes the RGB value of the w x h image img at point (x, y) into
// px, clamping to the image's edge.
func bilinear(img []uint8, w, h int, x, y float64, px []uint8) {
	x = min(max(x, 0), float64(w-1))
	y = min(max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	for c := range 3 {
		top := float64(img[(y0*w+x0)*3+c])*(1-fx) + float64(img[(y0*w+x1)*3+c])*fx
		bottom := float64(img[(y1*w+x0)*3+c])*(1-fx) + float64(img[(y1*w+x1)*3+c])*fx
		px[c] = uint8(math.Round(top*(1-fy) + bottom*fy))
	}
}

// newCamera is camera-motion prediction, pan extended with zooms and rolls:
// a square view follows one of CameraMotions motions across the frames of a
// clip (a pan in one of PanDirections directions, a zoom in or out, a roll
// either way) and the head predicts which. Like predicting ego-motion
// (Agrawal et al., ICCV 2015), it asks for filters that read global
// translation, expansion and rotation apart from the scene's own motion.
// Options.Augment, when set, replaces the default view transform and must
// not crop or flip.
// With Options.LocalMotion set, that share of its clips moves only inside a
// random rectangle of the view, the rest staying still (LocalCameraClip).
// With Options.Still set, every clip is first frozen to its middle frame
// (StillClip), so that no motion but the camera's is left.
func newCamera(o Options) (Method, error) {
	return movingViewMethod("camera", CameraMotions, o, func(raw *loader.RawClip, rng *rand.Rand) (*loader.RawClip, int, error) {
		if o.Still {
			raw = StillClip(raw)
		}
		side, motion, views, err := drawCameraMotion(raw, o.PanSpeedJitter, rng)
		if err != nil {
			return nil, 0, err
		}
		if o.LocalMotion > 0 && rng.Float64() < o.LocalMotion {
			clip, err := LocalCameraClip(raw, side, views, RandomWindow(side, rng))
			return clip, motion, err
		}
		warped, err := WarpClip(raw, side, views)
		return warped, motion, err
	}), nil
}

// StillClip returns a clip of raw's length whose every frame is raw's
// middle frame: a still scene for a camera to move over.
func StillClip(raw *loader.RawClip) *loader.RawClip {
	n := raw.H * raw.W * 3
	mid := raw.Pix[raw.T/2*n : (raw.T/2+1)*n]
	out := &loader.RawClip{T: raw.T, H: raw.H, W: raw.W, Pix: make([]uint8, len(raw.Pix))}
	for t := range raw.T {
		copy(out.Pix[t*n:], mid)
	}
	return out
}

// drawCameraMotion draws one of CameraMotions motions for raw's frames and
// its path: the view's side (CameraSide), the motion and a view per frame.
// With panSpeedJitter j > 0 a pan's speed is multiplied by a factor drawn
// uniformly from [1-j, 1+j] (the draw is skipped when j is 0, so that the
// random stream is the one without it).
func drawCameraMotion(raw *loader.RawClip, panSpeedJitter float64, rng *rand.Rand) (side, motion int, views []View, err error) {
	side = CameraSide(raw.W, raw.H, raw.T)
	motion = rng.IntN(CameraMotions)
	speed := 1.0
	if panSpeedJitter > 0 && motion < PanDirections {
		speed = 1 + panSpeedJitter*(2*rng.Float64()-1)
	}
	views, err = cameraPathAt(raw.W, raw.H, side, raw.T, motion, speed, rng)
	return side, motion, views, err
}

// Sides of the rectangle a local camera motion is confined to, as fractions
// of the view's side, drawn uniformly per axis.
const (
	LocalWindowMin = 0.3
	LocalWindowMax = 0.7
)

// Window is a rectangle of a view's pixels: columns [X0, X1), rows [Y0, Y1).
type Window struct{ X0, Y0, X1, Y1 int }

// RandomWindow draws a rectangle of a side x side view whose width and
// height are between LocalWindowMin and LocalWindowMax of side, placed
// uniformly inside it.
func RandomWindow(side int, rng *rand.Rand) Window {
	length := func() int {
		lo, hi := int(math.Ceil(LocalWindowMin*float64(side))), int(LocalWindowMax*float64(side))
		return max(1, lo+rng.IntN(max(1, hi-lo+1)))
	}
	w, h := length(), length()
	x0, y0 := rng.IntN(side-w+1), rng.IntN(side-h+1)
	return Window{X0: x0, Y0: y0, X1: x0 + w, Y1: y0 + h}
}

// LocalCameraClip renders a camera motion seen through a still window, as
// the static mask of MoSI (Huang et al., CVPR 2021) does for pseudo-motions:
// outside win every frame shows the still view at the path's middle (the
// scene's own motion only); inside win it shows views, the moving camera, with
// zooms and rolls turning about win's centre rather than the view's, so that
// the window's motion is the motion's own (an off-centre window of a zoom
// would otherwise see mostly a translation). At the middle of the path the
// two views agree, so the window has no seam there; its motion is what
// reveals it. The head must find the motion where it is, which is what
// labeled actions of a moving object ask for.
func LocalCameraClip(raw *loader.RawClip, side int, views []View, win Window) (*loader.RawClip, error) {
	if win.X0 < 0 || win.Y0 < 0 || win.X1 > side || win.Y1 > side || win.X0 >= win.X1 || win.Y0 >= win.Y1 {
		return nil, fmt.Errorf("pretext: window %+v is empty or leaves a view of side %d", win, side)
	}
	if len(views) == 0 {
		return nil, fmt.Errorf("pretext: local camera motion with an empty path")
	}
	still := View{Side: float64(side)}
	for _, v := range views {
		still.X += v.X / float64(len(views))
		still.Y += v.Y / float64(len(views))
	}
	stills := make([]View, len(views))
	moving := make([]View, len(views))
	half := float64(side-1) / 2
	qx, qy := float64(win.X0+win.X1-1)/2-half, float64(win.Y0+win.Y1-1)/2-half
	for t, v := range views {
		stills[t] = still
		moving[t] = pivotAbout(v, qx, qy, float64(side))
	}
	out, err := WarpClip(raw, side, stills)
	if err != nil {
		return nil, err
	}
	inside, err := WarpClip(raw, side, moving)
	if err != nil {
		return nil, err
	}
	for t := range out.T {
		for y := win.Y0; y < win.Y1; y++ {
			row := ((t*side+y)*side + win.X0) * 3
			copy(out.Pix[row:row+(win.X1-win.X0)*3], inside.Pix[row:])
		}
	}
	return out, nil
}

// pivotAbout shifts v so that its scaling and turning happen about the
// output point (qx, qy) (relative to the output's centre) rather than about
// the view's centre: for the views of a zoom or a roll, which share one
// centre, the source point that (qx, qy) shows is then the same in every
// frame. A view that neither scales nor turns (a pan's) is unchanged. Near
// the frame's edge a turned window can reach slightly past the frame (about a
// pixel at 112 pixels and 16 frames), where WarpClip repeats the edge pixels.
func pivotAbout(v View, qx, qy, side float64) View {
	scale := v.Side / side
	cos, sin := math.Cos(v.Angle)*scale, math.Sin(v.Angle)*scale
	v.X += qx - (qx*cos - qy*sin)
	v.Y += qy - (qx*sin + qy*cos)
	return v
}

func init() { register("camera", newCamera) }
