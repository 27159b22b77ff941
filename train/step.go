package train

import (
	"fmt"
	"sort"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

// stepper owns the compiled training graphs: `accumulate` adds one batch's
// gradients to the accumulators (used when AccumSteps > 1), `apply` adds the
// last batch's gradients, clips, and updates the weights.
type stepper struct {
	cfg         *Config
	store       *model.Store
	loss        LossFn
	numViews    int
	numTargets  int
	computeType dtypes.DType
	hasAccuracy bool
	accumulate  *model.Exec
	apply       *model.Exec
}

// stepResult is what one call of a step graph returns.
type stepResult struct {
	loss, accuracy, gradNorm float64
}

func newStepper(backend compute.Backend, store *model.Store, cfg *Config, loss LossFn, batch *loader.Batch) (*stepper, error) {
	s := &stepper{cfg: cfg, store: store, loss: loss, numViews: len(batch.Views), numTargets: len(batch.Targets),
		computeType: dtypes.Float32}
	if cfg.DType == "bf16" {
		s.computeType = dtypes.BFloat16
	}
	var err error
	s.apply, err = model.NewExec(backend, store, func(scope *model.Scope, inputs []*Node) []*Node {
		return s.build(scope, inputs, true)
	})
	if err != nil {
		return nil, err
	}
	if cfg.AccumSteps > 1 {
		s.accumulate, err = model.NewExec(backend, store, func(scope *model.Scope, inputs []*Node) []*Node {
			return s.build(scope, inputs, false)
		})
	}
	return s, err
}

// batchInputs converts a batch into the graph inputs: views then targets
// (none if numTargets < 0).
func batchInputs(b *loader.Batch, numViews, numTargets int) ([]any, error) {
	if len(b.Views) != numViews || (numTargets >= 0 && len(b.Targets) != numTargets) {
		return nil, fmt.Errorf("batch has %d views and %d targets, the first batch had %d and %d",
			len(b.Views), len(b.Targets), numViews, numTargets)
	}
	size := 1
	for _, d := range b.ViewShape {
		size *= d
	}
	inputs := make([]any, 0, numViews+numTargets+3)
	for i, v := range b.Views {
		if len(v) != size || size == 0 {
			return nil, fmt.Errorf("batch view %d holds %d values, its shape %v needs %d", i, len(v), b.ViewShape, size)
		}
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(v, b.ViewShape[:]...))
	}
	for j, t := range b.Targets {
		if numTargets < 0 {
			break
		}
		if len(t) != b.ViewShape[0] {
			return nil, fmt.Errorf("batch target %d holds %d values for a batch of %d", j, len(t), b.ViewShape[0])
		}
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(t, len(t)))
	}
	return inputs, nil
}

// run executes one batch: a gradient accumulation, or (final) an optimizer step t (1-based).
func (s *stepper) run(b *loader.Batch, final bool, t int, lr float64) (stepResult, error) {
	inputs, err := batchInputs(b, s.numViews, s.numTargets)
	if err != nil {
		return stepResult{}, err
	}
	exec := s.accumulate
	if final {
		exec = s.apply
		bc1, bc2 := biasCorrections(s.cfg, t)
		inputs = append(inputs, float32(lr), float32(bc1), float32(bc2))
	}
	outs, err := exec.Call(inputs...)
	if err != nil {
		return stepResult{}, err
	}
	var res stepResult
	vals := []*float64{&res.loss, &res.accuracy, &res.gradNorm}
	for i, o := range outs {
		if i < len(vals) {
			*vals[i] = float64(tensors.ToScalar[float32](o))
		}
		o.FinalizeAll()
	}
	return res, nil
}

