package models

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// bnMomentsParam is the graph parameter (at the root scope) holding the
// recorder of RecordBatchNormMoments.
const bnMomentsParam = "/models_batchnorm_moments"

// BatchNormMoments holds, for each BatchNorm layer built in training mode on
// a recorded graph, in build order, its variables' scope, the batch mean and
// biased variance of its input ([C] float32 nodes) and the number of values
// each channel's moments were taken over.
type BatchNormMoments struct {
	Scopes      []string // scope of the layer's running_mean and running_var
	Means, Vars []*Node  // batch mean and biased batch variance, [C]
	Counts      []int    // values per channel in the batch (B*T*H*W)
}

// RecordBatchNormMoments makes every BatchNorm built afterwards on g in
// training mode record its batch moments in the returned value instead of
// updating its running statistics: the layer still normalises with the batch
// statistics, but running_mean, running_var and num_batches_tracked stay as
// they are, so a graph built this way changes no variable (precise
// batch-norm statistics are computed from these moments).
func RecordBatchNormMoments(g *Graph) *BatchNormMoments {
	m := &BatchNormMoments{}
	model.SetGraphParam(g, bnMomentsParam, m)
	return m
}

// recordedMoments returns the recorder attached to g, or nil.
func recordedMoments(g *Graph) *BatchNormMoments {
	v, ok := model.GetGraphParam(g, bnMomentsParam)
	if !ok {
		return nil
	}
	m, _ := v.(*BatchNormMoments)
	return m
}
