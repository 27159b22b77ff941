package synth

import "math"

// rgb is a colour with channels in 0..255.
type rgb [3]float64

// luma returns the Rec. 601 luminance of c.
func (c rgb) luma() float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// mix returns a + (b-a)*f.
func mix(a, b rgb, f float64) rgb {
	return rgb{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f, a[2] + (b[2]-a[2])*f}
}

// Background texture kinds.
const (
	bgGratings = iota // a sum of sinusoidal gratings
	bgChecker         // a rotated checkerboard
	bgBlobs           // smooth value noise
	bgGradient        // a linear ramp plus a faint grating
	bgKinds
)

// Shape families: each group draws its objects from one family.
var shapeFamilies = [][]shapeKind{
	{shapeRect, shapeEllipse, shapeHalfDisc},
	{shapeTriangle, shapeArrow, shapeKite},
	{shapeL, shapeT, shapeU},
}

// scene is what one group shares across its clips: the background, the
// palette objects take their colours from, and the shape family.
type scene struct {
	bgKind   int
	bgA, bgB rgb
	// gratings: frequency vector (cycles per frame side) and phase of 3 waves
	waves [3][3]float64
	// checker: integer lattice (a, b) so that it tiles the torus; blobs: a
	// periodic grid of values; angle: phase of the gradient kind
	ca, cb   float64
	angle    float64
	grid     [][]float64
	palette  [4]rgb
	family   []shapeKind
	contrast float64
}

// newScene draws a scene. Palette colours keep a luminance distance from the
// background's mean so objects stay visible.
func newScene(r *rng, n Nuisance) *scene {
	s := &scene{bgKind: r.intn(bgKinds), contrast: n.Background}
	s.bgA, s.bgB = randColor(r), randColor(r)
	for i := range s.waves {
		f, a := r.uniform(1.5, 5), r.uniform(0, 2*math.Pi)
		// integer frequencies along each axis keep the texture periodic on the torus
		s.waves[i] = [3]float64{math.Round(f * math.Cos(a)), math.Round(f * math.Sin(a)), r.uniform(0, 2*math.Pi)}
	}
	s.ca, s.cb = float64(2+r.intn(3)), float64(r.intn(3))
	s.angle = r.uniform(0, 2*math.Pi)
	g := 4 + r.intn(3)
	s.grid = make([][]float64, g)
	for i := range s.grid {
		s.grid[i] = make([]float64, g)
		for j := range s.grid[i] {
			s.grid[i][j] = r.float()
		}
	}
	bgLuma := mix(s.bgA, s.bgB, 0.5).luma()
	for i := range s.palette {
		c := randColor(r)
		for try := 0; try < 50 && math.Abs(c.luma()-bgLuma) < 60; try++ {
			c = randColor(r)
		}
		s.palette[i] = c
	}
	s.family = shapeFamilies[r.intn(len(shapeFamilies))]
	return s
}

// randColor draws a uniform RGB colour.
func randColor(r *rng) rgb { return rgb{r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255)} }

// background returns the background colour at world point (x, y); the world
// is the unit torus and every texture kind is periodic on it.
func (s *scene) background(x, y float64) rgb {
	return mix(s.bgA, s.bgB, 0.5+s.contrast*(s.texture(x, y)-0.5))
}

// bgTable is the background sampled at the centres of an n x n grid over the
// torus, so rendering reads it instead of evaluating the texture.
type bgTable struct {
	n   int
	col []rgb
}

// table samples the background on an n x n grid.
func (s *scene) table(n int) *bgTable {
	t := &bgTable{n: n, col: make([]rgb, n*n)}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			t.col[i*n+j] = s.background((float64(j)+0.5)/float64(n), (float64(i)+0.5)/float64(n))
		}
	}
	return t
}

// at returns the colour of grid cell (i, j), wrapping around the torus.
func (t *bgTable) at(i, j int) rgb {
	i, j = ((i%t.n)+t.n)%t.n, ((j%t.n)+t.n)%t.n
	return t.col[i*t.n+j]
}

// texture returns the background pattern value in [0, 1] at (x, y).
func (s *scene) texture(x, y float64) float64 {
	switch s.bgKind {
	case bgGratings:
		v := 0.0
		for _, w := range s.waves {
			v += math.Sin(2*math.Pi*(w[0]*x+w[1]*y) + w[2])
		}
		return 0.5 + v/6
	case bgChecker:
		u, v := s.ca*x+s.cb*y, -s.cb*x+s.ca*y
		return float64((int(math.Floor(u)) + int(math.Floor(v))) & 1)
	case bgBlobs:
		return s.valueNoise(x, y)
	default:
		w := s.waves[0]
		return 0.5 + 0.35*math.Sin(2*math.Pi*x+w[2])*math.Cos(2*math.Pi*y+s.angle) + 0.1*math.Sin(2*math.Pi*(w[0]*x+w[1]*y))
	}
}

// valueNoise interpolates the scene's periodic grid smoothly at (x, y).
func (s *scene) valueNoise(x, y float64) float64 {
	n := len(s.grid)
	gx, gy := wrap01(x)*float64(n), wrap01(y)*float64(n)
	i, j := int(gx), int(gy)
	fx, fy := smooth(gx-float64(i)), smooth(gy-float64(j))
	i0, j0, i1, j1 := i%n, j%n, (i+1)%n, (j+1)%n
	top := s.grid[j0][i0] + (s.grid[j0][i1]-s.grid[j0][i0])*fx
	bot := s.grid[j1][i0] + (s.grid[j1][i1]-s.grid[j1][i0])*fx
	return top + (bot-top)*fy
}

// smooth is the smoothstep easing curve on [0, 1].
func smooth(t float64) float64 { return t * t * (3 - 2*t) }