// build is the graph of one batch; apply selects the optimizer step.
func (s *stepper) build(scope *model.Scope, inputs []*Node, apply bool) []*Node {
	g := inputs[0].Graph()
	s.store.SetTraining(g, true)
	views := make([]*Node, s.numViews)
	for i := range views {
		views[i] = ConvertDType(inputs[i], s.computeType)
	}
	targets := inputs[s.numViews : s.numViews+s.numTargets]
	restore := s.castVariables(g)
	loss, acc := s.loss(scope, views, targets, true)
	s.hasAccuracy = acc != nil
	loss = ConvertDType(loss, dtypes.Float32)
	if acc == nil {
		acc = ScalarZero(g, dtypes.Float32)
	}
	acc = ConvertDType(acc, dtypes.Float32)

	// Sorted by path, so that a resumed run (whose store was filled from the
	// checkpoint in another order) builds the same sums in the same order.
	var trained []*model.Variable
	for v := range s.store.IterVariables() {
		if v.InUseByGraph(g) && isTrained(v, s.cfg) {
			trained = append(trained, v)
		}
	}
	sort.Slice(trained, func(i, j int) bool { return trained[i].Path() < trained[j].Path() })
	params := make([]*Node, len(trained))
	for i, v := range trained {
		if p, ok := restore[v]; ok {
			params[i] = p.orig
		} else {
			params[i] = v.NodeValue(g)
		}
	}
	grads := Gradient(loss, params...)
	for v := range s.store.IterVariables() {
		p, ok := restore[v]
		if !ok {
			continue
		}
		if cur := v.NodeValue(g); cur == p.cast {
			v.SetNodeValue(p.orig)
		} else {
			v.SetNodeValue(ConvertDType(cur, v.DType()))
		}
	}
	if !apply {
		for i, v := range trained {
			acc := stateVar(s.store, "accum", v)
			acc.SetNodeValue(Add(acc.NodeValue(g), grads[i]))
		}
		return []*Node{loss, acc}
	}
	if s.cfg.AccumSteps > 1 {
		for i, v := range trained {
			acc := stateVar(s.store, "accum", v)
			grads[i] = DivScalar(Add(acc.NodeValue(g), grads[i]), float64(s.cfg.AccumSteps))
			acc.SetNodeValue(ZerosLike(grads[i]))
		}
	}
	n := len(inputs)
	sc := scalars{lr: inputs[n-3], bc1: inputs[n-2], bc2: inputs[n-1]}
	norm := ScalarZero(g, dtypes.Float32)
	if len(grads) > 0 {
		norm = globalNorm(grads)
	}
	if s.cfg.ClipNorm > 0 && len(grads) > 0 {
		scale := clipScale(norm, s.cfg.ClipNorm)
		for i := range grads {
			grads[i] = Mul(grads[i], scale)
		}
	}
	for i, v := range trained {
		applyUpdate(s.store, s.cfg, v, params[i], grads[i], sc)
	}
	return []*Node{loss, acc, norm}
}

// castPair is a float32 variable's parameter node and its bf16 copy.
type castPair struct{ orig, cast *Node }

// castVariables, under bf16, makes every float32 model variable read as bf16
// in graph g, keeping the float32 parameter to restore after the forward pass.
func (s *stepper) castVariables(g *Graph) map[*model.Variable]castPair {
	if s.computeType == dtypes.Float32 {
		return nil
	}
	pairs := map[*model.Variable]castPair{}
	for v := range s.store.IterVariables() {
		if v.DType() != dtypes.Float32 || isInternal(v.Path()) {
			continue
		}
		orig := v.NodeValue(g)
		cast := ConvertDType(orig, s.computeType)
		v.SetNodeValue(cast)
		pairs[v] = castPair{orig: orig, cast: cast}
	}
	return pairs
}

// viewShapes are the input shapes of a batch, for compiling a graph ahead of a call.
func viewShapes(b *loader.Batch) []shapes.Shape {
	var out []shapes.Shape
	for range b.Views {
		out = append(out, shapes.Make(dtypes.Float32, b.ViewShape[:]...))
	}
	for _, t := range b.Targets {
		out = append(out, shapes.Make(dtypes.Int32, len(t)))
	}
	return out
}

// createVariables builds (without running) the float32 forward graph once so
// that the model's variables exist before the bf16 graph casts them.
func createVariables(backend compute.Backend, store *model.Store, loss LossFn, b *loader.Batch) error {
	nv := len(b.Views)
	e, err := model.NewExec(backend, store, func(scope *model.Scope, inputs []*Node) *Node {
		store.SetTraining(inputs[0].Graph(), true)
		l, _ := loss(scope, inputs[:nv], inputs[nv:], true)
		return l
	})
	if err != nil {
		return err
	}
	defer e.Finalize()
	_, err = e.Compile(viewShapes(b)...)
	return err
}
