package models

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better dot-imported
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/internal/engine"
)

// Kernel layout. Conv3D kernels are stored channels-last as
// [kT, kH, kW, Cin, Cout] (GoMLX's default, the layout the im2col matmul
// reads directly). PyTorch stores Conv3d weights as [Cout, Cin, kT, kH, kW]:
// torch -> vidrep is a transpose with permutation (2, 3, 4, 1, 0), and
// vidrep -> torch the permutation (4, 3, 0, 1, 2).

// ConvSpec is a 3D convolution's geometry: kernel size, stride and
// symmetric zero padding, each as (T, H, W).
type ConvSpec struct {
	Kernel, Stride, Padding [3]int
	// NoInputGrad skips the gradient with respect to the input (for a layer
	// that reads the clip directly, where nothing upstream is trained).
	NoInputGrad bool
}

// Cube returns the spec of a k x k x k convolution with the given stride
// and padding on all three axes.
func Cube(k, stride, padding int) ConvSpec {
	return ConvSpec{Kernel: [3]int{k, k, k}, Stride: [3]int{stride, stride, stride}, Padding: [3]int{padding, padding, padding}}
}

// outSize is the output length of one axis.
func (s ConvSpec) outSize(in, axis int) int {
	return (in+2*s.Padding[axis]-s.Kernel[axis])/s.Stride[axis] + 1
}

// check panics (graph-building error) on a spec/input mismatch.
func (s ConvSpec) check(x, kernel *Node) {
	if x.Rank() != 5 || kernel.Rank() != 5 {
		panic(fmt.Errorf("Conv3D: want x [B,T,H,W,C] and kernel [kT,kH,kW,Cin,Cout], got %s and %s", x.Shape(), kernel.Shape()))
	}
	kd := kernel.Shape().Dimensions
	for a := 0; a < 3; a++ {
		if kd[a] != s.Kernel[a] || s.Stride[a] < 1 || s.Padding[a] < 0 || s.Padding[a] >= s.Kernel[a] {
			panic(fmt.Errorf("Conv3D: kernel %v does not match spec %+v (padding must be < kernel size)", kd, s))
		}
		if s.outSize(x.Shape().Dimensions[a+1], a) < 1 {
			panic(fmt.Errorf("Conv3D: input %s too small for kernel %v", x.Shape(), s.Kernel))
		}
	}
	if kd[3] != x.Shape().Dimensions[4] {
		panic(fmt.Errorf("Conv3D: kernel has %d input channels, x has %d", kd[3], x.Shape().Dimensions[4]))
	}
}

// Conv3D convolves x [B,T,H,W,Cin] with kernel [kT,kH,kW,Cin,Cout] and
// returns [B,To,Ho,Wo,Cout]. On the pure-Go backend it runs as im2col plus
// one matmul with a hand-written gradient (the backend's own convolution is
// a scalar loop); elsewhere it uses the backend's native convolution.
func Conv3D(x, kernel *Node, spec ConvSpec) *Node {
	spec.check(x, kernel)
	if engine.GraphIsGo(x.Graph()) {
		return conv3DMatmul(x, kernel, spec)
	}
	return Conv3DNative(x, kernel, spec)
}

// Conv3DNative is the backend's own convolution (with GoMLX's autodiff),
// used on XLA and as the reference in tests.
func Conv3DNative(x, kernel *Node, spec ConvSpec) *Node {
	pads := make([][2]int, 3)
	for a := range pads {
		pads[a] = [2]int{spec.Padding[a], spec.Padding[a]}
	}
	return Convolve(x, kernel).StridePerAxis(spec.Stride[:]...).PaddingPerDim(pads).Done()
}

// im2col gathers, for every output position, the kT*kH*kW input patches
// concatenated along channels: x [B,T,H,W,C] -> [B,To,Ho,Wo,K*C], taps in
// (t,h,w) row-major order, channels fastest. padLo/padHi are per-axis zero
// paddings applied first (they may differ, for transposed convolutions).
func im2col(x *Node, kernel, stride, padLo, padHi [3]int) *Node {
	// The Go backend's Slice copies one element per loop step: moving pairs
	// of float32 (or quadruples of bf16) as one int64 halves (quarters) the
	// steps. The bits are only moved, never computed on.
	packed, per := asInt64(x)
	return fromInt64(im2colElems(packed, kernel, stride, padLo, padHi), x.DType(), per)
}

