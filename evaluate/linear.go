package evaluate

import (
	"fmt"
	"math"

	"github.com/vidrep/vidrep/internal/cli"
)

// LinearConfig sets up the linear probe: multinomial logistic regression on
// standardised features, trained full-batch with Adam (no shuffling, so the
// result is a deterministic function of the data and the config).
type LinearConfig struct {
	Steps       int     `json:"steps"`        // full-batch Adam steps (default 300)
	LR          float64 `json:"lr"`           // Adam learning rate (default 0.05)
	WeightDecay float64 `json:"weight_decay"` // L2 penalty wd/2*|W|^2 on the weights, not the bias (default 1e-3)
}

// DefaultProbeWeightDecay is the linear probe's L2 penalty when
// LinearConfig.WeightDecay is 0.
const DefaultProbeWeightDecay = 1e-3

// Check refuses a negative or NaN weight decay (0 means
// DefaultProbeWeightDecay), naming the flag that sets it.
func (c LinearConfig) Check() error {
	if c.WeightDecay < 0 || math.IsNaN(c.WeightDecay) {
		return cli.Usagef("--probe-weight-decay must be 0 (the default, %g) or positive, got %g", DefaultProbeWeightDecay, c.WeightDecay)
	}
	return nil
}

func (c LinearConfig) withDefaults() LinearConfig {
	if c.Steps <= 0 {
		c.Steps = 300
	}
	if c.LR <= 0 {
		c.LR = 0.05
	}
	if c.WeightDecay < 0 {
		c.WeightDecay = 0
	} else if c.WeightDecay == 0 {
		c.WeightDecay = DefaultProbeWeightDecay
	}
	return c
}

// LinearModel is a trained linear classifier on raw (unstandardised)
// features: logits = W x + B. Standardisation is folded into W and B.
type LinearModel struct {
	W    [][]float32 `json:"w"` // [numClasses][dim]
	B    []float32   `json:"b"` // [numClasses]
	Loss float64     `json:"final_loss"`
}

// Logits returns W x + B for one feature vector.
func (m *LinearModel) Logits(x []float32) []float32 {
	out := make([]float32, len(m.B))
	for c := range m.B {
		out[c] = m.B[c] + dot(m.W[c], x)
	}
	return out
}

// Predict returns the logits of every row of x.
func (m *LinearModel) Predict(x [][]float32) [][]float32 {
	out := make([][]float32, len(x))
	for i, r := range x {
		out[i] = m.Logits(r)
	}
	return out
}

// linearProblem is the standardised training set.
type linearProblem struct {
	x         [][]float64 // standardised rows
	y         []int
	mean, std []float64
	dim, nCls int
}

// chunkRows is the fixed number of rows per partial gradient: partial sums
// are added in chunk order, so results do not depend on the worker count.
const chunkRows = 64

// TrainLinear fits a multinomial logistic regression of y on x.
func TrainLinear(x [][]float32, y []int, numClasses int, cfg LinearConfig) (*LinearModel, error) {
	p, err := newLinearProblem(x, y, numClasses)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	nParam := numClasses * (p.dim + 1) // per class: dim weights then a bias
	theta := make([]float64, nParam)
	m1 := make([]float64, nParam)
	m2 := make([]float64, nParam)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	loss := 0.0
	for step := 1; step <= cfg.Steps; step++ {
		var grad []float64
		loss, grad = p.lossGrad(theta, cfg.WeightDecay)
		c1 := 1 - math.Pow(b1, float64(step))
		c2 := 1 - math.Pow(b2, float64(step))
		for i, g := range grad {
			m1[i] = b1*m1[i] + (1-b1)*g
			m2[i] = b2*m2[i] + (1-b2)*g*g
			theta[i] -= cfg.LR * (m1[i] / c1) / (math.Sqrt(m2[i]/c2) + eps)
		}
	}
	loss, _ = p.lossGrad(theta, cfg.WeightDecay)
	mdl := p.fold(theta)
	mdl.Loss = loss
	return mdl, nil
}

