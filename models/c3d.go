package models

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// C3D is the C3D backbone as used by VCOP (Xu et al. 2019): eight 3x3x3
// convolutions (with bias) each followed by batch norm and ReLU, max pools
// (1,2,2) then (2,2,2), and global average pooling to 512 features.
// Scopes follow VCOP's c3d.py keys: conv1/{weight,bias}, bn1/..., conv3a,
// bn3a, ..., conv5b, bn5b.
type C3D struct {
	name   string
	widths [5]int // conv1, conv2, conv3x, conv4x, conv5x (64,128,256,512,512)
}

// newC3D is C3D's constructor; Options.Width scales every width, and
// Widths (4 values) sets conv1..conv4 with conv5 equal to conv4.
func newC3D(name string, opts Options) (Backbone, error) {
	w4, err := opts.stageWidths([4]int{64, 128, 256, 512})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &C3D{name: name, widths: [5]int{w4[0], w4[1], w4[2], w4[3], w4[3]}}, nil
}

// Name implements Backbone.
func (m *C3D) Name() string { return m.name }

// FeatureDim implements Backbone.
func (m *C3D) FeatureDim() int { return m.widths[4] }

// CheckClip implements ClipChecker: three temporal and four spatial poolings
// by 2 need at least 8 frames and 16 pixels.
func (m *C3D) CheckClip(frames, size int) error {
	if frames < 8 || size < 16 {
		return fmt.Errorf("%s halves time three times and space four: it needs --frames 8 or more and --size 16 or more, not %d and %d", m.name, frames, size)
	}
	return nil
}

// Features implements Backbone: [B,T,H,W,3] -> [B,512·Width].
func (m *C3D) Features(scope *model.Scope, clips *Node, training bool) *Node {
	layers := []struct {
		name   string
		width  int
		poolAt [3]int // pool window after this conv (0: none)
	}{
		{"1", m.widths[0], [3]int{1, 2, 2}},
		{"2", m.widths[1], [3]int{2, 2, 2}},
		{"3a", m.widths[2], [3]int{}}, {"3b", m.widths[2], [3]int{2, 2, 2}},
		{"4a", m.widths[3], [3]int{}}, {"4b", m.widths[3], [3]int{2, 2, 2}},
		{"5a", m.widths[4], [3]int{}}, {"5b", m.widths[4], [3]int{}},
	}
	x := clips
	for i, l := range layers {
		x = ConvBias(scope.In("conv%s", l.name), x, l.width, ConvSpec{Kernel: [3]int{3, 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [3]int{1, 1, 1}, NoInputGrad: i == 0})
		x = BatchNormReLU(scope.In("bn%s", l.name), x, training)
		if l.poolAt != [3]int{} {
			x = MaxPool3D(x, l.poolAt)
		}
	}
	return ReduceMean(x, 1, 2, 3)
}

// ConvBias is Conv3DLayer plus a "bias" variable [Cout].
func ConvBias(scope *model.Scope, x *Node, cout int, spec ConvSpec) *Node {
	y := Conv3DLayer(scope, x, cout, spec)
	b := scope.WithInitializer(zeroInit).VariableWithShape("bias", shapes.Make(dtypes.Float32, cout))
	return Add(y, Reshape(ConvertDType(b.NodeValue(x.Graph()), y.DType()), 1, 1, 1, 1, cout))
}

// MaxPool3D is max pooling with window = stride = win over T,H,W of
// x [B,T,H,W,C]; trailing rows that do not fill a window are dropped, as
// PyTorch does. It is built from Reshape and ReduceMax, which are fast and
// differentiable on every backend.
func MaxPool3D(x *Node, win [3]int) *Node {
	d := x.Shape().Dimensions
	var out [3]int
	crop := false
	for a := 0; a < 3; a++ {
		out[a] = d[a+1] / win[a]
		if out[a] < 1 {
			panic(fmt.Errorf("MaxPool3D: input %s smaller than window %v", x.Shape(), win))
		}
		crop = crop || out[a]*win[a] != d[a+1]
	}
	if crop {
		x = Slice(x, AxisRange(), AxisRange(0, out[0]*win[0]), AxisRange(0, out[1]*win[1]), AxisRange(0, out[2]*win[2]))
	}
	x = Reshape(x, d[0], out[0], win[0], out[1], win[1], out[2], win[2], d[4])
	return ReduceMax(x, 2, 4, 6)
}
