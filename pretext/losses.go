package pretext

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
)

// CrossEntropy is the mean softmax cross-entropy of logits [B,C] against
// integer targets [B], and the fraction of rows whose arg-max is the target.
func CrossEntropy(logits, targets *Node) (loss, accuracy *Node) {
	logits = ConvertDType(logits, dtypes.Float32)
	classes := logits.Shape().Dim(-1)
	labels := ConvertDType(targets, dtypes.Int32)
	onehot := OneHot(labels, classes, logits.DType())
	nll := Neg(ReduceSum(Mul(onehot, LogSoftmax(logits, -1)), -1))
	loss = ReduceAllMean(nll)
	pred := ArgMax(logits, -1, dtypes.Int32)
	accuracy = ReduceAllMean(ConvertDType(Equal(pred, labels), logits.DType()))
	return loss, accuracy
}

// InfoNCE is SimCLR's NT-Xent loss between two batches of embeddings z1, z2
// [B,P]: each of the 2B embeddings must pick its partner (the other view of
// the same video) among the 2B-1 others, with cosine similarity divided by
// temperature as logits. accuracy is the fraction of the 2B rows whose most
// similar other embedding is the partner.
func InfoNCE(z1, z2 *Node, temperature float64) (loss, accuracy *Node) {
	b := z1.Shape().Dim(0)
	z := ConvertDType(Concatenate([]*Node{z1, z2}, 0), dtypes.Float32)
	z = L2Normalize(z, -1) // [2B,P]
	logits := DivScalar(MatMul(z, Transpose(z, 0, 1)), temperature)
	g := z.Graph()
	eye := Iota(g, logits.Shape(), 0)
	self := Equal(eye, Iota(g, logits.Shape(), 1))
	logits = Where(self, Const(g, float32(-1e9)), logits)
	partner := make([]int32, 2*b)
	for i := range b {
		partner[i], partner[i+b] = int32(i+b), int32(i)
	}
	return CrossEntropy(logits, Const(g, partner))
}

// NormalizedMSE is BYOL's regression loss: the mean over rows of
// ||p/|p| - t/|t|||^2 = 2 - 2 cos(p,t), for predictions p and targets t
// [B,P]. It does not stop the gradient through t: the caller decides.
func NormalizedMSE(p, t *Node) *Node {
	p, t = ConvertDType(p, dtypes.Float32), ConvertDType(t, dtypes.Float32)
	d := Sub(L2Normalize(p, -1), L2Normalize(t, -1))
	return ReduceAllMean(ReduceSum(Square(d), -1))
}

// MaskedMSE is the mean squared error between pred and target [B,N,P]
// counted only where mask [B,N] is 1 (the masked patches): the sum of the
// squared errors of masked patches divided by (number of masked patches * P).
func MaskedMSE(pred, target, mask *Node) *Node {
	pred, target = ConvertDType(pred, dtypes.Float32), ConvertDType(target, dtypes.Float32)
	m := ConvertDType(mask, dtypes.Float32)
	per := ReduceMean(Square(Sub(pred, target)), -1) // [B,N]
	num := ReduceAllSum(Mul(per, m))
	den := Max(ReduceAllSum(m), ScalarOne(m.Graph(), m.DType()))
	return Div(num, den)
}
