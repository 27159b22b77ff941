// Package evaluate measures how well a representation transfers to action
// recognition, with the protocols the papers report: fine-tuning and linear
// probing with label budgets, multi-clip x multi-crop testing (clip-level
// and video-level top-k, per-class and mean class accuracy, confusion
// matrix), kNN classification on frozen features and clip retrieval R@k.
//
// The metric functions (this file, retrieval.go, knn.go, linear.go) are pure
// Go on plain slices, so they can be tested on hand-computed cases and reused
// on features computed anywhere.
//
// Tie rule. Wherever classes (or neighbours) are ranked by score, a tie is
// broken in favour of the lower index, exactly as a stable sort by
// descending score would order them. Top-1 is therefore the same as "argmax
// picks the first maximum", and the confusion matrix agrees with top-1. A NaN
// score ranks below every number.
package evaluate

import (
	"fmt"
	"math"
	"sort"
)

// Metrics summarises a set of classification predictions.
type Metrics struct {
	N         int       `json:"n"`              // number of predictions
	Top1      float64   `json:"top1"`           // fraction whose true class ranks first
	Top5      float64   `json:"top5"`           // fraction whose true class ranks in the first 5 (1 when there are <= 5 classes)
	MeanClass float64   `json:"mean_class_acc"` // mean of PerClass over the classes with Support > 0
	PerClass  []float64 `json:"per_class_acc"`  // top-1 accuracy of each true class (0 where Support is 0)
	Support   []int     `json:"support"`        // number of predictions whose true class is c
	Confusion [][]int   `json:"confusion"`      // Confusion[true][predicted] counts, predicted = top-1 class
}

// before reports whether class i (score a) ranks ahead of class j (score b)
// under the package's tie rule: higher score first, NaN last, then lower index.
func before(a float32, i int, b float32, j int) bool {
	an, bn := isNaN(a), isNaN(b)
	switch {
	case an && bn:
		return i < j
	case an:
		return false
	case bn:
		return true
	case a != b:
		return a > b
	}
	return i < j
}

func isNaN(x float32) bool { return x != x }

// Rank returns the 0-based position of class label when the classes are
// sorted by descending score (ties: lower index first; NaN last).
func Rank(scores []float32, label int) int {
	r := 0
	for j, s := range scores {
		if j != label && before(s, j, scores[label], label) {
			r++
		}
	}
	return r
}

// TopK reports whether the true label is among the k best-ranked classes.
func TopK(scores []float32, label, k int) bool { return Rank(scores, label) < k }

// Argmax returns the best-ranked class (the first maximum; NaN never wins
// over a number). It returns -1 for an empty slice.
func Argmax(scores []float32) int {
	best := -1
	for j, s := range scores {
		if best < 0 || before(s, j, scores[best], best) {
			best = j
		}
	}
	return best
}

// TopIndices returns the k best-ranked classes in rank order (k is clamped to
// len(scores)).
func TopIndices(scores []float32, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return before(scores[idx[a]], idx[a], scores[idx[b]], idx[b]) })
	return idx[:min(k, len(idx))]
}

// Softmax returns the probabilities of logits, computed in float64 with the
// maximum subtracted for stability.
func Softmax(logits []float32) []float32 {
	m := math.Inf(-1)
	for _, x := range logits {
		m = math.Max(m, float64(x))
	}
	out := make([]float32, len(logits))
	sum := 0.0
	e := make([]float64, len(logits))
	for i, x := range logits {
		e[i] = math.Exp(float64(x) - m)
		sum += e[i]
	}
	for i := range e {
		out[i] = float32(e[i] / sum)
	}
	return out
}

// AverageViews returns the video-level prediction of several views (clips x
// crops) of one video: the mean of their softmax probabilities.
func AverageViews(viewLogits [][]float32) []float32 {
	if len(viewLogits) == 0 {
		return nil
	}
	acc := make([]float64, len(viewLogits[0]))
	for _, v := range viewLogits {
		for i, p := range Softmax(v) {
			acc[i] += float64(p)
		}
	}
	out := make([]float32, len(acc))
	for i := range acc {
		out[i] = float32(acc[i] / float64(len(viewLogits)))
	}
	return out
}

// Classify computes Metrics of scores[i] (one row of numClasses class scores
// per prediction, logits or probabilities) against labels[i].
func Classify(scores [][]float32, labels []int, numClasses int) (Metrics, error) {
	if len(scores) != len(labels) {
		return Metrics{}, fmt.Errorf("evaluate: %d score rows but %d labels", len(scores), len(labels))
	}
	m := Metrics{N: len(scores), PerClass: make([]float64, numClasses), Support: make([]int, numClasses),
		Confusion: make([][]int, numClasses)}
	for c := range m.Confusion {
		m.Confusion[c] = make([]int, numClasses)
	}
	var top1, top5 int
	for i, row := range scores {
		y := labels[i]
		if len(row) != numClasses {
			return Metrics{}, fmt.Errorf("evaluate: score row %d has %d classes, want %d", i, len(row), numClasses)
		}
		if y < 0 || y >= numClasses {
			return Metrics{}, fmt.Errorf("evaluate: label %d of prediction %d is outside 0..%d", y, i, numClasses-1)
		}
		r := Rank(row, y)
		if r < 1 {
			top1++
		}
		if r < 5 {
			top5++
		}
		m.Support[y]++
		m.Confusion[y][Argmax(row)]++
	}
	if m.N > 0 {
		m.Top1 = float64(top1) / float64(m.N)
		m.Top5 = float64(top5) / float64(m.N)
	}
	m.MeanClass = perClass(m.Confusion, m.Support, m.PerClass)
	return m, nil
}

// perClass fills acc with the diagonal rate of each row of the confusion
// matrix and returns their mean over the classes with support.
func perClass(conf [][]int, support []int, acc []float64) float64 {
	sum, n := 0.0, 0
	for c := range conf {
		if support[c] == 0 {
			continue
		}
		acc[c] = float64(conf[c][c]) / float64(support[c])
		sum += acc[c]
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// MultiView computes clip-level and video-level metrics of multi-view
// testing. logits[v][j] holds the class logits of view j (a clip x crop) of
// video v. At clip level every view is scored alone against its video's
// label; at video level the views' softmax probabilities are averaged first.
func MultiView(logits [][][]float32, labels []int, numClasses int) (clip, video Metrics, err error) {
	if len(logits) != len(labels) {
		return clip, video, fmt.Errorf("evaluate: %d videos of views but %d labels", len(logits), len(labels))
	}
	var clipScores [][]float32
	var clipLabels []int
	videoScores := make([][]float32, len(logits))
	for v, views := range logits {
		if len(views) == 0 {
			return clip, video, fmt.Errorf("evaluate: video %d has no views", v)
		}
		for j, row := range views {
			if len(row) != numClasses {
				return clip, video, fmt.Errorf("evaluate: view %d of video %d has %d classes, want %d", j, v, len(row), numClasses)
			}
			clipScores = append(clipScores, row)
			clipLabels = append(clipLabels, labels[v])
		}
		videoScores[v] = AverageViews(views)
	}
	if clip, err = Classify(clipScores, clipLabels, numClasses); err != nil {
		return clip, video, err
	}
	video, err = Classify(videoScores, labels, numClasses)
	return clip, video, err
}
