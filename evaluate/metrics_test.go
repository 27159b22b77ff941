package evaluate

import (
	"math"
	"reflect"
	"testing"
)

var nan = float32(math.NaN())

func TestRankTieRule(t *testing.T) {
	cases := []struct {
		name   string
		scores []float32
		label  int
		want   int
	}{
		{"clear winner", []float32{0.1, 0.7, 0.2}, 1, 0},
		{"tie: lower index ranks first", []float32{0.5, 0.5, 0.2}, 1, 1},
		{"tie: lower index wins", []float32{0.5, 0.5, 0.2}, 0, 0},
		{"three-way tie, last", []float32{0.3, 0.3, 0.3}, 2, 2},
		{"NaN ranks last", []float32{nan, 0.1, 0.2}, 0, 2},
		{"NaN elsewhere does not beat a number", []float32{0.1, nan, 0.2}, 0, 1},
		{"negative logits", []float32{-3, -1, -2}, 2, 1},
	}
	for _, c := range cases {
		if got := Rank(c.scores, c.label); got != c.want {
			t.Errorf("%s: Rank = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestTopKAndArgmaxAgree(t *testing.T) {
	scores := []float32{0.2, 0.9, 0.9, 0.1, 0.9, 0.0, 0.5}
	if got := Argmax(scores); got != 1 {
		t.Fatalf("Argmax = %d, want 1 (first maximum)", got)
	}
	if got := TopIndices(scores, 4); !reflect.DeepEqual(got, []int{1, 2, 4, 6}) {
		t.Fatalf("TopIndices = %v, want [1 2 4 6]", got)
	}
	// label 4 ties with 1 and 2 but has the highest index of the three: rank 2.
	for k, want := range map[int]bool{1: false, 2: false, 3: true, 5: true} {
		if got := TopK(scores, 4, k); got != want {
			t.Errorf("TopK(label 4, k=%d) = %v, want %v", k, got, want)
		}
	}
	if Argmax(nil) != -1 || Argmax([]float32{nan, 1}) != 1 {
		t.Errorf("Argmax of empty or NaN-led slice wrong")
	}
}

func TestClassifyImbalance(t *testing.T) {
	// class 0: 4 predictions, all right; class 1: 1 prediction, wrong (predicted 2);
	// class 2: no predictions at all.
	scores := [][]float32{
		{0.9, 0.1, 0}, {0.8, 0.1, 0.1}, {0.7, 0.2, 0.1}, {0.6, 0.3, 0.1},
		{0.1, 0.3, 0.6},
	}
	labels := []int{0, 0, 0, 0, 1}
	m, err := Classify(scores, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.N != 5 || !near(m.Top1, 0.8) || !near(m.Top5, 1) {
		t.Errorf("N/top1/top5 = %d/%v/%v, want 5/0.8/1", m.N, m.Top1, m.Top5)
	}
	// mean class accuracy averages classes with support only: (1 + 0)/2.
	if !near(m.MeanClass, 0.5) || !reflect.DeepEqual(m.PerClass, []float64{1, 0, 0}) {
		t.Errorf("mean class %v per class %v, want 0.5 [1 0 0]", m.MeanClass, m.PerClass)
	}
	if !reflect.DeepEqual(m.Support, []int{4, 1, 0}) {
		t.Errorf("support %v", m.Support)
	}
	want := [][]int{{4, 0, 0}, {0, 0, 1}, {0, 0, 0}}
	if !reflect.DeepEqual(m.Confusion, want) {
		t.Errorf("confusion %v, want %v", m.Confusion, want)
	}
}

func TestClassifyTop5(t *testing.T) {
	// 7 classes; the true class ranks 0, 4, 5 and 6 -> top-1 1/4, top-5 2/4.
	scores := [][]float32{
		{7, 6, 5, 4, 3, 2, 1},
		{7, 6, 5, 4, 3, 2, 1},
		{7, 6, 5, 4, 3, 2, 1},
		{7, 6, 5, 4, 3, 3, 1}, // class 5 ties class 4 and loses (higher index): rank 5
	}
	m, err := Classify(scores, []int{0, 4, 6, 5}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !near(m.Top1, 0.25) || !near(m.Top5, 0.5) {
		t.Errorf("top1 %v top5 %v, want 0.25 0.5", m.Top1, m.Top5)
	}
}

func TestClassifyErrors(t *testing.T) {
	cases := []struct {
		name   string
		scores [][]float32
		labels []int
	}{
		{"length mismatch", [][]float32{{1, 0}}, []int{0, 1}},
		{"label out of range", [][]float32{{1, 0}}, []int{2}},
		{"row width", [][]float32{{1, 0, 0}}, []int{0}},
	}
	for _, c := range cases {
		if _, err := Classify(c.scores, c.labels, 2); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{0, float32(math.Log(3))})
	if !near(float64(p[0]), 0.25) || !near(float64(p[1]), 0.75) {
		t.Errorf("Softmax = %v, want [0.25 0.75]", p)
	}
	p = Softmax([]float32{1000, 1000})
	if !near(float64(p[0]), 0.5) {
		t.Errorf("Softmax overflowed: %v", p)
	}
}

func TestMultiViewAveragesSoftmax(t *testing.T) {
	// Video 0 (label 1): 3 clips x 1 crop. Averaging logits would pick class 0
	// ([3.33, 2]); averaging probabilities picks class 1 (p0 = (1+0.047+0.047)/3).
	// Video 1 (label 1): 1 clip x 3 crops. A majority vote would pick class 0 (2
	// of 3 views); the averaged probability of class 1 is (0.993+0.475+0.475)/3.
	logits := [][][]float32{
		{{10, 0}, {0, 3}, {0, 3}},
		{{0, 5}, {0.1, 0}, {0.1, 0}},
	}
	clip, video, err := MultiView(logits, []int{1, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if video.Top1 != 1 {
		t.Errorf("video top1 = %v, want 1 (softmax averaged)", video.Top1)
	}
	if clip.N != 6 || !near(clip.Top1, 3.0/6) {
		t.Errorf("clip N %d top1 %v, want 6 and 0.5", clip.N, clip.Top1)
	}
	avg := AverageViews(logits[0])
	want0 := (1/(1+math.Exp(-10)) + 2/(1+math.Exp(3))) / 3
	if !near(float64(avg[0]), want0) || !near(float64(avg[0]+avg[1]), 1) {
		t.Errorf("AverageViews = %v, want p0 %v", avg, want0)
	}
	if _, _, err := MultiView([][][]float32{{}}, []int{0}, 2); err == nil {
		t.Error("a video without views gave no error")
	}
	if _, _, err := MultiView([][][]float32{{{1, 2}, {1, 2, 3}}}, []int{0}, 2); err == nil {
		t.Error("a view of the wrong width gave no error")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

func TestSegmentsMergeRuns(t *testing.T) {
	w := func(start float64, class string, p float64) Window {
		return Window{Start: start, End: start + 1, Top: []ClassProb{{Class: class, Prob: p}}}
	}
	got := Segments([]Window{w(0, "run", 0.8), w(1, "run", 0.6), w(2, "jump", 0.9), w(3, "run", 0.5)})
	want := []Segment{
		{Start: 0, End: 2, Class: "run", Prob: 0.7, Windows: 2},
		{Start: 2, End: 3, Class: "jump", Prob: 0.9, Windows: 1},
		{Start: 3, End: 4, Class: "run", Prob: 0.5, Windows: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Segments = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Class != want[i].Class || got[i].Windows != want[i].Windows || got[i].End != want[i].End || !near(got[i].Prob, want[i].Prob) {
			t.Errorf("segment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
