package pretext

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/models"
)

// backboneScope is where the backbone's (saved) variables live.
func backboneScope(root *model.Scope) *model.Scope { return root.At(BackboneScope) }

// headScope is where method name keeps its pretext-only variables.
func headScope(root *model.Scope, name string) *model.Scope {
	return root.At(HeadScope).At("%s", name)
}

// viewFeatures runs the backbone once over all views stacked along the batch
// (one set of batch statistics, one graph) and returns one [B,D] feature
// node per view.
func viewFeatures(bb models.Backbone, scope *model.Scope, views []*Node, training bool) []*Node {
	b := views[0].Shape().Dim(0)
	all := views[0]
	if len(views) > 1 {
		all = Concatenate(views, 0)
	}
	f := bb.Features(scope, all, training) // [V*B, D]
	out := make([]*Node, len(views))
	for i := range views {
		out[i] = Slice(f, AxisRange(i*b, (i+1)*b))
	}
	return out
}

// mlp is Dense(hidden) -> ReLU -> Dense(out), each layer in its own sub-scope.
func mlp(scope *model.Scope, x *Node, hidden, out int) *Node {
	h := activation.Relu(layers.Dense(scope.In("fc1"), x, true, hidden))
	return layers.Dense(scope.In("fc2"), h, true, out)
}

// linear is one Dense layer with bias under scope.
func linear(scope *model.Scope, x *Node, out int) *Node {
	return layers.Dense(scope, x, true, out)
}
