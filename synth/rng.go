package synth

import "math"

// rng is a small, self-contained pseudo-random generator (SplitMix64). The
// benchmark's pixels depend on every draw, so its algorithm is fixed here
// rather than borrowed from a library whose streams might change.
type rng struct {
	state    uint64
	spare    float64 // the second normal of the last Box-Muller pair
	hasSpare bool
}

// mix64 is the SplitMix64 finaliser: a bijective scrambling of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// newRNG derives an independent stream from a seed and a path of integers
// (kind, class, group, clip, ...), so every clip's draws are the same
// whatever order the workers render the clips in.
func newRNG(seed int64, path ...uint64) *rng {
	h := mix64(uint64(seed) ^ 0x5bd1e9955bd1e995)
	for _, p := range path {
		h = mix64(h ^ (p + 0x9e3779b97f4a7c15))
	}
	return &rng{state: h}
}

// next returns 64 random bits.
func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// uniform returns a uniform number in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn returns a uniform integer in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// sign returns -1 or +1 with equal odds.
func (r *rng) sign() float64 {
	if r.next()&1 == 0 {
		return -1
	}
	return 1
}

// norm returns a standard normal number (Box-Muller, both values used).
func (r *rng) norm() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	u := 1 - r.float() // in (0, 1]
	v := r.float()
	m := math.Sqrt(-2 * math.Log(u))
	r.spare, r.hasSpare = m*math.Sin(2*math.Pi*v), true
	return m * math.Cos(2*math.Pi*v)
}

// logUniform returns a number whose logarithm is uniform in [ln lo, ln hi).
func (r *rng) logUniform(lo, hi float64) float64 {
	return math.Exp(r.uniform(math.Log(lo), math.Log(hi)))
}
