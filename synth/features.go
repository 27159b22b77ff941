package synth

import (
	"math"
	"sort"
)

// frameFeatures describes one RGB frame ([S][S][3] bytes) by appearance
// only: an 8x8 colour thumbnail, a 4x4x4 colour histogram, and the mean and
// standard deviation of each channel.
func frameFeatures(frame []uint8, s int) []float64 {
	const thumb, bins = 8, 4
	f := make([]float64, thumb*thumb*3+bins*bins*bins+6)
	counts := make([]float64, thumb*thumb)
	hist := f[thumb*thumb*3 : thumb*thumb*3+bins*bins*bins]
	stats := f[len(f)-6:]
	for i := 0; i < s; i++ {
		for j := 0; j < s; j++ {
			p := frame[(i*s+j)*3:]
			cell := (i*thumb/s)*thumb + j*thumb/s
			counts[cell]++
			for k := 0; k < 3; k++ {
				v := float64(p[k]) / 255
				f[cell*3+k] += v
				stats[k] += v
				stats[3+k] += v * v
			}
			hist[int(p[0])*bins/256*bins*bins+int(p[1])*bins/256*bins+int(p[2])*bins/256]++
		}
	}
	for c, n := range counts {
		for k := 0; k < 3; k++ {
			f[c*3+k] /= n
		}
	}
	n := float64(s * s)
	for i := range hist {
		hist[i] /= n
	}
	for k := 0; k < 3; k++ {
		m := stats[k] / n
		stats[k], stats[3+k] = m, math.Sqrt(math.Max(0, stats[3+k]/n-m*m))
	}
	return f
}

// greyFrames converts [T][S][S][3] bytes to blurred luminance frames.
func greyFrames(pix []uint8, t, s int) [][]float64 {
	out := make([][]float64, t)
	for f := range out {
		g := make([]float64, s*s)
		for i := range g {
			p := pix[(f*s*s+i)*3:]
			g[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		}
		out[f] = blur(g, s)
	}
	return out
}

// blur applies a 3x3 binomial filter, clamping at the edges.
func blur(g []float64, s int) []float64 {
	at := func(i, j int) float64 { return g[min(max(i, 0), s-1)*s+min(max(j, 0), s-1)] }
	out := make([]float64, len(g))
	for i := 0; i < s; i++ {
		for j := 0; j < s; j++ {
			v := 4*at(i, j) + 2*(at(i-1, j)+at(i+1, j)+at(i, j-1)+at(i, j+1)) +
				at(i-1, j-1) + at(i-1, j+1) + at(i+1, j-1) + at(i+1, j+1)
			out[i*s+j] = v / 16
		}
	}
	return out
}

// affineFlow fits one affine motion field u = a0 + a1 x + a2 y,
// v = a3 + a4 x + a5 y (x, y centred, in half frame sides; u, v in pixels
// per frame) to the brightness change from a to b by least squares on the
// optical-flow constraint Ix u + Iy v + It = 0 over the interior pixels.
func affineFlow(a, b []float64, s int) [6]float64 {
	var ata [6][6]float64
	var atb [6]float64
	half := float64(s) / 2
	for i := 1; i < s-1; i++ {
		y := (float64(i) - float64(s-1)/2) / half
		for j := 1; j < s-1; j++ {
			x := (float64(j) - float64(s-1)/2) / half
			m := func(ii, jj int) float64 { return (a[ii*s+jj] + b[ii*s+jj]) / 2 }
			ix := (m(i, j+1) - m(i, j-1)) / 2
			iy := (m(i+1, j) - m(i-1, j)) / 2
			it := b[i*s+j] - a[i*s+j]
			row := [6]float64{ix, ix * x, ix * y, iy, iy * x, iy * y}
			for p := range row {
				atb[p] -= row[p] * it
				for q := range row {
					ata[p][q] += row[p] * row[q]
				}
			}
		}
	}
	tr := 0.0
	for p := range ata {
		tr += ata[p][p]
	}
	for p := range ata {
		ata[p][p] += 1e-3*tr/6 + 1e-9
	}
	return solve6(ata, atb)
}

// solve6 solves the 6x6 system m x = v by Gaussian elimination with partial pivoting.
func solve6(m [6][6]float64, v [6]float64) [6]float64 {
	const n = 6
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		v[c], v[p] = v[p], v[c]
		if m[c][c] == 0 {
			continue
		}
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k < n; k++ {
				m[r][k] -= f * m[c][k]
			}
			v[r] -= f * v[c]
		}
	}
	var x [6]float64
	for r := n - 1; r >= 0; r-- {
		s := v[r]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		if m[r][r] != 0 {
			x[r] = s / m[r][r]
		}
	}
	return x
}

// motionFeatures summarises a clip's motion: the affine flow of every frame
// pair, then its translation, divergence (scaling) and curl (spin), their
// persistence, the velocity's autocorrelation (back and forth) and turning
// (circling), and how the amount of change varies (stopping and starting).
func motionFeatures(pix []uint8, t, s int) []float64 {
	g := greyFrames(pix, t, s)
	n := t - 1
	u, v, div, curl, energy := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for k := 0; k < n; k++ {
		a := affineFlow(g[k], g[k+1], s)
		u[k], v[k], div[k], curl[k] = a[0], a[3], a[1]+a[5], a[4]-a[2]
		for i := range g[k] {
			energy[k] += math.Abs(g[k+1][i] - g[k][i])
		}
		energy[k] /= float64(s * s)
	}
	speed2 := 1e-9
	for k := range u {
		speed2 += u[k]*u[k] + v[k]*v[k]
	}
	f := []float64{mean(u), mean(v), median(u), median(v), math.Hypot(mean(u), mean(v)), meanHypot(u, v),
		mean(div), median(div), mean(curl), median(curl), meanAbs(div), meanAbs(curl)}
	for _, lag := range []int{2, 4, 6} {
		c := 0.0
		for k := 0; k+lag < n; k++ {
			c += u[k]*u[k+lag] + v[k]*v[k+lag]
		}
		f = append(f, c/speed2)
	}
	turn := 0.0
	for k := 0; k+1 < n; k++ {
		turn += u[k]*v[k+1] - v[k]*u[k+1]
	}
	me := mean(energy)
	return append(f, turn/speed2, math.Abs(turn)/speed2, me, stddev(energy)/(me+1e-9))
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(max(len(x), 1))
}

func meanAbs(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += math.Abs(v)
	}
	return s / float64(max(len(x), 1))
}

func meanHypot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += math.Hypot(x[i], y[i])
	}
	return s / float64(max(len(x), 1))
}

func stddev(x []float64) float64 {
	m, s := mean(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	c := append([]float64(nil), x...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
