package synth

import "math"

// logReg is a multinomial logistic regression on standardised features.
type logReg struct {
	classes   int
	mean, std []float64
	w         [][]float64 // [class][feature+1], the last column the bias
}

// trainLogReg fits a softmax classifier by full-batch gradient descent with
// momentum and an L2 penalty l2 on the weights.
func trainLogReg(x [][]float64, y []int, classes int, l2 float64, iters int) *logReg {
	d := len(x[0])
	m := &logReg{classes: classes, mean: make([]float64, d), std: make([]float64, d), w: make([][]float64, classes)}
	m.fitScale(x)
	xs := make([][]float64, len(x))
	for i := range x {
		xs[i] = m.scale(x[i])
	}
	grad, vel := make([][]float64, classes), make([][]float64, classes)
	for c := range m.w {
		m.w[c], grad[c], vel[c] = make([]float64, d+1), make([]float64, d+1), make([]float64, d+1)
	}
	const lr, momentum = 0.5, 0.9
	p := make([]float64, classes)
	for it := 0; it < iters; it++ {
		for c := range grad {
			for k := range grad[c] {
				grad[c][k] = 0
			}
		}
		for i, xi := range xs {
			m.softmax(xi, p)
			p[y[i]]--
			for c := range grad {
				g := grad[c]
				for k, v := range xi {
					g[k] += p[c] * v
				}
				g[d] += p[c]
			}
		}
		for c := range m.w {
			for k := range m.w[c] {
				g := grad[c][k] / float64(len(xs))
				if k < d {
					g += l2 * m.w[c][k]
				}
				vel[c][k] = momentum*vel[c][k] - lr*g
				m.w[c][k] += vel[c][k]
			}
		}
	}
	return m
}

// fitScale sets the per-feature mean and standard deviation.
func (m *logReg) fitScale(x [][]float64) {
	n := float64(len(x))
	for _, xi := range x {
		for k, v := range xi {
			m.mean[k] += v / n
		}
	}
	for _, xi := range x {
		for k, v := range xi {
			m.std[k] += (v - m.mean[k]) * (v - m.mean[k]) / n
		}
	}
	for k := range m.std {
		m.std[k] = math.Sqrt(m.std[k])
		if m.std[k] < 1e-9 {
			m.std[k] = 1
		}
	}
}

// scale standardises one feature vector.
func (m *logReg) scale(x []float64) []float64 {
	out := make([]float64, len(x))
	for k, v := range x {
		out[k] = (v - m.mean[k]) / m.std[k]
	}
	return out
}

// softmax writes the class probabilities of standardised xs into p.
func (m *logReg) softmax(xs []float64, p []float64) {
	d := len(xs)
	hi := math.Inf(-1)
	for c, w := range m.w {
		z := w[d]
		for k, v := range xs {
			z += w[k] * v
		}
		p[c] = z
		hi = math.Max(hi, z)
	}
	sum := 0.0
	for c := range p {
		p[c] = math.Exp(p[c] - hi)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
}

// probs returns the class probabilities of a raw feature vector.
func (m *logReg) probs(x []float64) []float64 {
	p := make([]float64, m.classes)
	m.softmax(m.scale(x), p)
	return p
}

// argmax returns the index of the largest value.
func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
