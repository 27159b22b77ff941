package models

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"
)

// Inflation (I3D, Carreira & Zisserman 2017) turns a 2D ImageNet ResNet-18
// into a 3D network by giving every 2D kernel a time axis.
//
// The 3D network is i3d_r18: torchvision resnet18's structure with
// VideoResNet's variable names: a 3x7x7 stem (stride 1,2,2) with batch
// norm, ReLU and resnet18's 3x3 max pool (stride 2) as 1x3x3, then four
// stages of BasicBlocks with 3x3x3 convs (stride 2 on every axis from
// layer2 on, like r3d_18). R3D-18 itself has no max pool, so resnet18's
// weights would meet activations at twice the resolution they were trained
// on; i3d_r18 keeps resnet18's geometry instead.
//
// Kernels are inflated one of two ways. "centre" puts the 2D kernel in the
// middle time slice and zeros elsewhere: on a clip of one repeated frame,
// with the zero temporal padding used here, every time step sees exactly the
// 2D network, so pooled features equal resnet18's on that frame. "mean"
// (the I3D paper's) replicates kernel/kT over time: exact away from the
// temporal borders, but the first and last kT/2 outputs of each conv see
// zero padding and shrink, so pooled features differ; it is the smoother
// start for fine-tuning on motion.

// Inflation is how a 2D kernel gets its time axis.
type Inflation string

// The inflation modes.
const (
	InflateCentre Inflation = "centre"
	InflateMean   Inflation = "mean"
)

// ParseInflation checks a mode name ("centre", "center" or "mean").
func ParseInflation(s string) (Inflation, error) {
	switch strings.ToLower(s) {
	case "centre", "center":
		return InflateCentre, nil
	case "mean":
		return InflateMean, nil
	}
	return "", fmt.Errorf("unknown inflation %q: use centre or mean", s)
}

// InflateKernel turns a torch Conv2d kernel [Cout,Cin,kH,kW] (flat, C
// order) into vidrep's [kT,kH,kW,Cin,Cout] (dims) by mode.
func InflateKernel(src []float32, dims []int, mode Inflation) []float32 {
	kt, kh, kw, cin, cout := dims[0], dims[1], dims[2], dims[3], dims[4]
	out := make([]float32, kt*kh*kw*cin*cout)
	for t := 0; t < kt; t++ {
		scale := float32(1) / float32(kt)
		if mode != InflateMean {
			if t != kt/2 {
				continue
			}
			scale = 1
		}
		for o := 0; o < cout; o++ {
			for i := 0; i < cin; i++ {
				for s := 0; s < kh*kw; s++ {
					out[((t*kh*kw+s)*cin+i)*cout+o] = src[(o*cin+i)*kh*kw+s] * scale
				}
			}
		}
	}
	return out
}

// resnet2DKey maps an i3d_r18 key (VideoResNet naming) to torchvision
// resnet18's: stem.0 is conv1, stem.1 is bn1, layerX.Y.convN.0 is
// layerX.Y.convN and layerX.Y.convN.1 is layerX.Y.bnN; downsample keeps
// its name.
func resnet2DKey(key string) string {
	if rest, ok := strings.CutPrefix(key, "stem.0."); ok {
		return "conv1." + rest
	}
	if rest, ok := strings.CutPrefix(key, "stem.1."); ok {
		return "bn1." + rest
	}
	parts := strings.Split(key, ".")
	if len(parts) == 5 && strings.HasPrefix(parts[2], "conv") {
		n := strings.TrimPrefix(parts[2], "conv")
		switch parts[3] {
		case "0":
			return strings.Join([]string{parts[0], parts[1], "conv" + n, parts[4]}, ".")
		case "1":
			return strings.Join([]string{parts[0], parts[1], "bn" + n, parts[4]}, ".")
		}
	}
	return key
}

// I3DResNet is ResNet-18 inflated to 3D (i3d_r18; see Inflation above).
type I3DResNet struct {
	*VideoResNet
}

func newI3D(name string, opts Options) (Backbone, error) {
	widths, err := opts.stageWidths([4]int{64, 128, 256, 512})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	kinds := [4]string{convSimple, convSimple, convSimple, convSimple}
	return &I3DResNet{&VideoResNet{name: name, stageKinds: kinds, widths: widths, blocks: [4]int{2, 2, 2, 2}}}, nil
}

func init() {
	Register("i3d_r18", "ResNet-18 inflated to 3D (I3D): 3x7x7 stem + max pool, 3x3x3 blocks; imports resnet18 ImageNet weights", newI3D, Options{})
}

// Features implements Backbone: clips [B,T,H,W,3] -> [B,widths[3]].
func (m *I3DResNet) Features(scope *model.Scope, clips *Node, training bool) *Node {
	return ReduceMean(m.FeatureMap(scope, clips, training), 1, 2, 3)
}

// FeatureMap returns the last stage's activations [B,T',H',W',C].
func (m *I3DResNet) FeatureMap(scope *model.Scope, clips *Node, training bool) *Node {
	if clips.Rank() != 5 || clips.Shape().Dimensions[4] != 3 {
		panic(fmt.Errorf("%s: clips must be [B,T,H,W,3], got %s", m.name, clips.Shape()))
	}
	stem := scope.In("stem")
	x := Conv3DLayer(stem.In("0"), clips, m.widths[0], ConvSpec{Kernel: [3]int{3, 7, 7}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 3, 3}, NoInputGrad: true})
	x = Relu(BatchNorm(stem.In("1"), x, training))
	x = maxPool3x3(x)
	return m.stages(scope, x, training)
}

// maxPool3x3 is resnet18's MaxPool2d(3, stride 2, padding 1) on every frame
// of x [B,T,H,W,C], built from strided slices and Max, whose gradients the
// Go backend has (its MaxPool gradient op is missing). x follows a ReLU, so
// padding with zeros gives the same maxima as torch's -inf padding.
func maxPool3x3(x *Node) *Node {
	dims := x.Shape().Dimensions
	padded := x
	for _, axis := range []int{2, 3} {
		zdims := append([]int{}, padded.Shape().Dimensions...)
		zdims[axis] = 1
		zero := Zeros(x.Graph(), shapes.Make(x.DType(), zdims...))
		padded = Concatenate([]*Node{zero, padded, zero}, axis)
	}
	ho, wo := (dims[2]-1)/2+1, (dims[3]-1)/2+1
	var out *Node
	for dy := 0; dy < 3; dy++ {
		for dx := 0; dx < 3; dx++ {
			win := Slice(padded, AxisRange(), AxisRange(),
				AxisRange(dy, dy+2*(ho-1)+1).Stride(2), AxisRange(dx, dx+2*(wo-1)+1).Stride(2), AxisRange())
			if out == nil {
				out = win
			} else {
				out = Max(out, win)
			}
		}
	}
	return out
}
