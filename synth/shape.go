package synth

import "math"

// shapeKind names an object outline. None is symmetric under a quarter turn,
// and most have no rotational symmetry at all, so spinning is visible.
type shapeKind int

const (
	shapeRect shapeKind = iota
	shapeEllipse
	shapeHalfDisc
	shapeTriangle
	shapeArrow
	shapeKite
	shapeL
	shapeT
	shapeU
)

// allShapes lists every shape; distractors draw from all of them.
var allShapes = []shapeKind{shapeRect, shapeEllipse, shapeHalfDisc, shapeTriangle, shapeArrow, shapeKite, shapeL, shapeT, shapeU}

// Object texture kinds, painted in the object's own frame so they turn with it.
const (
	texSolid   = iota // colour A only
	texStripes        // stripes across the long axis
	texHalves         // one half A, the other B
	texChecker        // a 2x2 or 3x3 checkerboard
	texRamp           // a linear ramp from A to B
	texKinds
)

// object is a drawable shape: outline, proportions, colours and texture.
type object struct {
	kind     shapeKind
	aspect   float64 // thickness of thin shapes, 0.35..0.7 of the length
	tex      int
	freq     float64 // stripe or checker frequency
	colA     rgb
	colB     rgb
	contrast float64 // texture contrast
}

// newObject draws an object of one of kinds with colours from palette.
func newObject(r *rng, kinds []shapeKind, palette [4]rgb, contrast float64) object {
	o := object{kind: kinds[r.intn(len(kinds))], aspect: r.uniform(0.35, 0.7), tex: r.intn(texKinds), freq: float64(2 + r.intn(2)), contrast: contrast}
	a := r.intn(len(palette))
	b := (a + 1 + r.intn(len(palette)-1)) % len(palette)
	o.colA, o.colB = palette[a], palette[b]
	return o
}

// colorAt returns the object's colour at local point (u, v) (the object spans
// about [-0.5, 0.5] on each axis) and whether the point is inside it.
func (o *object) colorAt(u, v float64) (rgb, bool) {
	if !o.inside(u, v) {
		return rgb{}, false
	}
	var f float64
	switch o.tex {
	case texStripes:
		f = step(math.Sin(2 * math.Pi * o.freq * u))
	case texHalves:
		f = step(u)
	case texChecker:
		f = float64((int(math.Floor((u+0.5)*o.freq)) + int(math.Floor((v+0.5)*o.freq))) & 1)
	case texRamp:
		f = u + 0.5
	}
	return mix(o.colA, o.colB, f*o.contrast), true
}

// step is 1 for x > 0, else 0.
func step(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

// inside reports whether local point (u, v) lies in the outline.
func (o *object) inside(u, v float64) bool {
	h := o.aspect / 2 // half thickness
	switch o.kind {
	case shapeRect:
		return math.Abs(u) <= 0.5 && math.Abs(v) <= h
	case shapeEllipse:
		return u*u/0.25+v*v/(h*h) <= 1
	case shapeHalfDisc:
		return u*u+v*v <= 0.25 && v <= 0.1
	case shapeTriangle:
		return inTriangle(u, v, 0.5, 0, -0.5, -h-0.1, -0.5, h+0.1)
	case shapeArrow:
		head := inTriangle(u, v, 0.5, 0, 0, -0.4, 0, 0.4)
		return head || (u >= -0.5 && u <= 0 && math.Abs(v) <= h/2)
	case shapeKite:
		return inTriangle(u, v, 0.5, 0, -0.1, -h-0.05, -0.1, h+0.05) || inTriangle(u, v, -0.5, 0, -0.1, h+0.05, -0.1, -h-0.05)
	case shapeL:
		w := h * 0.8
		return inBox(u, v, -0.5, 0.5, 0.5-w, 0.5) || inBox(u, v, -0.5, -0.5+w, -0.5, 0.5)
	case shapeT:
		w := h * 0.8
		return inBox(u, v, -0.5, 0.5, -0.5, -0.5+w) || inBox(u, v, -w/2, w/2, -0.5, 0.5)
	default: // shapeU
		w := h * 0.7
		return inBox(u, v, -0.5, 0.5, 0.5-w, 0.5) || inBox(u, v, -0.5, -0.5+w, -0.3, 0.5) || inBox(u, v, 0.5-w, 0.5, -0.3, 0.5)
	}
}

// inBox reports whether (u, v) lies in [u0, u1] x [v0, v1].
func inBox(u, v, u0, u1, v0, v1 float64) bool { return u >= u0 && u <= u1 && v >= v0 && v <= v1 }

// inTriangle reports whether (px, py) lies in the triangle a, b, c (either winding).
func inTriangle(px, py, ax, ay, bx, by, cx, cy float64) bool {
	d1 := (px-bx)*(ay-by) - (ax-bx)*(py-by)
	d2 := (px-cx)*(by-cy) - (bx-cx)*(py-cy)
	d3 := (px-ax)*(cy-ay) - (cx-ax)*(py-ay)
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}
