package pretext

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vidrep/vidrep/loader"
)

func TestPermutationRoundTrip(t *testing.T) {
	for _, k := range []int{1, 2, 3, 4} {
		seen := map[string]bool{}
		for i := range Factorial(k) {
			p := Permutation(k, i)
			if got := PermutationIndex(p); got != i {
				t.Errorf("k=%d: PermutationIndex(Permutation(%d)=%v) = %d", k, i, p, got)
			}
			seen[string(rune(k))+string(toBytes(p))] = true
		}
		if len(seen) != Factorial(k) {
			t.Errorf("k=%d: %d distinct permutations, want %d", k, len(seen), Factorial(k))
		}
	}
	if !slices.Equal(Permutation(3, 0), []int{0, 1, 2}) || !slices.Equal(Permutation(3, 5), []int{2, 1, 0}) {
		t.Errorf("lexicographic order broken: %v %v", Permutation(3, 0), Permutation(3, 5))
	}
	for _, bad := range [][]int{{0, 0, 1}, {0, 3, 1}, {-1, 0, 1}} {
		if PermutationIndex(bad) != -1 {
			t.Errorf("PermutationIndex(%v) should be -1", bad)
		}
	}
}

func toBytes(p []int) []byte {
	b := make([]byte, len(p))
	for i, v := range p {
		b[i] = byte(v)
	}
	return b
}

func testClip(t, h, w int) loader.ClipTensor {
	c := loader.ClipTensor{T: t, H: h, W: w, Data: make([]float32, t*h*w*3)}
	for i := range c.Data {
		c.Data[i] = float32(i)
	}
	return c
}

func TestRotateClip(t *testing.T) {
	c := testClip(2, 3, 3)
	for k := range 4 {
		r := RotateClip(c, k)
		if back := RotateClip(r, -k); !slices.Equal(back.Data, c.Data) {
			t.Errorf("rotation by %d then back is not the input", k)
		}
		if k > 0 && slices.Equal(r.Data, c.Data) {
			t.Errorf("rotation by %d changed nothing", k)
		}
	}
	// One counter-clockwise quarter turn moves the top-right pixel to the top-left.
	r := RotateClip(c, 1)
	topRight := c.Data[(0*3+2)*3 : (0*3+2)*3+3]
	if !slices.Equal(r.Data[0:3], topRight) {
		t.Errorf("quarter turn: top-left %v, want former top-right %v", r.Data[0:3], topRight)
	}
	if !slices.Equal(RotateClip(RotateClip(c, 1), 1).Data, RotateClip(c, 2).Data) {
		t.Error("two quarter turns differ from a half turn")
	}
}

func TestPermuteAndReverseFrames(t *testing.T) {
	c := testClip(3, 2, 2)
	n := 12
	r := ReverseFrames(c)
	for i := range 3 {
		if !slices.Equal(r.Data[i*n:(i+1)*n], c.Data[(2-i)*n:(3-i)*n]) {
			t.Errorf("reversed frame %d wrong", i)
		}
	}
	if !slices.Equal(ReverseFrames(r).Data, c.Data) {
		t.Error("reversing twice is not the identity")
	}
}

func newMethod(t *testing.T, name string, o Options) Method {
	t.Helper()
	m, err := New(name, o)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return m
}

func sampleOne(t *testing.T, m Method, seed uint64) (loader.Example, *fakeReader) {
	t.Helper()
	r := newFakeReader(seed, 200, 8)
	ex, err := m.Sampler().Sample(r, -1, rand.New(rand.NewPCG(seed, 9)))
	if err != nil {
		t.Fatalf("%s: %v", m.Name(), err)
	}
	return ex, r
}

func frames(c loader.ClipTensor) []int {
	out := make([]int, c.T)
	for i := range out {
		out[i] = frameOf(c, i)
	}
	return out
}

func isStep(fr []int, step int) bool {
	for i := 1; i < len(fr); i++ {
		if fr[i]-fr[i-1] != step {
			return false
		}
	}
	return true
}

