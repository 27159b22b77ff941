package models

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// Batch-norm hyperparameters, PyTorch's defaults.
const (
	BatchNormEpsilon  = 1e-5
	BatchNormMomentum = 0.1
)

// BatchNorm normalises x over every axis but the last (channels), like
// PyTorch's BatchNorm1d/3d on channels-last data, and works the same on
// every backend. Its variables, in scope, carry torch's names:
// "weight" and "bias" (trainable, [C]) and "running_mean", "running_var"
// ([C]) and "num_batches_tracked" (int64 scalar), not trainable, saved in
// checkpoints with the rest of the store.
//
// training=true normalises with the batch statistics (biased variance) and
// updates the running ones with momentum 0.1 (unbiased variance);
// training=false uses the running statistics.
func BatchNorm(scope *model.Scope, x *Node, training bool) *Node {
	g := x.Graph()
	rank := x.Rank()
	c := x.Shape().Dimensions[rank-1]
	vec := shapes.Make(dtypes.Float32, c)
	gamma := scope.WithInitializer(oneInit).VariableWithShape("weight", vec)
	beta := scope.WithInitializer(zeroInit).VariableWithShape("bias", vec)
	runMean := scope.WithInitializer(zeroInit).VariableWithShape("running_mean", vec).SetTrainable(false)
	runVar := scope.WithInitializer(oneInit).VariableWithShape("running_var", vec).SetTrainable(false)
	tracked := scope.WithInitializer(zeroInit).VariableWithShape("num_batches_tracked", shapes.Make(dtypes.Int64)).SetTrainable(false)

	bshape := make([]int, rank)
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[rank-1] = c
	asVec := func(v *Node) *Node { return Reshape(ConvertDType(v, x.DType()), bshape...) }
	if !training {
		inv := Mul(Rsqrt(AddScalar(runVar.NodeValue(g), BatchNormEpsilon)), gamma.NodeValue(g))
		shift := Sub(beta.NodeValue(g), Mul(runMean.NodeValue(g), inv))
		return Add(Mul(x, asVec(inv)), asVec(shift))
	}

	axes := make([]int, rank-1)
	for i := range axes {
		axes[i] = i
	}
	n := x.Shape().Size() / c
	xf := ConvertDType(x, dtypes.Float32)
	mean := ReduceMean(xf, axes...)                        // [C]
	centred := Sub(xf, Reshape(mean, bshape...))           // [..., C]
	variance := ReduceMean(Mul(centred, centred), axes...) // [C], biased
	inv := Div(gamma.NodeValue(g), Sqrt(AddScalar(variance, BatchNormEpsilon)))
	y := Add(Mul(centred, Reshape(inv, bshape...)), Reshape(beta.NodeValue(g), bshape...))

	m := float64(BatchNormMomentum)
	unbiased := MulScalar(StopGradient(variance), float64(n)/float64(max(n-1, 1)))
	runMean.SetNodeValue(Add(MulScalar(runMean.NodeValue(g), 1-m), MulScalar(StopGradient(mean), m)))
	runVar.SetNodeValue(Add(MulScalar(runVar.NodeValue(g), 1-m), MulScalar(unbiased, m)))
	tracked.SetNodeValue(AddScalar(tracked.NodeValue(g), 1))
	return ConvertDType(y, x.DType())
}

// zeroInit and oneInit are constant variable initialisers.
func zeroInit(g *Graph, shape shapes.Shape) *Node { return Zeros(g, shape) }
func oneInit(g *Graph, shape shapes.Shape) *Node  { return Ones(g, shape) }

// Relu is max(x, 0) against a scalar zero (no zero tensor is materialised).
func Relu(x *Node) *Node { return Max(x, ScalarZero(x.Graph(), x.DType())) }
