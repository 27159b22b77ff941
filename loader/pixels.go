package loader

import (
	"math"
)

// resizeCrop samples box b of every frame of raw into a size x size frame with
// bilinear interpolation (pixel centres at +0.5), mirrored horizontally when
// flip is set. Values are scaled to [0,1].
func resizeCrop(raw *RawClip, b box, flip bool, size int) ClipTensor {
	out := ClipTensor{T: raw.T, H: size, W: size, Data: make([]float32, raw.T*size*size*3)}
	if raw.W <= 0 || raw.H <= 0 || len(raw.Pix) < raw.T*raw.H*raw.W*3 {
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
	const k = 1.0 / 255
	for t := 0; t < raw.T; t++ {
		src := raw.Pix[t*in : (t+1)*in]
		dst := out.Data[t*size*size*3 : (t+1)*size*size*3]
		o := 0
		for _, ty := range ys {
			r0 := src[ty.i0*stride : (ty.i0+1)*stride]
			r1 := src[ty.i1*stride : (ty.i1+1)*stride]
			wy1 := ty.w
			wy0 := 1 - wy1
			for _, tx := range xs {
				a, c := tx.i0*3, tx.i1*3
				wx1 := tx.w
				wx0 := 1 - wx1
				for ch := 0; ch < 3; ch++ {
					top := wx0*float32(r0[a+ch]) + wx1*float32(r0[c+ch])
					bot := wx0*float32(r1[a+ch]) + wx1*float32(r1[c+ch])
					dst[o] = (wy0*top + wy1*bot) * k
					o++
				}
			}
		}
	}
	return out
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
// one frame of [0,1] values.
func applyColour(f []float32, p params) {
	if p.jitter {
		for _, op := range p.order {
			switch op {
			case 0:
				brightness(f, p.bright)
			case 1:
				contrast(f, p.contrast)
			case 2:
				saturation(f, p.saturation)
			case 3:
				if p.hue != 0 {
					hueRotate(f, p.hue)
				}
			}
		}
	}
	if p.gray {
		for i := 0; i < len(f); i += 3 {
			g := lumR*f[i] + lumG*f[i+1] + lumB*f[i+2]
			f[i], f[i+1], f[i+2] = g, g, g
		}
	}
}

// clamp01 limits v to [0,1].
func clamp01(v float32) float32 {
	return min(max(v, 0), 1)
}

// brightness scales every value by b.
func brightness(f []float32, b float32) {
	for i, v := range f {
		f[i] = clamp01(v * b)
	}
}

// contrast blends every value with the frame's mean luma.
func contrast(f []float32, c float32) {
	var sum float64
	for i := 0; i < len(f); i += 3 {
		sum += float64(lumR*f[i] + lumG*f[i+1] + lumB*f[i+2])
	}
	m := float32(sum / float64(max(1, len(f)/3)))
	for i, v := range f {
		f[i] = clamp01(m + c*(v-m))
	}
}

// saturation blends every pixel with its own luma.
func saturation(f []float32, s float32) {
	for i := 0; i < len(f); i += 3 {
		g := lumR*f[i] + lumG*f[i+1] + lumB*f[i+2]
		f[i] = clamp01(g + s*(f[i]-g))
		f[i+1] = clamp01(g + s*(f[i+1]-g))
		f[i+2] = clamp01(g + s*(f[i+2]-g))
	}
}

// hueRotate rotates the chroma of every pixel by h turns in YIQ space, which
// keeps luma and approximates an HSV hue shift with one 3x3 matrix.
func hueRotate(f []float32, h float64) {
	m := hueMatrix(h)
	for i := 0; i < len(f); i += 3 {
		r, g, b := f[i], f[i+1], f[i+2]
		f[i] = clamp01(m[0]*r + m[1]*g + m[2]*b)
		f[i+1] = clamp01(m[3]*r + m[4]*g + m[5]*b)
		f[i+2] = clamp01(m[6]*r + m[7]*g + m[8]*b)
	}
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
	tmp := make([]float32, len(f))
	// Horizontal pass f -> tmp, vertical pass tmp -> f.
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var acc [3]float32
			for k, kv := range kernel {
				sx := reflect(x+k-radius, w)
				p := (y*w + sx) * 3
				acc[0] += kv * f[p]
				acc[1] += kv * f[p+1]
				acc[2] += kv * f[p+2]
			}
			p := (y*w + x) * 3
			tmp[p], tmp[p+1], tmp[p+2] = acc[0], acc[1], acc[2]
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var acc [3]float32
			for k, kv := range kernel {
				sy := reflect(y+k-radius, h)
				p := (sy*w + x) * 3
				acc[0] += kv * tmp[p]
				acc[1] += kv * tmp[p+1]
				acc[2] += kv * tmp[p+2]
			}
			p := (y*w + x) * 3
			f[p], f[p+1], f[p+2] = acc[0], acc[1], acc[2]
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
