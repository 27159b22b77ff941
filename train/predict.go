package train

import (
	"context"
	"fmt"
	"io"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

// PredictFn builds the outputs of one batch in inference mode: views[v] is
// [B,T,H,W,3] float32; each output has the batch as its first axis.
type PredictFn func(scope *model.Scope, views []*Node) []*Node

// Predictions holds the outputs of every example, in the order of the batches.
type Predictions struct {
	// Outputs[j] holds output j of every example, rows concatenated, as float32.
	Outputs [][]float32
	// Dims[j] is the shape of output j of one example (the batch axis removed).
	Dims [][]int
	// Targets[j] holds target j of every example.
	Targets [][]int32
	// Index holds each example's video index in the loader's list.
	Index []int
	// N is the number of examples.
	N int
}

// Row returns output j of example i.
func (p *Predictions) Row(j, i int) []float32 {
	size := 1
	for _, d := range p.Dims[j] {
		size *= d
	}
	return p.Outputs[j][i*size : (i+1)*size]
}

// Predict runs fn over every batch without training (weights and running
// statistics unchanged) and gathers the outputs; it closes batches. Every
// variable fn uses must already be in store (loaded from a run): a variable
// fn would have to create is an error, not a silent random initialisation.
func Predict(ctx context.Context, backend compute.Backend, store *model.Store, fn PredictFn, batches Batches) (*Predictions, error) {
	defer batches.Close()
	known := map[string]bool{}
	for v := range store.IterVariables() {
		if v.HasValue() {
			known[v.Path()] = true
		}
	}
	var buildErr error
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, views []*Node) []*Node {
		g := views[0].Graph()
		store.SetTraining(g, false)
		outs := fn(scope, views)
		for v := range store.IterVariables() {
			if v.InUseByGraph(g) && !known[v.Path()] && buildErr == nil {
				buildErr = fmt.Errorf("predict: the model needs variable %s, which the loaded weights lack; load the weights of a run of the same architecture", v.Path())
			}
			if v.ChangedInGraph(g) && buildErr == nil {
				buildErr = fmt.Errorf("predict: the model changes variable %s in inference mode; build it with training=false", v.Path())
			}
		}
		for i := range outs {
			outs[i] = ConvertDType(outs[i], dtypes.Float32)
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	p := &Predictions{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := batches.Next()
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		if err := p.add(exec, b, &buildErr); err != nil {
			return nil, err
		}
	}
}

// add runs one batch and appends its outputs, targets and indices.
func (p *Predictions) add(exec *model.Exec, b *loader.Batch, buildErr *error) error {
	inputs, err := batchInputs(b, len(b.Views), -1)
	if err != nil {
		return err
	}
	outs, err := exec.Call(inputs...)
	if err == nil {
		err = *buildErr
	}
	if err != nil {
		return err
	}
	if p.Outputs == nil {
		p.Outputs = make([][]float32, len(outs))
		p.Dims = make([][]int, len(outs))
		for j, o := range outs {
			p.Dims[j] = append([]int{}, o.Shape().Dimensions[1:]...)
		}
		p.Targets = make([][]int32, len(b.Targets))
	}
	for j, o := range outs {
		if o.Shape().Rank() == 0 || o.Shape().Dimensions[0] != b.ViewShape[0] {
			return fmt.Errorf("predict: output %d has shape %s, not the batch of %d first", j, o.Shape(), b.ViewShape[0])
		}
		flat, err := tensors.CopyFlatData[float32](o)
		if err != nil {
			return err
		}
		p.Outputs[j] = append(p.Outputs[j], flat...)
		o.FinalizeAll()
	}
	for j := range p.Targets {
		if j < len(b.Targets) {
			p.Targets[j] = append(p.Targets[j], b.Targets[j]...)
		}
	}
	p.Index = append(p.Index, b.Index...)
	p.N += b.ViewShape[0]
	return nil
}
