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
// training=false uses the running statistics. On a graph passed to
// RecordBatchNormMoments, training=true records the batch statistics there
// instead of updating the running ones.
func BatchNorm(scope *model.Scope, x *Node, training bool) *Node {
	return batchNorm(scope, x, nil, training, false)
}

// BatchNormReLU is ReLU(BatchNorm(x)) with the ReLU's gradient folded into
// batch norm's hand-written one (one masking pass instead of autodiff
// through Max).
func BatchNormReLU(scope *model.Scope, x *Node, training bool) *Node {
	return batchNorm(scope, x, nil, training, true)
}

// BatchNormAddReLU is ReLU(BatchNorm(x) + residual), a residual block's
// tail, with the add's and ReLU's gradients folded into batch norm's.
func BatchNormAddReLU(scope *model.Scope, x, residual *Node, training bool) *Node {
	return batchNorm(scope, x, residual, training, true)
}

// batchNorm implements BatchNorm, BatchNormReLU and BatchNormAddReLU
// (residual may be nil).
func batchNorm(scope *model.Scope, x, residual *Node, training, relu bool) *Node {
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
		y := Add(Mul(x, asVec(inv)), asVec(shift))
		if residual != nil {
			y = Add(y, residual)
		}
		if relu {
			y = Relu(y)
		}
		return y
	}

	n := x.Shape().Size() / c
	if residual != nil {
		residual = ConvertDType(residual, x.DType())
	}
	y, mean, variance := batchNormTrain(x, gamma.NodeValue(g), beta.NodeValue(g), residual, relu)
	if rec := recordedMoments(g); rec != nil { // see RecordBatchNormMoments
		rec.Scopes, rec.Counts = append(rec.Scopes, scope.Scope()), append(rec.Counts, n)
		rec.Means, rec.Vars = append(rec.Means, mean), append(rec.Vars, variance)
		return y
	}

	m := float64(BatchNormMomentum)
	unbiased := MulScalar(variance, float64(n)/float64(max(n-1, 1)))
	runMean.SetNodeValue(Add(MulScalar(runMean.NodeValue(g), 1-m), MulScalar(mean, m)))
	runVar.SetNodeValue(Add(MulScalar(runVar.NodeValue(g), 1-m), MulScalar(unbiased, m)))
	tracked.SetNodeValue(AddScalar(tracked.NodeValue(g), 1))
	return y
}

// batchNormTrain normalises x [..., C] with its batch statistics and
// returns y = gamma*(x-mean)/sqrt(var+eps) + beta (plus residual if not
// nil, then ReLU if relu), in x's dtype, and the (gradient-stopped) mean
// and biased variance [C].
//
// Statistics and arithmetic run in gamma's dtype (float32 in models), but
// only inside expressions a compiler fuses: every full-size tensor that is
// stored (y, dx) keeps x's dtype, so a bf16 network moves bf16 through
// memory, as cuDNN's batch norm does.
//
// Its gradient is written by hand (as conv3DMatmul's: identities on x,
// gamma and beta whose gradient functions read dL/dy recorded by y's), so
// the backward pass is the textbook formula in a handful of full-size
// passes instead of autodiff through every elementwise op:
// dx = a*(dy - mean(dy) - xc*inv^2*mean(dy*xc)), a = gamma*inv,
// dgamma = inv*sum(dy*xc), dbeta = sum(dy). ReLU's mask is read from y.
func batchNormTrain(x, gamma, beta, residual *Node, relu bool) (y, mean, variance *Node) {
	rank := x.Rank()
	c := x.Shape().Dimensions[rank-1]
	axes := make([]int, rank-1)
	for i := range axes {
		axes[i] = i
	}
	bshape := make([]int, rank)
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[rank-1] = c
	bc := func(v *Node) *Node { return Reshape(v, bshape...) }
	n := float64(x.Shape().Size() / c)
	io, acc := x.DType(), gamma.DType()
	wide := func(v *Node) *Node { return ConvertDType(v, acc) }

	xs := wide(StopGradient(x))
	mean = ReduceMean(xs, axes...)
	centred := Sub(xs, bc(mean))
	variance = ReduceMean(Mul(centred, centred), axes...)
	inv := Inverse(Sqrt(AddScalar(variance, BatchNormEpsilon))) // [C]
	gs, bs := StopGradient(gamma), StopGradient(beta)
	scale := Mul(gs, inv)
	y0 := Add(Mul(centred, bc(scale)), bc(bs))
	if residual != nil {
		y0 = Add(y0, wide(StopGradient(residual)))
	}
	if relu {
		y0 = Relu(y0)
	}
	yOut := ConvertDType(y0, io)

	var dy *Node             // dL/dy after ReLU's mask, in x's dtype
	var sumDy, sumDyXc *Node // shared by the three gradient functions
	sums := func() {
		if sumDy == nil {
			sumDy = ReduceSum(wide(dy), axes...)
			sumDyXc = ReduceSum(Mul(wide(dy), centred), axes...)
		}
	}
	xIn := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
		if dy == nil {
			return v
		}
		sums()
		// dx = dy*a + xc*k + b with k = -a*inv^2*sum(dy*xc)/n, b = -a*sum(dy)/n.
		k := MulScalar(Mul(Mul(scale, Mul(inv, inv)), sumDyXc), -1/n)
		b := MulScalar(Mul(scale, sumDy), -1/n)
		return ConvertDType(Add(Add(Mul(wide(dy), bc(scale)), Mul(centred, bc(k))), bc(b)), io)
	})
	gIn := IdentityWithCustomGradient(gamma, func(_, v *Node) *Node {
		if dy == nil {
			return v
		}
		sums()
		return Mul(inv, sumDyXc)
	})
	bIn := IdentityWithCustomGradient(beta, func(_, v *Node) *Node {
		if dy == nil {
			return v
		}
		sums()
		return sumDy
	})
	link := Add(Add(wide(firstElement(xIn)), firstElement(gIn)), firstElement(bIn))
	if residual != nil {
		resIn := IdentityWithCustomGradient(residual, func(_, v *Node) *Node {
			if dy == nil {
				return v
			}
			return ConvertDType(dy, residual.DType())
		})
		link = Add(link, wide(firstElement(resIn)))
	}
	y = IdentityWithCustomGradient(Add(StopGradient(yOut), ConvertDType(MulScalar(link, 0), io)), func(_, v *Node) *Node {
		dy = v
		if relu {
			// ReLU's gradient: dy where the output is positive.
			dy = Where(GreaterThan(yOut, ScalarZero(v.Graph(), io)), v, ScalarZero(v.Graph(), v.DType()))
		}
		return v
	})
	return y, StopGradient(mean), StopGradient(variance)
}

// zeroInit and oneInit are constant variable initialisers.
func zeroInit(g *Graph, shape shapes.Shape) *Node { return Zeros(g, shape) }
func oneInit(g *Graph, shape shapes.Shape) *Node  { return Ones(g, shape) }

// Relu is max(x, 0) against a scalar zero (no zero tensor is materialised).
func Relu(x *Node) *Node { return Max(x, ScalarZero(x.Graph(), x.DType())) }
