package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ResidualInput wraps a backbone so that it sees residual frames: each clip
// minus its temporal mean, which removes what does not move (the scene, the
// object's appearance) and leaves the motion. Tao et al. ("Rethinking motion
// representation: residual frames with 3D ConvNets", 2020) found such input
// makes 3D ConvNets learn motion faster and transfer better after
// self-supervised pretraining. The variables are the inner backbone's, under
// the same names, so weights move freely between the two.
type ResidualInput struct {
	Backbone
	name string
}

// Name is the registry name of the wrapped backbone (e.g. "r3d-small-res").
func (r *ResidualInput) Name() string { return r.name }

// Features subtracts each clip's mean frame from clips [B,T,H,W,3] and runs
// the inner backbone on the result.
func (r *ResidualInput) Features(scope *model.Scope, clips *graph.Node, training bool) *graph.Node {
	return r.Backbone.Features(scope, ResidualFrames(clips), training)
}

// ResidualFrames returns clips [B,T,H,W,C] minus their mean over T.
func ResidualFrames(clips *graph.Node) *graph.Node {
	return graph.Sub(clips, graph.ReduceAndKeep(clips, graph.ReduceMean, 1))
}

// residualOf makes a Constructor that wraps the backbone registered as inner.
func residualOf(inner string) Constructor {
	return func(name string, opts Options) (Backbone, error) {
		bb, err := New(inner, opts)
		if err != nil {
			return nil, err
		}
		return &ResidualInput{Backbone: bb, name: name}, nil
	}
}

func init() {
	Register("r3d-small-res", "r3d-small on residual frames (each clip minus its temporal mean): motion without appearance", residualOf("r3d-small"), Options{Widths: []int{8, 16, 32, 64}})
	Register("mc3-small-res", "mc3-small on residual frames (each clip minus its temporal mean)", residualOf("mc3-small"), Options{Widths: []int{8, 16, 32, 64}})
	Register("r2plus1d-small-res", "r2plus1d-small on residual frames (each clip minus its temporal mean)", residualOf("r2plus1d-small"), Options{Widths: []int{8, 16, 32, 64}})
	Register("r3d_18-res", "r3d_18 on residual frames (each clip minus its temporal mean)", residualOf("r3d_18"), Options{})
}
