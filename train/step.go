package train

import (
	"fmt"
	"sort"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
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
	return s.runInputs(inputs, final, t, lr)
}

// runInputs is run on a batch already converted by batchInputs (TimeSteps
// reuses one, so that its tensors stay on the device between steps).
func (s *stepper) runInputs(inputs []any, final bool, t int, lr float64) (stepResult, error) {
	exec := s.accumulate
	if final {
		exec = s.apply
		bc1, bc2 := biasCorrections(s.cfg, t)
		inputs = append(inputs[:len(inputs):len(inputs)], float32(lr), float32(bc1), float32(bc2))
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
		params[i] = v.NodeValue(g)
	}
	grads := Gradient(loss, params...)
	if !apply {
		for i, v := range trained {
			sum := stateVar(s.store, "accum", v)
			sum.SetNodeValue(Add(sum.NodeValue(g), grads[i]))
		}
		return []*Node{loss, acc}
	}
	if s.cfg.AccumSteps > 1 {
		for i, v := range trained {
			sum := stateVar(s.store, "accum", v)
			grads[i] = DivScalar(Add(sum.NodeValue(g), grads[i]), float64(s.cfg.AccumSteps))
			sum.SetNodeValue(ZerosLike(grads[i]))
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