// asInt64 views x [..., C] as int64 [..., C/per] when per = 64/bits of its
// float dtype divides C, for copying ops (Slice, Concatenate, Pad) that
// move one element per step on the unpatched Go backend; otherwise, and on
// a binary built with the engine patch, whose Slice and Concatenate move
// whole runs, it returns x and per = 1 (the view's two bitcasts each copy
// their tensor, so they only pay where elements are moved one by one).
func asInt64(x *Node) (*Node, int) {
	dtype, d := x.DType(), x.Shape().Dimensions
	c := d[len(d)-1]
	per := 64 / dtype.Bits()
	if !dtype.IsFloat() || per < 2 || c%per != 0 || !int64Views() {
		return x, 1
	}
	dims := append(append([]int{}, d[:len(d)-1]...), c/per, per)
	return Bitcast(Reshape(x, dims...), dtypes.Int64), per
}

// int64Views reports whether asInt64 applies: on the Go backend without
// the engine patch. A variable, so that the tests cover both ways on any
// build.
var int64Views = func() bool { return engine.Patched() == "" }

// fromInt64 undoes asInt64: int64 [..., m] back to dtype [..., m*per].
func fromInt64(x *Node, dtype dtypes.DType, per int) *Node {
	if per == 1 {
		return x
	}
	d := x.Shape().Dimensions
	dims := append(append([]int{}, d[:len(d)-1]...), d[len(d)-1]*per)
	return Reshape(Bitcast(x, dtype), dims...)
}

// im2colElems is im2col on whatever element type x holds.
func im2colElems(x *Node, kernel, stride, padLo, padHi [3]int) *Node {
	dims := x.Shape().Dimensions
	needPad := false
	for a := 0; a < 3; a++ {
		needPad = needPad || padLo[a] != 0 || padHi[a] != 0
	}
	if needPad {
		x = Pad(x, ScalarZero(x.Graph(), x.DType()),
			compute.PadAxis{},
			compute.PadAxis{Start: padLo[0], End: padHi[0]},
			compute.PadAxis{Start: padLo[1], End: padHi[1]},
			compute.PadAxis{Start: padLo[2], End: padHi[2]},
			compute.PadAxis{})
		dims = x.Shape().Dimensions
	}
	var out [3]int
	for a := 0; a < 3; a++ {
		out[a] = (dims[a+1]-kernel[a])/stride[a] + 1
	}
	cols := make([]*Node, 0, kernel[0]*kernel[1]*kernel[2])
	for dt := 0; dt < kernel[0]; dt++ {
		for dh := 0; dh < kernel[1]; dh++ {
			for dw := 0; dw < kernel[2]; dw++ {
				off := [3]int{dt, dh, dw}
				if isWhole(dims, off, out, stride) {
					cols = append(cols, x)
					continue
				}
				specs := []SliceAxisSpec{AxisRange()}
				for a := 0; a < 3; a++ {
					specs = append(specs, AxisRange(off[a], off[a]+stride[a]*(out[a]-1)+1).Stride(stride[a]))
				}
				cols = append(cols, Slice(x, specs...))
			}
		}
	}
	if len(cols) == 1 {
		return cols[0]
	}
	return Concatenate(cols, -1)
}

// isWhole reports whether a tap's slice would be the whole tensor.
func isWhole(dims []int, off, out, stride [3]int) bool {
	for a := 0; a < 3; a++ {
		if off[a] != 0 || stride[a] != 1 || out[a] != dims[a+1] {
			return false
		}
	}
	return true
}

