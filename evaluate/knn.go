package evaluate

import (
	"fmt"
	"math"
)

// KNNScores classifies each query by a weighted vote of its k nearest
// gallery items (cosine similarity), as in InstDisc (Wu et al. 2018): a
// neighbour with similarity s adds exp(s/temperature) to its class. The
// returned rows are the votes normalised to sum to 1 (class probabilities).
// A temperature <= 0 gives every neighbour the same weight (a plain majority
// vote).
func KNNScores(queries, gallery [][]float32, galleryLabels []int, numClasses, k int, temperature float64) ([][]float32, error) {
	if len(gallery) != len(galleryLabels) {
		return nil, fmt.Errorf("evaluate: kNN got %d gallery items but %d labels", len(gallery), len(galleryLabels))
	}
	if k <= 0 {
		return nil, fmt.Errorf("evaluate: kNN needs k > 0, got %d", k)
	}
	for i, y := range galleryLabels {
		if y < 0 || y >= numClasses {
			return nil, fmt.Errorf("evaluate: kNN gallery label %d of item %d is outside 0..%d", y, i, numClasses-1)
		}
	}
	nb, err := Nearest(queries, gallery, k)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(queries))
	for qi := range queries {
		out[qi] = vote(nb.Index[qi], nb.Sim[qi], galleryLabels, numClasses, temperature)
	}
	return out, nil
}

// vote sums exp((s - s_max)/T) per class (the shift by the best similarity
// keeps exp finite and leaves the normalised vote unchanged).
func vote(idx []int, sim []float32, labels []int, numClasses int, temperature float64) []float32 {
	acc := make([]float64, numClasses)
	total := 0.0
	for n, j := range idx {
		w := 1.0
		if temperature > 0 {
			w = math.Exp((float64(sim[n]) - float64(sim[0])) / temperature)
		}
		acc[labels[j]] += w
		total += w
	}
	row := make([]float32, numClasses)
	for c := range acc {
		row[c] = float32(acc[c] / total)
	}
	return row
}

// KNNClassify classifies queries by KNNScores and scores them against queryLabels.
func KNNClassify(queries, gallery [][]float32, queryLabels, galleryLabels []int, numClasses, k int, temperature float64) (Metrics, error) {
	scores, err := KNNScores(queries, gallery, galleryLabels, numClasses, k, temperature)
	if err != nil {
		return Metrics{}, err
	}
	return Classify(scores, queryLabels, numClasses)
}
