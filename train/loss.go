package train

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// CrossEntropy is the mean softmax cross-entropy of logits [B,K] against
// integer labels [B], with label smoothing: the target puts 1-smoothing on the
// label and smoothing/K on every class (as PyTorch's label_smoothing). It is
// computed in float32 whatever the logits' dtype.
func CrossEntropy(logits, labels *Node, smoothing float64) *Node {
	logits = ConvertDType(logits, dtypes.Float32)
	numClasses := logits.Shape().Dimensions[logits.Rank()-1]
	logProbs := LogSoftmax(logits, -1)
	oneHot := OneHot(ConvertDType(labels, dtypes.Int32), numClasses, dtypes.Float32)
	target := AddScalar(MulScalar(oneHot, 1-smoothing), smoothing/float64(numClasses))
	perExample := Neg(ReduceSum(Mul(target, logProbs), -1))
	return ReduceAllMean(perExample)
}

// Accuracy is the fraction (float32 scalar) of rows of logits [B,K] whose
// largest entry is at the label [B].
func Accuracy(logits, labels *Node) *Node {
	predicted := ArgMax(logits, -1, dtypes.Int32)
	hits := ConvertDType(Equal(predicted, ConvertDType(labels, dtypes.Int32)), dtypes.Float32)
	return ReduceAllMean(hits)
}