func TestSpeedTargetsMatchStride(t *testing.T) {
	m := newMethod(t, "speed", testOptions())
	counts := make([]int, len(SpeedRates))
	for seed := range uint64(40) {
		ex, r := sampleOne(t, m, seed)
		k := ex.Targets[0]
		counts[k]++
		if got := r.reads[0].stride; got != SpeedRates[k] {
			t.Fatalf("target %d but read at stride %d", k, got)
		}
		if fr := frames(ex.Views[0]); !isStep(fr, SpeedRates[k]) {
			t.Fatalf("target %d (rate %d) but frames %v", k, SpeedRates[k], fr)
		}
	}
	for k, n := range counts {
		if n == 0 {
			t.Errorf("rate %d never drawn in 40 samples", SpeedRates[k])
		}
	}
}

func TestArrowTargetsMatchDirection(t *testing.T) {
	m := newMethod(t, "arrow", testOptions())
	seen := [2]bool{}
	for seed := range uint64(20) {
		ex, _ := sampleOne(t, m, seed)
		fr := frames(ex.Views[0])
		want := map[int32]int{0: 1, 1: -1}[ex.Targets[0]]
		if !isStep(fr, want) {
			t.Fatalf("target %d but frames %v", ex.Targets[0], fr)
		}
		seen[ex.Targets[0]] = true
	}
	if !seen[0] || !seen[1] {
		t.Errorf("arrow drew only one class in 20 samples: %v", seen)
	}
}

func TestRotationTargetUndone(t *testing.T) {
	m := newMethod(t, "rotation", testOptions())
	for seed := range uint64(12) {
		ex, r := sampleOne(t, m, seed)
		k := int(ex.Targets[0])
		rc := r.reads[0]
		r2 := newFakeReader(seed, 200, 8)
		raw, _ := r2.Read(rc.start, rc.frames, rc.stride)
		want := plainAugment(raw, nil)
		if got := RotateClip(ex.Views[0], -k); !slices.Equal(got.Data, want.Data) {
			t.Fatalf("seed %d: undoing rotation %d does not give the clip read", seed, k)
		}
	}
}

func TestVCOPViewsFollowPermutation(t *testing.T) {
	o := testOptions()
	o.Gap = 2
	m := newMethod(t, "vcop", o)
	if m.NumViews() != 3 {
		t.Fatalf("vcop views = %d, want 3", m.NumViews())
	}
	for seed := range uint64(20) {
		ex, _ := sampleOne(t, m, seed)
		perm := Permutation(3, int(ex.Targets[0]))
		// Undo: clip perm[i] of the original order is view i.
		orig := make([]loader.ClipTensor, 3)
		for i, src := range perm {
			orig[src] = ex.Views[i]
		}
		for i := range 3 {
			fr := frames(orig[i])
			if !isStep(fr, 1) {
				t.Fatalf("clip %d frames %v not contiguous", i, fr)
			}
			if i > 0 && fr[0] != frameOf(orig[i-1], 0)+o.Frames+o.Gap {
				t.Fatalf("clips out of order after undoing permutation %v: %v then %v", perm, frames(orig[i-1]), fr)
			}
		}
	}
}

func TestOrderTargets(t *testing.T) {
	m := newMethod(t, "order", testOptions())
	seen := [2]int{}
	for seed := range uint64(30) {
		ex, _ := sampleOne(t, m, seed)
		a, b, c := frameOf(ex.Views[0], 0), frameOf(ex.Views[1], 0), frameOf(ex.Views[2], 0)
		monotone := (a < b && b < c) || (a > b && b > c)
		if monotone != (ex.Targets[0] == 1) {
			t.Fatalf("starts %d,%d,%d but target %d", a, b, c, ex.Targets[0])
		}
		seen[ex.Targets[0]]++
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Errorf("order drew one class only: %v", seen)
	}
}

