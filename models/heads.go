package models

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// Linear is torch's nn.Linear on the last axis of x: variables "weight"
// [out, in] (torch's layout, so import needs no transpose) and "bias"
// [out], initialised like torch (uniform in ±1/sqrt(in)).
func Linear(scope *model.Scope, x *Node, out int) *Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	bound := 1 / math.Sqrt(float64(in))
	init := func(g *Graph, shape shapes.Shape) *Node {
		u := scope.Store().RandomUniform(g, shape) // [0,1)
		return AddScalar(MulScalar(u, 2*bound), -bound)
	}
	w := scope.WithInitializer(init).VariableWithShape("weight", shapes.Make(dtypes.Float32, out, in))
	b := scope.WithInitializer(init).VariableWithShape("bias", shapes.Make(dtypes.Float32, out))
	wv := ConvertDType(w.NodeValue(g), x.DType())
	y := Dot(x, wv).General([]int{x.Rank() - 1}, nil, []int{1}, nil)
	bshape := make([]int, x.Rank())
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[x.Rank()-1] = out
	return Add(y, Reshape(ConvertDType(b.NodeValue(g), x.DType()), bshape...))
}

// LinearHead is a classification head: feats [B,D] -> logits
// [B,classes], with variables scope/weight and scope/bias (pass
// scope.In("fc") to match torchvision's fc.weight/fc.bias).
func LinearHead(scope *model.Scope, feats *Node, classes int) *Node {
	return Linear(scope, feats, classes)
}

// MLPHead is a projection head (SimCLR/MoCo v2 style): Linear(hidden),
// BatchNorm when batchNorm is set, ReLU, Linear(out). Scopes follow a torch
// nn.Sequential: 0 (Linear), 1 (BatchNorm1d, if any), then the last Linear
// at 2 (3 with batch norm).
func MLPHead(scope *model.Scope, feats *Node, hidden, out int, batchNorm, training bool) *Node {
	x := Linear(scope.In("0"), feats, hidden)
	last := "2"
	if batchNorm {
		x = BatchNorm(scope.In("1"), x, training)
		last = "3"
	}
	return Linear(scope.In("%s", last), Relu(x), out)
}