// conv3DMatmul is Conv3D as im2col + matmul, with a custom gradient.
//
// GoMLX lets only single-input identity nodes carry a custom gradient, so
// three of them cooperate: y's identity records dL/dy (dy) when autodiff
// reaches it; kernel's and x's identities, which autodiff reaches later
// (they were built earlier), return the weight and input gradients computed
// from that dy. The forward value is computed from gradient-stopped inputs;
// a zero-valued scalar link (0 times one element of each identity) added to
// it keeps the identities on autodiff's path. Where x needs no gradient
// (the clip itself), autodiff never calls x's function.
func conv3DMatmul(x, kernel *Node, spec ConvSpec) *Node {
	xd := x.Shape().Dimensions
	fwd := newMatmulConv(StopGradient(x), StopGradient(kernel), spec.Stride, spec.Padding, spec.Padding)
	var dy *Node // dL/dy, set by y's gradient function
	kernelIn := IdentityWithCustomGradient(kernel, func(_, v *Node) *Node {
		if dy == nil {
			return v
		}
		return fwd.weightGrad(dy)
	})
	link := firstElement(kernelIn)
	if !spec.NoInputGrad {
		xIn := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
			if dy == nil {
				return v
			}
			return convInputGrad(dy, StopGradient(kernel), xd, spec)
		})
		link = Add(link, firstElement(xIn))
	}
	y := Add(StopGradient(fwd.y), MulScalar(link, 0))
	return IdentityWithCustomGradient(y, func(_, v *Node) *Node {
		dy = v
		return v
	})
}

// firstElement is x's first element as a scalar.
func firstElement(x *Node) *Node {
	specs := make([]SliceAxisSpec, x.Rank())
	for i := range specs {
		specs[i] = AxisElem(0)
	}
	return Reshape(Slice(x, specs...))
}

// matmulConv is one convolution computed through matmul, keeping what its
// weight gradient needs.
//
// With kT > 1, stride 1 in time and enough output frames it uses the "temporal taps on the
// output side" scheme: im2col over (H,W) only, on every padded frame,
// col [B,Tp,Ho,Wo,kH*kW*Cin]; one matmul with the kernel arranged
// [kH*kW*Cin, kT*Cout] gives Z [B,Tp,Ho,Wo,kT,Cout]; y[t] = sum over dt of
// Z[t+dt, dt]. This copies kH*kW instead of kT*kH*kW patches, at the cost of
// Tp/To more matmul rows. Otherwise it is plain im2col: col
// [B,To,Ho,Wo,kT*kH*kW*Cin] times the kernel [kT*kH*kW*Cin, Cout].
type matmulConv struct {
	kernelDims []int
	timeTaps   bool  // the output-side temporal scheme
	col2       *Node // [rows, K] im2col matrix
	y          *Node // [B,To,Ho,Wo,Cout]
}

// newMatmulConv convolves x [B,T,H,W,Cin] with kernel [kT,kH,kW,Cin,Cout].
func newMatmulConv(x, kernel *Node, stride, padLo, padHi [3]int) *matmulConv {
	kd := kernel.Shape().Dimensions
	kt, cin, cout := kd[0], kd[3], kd[4]
	khw := kd[1] * kd[2]
	// The temporal scheme computes Tp = To+kT-1 frames of matmul rows for
	// To output frames; it pays while that is at most 1.5x (To >= 2(kT-1)).
	to := (x.Shape().Dimensions[1]+padLo[0]+padHi[0]-kt)/stride[0] + 1
	c := &matmulConv{kernelDims: kd, timeTaps: kt > 1 && stride[0] == 1 && to >= 2*(kt-1)}
	if !c.timeTaps {
		col := im2col(x, [3]int{kd[0], kd[1], kd[2]}, stride, padLo, padHi)
		cd := col.Shape().Dimensions
		c.col2 = Reshape(col, -1, cd[4])
		y := Dot(c.col2, Reshape(kernel, kt*khw*cin, cout)).Product()
		c.y = Reshape(y, cd[0], cd[1], cd[2], cd[3], cout)
		return c
	}
	col := im2col(x, [3]int{1, kd[1], kd[2]}, stride, padLo, padHi) // [B,Tp,Ho,Wo,khw*cin]
	cd := col.Shape().Dimensions
	c.col2 = Reshape(col, -1, khw*cin)
	wcat := Reshape(TransposeAllAxes(kernel, 1, 2, 3, 0, 4), khw*cin, kt*cout)
	z := Reshape(Dot(c.col2, wcat).Product(), cd[0], cd[1], cd[2], cd[3], kt, cout)
	var y *Node
	zp, per := asInt64(z)
	for dt := 0; dt < kt; dt++ {
		part := Slice(zp, AxisRange(), AxisRange(dt, dt+to), AxisRange(), AxisRange(), AxisElem(dt))
		part = fromInt64(part, z.DType(), per)
		if y == nil {
			y = part
		} else {
			y = Add(y, part)
		}
	}
	c.y = Reshape(y, cd[0], to, cd[2], cd[3], cout)
	return c
}

