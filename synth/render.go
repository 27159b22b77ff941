package synth

import "math"

// Random streams of one clip. Appearance and motion draw from separate
// streams so that a clip's look is the same whatever its class.
const (
	streamLook = iota + 1
	streamMotion
	streamNoise
)

// distractor is a small object drifting in a straight line.
type distractor struct {
	obj    object
	s      objState
	dx, dy float64
}

// occluder is a bar across the scene, in front of everything.
type occluder struct {
	nx, ny, offset, halfWidth float64 // the bar holds points with |n·p - offset| <= halfWidth
	col                       rgb
}

// clip is everything needed to render one clip's frames.
type clip struct {
	frames, size int
	sc           *scene
	obj          object
	traj         []objState
	distract     []distractor
	occ          *occluder
	shake        [][2]float64
	noise        float64
	noiseRNG     *rng
	bg           *bgTable // the background sampled at the render resolution, made on first use
}

// newClip draws a clip of class in scene sc. seed and path identify the
// clip; the same arguments give the same clip.
func newClip(cfg Config, sc *scene, class int, path ...uint64) *clip {
	look := newRNG(cfg.Seed, append(path, streamLook)...)
	n := cfg.Nuisance
	c := &clip{frames: cfg.Frames, size: cfg.Size, sc: sc, noise: n.Noise}
	c.obj = newObject(look, sc.family, sc.palette, n.Texture)
	s0 := initialState(look)
	speed := look.uniform(n.SpeedMin, n.SpeedMax)
	for i, k := 0, look.intn(n.Distractors+1); i < k; i++ {
		c.distract = append(c.distract, newDistractor(look, sc, n))
	}
	if look.float() < n.Occlusion {
		c.occ = newOccluder(look)
	}
	c.shake = shakePath(look, cfg.Frames, n.Shake)
	c.traj = trajectory(class, s0, speed, cfg.Frames, n.Friction, newRNG(cfg.Seed, append(path, streamMotion)...))
	c.noiseRNG = newRNG(cfg.Seed, append(path, streamNoise)...)
	return c
}

// newDistractor draws a small object drifting in a random direction.
func newDistractor(r *rng, sc *scene, n Nuisance) distractor {
	d := distractor{obj: newObject(r, allShapes, sc.palette, n.Texture)}
	d.s = objState{x: r.float(), y: r.float(), theta: r.uniform(0, 2*math.Pi), size: r.logUniform(0.08, 0.16)}
	dir, v := r.uniform(0, 2*math.Pi), r.uniform(0.5, 1.5)*translateSpeed
	d.dx, d.dy = v*math.Cos(dir), v*math.Sin(dir)
	return d
}

// newOccluder draws a bar of random angle, position and colour.
func newOccluder(r *rng) *occluder {
	a := r.uniform(0, math.Pi)
	return &occluder{nx: math.Cos(a), ny: math.Sin(a), offset: r.uniform(-0.4, 0.4), halfWidth: r.uniform(0.05, 0.09), col: randColor(r)}
}

// shakePath draws a stationary, smooth camera offset per frame (an AR(1)
// process with standard deviation amp on each axis).
func shakePath(r *rng, frames int, amp float64) [][2]float64 {
	const a = 0.8
	out := make([][2]float64, frames)
	x, y := r.norm(), r.norm()
	for t := range out {
		if t > 0 {
			x = a*x + math.Sqrt(1-a*a)*r.norm()
			y = a*y + math.Sqrt(1-a*a)*r.norm()
		}
		out[t] = [2]float64{amp * x, amp * y}
	}
	return out
}

// placed is an object at one frame with its rotation precomputed.
type placed struct {
	obj          *object
	x, y, size   float64
	cos, sin, r2 float64
}

func place(o *object, s objState) placed {
	r := 0.75 * s.size
	return placed{obj: o, x: s.x, y: s.y, size: s.size, cos: math.Cos(s.theta), sin: math.Sin(s.theta), r2: r * r}
}

// near reports whether the object may cover some point within reach of (x, y).
func (p *placed) near(x, y, reach float64) bool {
	dx, dy := wrapHalf(x-p.x), wrapHalf(y-p.y)
	r := math.Sqrt(p.r2) + reach
	return dx*dx+dy*dy <= r*r
}

