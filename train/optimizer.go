package train

import (
	"math"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// stateScope holds the optimizer's variables (moments, momentum buffers,
// gradient accumulators) in the store, apart from the model's.
const stateScope = "/train_state"

// noDecayNames are variable base names that are never weight-decayed.
var noDecayNames = map[string]bool{
	"bias": true, "biases": true, "b": true, "scale": true, "offset": true, "gamma": true, "beta": true,
	"mean": true, "variance": true, "cls_token": true, "pos_embed": true, "position_embedding": true,
}

// WeightDecayApplies reports whether weight decay applies to the variable at
// path with the given dimensions: it skips biases and every 1-D (or scalar)
// parameter, batch/layer-norm parameters (any scope whose name contains
// "norm" or starts with "bn"), and the class token and position embedding.
func WeightDecayApplies(path string, dims []int) bool {
	if len(dims) <= 1 {
		return false
	}
	segments := strings.Split(strings.Trim(path, "/"), "/")
	if noDecayNames[strings.ToLower(segments[len(segments)-1])] {
		return false
	}
	for _, seg := range segments[:len(segments)-1] {
		seg = strings.ToLower(seg)
		if strings.Contains(seg, "norm") || strings.HasPrefix(seg, "bn") {
			return false
		}
	}
	return true
}

// underPrefix reports whether the variable path lies under the scope prefix
// ("backbone" holds "/backbone/conv1/weights" but not "/backbone2/w").
func underPrefix(path, prefix string) bool {
	p := strings.Trim(prefix, "/")
	v := strings.TrimPrefix(path, "/")
	if p == "" {
		return true
	}
	return v == p || strings.HasPrefix(v, p+"/")
}

// lrMultiplier is the multiplier of the longest matching prefix (1 if none).
func lrMultiplier(path string, mults map[string]float64) float64 {
	best, mult := -1, 1.0
	prefixes := make([]string, 0, len(mults))
	for p := range mults {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		if underPrefix(path, p) && len(strings.Trim(p, "/")) > best {
			best, mult = len(strings.Trim(p, "/")), mults[p]
		}
	}
	return mult
}

// isTrained reports whether the optimizer updates v: a trainable float
// variable of the model that is not frozen.
func isTrained(v *model.Variable, cfg *Config) bool {
	if !v.Trainable || !v.DType().IsFloat() || isInternal(v.Path()) {
		return false
	}
	for _, f := range cfg.Frozen {
		if underPrefix(v.Path(), f) {
			return false
		}
	}
	return true
}

// isInternal reports whether path is training machinery rather than model
// weights: the optimizer state and the RNG state.
func isInternal(path string) bool {
	return underPrefix(path, stateScope) || path == "/"+model.RNGStateVariableName
}

// stateVar returns (creating it at zero if needed) the optimizer state
// variable `kind` of the model variable v.
func stateVar(store *model.Store, kind string, v *model.Variable) *model.Variable {
	sv := store.VariableWithShape(stateScope+"/"+kind+v.Path(), v.Shape(), func(g *Graph, s shapes.Shape) *Node {
		return Zeros(g, s)
	})
	sv.SetTrainable(false)
	return sv
}

// scalars are the per-step inputs of the update: the learning rate and
// AdamW's bias corrections 1-beta^t.
type scalars struct{ lr, bc1, bc2 *Node }

// globalNorm is the L2 norm of all gradients together.
func globalNorm(grads []*Node) *Node {
	var sum *Node
	for _, gr := range grads {
		sq := ReduceAllSum(Square(gr))
		if sum == nil {
			sum = sq
		} else {
			sum = Add(sum, sq)
		}
	}
	return Sqrt(sum)
}

// clipScale multiplies gradients so that their global norm is at most clip.
func clipScale(norm *Node, clip float64) *Node {
	return Div(Scalar(norm.Graph(), dtypes.Float32, clip), Max(norm, Scalar(norm.Graph(), dtypes.Float32, clip)))
}

// applyUpdate sets the new value of v (current value p, gradient grad) in the graph.
func applyUpdate(store *model.Store, cfg *Config, v *model.Variable, p, grad *Node, s scalars) {
	lr := MulScalar(s.lr, lrMultiplier(v.Path(), cfg.LRMultipliers))
	wd := 0.0
	if WeightDecayApplies(v.Path(), v.Shape().Dimensions) {
		wd = cfg.WeightDecay
	}
	switch cfg.Optimizer {
	case "sgd":
		d := grad
		if wd > 0 {
			d = Add(d, MulScalar(p, wd))
		}
		buf := stateVar(store, "sgd_momentum", v)
		newBuf := Add(MulScalar(buf.NodeValue(p), cfg.Momentum), d)
		buf.SetNodeValue(newBuf)
		v.SetNodeValue(Sub(p, Mul(lr, newBuf)))
	default: // adamw
		mVar, vVar := stateVar(store, "adamw_m", v), stateVar(store, "adamw_v", v)
		m := Add(MulScalar(mVar.NodeValue(p), cfg.Beta1), MulScalar(grad, 1-cfg.Beta1))
		sq := Add(MulScalar(vVar.NodeValue(p), cfg.Beta2), MulScalar(Square(grad), 1-cfg.Beta2))
		mVar.SetNodeValue(m)
		vVar.SetNodeValue(sq)
		denom := AddScalar(Div(Sqrt(sq), Sqrt(s.bc2)), cfg.Epsilon)
		step := Mul(Div(lr, s.bc1), Div(m, denom))
		decayed := p
		if wd > 0 {
			decayed = Mul(p, OneMinus(MulScalar(lr, wd)))
		}
		v.SetNodeValue(Sub(decayed, step))
	}
}

// biasCorrections are AdamW's 1-beta1^t and 1-beta2^t for optimizer step t (1-based).
func biasCorrections(cfg *Config, t int) (float64, float64) {
	return 1 - math.Pow(cfg.Beta1, float64(t)), 1 - math.Pow(cfg.Beta2, float64(t))
}
