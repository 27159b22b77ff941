package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// Block kinds of torchvision's VideoResNet family.
const (
	convSimple     = "3d"     // Conv3DSimple: 3x3x3
	convNoTemporal = "2d"     // Conv3DNoTemporal: 1x3x3
	conv2Plus1D    = "(2+1)d" // Conv2Plus1D: 1x3x3 then 3x1x1
)

// VideoResNet is torchvision's VideoResNet (r3d_18, mc3_18, r2plus1d_18)
// with BasicBlocks, channels-last and with configurable stage widths.
//
// Variable scopes mirror torchvision's state-dict keys: stem/0/weight is
// stem.0.weight, layer1/0/conv1/0/weight is layer1.0.conv1.0.weight,
// layer2/0/downsample/1/running_mean is layer2.0.downsample.1.running_mean;
// for R(2+1)D, layer1/0/conv1/0/0/weight is layer1.0.conv1.0.0.weight.
// Conv kernels are stored [kT,kH,kW,Cin,Cout] (see ConvSpec).
type VideoResNet struct {
	name string
	// StageKinds is the conv kind of each of the four stages.
	stageKinds [4]string
	// Widths are the four stages' output channels (torchvision: 64..512).
	widths [4]int
	// Blocks is the number of BasicBlocks per stage (torchvision: 2).
	blocks [4]int
	// r2plus1dStem selects R2Plus1dStem instead of BasicStem.
	r2plus1dStem bool
}

// Name implements Backbone.
func (m *VideoResNet) Name() string { return m.name }

// FeatureDim implements Backbone.
func (m *VideoResNet) FeatureDim() int { return m.widths[3] }

// Widths returns the four stages' widths.
func (m *VideoResNet) Widths() [4]int { return m.widths }

// newVideoResNet builds a constructor for one family member.
func newVideoResNet(kinds [4]string, r2plus1dStem bool) func(name string, opts Options) (Backbone, error) {
	return func(name string, opts Options) (Backbone, error) {
		widths, err := opts.stageWidths([4]int{64, 128, 256, 512})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &VideoResNet{name: name, stageKinds: kinds, widths: widths, blocks: [4]int{2, 2, 2, 2}, r2plus1dStem: r2plus1dStem}, nil
	}
}

// Features implements Backbone: clips [B,T,H,W,3] -> [B,widths[3]].
func (m *VideoResNet) Features(scope *model.Scope, clips *Node, training bool) *Node {
	x := m.FeatureMap(scope, clips, training)
	return ReduceMean(x, 1, 2, 3)
}

// FeatureMap returns the last stage's activations [B,T',H',W',C] before
// pooling.
func (m *VideoResNet) FeatureMap(scope *model.Scope, clips *Node, training bool) *Node {
	if clips.Rank() != 5 || clips.Shape().Dimensions[4] != 3 {
		panic(fmt.Errorf("%s: clips must be [B,T,H,W,3], got %s", m.name, clips.Shape()))
	}
	x := m.stem(scope.In("stem"), clips, training)
	return m.stages(scope, x, training)
}

// stages runs layer1..layer4 on the stem's output x: the first block of
// layers 2-4 halves the resolution, as in torchvision.
func (m *VideoResNet) stages(scope *model.Scope, x *Node, training bool) *Node {
	inplanes := m.widths[0]
	for s := 0; s < 4; s++ {
		layer := scope.In("layer%d", s+1)
		for b := 0; b < m.blocks[s]; b++ {
			stride := 1
			if s > 0 && b == 0 {
				stride = 2
			}
			x = m.basicBlock(layer.In("%d", b), x, inplanes, m.widths[s], stride, m.stageKinds[s], training)
			inplanes = m.widths[s]
		}
	}
	return x
}

// stem is BasicStem (3x7x7 conv, stride (1,2,2)) or R2Plus1dStem
// (1x7x7 to 45 channels, then 3x1x1), each with batch norm and ReLU.
func (m *VideoResNet) stem(scope *model.Scope, x *Node, training bool) *Node {
	if !m.r2plus1dStem {
		x = Conv3DLayer(scope.In("0"), x, m.widths[0], ConvSpec{Kernel: [3]int{3, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 3, 3}, NoInputGrad: true})
		return BatchNormReLU(scope.In("1"), x, training)
	}
	mid := max(1, 45*m.widths[0]/64)
	x = Conv3DLayer(scope.In("0"), x, mid, ConvSpec{Kernel: [3]int{1, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 3, 3}, NoInputGrad: true})
	x = BatchNormReLU(scope.In("1"), x, training)
	x = Conv3DLayer(scope.In("3"), x, m.widths[0], ConvSpec{Kernel: [3]int{3, 1, 1}, Stride: [3]int{1, 1, 1}, Padding: [3]int{1, 0, 0}})
	return BatchNormReLU(scope.In("4"), x, training)
}

// basicBlock is torchvision's BasicBlock: conv1 (conv, BN, ReLU), conv2
// (conv, BN), an optional downsample (1x1x1 conv, BN) and ReLU(sum).
func (m *VideoResNet) basicBlock(scope *model.Scope, x *Node, inplanes, planes, stride int, kind string, training bool) *Node {
	mid := inplanes * planes * 27 / (inplanes*9 + 3*planes) // Conv2Plus1D midplanes, shared by conv1 and conv2
	c1, c2 := scope.In("conv1"), scope.In("conv2")
	y := convByKind(c1.In("0"), x, planes, mid, stride, kind, training)
	y = BatchNormReLU(c1.In("1"), y, training)
	y = convByKind(c2.In("0"), y, planes, mid, 1, kind, training)
	shortcut := x
	if stride != 1 || inplanes != planes {
		ds := [3]int{stride, stride, stride}
		if kind == convNoTemporal {
			ds[0] = 1
		}
		down := scope.In("downsample")
		shortcut = Conv3DLayer(down.In("0"), x, planes, ConvSpec{Kernel: [3]int{1, 1, 1}, Stride: ds})
		shortcut = BatchNorm(down.In("1"), shortcut, training)
	}
	return BatchNormAddReLU(c2.In("1"), y, shortcut, training)
}

// convByKind is Conv3DSimple, Conv3DNoTemporal or Conv2Plus1D (whose inner
// Sequential puts the spatial conv at 0, its BN at 1 and the temporal conv
// at 3).
func convByKind(scope *model.Scope, x *Node, out, mid, stride int, kind string, training bool) *Node {
	switch kind {
	case convSimple:
		return Conv3DLayer(scope, x, out, Cube(3, stride, 1))
	case convNoTemporal:
		return Conv3DLayer(scope, x, out, ConvSpec{Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, stride, stride}, Padding: [3]int{0, 1, 1}})
	case conv2Plus1D:
		x = Conv3DLayer(scope.In("0"), x, mid, ConvSpec{Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, stride, stride}, Padding: [3]int{0, 1, 1}})
		x = BatchNormReLU(scope.In("1"), x, training)
		return Conv3DLayer(scope.In("3"), x, out, ConvSpec{Kernel: [3]int{3, 1, 1}, Stride: [3]int{stride, 1, 1}, Padding: [3]int{1, 0, 0}})
	}
	panic(fmt.Errorf("unknown conv kind %q", kind))
}
