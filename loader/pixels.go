package loader

import (
	"math"
)

// affine maps a 0..255 sample to an output value per channel: v*mul + add.
type affine struct{ mul, add [3]float32 }

// unit maps 0..255 to [0,1].
var unit = affine{mul: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}}

// normAffine maps 0..255 straight to normalised values (v/255 - mean) / std.
func normAffine(mean, std [3]float32) affine {
	var a affine
	for c := range 3 {
		s := std[c]
		if s == 0 {
			s = 1
		}
		a.mul[c] = 1 / (255 * s)
		a.add[c] = -mean[c] / s
	}
	return a
}

// resizeCrop samples box b of every frame of raw into a size x size frame with
// bilinear interpolation (pixel centres at +0.5), mirrored horizontally when
// flip is set, mapping values through aff. An integer-aligned box of exactly
// size x size is copied without interpolation.
func resizeCrop(raw *RawClip, b box, flip bool, size int, aff affine) ClipTensor {
	out := ClipTensor{T: raw.T, H: size, W: size, Data: make([]float32, raw.T*size*size*3)}
	if raw.W <= 0 || raw.H <= 0 || len(raw.Pix) < raw.T*raw.H*raw.W*3 {
		return out
	}
	if !flip && b.w == float64(size) && b.h == float64(size) && b.x == math.Trunc(b.x) && b.y == math.Trunc(b.y) &&
		b.x >= 0 && b.y >= 0 && int(b.x)+size <= raw.W && int(b.y)+size <= raw.H {
		copyCrop(raw, int(b.x), int(b.y), size, aff, out.Data)
		return out
	}
	xs := axisTaps(b.x, b.w, size, raw.W)
	ys := axisTaps(b.y, b.h, size, raw.H)
	if flip {
		for i, j := 0, size-1; i < j; i, j = i+1, j-1 {
			xs[i], xs[j] = xs[j], xs[i]
		}
	}
	in := raw.H * raw.W * 3
	stride := raw.W * 3
	row := size * 3
	m0, m1, m2 := aff.mul[0], aff.mul[1], aff.mul[2]
	a0, a1, a2 := aff.add[0], aff.add[1], aff.add[2]
	for t := 0; t < raw.T; t++ {
		src := raw.Pix[t*in : (t+1)*in]
		dst := out.Data[t*size*row : (t+1)*size*row]
		for oy, ty := range ys {
			r0 := src[ty.i0*stride : (ty.i0+1)*stride]
			r1 := src[ty.i1*stride : (ty.i1+1)*stride]
			wy1 := ty.w
			wy0 := 1 - wy1
			d := dst[oy*row : (oy+1)*row]
			for ox, tx := range xs {
				a, c := tx.i0*3, tx.i1*3
				w00, w01 := wy0*(1-tx.w), wy0*tx.w
				w10, w11 := wy1*(1-tx.w), wy1*tx.w
				p0, p1 := r0[a:a+3:a+3], r0[c:c+3:c+3]
				q0, q1 := r1[a:a+3:a+3], r1[c:c+3:c+3]
				o := d[ox*3 : ox*3+3 : ox*3+3]
				o[0] = (w00*float32(p0[0])+w01*float32(p1[0])+w10*float32(q0[0])+w11*float32(q1[0]))*m0 + a0
				o[1] = (w00*float32(p0[1])+w01*float32(p1[1])+w10*float32(q0[1])+w11*float32(q1[1]))*m1 + a1
				o[2] = (w00*float32(p0[2])+w01*float32(p1[2])+w10*float32(q0[2])+w11*float32(q1[2]))*m2 + a2
			}
		}
	}
	return out
}

// copyCrop copies the size x size square at (x0, y0) of every frame through
// aff, using a 256-entry table per channel.
func copyCrop(raw *RawClip, x0, y0, size int, aff affine, dst []float32) {
	var lut [3][256]float32
	for c := range 3 {
		for v := range 256 {
			lut[c][v] = float32(v)*aff.mul[c] + aff.add[c]
		}
	}
	in := raw.H * raw.W * 3
	stride := raw.W * 3
	row := size * 3
	o := 0
	for t := 0; t < raw.T; t++ {
		for y := y0; y < y0+size; y++ {
			src := raw.Pix[t*in+y*stride+x0*3 : t*in+y*stride+x0*3+row]
			d := dst[o : o+row]
			for i := 0; i+2 < len(src); i += 3 {
				d[i] = lut[0][src[i]]
				d[i+1] = lut[1][src[i+1]]
				d[i+2] = lut[2][src[i+2]]
			}
			o += row
		}
	}
}

// tap is one output coordinate's two source neighbours and the weight of the second.
type tap struct {
	i0, i1 int
	w      float32
}

// axisTaps maps size output pixels onto the span [start, start+length) of an
// axis with n source pixels.
func axisTaps(start, length float64, size, n int) []tap {
	taps := make([]tap, size)
	scale := length / float64(size)
	for o := range taps {
		s := start + (float64(o)+0.5)*scale - 0.5
		s = math.Max(0, math.Min(s, float64(n-1)))
		i0 := int(math.Floor(s))
		i1 := min(i0+1, n-1)
		taps[o] = tap{i0: i0, i1: i1, w: float32(s - float64(i0))}
	}
	return taps
}

// Luma weights (ITU-R BT.601), as torchvision's rgb_to_grayscale.
const lumR, lumG, lumB = 0.299, 0.587, 0.114

