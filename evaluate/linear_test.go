package evaluate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// blobs makes n points per class around well separated centres in dim
// dimensions, with one constant column.
func blobs(nCls, n, dim int, seed uint64) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var x [][]float32
	var y []int
	for c := 0; c < nCls; c++ {
		for i := 0; i < n; i++ {
			r := make([]float32, dim)
			for d := range r {
				r[d] = float32(rng.NormFloat64())
			}
			r[c%(dim-1)] += 4 * float32(1+c/(dim-1))
			r[dim-1] = 7 // constant: standardises to 0
			x = append(x, r)
			y = append(y, c)
		}
	}
	return x, y
}

func TestTrainLinearSeparates(t *testing.T) {
	x, y := blobs(3, 20, 5, 1)
	m, err := TrainLinear(x, y, 3, LinearConfig{})
	if err != nil {
		t.Fatal(err)
	}
	met, err := Classify(m.Predict(x), y, 3)
	if err != nil {
		t.Fatal(err)
	}
	if met.Top1 < 0.98 {
		t.Errorf("train accuracy %v on separable blobs, want >= 0.98", met.Top1)
	}
	xt, yt := blobs(3, 20, 5, 2)
	met, _ = Classify(m.Predict(xt), yt, 3)
	if met.Top1 < 0.9 {
		t.Errorf("held-out accuracy %v, want >= 0.9", met.Top1)
	}
	if m.Loss <= 0 || m.Loss > 0.3 {
		t.Errorf("final loss %v, want in (0, 0.3]", m.Loss)
	}
	m2, _ := TrainLinear(x, y, 3, LinearConfig{})
	if !reflect.DeepEqual(m, m2) {
		t.Error("two runs on the same data differ")
	}
}

func TestLinearGradientMatchesFiniteDifferences(t *testing.T) {
	x, y := blobs(3, 4, 3, 3)
	p, err := newLinearProblem(x, y, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	theta := make([]float64, 3*(p.dim+1))
	for i := range theta {
		theta[i] = rng.NormFloat64() * 0.5
	}
	_, grad := p.lossGrad(theta, 0.1)
	const h = 1e-6
	for i := range theta {
		old := theta[i]
		theta[i] = old + h
		lp, _ := p.lossGrad(theta, 0.1)
		theta[i] = old - h
		lm, _ := p.lossGrad(theta, 0.1)
		theta[i] = old
		if fd := (lp - lm) / (2 * h); math.Abs(fd-grad[i]) > 1e-5 {
			t.Errorf("d loss/d theta[%d] = %v, finite difference %v", i, grad[i], fd)
		}
	}
}

func TestLinearFoldMatchesStandardised(t *testing.T) {
	x, y := blobs(2, 5, 4, 4)
	p, _ := newLinearProblem(x, y, 2)
	theta := make([]float64, 2*(p.dim+1))
	for i := range theta {
		theta[i] = float64(i%5) - 2
	}
	m := p.fold(theta)
	for i, row := range x {
		got := m.Logits(row)
		for c := 0; c < 2; c++ {
			want := theta[c*(p.dim+1)+p.dim]
			for d := 0; d < p.dim; d++ {
				want += theta[c*(p.dim+1)+d] * p.x[i][d]
			}
			if math.Abs(float64(got[c])-want) > 1e-3 {
				t.Fatalf("row %d class %d: folded logit %v, want %v", i, c, got[c], want)
			}
		}
	}
}

func TestTrainLinearErrors(t *testing.T) {
	if _, err := TrainLinear(nil, nil, 2, LinearConfig{}); err == nil {
		t.Error("empty data gave no error")
	}
	if _, err := TrainLinear([][]float32{{1}, {1, 2}}, []int{0, 1}, 2, LinearConfig{}); err == nil {
		t.Error("ragged rows gave no error")
	}
	if _, err := TrainLinear([][]float32{{1}}, []int{3}, 2, LinearConfig{}); err == nil {
		t.Error("out-of-range label gave no error")
	}
}
