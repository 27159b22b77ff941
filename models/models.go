// Package models holds the video backbones (C3D, R3D-18, MC3-18, R(2+1)D-18,
// video ViT) and heads, built on GoMLX, and a registry that maps names to
// constructors.
//
// Tensors are channels-last: clips enter as [B,T,H,W,3] float32.
package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Backbone maps a batch of clips to one feature vector per clip.
type Backbone interface {
	// Name is the registry name the backbone was built from.
	Name() string
	// FeatureDim is the length of the pooled feature vector.
	FeatureDim() int
	// Features builds the graph from clips [B,T,H,W,3] to pooled features
	// [B,FeatureDim]. training selects batch statistics (and updates the
	// running ones) or the running statistics.
	Features(scope *model.Scope, clips *graph.Node, training bool) *graph.Node
}