// applyColour applies the clip's jitter (in its drawn order) and grayscale to
// one frame of [0,1] values, in at most two passes: the operations before
// contrast (which needs the frame's mean luma at that point), then contrast,
// the rest and grayscale.
func applyColour(f []float32, p params) {
	if !p.jitter {
		if p.gray {
			pointwise(f, nil, p, true)
		}
		return
	}
	ops := p.order[:]
	ci := 0
	for ci < len(ops) && ops[ci] != 1 {
		ci++
	}
	if ci == len(ops) { // no contrast: one pass
		pointwise(f, ops, p, p.gray)
		return
	}
	mean := pointwise(f, ops[:ci], p, false)
	c := p.contrast
	for i, v := range f {
		f[i] = clamp01(mean + c*(v-mean))
	}
	if ci+1 < len(ops) || p.gray {
		pointwise(f, ops[ci+1:], p, p.gray)
	}
}

// pointwise applies the per-pixel operations ops (0 brightness, 2
// saturation, 3 hue; no contrast) in order, then grayscale if gray, and
// returns the frame's mean luma after them.
func pointwise(f []float32, ops []int, p params, gray bool) float32 {
	var hue [9]float32
	if p.hue != 0 {
		hue = hueMatrix(p.hue)
	}
	b, s := p.bright, p.saturation
	var sum float64
	for i := 0; i+2 < len(f); i += 3 {
		px := f[i : i+3 : i+3]
		r, g, bl := px[0], px[1], px[2]
		for _, op := range ops {
			switch op {
			case 0:
				r, g, bl = clamp01(r*b), clamp01(g*b), clamp01(bl*b)
			case 2:
				l := lumR*r + lumG*g + lumB*bl
				r, g, bl = clamp01(l+s*(r-l)), clamp01(l+s*(g-l)), clamp01(l+s*(bl-l))
			case 3:
				if p.hue != 0 {
					m := &hue
					r, g, bl = clamp01(m[0]*r+m[1]*g+m[2]*bl), clamp01(m[3]*r+m[4]*g+m[5]*bl), clamp01(m[6]*r+m[7]*g+m[8]*bl)
				}
			}
		}
		l := lumR*r + lumG*g + lumB*bl
		sum += float64(l)
		if gray {
			r, g, bl = l, l, l
		}
		px[0], px[1], px[2] = r, g, bl
	}
	return float32(sum / float64(max(1, len(f)/3)))
}

// clamp01 limits v to [0,1].
func clamp01(v float32) float32 {
	return min(max(v, 0), 1)
}

// hueMatrix is RGB->YIQ, a rotation of (I,Q) by 2*pi*h, then YIQ->RGB.
func hueMatrix(h float64) [9]float32 {
	toYIQ := [9]float64{0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312}
	toRGB := [9]float64{1, 0.956, 0.621, 1, -0.272, -0.647, 1, -1.106, 1.703}
	c, s := math.Cos(2*math.Pi*h), math.Sin(2*math.Pi*h)
	rot := [9]float64{1, 0, 0, 0, c, -s, 0, s, c}
	m := mul3(toRGB, mul3(rot, toYIQ))
	var out [9]float32
	for i, v := range m {
		out[i] = float32(v)
	}
	return out
}

// mul3 multiplies two row-major 3x3 matrices.
func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				c[i*3+j] += a[i*3+k] * b[k*3+j]
			}
		}
	}
	return c
}

// gaussianBlur blurs an h x w x 3 frame in place with a separable Gaussian of
// the given sigma, mirroring at the borders.
func gaussianBlur(f []float32, h, w int, sigma float64) {
	radius := min(int(math.Ceil(3*sigma)), max(h, w)-1)
	if radius < 1 {
		return
	}
	kernel := gaussianKernel(sigma, radius)
	row := w * 3
	tmp := make([]float32, len(f))
	line := make([]float32, (w+2*radius)*3)
	// Horizontal: copy each row with mirrored margins, then convolve.
	for y := 0; y < h; y++ {
		src := f[y*row : (y+1)*row]
		for x := -radius; x < w+radius; x++ {
			sx := reflect(x, w)
			copy(line[(x+radius)*3:(x+radius)*3+3], src[sx*3:sx*3+3])
		}
		dst := tmp[y*row : (y+1)*row]
		for k, kv := range kernel {
			axpy(dst, line[k*3:k*3+row], kv)
		}
	}
	// Vertical: accumulate whole mirrored rows.
	for y := 0; y < h; y++ {
		dst := f[y*row : (y+1)*row]
		clear(dst)
		for k, kv := range kernel {
			sy := reflect(y+k-radius, h)
			axpy(dst, tmp[sy*row:(sy+1)*row], kv)
		}
	}
}

// gaussianKernel returns 2*radius+1 weights summing to 1.
func gaussianKernel(sigma float64, radius int) []float32 {
	k := make([]float64, 2*radius+1)
	var sum float64
	for i := range k {
		d := float64(i - radius)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	out := make([]float32, len(k))
	for i, v := range k {
		out[i] = float32(v / sum)
	}
	return out
}

// reflect mirrors index i into [0, n) (…2 1 | 0 1 2 … n-1 | n-2 …).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// normalise maps [0,1] values to (v - mean[c]) / std[c] in place.
func normalise(d []float32, mean, std [3]float32) {
	var inv [3]float32
	for c, s := range std {
		inv[c] = 1
		if s != 0 {
			inv[c] = 1 / s
		}
	}
	for i := 0; i+2 < len(d); i += 3 {
		d[i] = (d[i] - mean[0]) * inv[0]
		d[i+1] = (d[i+1] - mean[1]) * inv[1]
		d[i+2] = (d[i+2] - mean[2]) * inv[2]
	}
}

// axpyScalar adds a*src to dst element-wise.
func axpyScalar(dst, src []float32, a float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += a * v
	}
}