// weightGrad is dL/dkernel [kT,kH,kW,Cin,Cout] for dy = dL/dy.
func (c *matmulConv) weightGrad(dy *Node) *Node {
	kd := c.kernelDims
	kt, cin, cout := kd[0], kd[3], kd[4]
	if !c.timeTaps {
		// dW^T = dy^T @ col: only the small dy is transposed; col2 is read
		// as the matmul's [K, M] operand.
		dw := Dot(Transpose(Reshape(dy, -1, cout), 0, 1), c.col2).Product() // [cout, K]
		return Reshape(Transpose(dw, 0, 1), kd...)
	}
	// dZ[t, dt] = dy[t-dt]: each tap's dy shifted in time by padding
	// (whole frames, moved with memmove), stacked before the channels.
	yd := dy.Shape().Dimensions
	rows := c.col2.Shape().Dimensions[0]
	tp := rows / (yd[0] * yd[2] * yd[3])
	zero := ScalarZero(dy.Graph(), dy.DType())
	shifted := make([]*Node, kt)
	for dt := range shifted {
		p := Pad(dy, zero, compute.PadAxis{}, compute.PadAxis{Start: dt, End: tp - yd[1] - dt})
		shifted[dt] = ExpandAxes(p, 4)
	}
	dz := Reshape(Concatenate(shifted, 4), rows, kt*cout)
	dwT := Dot(Transpose(dz, 0, 1), c.col2).Product() // [kt*cout, khw*cin]
	dwT = Reshape(dwT, kt, cout, kd[1], kd[2], cin)
	return TransposeAllAxes(dwT, 0, 2, 3, 4, 1)
}

// convInputGrad is the gradient of a convolution with respect to its input:
// a stride-1 convolution of dy (dilated by the stride and padded by
// kernel-1-padding, plus the rows the forward stride skipped at the end)
// with the spatially flipped kernel, channels swapped; again through matmul.
func convInputGrad(dy, kernel *Node, xDims []int, spec ConvSpec) *Node {
	dilate := false
	var lo, hi [3]int
	for a := 0; a < 3; a++ {
		k, p, s := spec.Kernel[a], spec.Padding[a], spec.Stride[a]
		extra := (xDims[a+1] + 2*p - k) % s
		lo[a], hi[a] = k-1-p, k-1-p+extra
		dilate = dilate || s > 1
	}
	if dilate {
		zero := ScalarZero(dy.Graph(), dy.DType())
		dy = Pad(dy, zero, compute.PadAxis{},
			compute.PadAxis{Start: lo[0], End: hi[0], Interior: spec.Stride[0] - 1},
			compute.PadAxis{Start: lo[1], End: hi[1], Interior: spec.Stride[1] - 1},
			compute.PadAxis{Start: lo[2], End: hi[2], Interior: spec.Stride[2] - 1},
			compute.PadAxis{})
		lo, hi = [3]int{}, [3]int{}
	}
	// Flipped kernel with channels swapped: [kT,kH,kW,Cout,Cin].
	wf := TransposeAllAxes(Reverse(kernel, 0, 1, 2), 0, 1, 2, 4, 3)
	return newMatmulConv(dy, wf, [3]int{1, 1, 1}, lo, hi).y
}

// Conv3DLayer creates (or reuses) the kernel variable "weight" in scope,
// shaped [kT,kH,kW,cin,cout] with the store's He (fan-in) initialiser, and applies
// Conv3D with it. It has no bias: every conv in the backbones feeds a batch
// norm, as in torchvision (see ConvBias for C3D).
func Conv3DLayer(scope *model.Scope, x *Node, cout int, spec ConvSpec) *Node {
	cin := x.Shape().Dimensions[4]
	shape := shapes.Make(dtypes.Float32, spec.Kernel[0], spec.Kernel[1], spec.Kernel[2], cin, cout)
	w := scope.VariableWithShape("weight", shape)
	return Conv3D(x, ConvertDType(w.NodeValue(x.Graph()), x.DType()), spec)
}
