// Package flow estimates the global motion between video frames: one affine
// motion field per pair of frames, fitted by least squares to the optical-flow
// constraint. It is the cue behind the synthetic benchmark's motion baseline
// (package synth) and the targets of the flowstats pretext (package pretext).
//
// The fit is global: a clip whose moving object covers part of the frame gets
// the field that best explains all of its brightness change, which is enough
// to read the object's direction, spin, growth and reversals on the synthetic
// benchmark, and is no substitute for dense optical flow on real video.
package flow

import "math"

// Affine is one affine motion field, u = A[0] + A[1] x + A[2] y and
// v = A[3] + A[4] x + A[5] y: (u, v) in pixels per frame, (x, y) measured from
// the frame's centre in half short sides (so a square frame spans about
// [-1, 1]).
type Affine [6]float64

// Translation is the motion (u, v) at the frame's centre, pixels per frame.
func (a Affine) Translation() (u, v float64) { return a[0], a[3] }

// Divergence is du/dx + dv/dy: positive when the content grows.
func (a Affine) Divergence() float64 { return a[1] + a[5] }

// Curl is dv/dx - du/dy: positive when the content turns clockwise on the
// image (x right, y down).
func (a Affine) Curl() float64 { return a[4] - a[2] }

// Grey converts one RGB frame ([h][w][3] bytes, row by row; note that the
// arguments give the width first) to luminance (BT.601 weights) smoothed by
// a 3x3 binomial filter, which the fit's finite differences need.
func Grey(frame []uint8, w, h int) []float64 {
	g := make([]float64, w*h)
	for i := range g {
		p := frame[i*3:]
		g[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return blur(g, w, h)
}

// blur applies a 3x3 binomial filter, clamping at the edges.
func blur(g []float64, w, h int) []float64 {
	at := func(i, j int) float64 { return g[min(max(i, 0), h-1)*w+min(max(j, 0), w-1)] }
	out := make([]float64, len(g))
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			v := 4*at(i, j) + 2*(at(i-1, j)+at(i+1, j)+at(i, j-1)+at(i, j+1)) +
				at(i-1, j-1) + at(i-1, j+1) + at(i+1, j-1) + at(i+1, j+1)
			out[i*w+j] = v / 16
		}
	}
	return out
}

// Fit returns the affine field that carries grey frame a to grey frame b
// (both w x h, from Grey): the least-squares solution of the optical-flow
// constraint Ix u + Iy v + It = 0 over the interior pixels, with a small
// ridge term so that a frame without texture gives zero motion.
func Fit(a, b []float64, w, h int) Affine {
	mean := make([]float64, len(a)) // the gradients are taken on the two frames' average
	for k := range mean {
		mean[k] = (a[k] + b[k]) / 2
	}
	var ata [6][6]float64 // symmetric: only q >= p is summed, then mirrored
	var atb [6]float64
	half := float64(min(w, h)) / 2
	for i := 1; i < h-1; i++ {
		y := (float64(i) - float64(h-1)/2) / half
		for j := 1; j < w-1; j++ {
			x := (float64(j) - float64(w-1)/2) / half
			k := i*w + j
			ix := (mean[k+1] - mean[k-1]) / 2
			iy := (mean[k+w] - mean[k-w]) / 2
			it := b[k] - a[k]
			row := [6]float64{ix, ix * x, ix * y, iy, iy * x, iy * y}
			for p := range row {
				atb[p] -= row[p] * it
				for q := p; q < len(row); q++ {
					ata[p][q] += row[p] * row[q]
				}
			}
		}
	}
	for p := range ata {
		for q := range p {
			ata[p][q] = ata[q][p]
		}
	}
	return solveRidge(ata, atb)
}

// solveRidge solves the normal equations ata x = atb with a ridge of 1e-3 of
// the mean diagonal, so that a frame without texture gives zero motion.
func solveRidge(ata [6][6]float64, atb [6]float64) Affine {
	tr := 0.0
	for p := range ata {
		tr += ata[p][p]
	}
	for p := range ata {
		ata[p][p] += 1e-3*tr/6 + 1e-9
	}
	return solve6(ata, atb)
}

// Clip returns the fields between consecutive frames of pix ([t][h][w][3]
// bytes, as loader.RawClip holds them; the arguments give the width before
// the height): t-1 of them.
func Clip(pix []uint8, t, w, h int) []Affine {
	if t < 2 {
		return nil
	}
	n := w * h * 3
	prev := Grey(pix[:n], w, h)
	out := make([]Affine, t-1)
	for k := range out {
		next := Grey(pix[(k+1)*n:(k+2)*n], w, h)
		out[k] = Fit(prev, next, w, h)
		prev = next
	}
	return out
}

// solve6 solves the 6x6 system m x = v by Gaussian elimination with partial
// pivoting; a zero pivot leaves its unknown at 0.
func solve6(m [6][6]float64, v [6]float64) Affine {
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
	var x Affine
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