// colorAt returns the placed object's colour at world point (wx, wy) on the torus.
func (p *placed) colorAt(wx, wy float64) (rgb, bool) {
	dx, dy := wrapHalf(wx-p.x), wrapHalf(wy-p.y)
	if dx*dx+dy*dy > p.r2 {
		return rgb{}, false
	}
	u := (p.cos*dx + p.sin*dy) / p.size
	v := (-p.sin*dx + p.cos*dy) / p.size
	return p.obj.colorAt(u, v)
}

// render returns the clip's frames as [T][H][W][3] bytes.
func (c *clip) render() []uint8 {
	n := c.size * c.size * 3
	pix := make([]uint8, c.frames*n)
	for t := 0; t < c.frames; t++ {
		c.renderFrame(t, pix[t*n:(t+1)*n])
	}
	return pix
}

// supersample returns the samples per pixel side used for anti-aliasing.
func supersample(size int) int {
	if size <= 64 {
		return 3
	}
	return 2
}

// renderFrame draws frame t into out ([H][W][3]). Sample (sx, sy) of pixel
// (i, j) sits at world point ((j*ss+sx+0.5)/R + shake, ...), R = size*ss;
// the shake is rounded to the sample grid so the background is a table read.
func (c *clip) renderFrame(t int, out []uint8) {
	objs := make([]placed, 0, len(c.distract)+1)
	for i := range c.distract {
		d := &c.distract[i]
		objs = append(objs, place(&d.obj, moved(d.s, d.dx*float64(t), d.dy*float64(t))))
	}
	objs = append(objs, place(&c.obj, c.traj[t])) // the main object is on top
	ss := supersample(c.size)
	res := c.size * ss
	if c.bg == nil {
		c.bg = c.sc.table(res)
	}
	inv := 1 / float64(res)
	shx, shy := int(math.Round(c.shake[t][0]*float64(res))), int(math.Round(c.shake[t][1]*float64(res)))
	halfDiag := 0.7072 * float64(ss) * inv
	near := make([]placed, 0, len(objs))
	for i := 0; i < c.size; i++ {
		for j := 0; j < c.size; j++ {
			// Only objects (and the occluder) within reach of the pixel are tested per sample.
			cx, cy := (float64(j*ss+shx)+float64(ss)/2)*inv, (float64(i*ss+shy)+float64(ss)/2)*inv
			near = near[:0]
			for _, p := range objs {
				if p.near(cx, cy, halfDiag) {
					near = append(near, p)
				}
			}
			occ := c.occ
			if occ != nil && math.Abs(occ.nx*(cx-0.5)+occ.ny*(cy-0.5)-occ.offset) > occ.halfWidth+halfDiag {
				occ = nil
			}
			var acc rgb
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					gx, gy := j*ss+sx+shx, i*ss+sy+shy
					col := c.sample(near, occ, (float64(gx)+0.5)*inv, (float64(gy)+0.5)*inv, gx, gy)
					acc[0], acc[1], acc[2] = acc[0]+col[0], acc[1]+col[1], acc[2]+col[2]
				}
			}
			o := out[(i*c.size+j)*3:]
			for k := 0; k < 3; k++ {
				o[k] = toByte(acc[k]/float64(ss*ss) + c.noise*c.noiseRNG.norm())
			}
		}
	}
}

// sample returns the scene colour at world point (wx, wy), which is
// background grid cell (gx, gy): occluder (nil when out of reach) in front,
// then objects (last on top), then background.
func (c *clip) sample(objs []placed, o *occluder, wx, wy float64, gx, gy int) rgb {
	if o != nil && math.Abs(o.nx*(wx-0.5)+o.ny*(wy-0.5)-o.offset) <= o.halfWidth {
		return o.col
	}
	for k := len(objs) - 1; k >= 0; k-- {
		if col, ok := objs[k].colorAt(wx, wy); ok {
			return col
		}
	}
	return c.bg.at(gy, gx)
}

// toByte rounds and clamps v to 0..255.
func toByte(v float64) uint8 {
	v = math.Round(v)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// wrapHalf wraps a torus difference d onto [-0.5, 0.5].
func wrapHalf(d float64) float64 {
	for d > 0.5 {
		d--
	}
	for d < -0.5 {
		d++
	}
	return d
}
