package pretext

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
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
	all := views[0]
	if len(views) > 1 {
		all = Concatenate(views, 0)
	}
	return splitRows(bb.Features(scope, all, training), len(views)) // V x [B, D]
}

// mlp is Linear(hidden) -> [BatchNorm] -> ReLU -> Linear(out) (models.MLPHead).
func mlp(scope *model.Scope, x *Node, hidden, out int, batchNorm, training bool) *Node {
	return models.MLPHead(scope, x, hidden, out, batchNorm, training)
}

// linear is one Linear layer with bias under scope (float32 weights whatever
// the compute type).
func linear(scope *model.Scope, x *Node, out int) *Node {
	return models.Linear(scope, x, out)
}

// splitRows cuts x [N*k, ...] into k equal blocks along the first axis.
func splitRows(x *Node, k int) []*Node {
	b := x.Shape().Dim(0) / k
	out := make([]*Node, k)
	for i := range out {
		out[i] = Slice(x, AxisRange(i*b, (i+1)*b))
	}
	return out
}
