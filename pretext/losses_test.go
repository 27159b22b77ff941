package pretext

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestCrossEntropyHandCase(t *testing.T) {
	logits := [][]float32{{1, 2, 3}, {0, 2, 1}}
	targets := []int32{2, 0}
	lossT := evalGraph(t, func(_ *Graph, in []*Node) *Node {
		l, a := CrossEntropy(in[0], in[1])
		return Stack([]*Node{l, a}, 0)
	}, logits, targets)
	got := lossT.Value().([]float32)
	// row 0: logsumexp(1,2,3) - 3 = log(1+e^-1+e^-2); row 1: logsumexp(0,2,1) - 0 = 2+log(1+e^-2+e^-1).
	r0 := math.Log(1 + math.Exp(-1) + math.Exp(-2))
	want := (r0 + 2 + r0) / 2
	if !near(float64(got[0]), want, 1e-5) || got[1] != 0.5 {
		t.Errorf("CE = %v, acc = %v; want %v, 0.5", got[0], got[1], want)
	}
}

// infoNCERef is NT-Xent written out with loops, as in the SimCLR paper.
func infoNCERef(z1, z2 [][]float32, tau float64) (float64, float64) {
	z := append(append([][]float32{}, z1...), z2...)
	n, b := len(z), len(z1)
	norm := func(v []float32) []float64 {
		s := 0.0
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / math.Sqrt(s)
		}
		return out
	}
	total, correct := 0.0, 0.0
	for i := range n {
		zi := norm(z[i])
		pos := (i + b) % n
		denom, best, bestJ, posSim := 0.0, math.Inf(-1), -1, 0.0
		for j := range n {
			if j == i {
				continue
			}
			zj := norm(z[j])
			s := 0.0
			for k := range zi {
				s += zi[k] * zj[k]
			}
			s /= tau
			denom += math.Exp(s)
			if j == pos {
				posSim = s
			}
			if s > best {
				best, bestJ = s, j
			}
		}
		total += math.Log(denom) - posSim
		if bestJ == pos {
			correct++
		}
	}
	return total / float64(n), correct / float64(n)
}

func TestInfoNCE(t *testing.T) {
	// Hand case: orthogonal unit vectors, tau=1, every row sees its partner at
	// similarity 1 and two others at 0: loss = log(2+e) - 1.
	e1e2 := [][]float32{{1, 0}, {0, 1}}
	run := func(z1, z2 [][]float32, tau float64) []float32 {
		return evalGraph(t, func(_ *Graph, in []*Node) *Node {
			l, a := InfoNCE(in[0], in[1], tau)
			return Stack([]*Node{l, a}, 0)
		}, z1, z2).Value().([]float32)
	}
	got := run(e1e2, e1e2, 1)
	if want := math.Log(2+math.E) - 1; !near(float64(got[0]), want, 1e-5) || got[1] != 1 {
		t.Errorf("hand case: loss %v acc %v, want %v 1", got[0], got[1], want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	randM := func(r, c int) [][]float32 {
		m := make([][]float32, r)
		for i := range m {
			m[i] = make([]float32, c)
			for j := range m[i] {
				m[i][j] = float32(rng.NormFloat64())
			}
		}
		return m
	}
	z1, z2 := randM(3, 5), randM(3, 5)
	got = run(z1, z2, 0.5)
	wantL, wantA := infoNCERef(z1, z2, 0.5)
	if !near(float64(got[0]), wantL, 1e-4) || !near(float64(got[1]), wantA, 1e-6) {
		t.Errorf("random case: loss %v acc %v, want %v %v", got[0], got[1], wantL, wantA)
	}
}

func TestNormalizedMSE(t *testing.T) {
	p := [][]float32{{1, 0}, {3, 4}}
	tg := [][]float32{{0, 2}, {6, 8}}
	got := evalGraph(t, func(_ *Graph, in []*Node) *Node { return NormalizedMSE(in[0], in[1]) }, p, tg).Value().(float32)
	// row 0: orthogonal -> |[1,-1]|^2 = 2; row 1: same direction -> 0; mean 1.
	if !near(float64(got), 1, 1e-6) {
		t.Errorf("NormalizedMSE = %v, want 1", got)
	}
}

func TestMaskedMSEOnlyMasked(t *testing.T) {
	pred := [][][]float32{{{0, 0}, {0, 0}, {0, 0}}}
	mask := [][]float32{{1, 1, 0}}
	f := func(_ *Graph, in []*Node) *Node { return MaskedMSE(in[0], in[1], in[2]) }
	for _, unmasked := range []float32{100, -7} {
		target := [][][]float32{{{1, 1}, {2, 2}, {unmasked, unmasked}}}
		got := evalGraph(t, f, pred, target, mask).Value().(float32)
		// masked patches: mean squares 1 and 4 -> (1+4)/2.
		if !near(float64(got), 2.5, 1e-6) {
			t.Errorf("unmasked=%v: MaskedMSE = %v, want 2.5", unmasked, got)
		}
	}
}
