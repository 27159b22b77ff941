package synth

import (
	"math"
	"sort"

	"github.com/vidrep/vidrep/flow"
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

// motionFeatures summarises a clip's motion: the affine flow of every frame
// pair, then its translation, divergence (scaling) and curl (spin), their
// persistence, the velocity's autocorrelation (back and forth) and turning
// (circling), and how the amount of change varies (stopping and starting).
func motionFeatures(pix []uint8, t, s int) []float64 {
	g := make([][]float64, t)
	for f := range g {
		g[f] = flow.Grey(pix[f*s*s*3:(f+1)*s*s*3], s, s)
	}
	n := t - 1
	u, v, div, curl, energy := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for k := 0; k < n; k++ {
		a := flow.Fit(g[k], g[k+1], s, s)
		u[k], v[k] = a.Translation()
		div[k], curl[k] = a.Divergence(), a.Curl()
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
