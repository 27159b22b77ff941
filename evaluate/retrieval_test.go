package evaluate

import (
	"math"
	"testing"
)

func TestRetrievalAnyHit(t *testing.T) {
	gallery := [][]float32{{1, 0}, {1, 1}, {0, 1}, {-1, 0}}
	gLabels := []int{0, 1, 1, 0}
	queries := [][]float32{
		{5, 0},  // label 1: neighbours g0(0) g1(1) g2(1) g3(0): first hit at rank 2
		{0, -1}, // label 0: sims g0 0, g3 0 (tie, g0 first), g1 -.71, g2 -1: hit at rank 1
		{1, 1},  // label 2: a class absent from the gallery never hits
	}
	qLabels := []int{1, 0, 2}
	got, err := Retrieval(queries, gallery, qLabels, gLabels, []int{1, 2, 3, 10})
	if err != nil {
		t.Fatal(err)
	}
	// k=10 is clamped to the 4 gallery items; two hits in the top 3 still count once.
	want := []float64{1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3}
	for i, r := range got {
		if !near(r.Recall, want[i]) {
			t.Errorf("R@%d = %v, want %v", r.K, r.Recall, want[i])
		}
	}
}

func TestNearestOrderAndTies(t *testing.T) {
	gallery := [][]float32{{0, 1}, {1, 0}, {2, 0}, {1, 1}}
	nb, err := Nearest([][]float32{{1, 0}}, gallery, 3)
	if err != nil {
		t.Fatal(err)
	}
	// g1 and g2 both have similarity 1: the lower index comes first.
	want := []int{1, 2, 3}
	for i, j := range nb.Index[0] {
		if j != want[i] {
			t.Fatalf("neighbours %v, want %v", nb.Index[0], want)
		}
	}
	if !near(float64(nb.Sim[0][2]), 1/math.Sqrt2) {
		t.Errorf("cosine of third neighbour = %v, want 0.7071", nb.Sim[0][2])
	}
}

func TestRetrievalErrors(t *testing.T) {
	g := [][]float32{{1, 0}}
	if _, err := Retrieval([][]float32{{1, 0}}, g, []int{0}, []int{0}, []int{0}); err == nil {
		t.Error("k=0 gave no error")
	}
	if _, err := Retrieval([][]float32{{1, 0, 0}}, g, []int{0}, []int{0}, []int{1}); err == nil {
		t.Error("dimension mismatch gave no error")
	}
	if _, err := Retrieval([][]float32{{1, 0}}, g, []int{0, 1}, []int{0}, []int{1}); err == nil {
		t.Error("label count mismatch gave no error")
	}
}

func TestMeanFeaturesAndNormalize(t *testing.T) {
	m := MeanFeatures([][]float32{{1, 2}, {3, 6}})
	if m[0] != 2 || m[1] != 4 {
		t.Errorf("MeanFeatures = %v, want [2 4]", m)
	}
	n := Normalize([]float32{3, 4})
	if !near(float64(n[0]), 0.6) || !near(float64(n[1]), 0.8) {
		t.Errorf("Normalize = %v", n)
	}
	if z := Normalize([]float32{0, 0}); z[0] != 0 || z[1] != 0 {
		t.Errorf("zero vector became %v", z)
	}
}

func TestKNNVotes(t *testing.T) {
	// Query [1,0]; neighbours (k=3): g0 class 0 sim 1, g1 and g2 class 1 sim 0.6.
	gallery := [][]float32{{1, 0}, {0.6, 0.8}, {0.6, -0.8}, {0, 1}}
	labels := []int{0, 1, 1, 0}
	q := [][]float32{{1, 0}}
	cases := []struct {
		name   string
		temp   float64
		class0 float64
	}{
		{"majority vote", 0, 1.0 / 3},
		{"T=1: two weaker neighbours win", 1, 1 / (1 + 2*math.Exp(-0.4))},
		{"T=0.1: the close neighbour wins", 0.1, 1 / (1 + 2*math.Exp(-4))},
	}
	for _, c := range cases {
		s, err := KNNScores(q, gallery, labels, 2, 3, c.temp)
		if err != nil {
			t.Fatal(err)
		}
		if !near(float64(s[0][0]), c.class0) || !near(float64(s[0][0]+s[0][1]), 1) {
			t.Errorf("%s: scores %v, want class 0 = %v", c.name, s[0], c.class0)
		}
	}
	m, err := KNNClassify(q, gallery, []int{0}, labels, 2, 3, 0.1)
	if err != nil || m.Top1 != 1 {
		t.Errorf("KNN T=0.1 top1 = %v (%v), want 1", m.Top1, err)
	}
	m, _ = KNNClassify(q, gallery, []int{0}, labels, 2, 3, 1)
	if m.Top1 != 0 {
		t.Errorf("KNN T=1 top1 = %v, want 0", m.Top1)
	}
	if _, err := KNNScores(q, gallery, []int{0, 1, 5, 0}, 2, 3, 1); err == nil {
		t.Error("out-of-range gallery label gave no error")
	}
}
