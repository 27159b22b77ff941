package evaluate

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// RecallAt is the retrieval recall at one cut-off K: the fraction of queries
// for which at least one of the K nearest gallery items has the query's class.
type RecallAt struct {
	K      int     `json:"k"`
	Recall float64 `json:"recall"`
}

// MeanFeatures averages the feature vectors of the clips of one video (the
// VCOP protocol averages the features of 10 uniformly spaced clips).
func MeanFeatures(clips [][]float32) []float32 {
	if len(clips) == 0 {
		return nil
	}
	acc := make([]float64, len(clips[0]))
	for _, c := range clips {
		for i, x := range c {
			acc[i] += float64(x)
		}
	}
	out := make([]float32, len(acc))
	for i := range acc {
		out[i] = float32(acc[i] / float64(len(clips)))
	}
	return out
}

// Normalize returns a copy of x scaled to unit L2 norm; a zero vector stays zero.
func Normalize(x []float32) []float32 {
	n := 0.0
	for _, v := range x {
		n += float64(v) * float64(v)
	}
	out := make([]float32, len(x))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, v := range x {
		out[i] = float32(float64(v) * inv)
	}
	return out
}

// normalizeAll normalises every row and checks that they share one dimension.
func normalizeAll(rows [][]float32, dim int, what string) ([][]float32, error) {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		if len(r) != dim {
			return nil, fmt.Errorf("evaluate: %s feature %d has dimension %d, want %d", what, i, len(r), dim)
		}
		out[i] = Normalize(r)
	}
	return out, nil
}

// Neighbours holds, for each query, the indices of its nearest gallery items
// (best first) and their cosine similarities.
type Neighbours struct {
	Index [][]int
	Sim   [][]float32
}

// Nearest finds the k gallery items most cosine-similar to each query (k is
// clamped to the gallery size). Ties go to the lower gallery index. Queries
// are processed in parallel; the result does not depend on the worker count.
func Nearest(queries, gallery [][]float32, k int) (Neighbours, error) {
	if len(queries) == 0 || len(gallery) == 0 {
		return Neighbours{}, fmt.Errorf("evaluate: nearest neighbours need queries and gallery items (got %d and %d)", len(queries), len(gallery))
	}
	dim := len(gallery[0])
	g, err := normalizeAll(gallery, dim, "gallery")
	if err != nil {
		return Neighbours{}, err
	}
	q, err := normalizeAll(queries, dim, "query")
	if err != nil {
		return Neighbours{}, err
	}
	k = min(k, len(g))
	nb := Neighbours{Index: make([][]int, len(q)), Sim: make([][]float32, len(q))}
	parallelFor(len(q), func(i int) {
		top := newTopK(k)
		for j, row := range g {
			top.add(j, dot(q[i], row))
		}
		nb.Index[i], nb.Sim[i] = top.idx, top.sim
	})
	return nb, nil
}

// topK keeps the k best (index, similarity) pairs seen, best first; ties go
// to the lower index because indices arrive in increasing order.
type topK struct {
	k   int
	idx []int
	sim []float32
}

func newTopK(k int) topK {
	return topK{k: k, idx: make([]int, 0, k+1), sim: make([]float32, 0, k+1)}
}

// add offers gallery item j with similarity s.
func (t *topK) add(j int, s float32) {
	if len(t.idx) == t.k && !before(s, j, t.sim[t.k-1], t.idx[t.k-1]) {
		return
	}
	p := len(t.idx)
	for p > 0 && before(s, j, t.sim[p-1], t.idx[p-1]) {
		p--
	}
	t.idx = append(t.idx, 0)
	t.sim = append(t.sim, 0)
	copy(t.idx[p+1:], t.idx[p:])
	copy(t.sim[p+1:], t.sim[p:])
	t.idx[p], t.sim[p] = j, s
	if len(t.idx) > t.k {
		t.idx, t.sim = t.idx[:t.k], t.sim[:t.k]
	}
}

// parallelFor runs f(0..n-1) on GOMAXPROCS goroutines.
func parallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Retrieval computes R@k for every k in ks by the VCOP protocol: each query
// (a test video's clip-averaged feature) ranks the gallery (the train
// videos) by cosine similarity, and counts as a hit at k when ANY of its k
// nearest gallery items has the query's class.
func Retrieval(queries, gallery [][]float32, queryLabels, galleryLabels []int, ks []int) ([]RecallAt, error) {
	if len(queries) != len(queryLabels) || len(gallery) != len(galleryLabels) {
		return nil, fmt.Errorf("evaluate: retrieval got %d queries with %d labels and %d gallery items with %d labels",
			len(queries), len(queryLabels), len(gallery), len(galleryLabels))
	}
	maxK := 0
	for _, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("evaluate: retrieval cut-off k=%d must be positive", k)
		}
		maxK = max(maxK, k)
	}
	nb, err := Nearest(queries, gallery, maxK)
	if err != nil {
		return nil, err
	}
	out := make([]RecallAt, len(ks))
	for i, k := range ks {
		hits := 0
		for qi, idx := range nb.Index {
			if anyHit(idx[:min(k, len(idx))], galleryLabels, queryLabels[qi]) {
				hits++
			}
		}
		out[i] = RecallAt{K: k, Recall: float64(hits) / float64(len(queries))}
	}
	return out, nil
}

func anyHit(idx []int, labels []int, want int) bool {
	for _, j := range idx {
		if labels[j] == want {
			return true
		}
	}
	return false
}
