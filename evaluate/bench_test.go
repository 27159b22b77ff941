package evaluate

import (
	"math/rand/v2"
	"testing"
)

// randomRows makes n rows of dim Gaussian values and labels in [0, classes).
func randomRows(n, dim, classes int, seed uint64) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([][]float32, n)
	y := make([]int, n)
	for i := range x {
		x[i] = make([]float32, dim)
		for d := range x[i] {
			x[i][d] = float32(rng.NormFloat64())
		}
		y[i] = rng.IntN(classes)
	}
	return x, y
}

// BenchmarkRetrievalUCF101 times R@1..50 at UCF101 split-1 size: 3783 test
// queries against 9537 train videos, 512-d features (R3D-18's).
func BenchmarkRetrievalUCF101(b *testing.B) {
	q, qy := randomRows(3783, 512, 101, 1)
	g, gy := randomRows(9537, 512, 101, 2)
	b.ResetTimer()
	for range b.N {
		if _, err := Retrieval(q, g, qy, gy, []int{1, 5, 10, 20, 50}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinearProbe times the default linear probe (300 full-batch Adam
// steps) on 2000 rows of 512-d features with 101 classes.
func BenchmarkLinearProbe(b *testing.B) {
	x, y := randomRows(2000, 512, 101, 3)
	b.ResetTimer()
	for range b.N {
		if _, err := TrainLinear(x, y, 101, LinearConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}
