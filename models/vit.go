package models

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// ViT is a video Vision Transformer (VideoMAE's encoder): non-overlapping
// tubelets (2x16x16 by default) embedded linearly, fixed sinusoidal
// position embeddings, pre-norm transformer blocks, and mean pooling with a
// final LayerNorm ("fc_norm") for Features.
//
// Variable scopes follow VideoMAE/timm keys: patch_embed/proj/{weight,bias}
// (weight stored [kT,kH,kW,3,D], torch's is [D,3,kT,kH,kW]),
// blocks/<i>/norm1, blocks/<i>/attn/qkv, blocks/<i>/attn/proj,
// blocks/<i>/norm2, blocks/<i>/mlp/fc1, blocks/<i>/mlp/fc2 (Linear weights
// in torch's [out,in] layout) and fc_norm. VideoMAE's separate q_bias/v_bias
// are folded into qkv/bias here.
type ViT struct {
	name string
	// Dim is the token width, Depth the number of blocks, Heads the
	// attention heads per block.
	Dim, Depth, Heads int
	// MLPRatio is the MLP hidden width over Dim (4).
	MLPRatio float64
	// Tubelet is the patch size (T,H,W).
	Tubelet [3]int
}

// vitConfig registers one ViT size.
func newViT(dim, depth, heads int) Constructor {
	return func(name string, opts Options) (Backbone, error) {
		d := dim
		if len(opts.Widths) > 0 {
			if len(opts.Widths) != 1 || opts.Widths[0] < 1 {
				return nil, fmt.Errorf("%s: Widths must hold one embedding width, got %v", name, opts.Widths)
			}
			d = opts.Widths[0]
		} else if opts.Width > 0 {
			d = int(math.Round(float64(dim) * opts.Width))
		}
		d = max(heads, d/heads*heads) // a multiple of the head count
		tub := opts.Tubelet
		if tub == [3]int{} {
			tub = [3]int{2, 16, 16}
		}
		for _, v := range tub {
			if v < 1 {
				return nil, fmt.Errorf("%s: tubelet sizes must be positive, got %v", name, tub)
			}
		}
		return &ViT{name: name, Dim: d, Depth: depth, Heads: heads, MLPRatio: 4, Tubelet: tub}, nil
	}
}

// Name implements Backbone.
func (v *ViT) Name() string { return v.name }

// FeatureDim implements Backbone.
func (v *ViT) FeatureDim() int { return v.Dim }

// Grid returns the token grid (T', H', W') for clips of t x h x w frames,
// or an error when a size is not a multiple of the tubelet.
func (v *ViT) Grid(t, h, w int) ([3]int, error) {
	in := [3]int{t, h, w}
	var g [3]int
	for a := 0; a < 3; a++ {
		if in[a]%v.Tubelet[a] != 0 {
			return g, fmt.Errorf("%s: clip %dx%dx%d is not a multiple of the tubelet %v", v.name, t, h, w, v.Tubelet)
		}
		g[a] = in[a] / v.Tubelet[a]
	}
	return g, nil
}

// Features implements Backbone: all tokens through the encoder, mean
// pooled, then fc_norm: [B,T,H,W,3] -> [B,Dim].
func (v *ViT) Features(scope *model.Scope, clips *Node, training bool) *Node {
	tokens := v.Encode(scope, v.Embed(scope, clips), training)
	return LayerNorm(scope.In("fc_norm"), ReduceMean(tokens, 1), 1e-6)
}

// FreshOnTransfer implements TransferScopes: the norm after mean pooling,
// which token-level pretraining (VideoMAE) never builds.
func (v *ViT) FreshOnTransfer() []string { return []string{"fc_norm"} }

// PretrainOnly implements TransferScopes: the encoder's token norm, which
// Tokens applies and Features does not.
func (v *ViT) PretrainOnly() []string { return []string{"norm"} }

// Tokens returns every token after the encoder and its final "norm":
// [B,N,Dim], N = T'*H'*W' in (t,h,w) row-major order.
func (v *ViT) Tokens(scope *model.Scope, clips *Node, training bool) *Node {
	tokens := v.Encode(scope, v.Embed(scope, clips), training)
	return LayerNorm(scope.In("norm"), tokens, 1e-6)
}