func newLinearProblem(x [][]float32, y []int, numClasses int) (*linearProblem, error) {
	if len(x) == 0 || len(x) != len(y) {
		return nil, fmt.Errorf("evaluate: linear probe needs as many labels as feature rows (got %d rows, %d labels)", len(x), len(y))
	}
	p := &linearProblem{y: y, dim: len(x[0]), nCls: numClasses}
	for i, r := range x {
		if len(r) != p.dim {
			return nil, fmt.Errorf("evaluate: linear probe row %d has dimension %d, want %d", i, len(r), p.dim)
		}
		if y[i] < 0 || y[i] >= numClasses {
			return nil, fmt.Errorf("evaluate: linear probe label %d of row %d is outside 0..%d", y[i], i, numClasses-1)
		}
	}
	p.mean, p.std = columnStats(x)
	p.x = make([][]float64, len(x))
	for i, r := range x {
		p.x[i] = make([]float64, p.dim)
		for d, v := range r {
			p.x[i][d] = (float64(v) - p.mean[d]) / p.std[d]
		}
	}
	return p, nil
}

// columnStats returns each column's mean and standard deviation (1 where a
// column is constant, so it standardises to 0).
func columnStats(x [][]float32) (mean, std []float64) {
	dim := len(x[0])
	mean, std = make([]float64, dim), make([]float64, dim)
	for _, r := range x {
		for d, v := range r {
			mean[d] += float64(v)
		}
	}
	for d := range mean {
		mean[d] /= float64(len(x))
	}
	for _, r := range x {
		for d, v := range r {
			e := float64(v) - mean[d]
			std[d] += e * e
		}
	}
	for d := range std {
		std[d] = math.Sqrt(std[d] / float64(len(x)))
		if std[d] < 1e-12 {
			std[d] = 1
		}
	}
	return mean, std
}

// lossGrad returns the mean cross-entropy plus the L2 penalty, and its
// gradient with respect to theta.
func (p *linearProblem) lossGrad(theta []float64, wd float64) (float64, []float64) {
	nChunks := (len(p.x) + chunkRows - 1) / chunkRows
	losses := make([]float64, nChunks)
	grads := make([][]float64, nChunks)
	parallelFor(nChunks, func(c int) {
		lo, hi := c*chunkRows, min((c+1)*chunkRows, len(p.x))
		losses[c], grads[c] = p.chunkLossGrad(theta, lo, hi)
	})
	loss := 0.0
	grad := make([]float64, len(theta))
	for c := range grads {
		loss += losses[c]
		for i, g := range grads[c] {
			grad[i] += g
		}
	}
	n := float64(len(p.x))
	stride := p.dim + 1
	for i := range grad {
		grad[i] /= n
		if i%stride != p.dim { // a weight, not a bias
			grad[i] += wd * theta[i]
			loss += 0.5 * wd * theta[i] * theta[i] * n
		}
	}
	return loss / n, grad
}

// chunkLossGrad sums the cross-entropy and its gradient over rows lo..hi-1.
func (p *linearProblem) chunkLossGrad(theta []float64, lo, hi int) (float64, []float64) {
	stride := p.dim + 1
	grad := make([]float64, len(theta))
	logits := make([]float64, p.nCls)
	loss := 0.0
	for i := lo; i < hi; i++ {
		x := p.x[i]
		mx := math.Inf(-1)
		for c := 0; c < p.nCls; c++ {
			s := theta[c*stride+p.dim] + dot(theta[c*stride:c*stride+p.dim], x)
			logits[c] = s
			mx = math.Max(mx, s)
		}
		sum := 0.0
		for c := range logits {
			logits[c] = math.Exp(logits[c] - mx)
			sum += logits[c]
		}
		loss -= math.Log(logits[p.y[i]]/sum + 1e-300)
		for c := range logits {
			g := logits[c] / sum
			if c == p.y[i] {
				g--
			}
			axpy(g, x, grad[c*stride:c*stride+p.dim])
			grad[c*stride+p.dim] += g
		}
	}
	return loss, grad
}

// fold turns weights on standardised features into weights on raw ones:
// w'_d = w_d/std_d and b' = b - sum_d w_d*mean_d/std_d.
func (p *linearProblem) fold(theta []float64) *LinearModel {
	stride := p.dim + 1
	m := &LinearModel{W: make([][]float32, p.nCls), B: make([]float32, p.nCls)}
	for c := 0; c < p.nCls; c++ {
		m.W[c] = make([]float32, p.dim)
		b := theta[c*stride+p.dim]
		for d := 0; d < p.dim; d++ {
			w := theta[c*stride+d] / p.std[d]
			m.W[c][d] = float32(w)
			b -= w * p.mean[d]
		}
		m.B[c] = float32(b)
	}
	return m
}