func TestOddOneOutTarget(t *testing.T) {
	m := newMethod(t, "odd-one-out", testOptions())
	for seed := range uint64(20) {
		ex, _ := sampleOne(t, m, seed)
		var odd []int
		for i, v := range ex.Views {
			if !isStep(frames(v), 1) {
				odd = append(odd, i)
			}
		}
		if len(odd) != 1 || int32(odd[0]) != ex.Targets[0] {
			t.Fatalf("shuffled views %v, target %d", odd, ex.Targets[0])
		}
	}
}

func TestTwoClipViewsAreTwoTimes(t *testing.T) {
	m := newMethod(t, "simclr", testOptions())
	differ := 0
	for seed := range uint64(10) {
		ex, r := sampleOne(t, m, seed)
		if len(ex.Views) != 2 || len(ex.Targets) != 0 || len(r.reads) != 2 {
			t.Fatalf("simclr example: %d views %d targets %d reads", len(ex.Views), len(ex.Targets), len(r.reads))
		}
		if r.reads[0].start != r.reads[1].start {
			differ++
		}
	}
	if differ < 8 {
		t.Errorf("the two clips came from the same time in %d of 10 videos", 10-differ)
	}
}

func TestNewSpecs(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		ok      bool
		views   int
		targets int
	}{
		{"vcop", true, 3, 1},
		{"vcop+rotation", true, 4, 2},
		{"vcop:1,rotation:0.5", true, 4, 2},
		{"speed+simclr", true, 3, 1},
		{"nope", false, 0, 0},
		{"vcop:-1", false, 0, 0},
		{"vcop+vcop", false, 0, 0},
		{"", false, 0, 0},
	} {
		m, err := New(tc.spec, testOptions())
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) error = %v, want ok=%v", tc.spec, err, tc.ok)
			continue
		}
		if err == nil && (m.NumViews() != tc.views || m.NumTargets() != tc.targets) {
			t.Errorf("New(%q): %d views %d targets, want %d %d", tc.spec, m.NumViews(), m.NumTargets(), tc.views, tc.targets)
		}
	}
	if len(Names()) < 6 || !slices.IsSorted(Names()) {
		t.Errorf("Names() = %v", Names())
	}
}

func TestComboSamplerConcatenates(t *testing.T) {
	m := newMethod(t, "arrow+speed", testOptions())
	ex, r := sampleOne(t, m, 5)
	if len(ex.Views) != 2 || len(ex.Targets) != 2 {
		t.Fatalf("combo example: %d views %d targets", len(ex.Views), len(ex.Targets))
	}
	if r.reads[1].stride != SpeedRates[ex.Targets[1]] {
		t.Errorf("speed target %d does not match stride %d", ex.Targets[1], r.reads[1].stride)
	}
}

func TestTupleStartsFitShortVideos(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct{ n, k, frames, stride, gap int }{
		{200, 3, 8, 2, 4}, // fits: clips spaced by span+gap
		{24, 3, 8, 1, 0},  // fits exactly
		{24, 5, 8, 1, 0},  // too short: clips overlap
		{12, 5, 4, 1, 0},
	} {
		for range 20 {
			s := tupleStarts(tc.n, tc.k, tc.frames, tc.stride, tc.gap, rng)
			sp := span(tc.frames, tc.stride)
			for i := 1; i < len(s); i++ {
				if s[i] <= s[i-1] {
					t.Fatalf("%+v: starts %v are not strictly increasing", tc, s)
				}
			}
			if s[0] < 0 || s[len(s)-1]+sp > tc.n {
				t.Fatalf("%+v: starts %v run past the end", tc, s)
			}
			if fits := (sp+tc.gap)*(tc.k-1)+sp <= tc.n; fits && s[1]-s[0] != sp+tc.gap {
				t.Fatalf("%+v: starts %v, want clips %d apart", tc, s, sp+tc.gap)
			}
		}
	}
}