// Embed is the tubelet embedding plus the sinusoidal position embedding:
// clips [B,T,H,W,3] -> [B,N,Dim]. Select a subset with SelectTokens and
// pass it to Encode (VideoMAE encodes only the visible tokens).
func (v *ViT) Embed(scope *model.Scope, clips *Node) *Node {
	d := clips.Shape().Dimensions
	grid, err := v.Grid(d[1], d[2], d[3])
	if err != nil {
		panic(err)
	}
	b, tt, th, tw := d[0], v.Tubelet[0], v.Tubelet[1], v.Tubelet[2]
	// Patchify: [B, T'/tt, ... ] -> [B, N, tt*th*tw*3] in (kT,kH,kW,C) order.
	x := Reshape(clips, b, grid[0], tt, grid[1], th, grid[2], tw, 3)
	x = TransposeAllAxes(x, 0, 1, 3, 5, 2, 4, 6, 7)
	n := grid[0] * grid[1] * grid[2]
	x = Reshape(x, b, n, tt*th*tw*3)
	proj := scope.In("patch_embed").In("proj")
	w := proj.VariableWithShape("weight", shapes.Make(dtypes.Float32, tt, th, tw, 3, v.Dim))
	bias := proj.WithInitializer(zeroInit).VariableWithShape("bias", shapes.Make(dtypes.Float32, v.Dim))
	g := clips.Graph()
	wv := ConvertDType(Reshape(w.NodeValue(g), tt*th*tw*3, v.Dim), clips.DType())
	x = Add(Dot(x, wv).General([]int{2}, nil, []int{0}, nil), Reshape(ConvertDType(bias.NodeValue(g), clips.DType()), 1, 1, v.Dim))
	pos := Const(g, SinusoidPositions(n, v.Dim))
	return Add(x, ConvertDType(ExpandAxes(pos, 0), x.DType()))
}

// SelectTokens gathers tokens [B,N,D] at idx [B,n] (int32) -> [B,n,D].
func SelectTokens(tokens, idx *Node) *Node {
	d := tokens.Shape().Dimensions
	b, n := d[0], idx.Shape().Dimensions[1]
	batch := Iota(tokens.Graph(), shapes.Make(idx.DType(), b, n), 0)
	pairs := Stack([]*Node{batch, idx}, -1) // [B,n,2]
	return Gather(tokens, pairs)
}

// Encode runs the transformer blocks on tokens [B,n,Dim] (any subset of the
// embedded tokens) and returns [B,n,Dim] (without the final norm).
func (v *ViT) Encode(scope *model.Scope, tokens *Node, training bool) *Node {
	blocks := scope.In("blocks")
	x := tokens
	for i := 0; i < v.Depth; i++ {
		x = v.block(blocks.In("%d", i), x)
	}
	return x
}

// block is one pre-norm transformer block.
func (v *ViT) block(scope *model.Scope, x *Node) *Node {
	x = Add(x, v.attention(scope.In("attn"), LayerNorm(scope.In("norm1"), x, 1e-6)))
	mlp := scope.In("mlp")
	h := activation.Gelu(Linear(mlp.In("fc1"), LayerNorm(scope.In("norm2"), x, 1e-6), int(float64(v.Dim)*v.MLPRatio)))
	return Add(x, Linear(mlp.In("fc2"), h, v.Dim))
}

// attention is multi-head self-attention with a fused qkv projection.
func (v *ViT) attention(scope *model.Scope, x *Node) *Node {
	d := x.Shape().Dimensions
	b, n, hd := d[0], d[1], v.Dim/v.Heads
	qkv := Reshape(Linear(scope.In("qkv"), x, 3*v.Dim), b, n, 3, v.Heads, hd)
	qkv = TransposeAllAxes(qkv, 2, 0, 3, 1, 4) // [3,B,H,n,hd]
	q := MulScalar(Squeeze(Slice(qkv, AxisElem(0)), 0), 1/math.Sqrt(float64(hd)))
	k := Squeeze(Slice(qkv, AxisElem(1)), 0)
	val := Squeeze(Slice(qkv, AxisElem(2)), 0)
	scores := Softmax(Einsum("bhqd,bhkd->bhqk", q, k), -1)
	out := Einsum("bhqk,bhkd->bhqd", scores, val)
	out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3), b, n, v.Dim)
	return Linear(scope.In("proj"), out, v.Dim)
}

// LayerNorm normalises the last axis, with torch's "weight" and "bias".
func LayerNorm(scope *model.Scope, x *Node, eps float64) *Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	gamma := scope.WithInitializer(oneInit).VariableWithShape("weight", shapes.Make(dtypes.Float32, c))
	beta := scope.WithInitializer(zeroInit).VariableWithShape("bias", shapes.Make(dtypes.Float32, c))
	xf := ConvertDType(x, dtypes.Float32)
	mean := ReduceAndKeep(xf, ReduceMean, -1)
	centred := Sub(xf, mean)
	variance := ReduceAndKeep(Mul(centred, centred), ReduceMean, -1)
	y := Div(centred, Sqrt(AddScalar(variance, eps)))
	bshape := make([]int, x.Rank())
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[x.Rank()-1] = c
	y = Add(Mul(y, Reshape(gamma.NodeValue(g), bshape...)), Reshape(beta.NodeValue(g), bshape...))
	return ConvertDType(y, x.DType())
}

// SinusoidPositions is VideoMAE's fixed 1D sinusoidal table [n,d]:
// sin on even features, cos on odd, frequency 10000^(-2i/d).
func SinusoidPositions(n, d int) *tensors.Tensor {
	data := make([]float32, n*d)
	for p := 0; p < n; p++ {
		for j := 0; j < d; j++ {
			angle := float64(p) / math.Pow(10000, float64(2*(j/2))/float64(d))
			if j%2 == 0 {
				data[p*d+j] = float32(math.Sin(angle))
			} else {
				data[p*d+j] = float32(math.Cos(angle))
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(data, n, d)
}
