package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// TokenBackbone is what videomae needs from a backbone: a video ViT whose
// patch embedding and transformer can run apart, so that the encoder sees
// only the visible tokens. models.ViT is one. Features must be built from
// the same Embed and Encode scopes so that pretrained weights transfer.
type TokenBackbone interface {
	models.Backbone
	// Grid is the token grid (T', H', W') of clips of t x h x w frames, or
	// an error when a size is not a multiple of the tubelet.
	Grid(t, h, w int) ([3]int, error)
	// Embed maps clips [B,T,H,W,3] to tokens [B,N,D], position embedding
	// included, N = T'H'W' in (time, row, column) order.
	Embed(scope *model.Scope, clips *Node) *Node
	// Encode runs the transformer blocks on any subset of tokens [B,M,D]
	// and returns [B,M,D], without the final norm (videomae applies the
	// encoder's final LayerNorm under the backbone's "norm" scope).
	Encode(scope *model.Scope, tokens *Node, training bool) *Node
}

// Tubelet returns the patch (t,h,w) one token of bb covers for clips of
// frames x size x size, or an error naming the sizes that do not divide.
func Tubelet(bb TokenBackbone, frames, size int) ([3]int, error) {
	g, err := bb.Grid(frames, size, size)
	if err != nil {
		return [3]int{}, err
	}
	return [3]int{frames / g[0], size / g[1], size / g[2]}, nil
}

// TubeMask draws VideoMAE's tube mask for a grid of nt x ns tokens (nt
// temporal slots, ns spatial positions): the same ns-visible spatial
// positions are visible at every time, the others are masked in every
// frame. It returns the sorted indices (t*ns + s) of the visible tokens.
func TubeMask(nt, ns, visible int, rng *rand.Rand) []int {
	keep := rng.Perm(ns)[:visible]
	slices.Sort(keep)
	out := make([]int, 0, nt*visible)
	for t := range nt {
		for _, s := range keep {
			out = append(out, t*ns+s)
		}
	}
	return out
}

// videomae is masked video modelling: tube masking, the encoder on the
// visible tokens only, a light transformer decoder that rebuilds the
// per-patch normalised pixels, and an MSE over the masked patches only.
type videomae struct {
	o              Options
	nt, ns, hidden int // temporal slots, spatial positions, visible spatial positions
}

func newVideoMAE(o Options) (Method, error) {
	tb := o.Tubelet
	if tb == [3]int{} {
		tb = [3]int{2, 16, 16}
	}
	if o.Frames%tb[0] != 0 || o.Size%tb[1] != 0 || o.Size%tb[2] != 0 {
		return nil, fmt.Errorf("pretext: videomae needs frames (%d) divisible by the tubelet's %d and size (%d) by its %dx%d patch", o.Frames, tb[0], o.Size, tb[1], tb[2])
	}
	if o.MaskRatio < 0.5 || o.MaskRatio > 0.95 {
		return nil, fmt.Errorf("pretext: videomae mask ratio %g is outside [0.5, 0.95] (VideoMAE uses 0.75 to 0.9)", o.MaskRatio)
	}
	o.Tubelet = tb
	ns := (o.Size / tb[1]) * (o.Size / tb[2])
	visible := max(1, int(math.Round(float64(ns)*(1-o.MaskRatio))))
	if visible >= ns {
		return nil, fmt.Errorf("pretext: videomae masks nothing with %d patches per frame; use a larger --size or a smaller patch", ns)
	}
	return &videomae{o: o, nt: o.Frames / tb[0], ns: ns, hidden: visible}, nil
}

// Name is the registry name.
func (m *videomae) Name() string { return "videomae" }

// NumViews is 1: the clip to rebuild.
func (m *videomae) NumViews() int { return 1 }

// NumTargets is the number of visible tokens: one target per token index.
func (m *videomae) NumTargets() int { return m.nt * m.hidden }

// Sampler reads one augmented clip and draws its tube mask: the targets are
// the indices of the visible tokens.
func (m *videomae) Sampler() loader.Sampler {
	aug := m.o.augment(false)
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		c, err := readClip(r, randomStart(r.NumFrames(), span(m.o.Frames, m.o.Stride), rng), m.o.Frames, m.o.Stride, aug, rng)
		if err != nil {
			return loader.Example{}, fmt.Errorf("videomae: %w", err)
		}
		if c.H != m.o.Size || c.W != m.o.Size {
			return loader.Example{}, fmt.Errorf("videomae: the augmentation gave %dx%d crops, the mask expects %d", c.H, c.W, m.o.Size)
		}
		idx := TubeMask(m.nt, m.ns, m.hidden, rng)
		targets := make([]int32, len(idx))
		for i, v := range idx {
			targets[i] = int32(v)
		}
		return loader.Example{Views: []loader.ClipTensor{c}, Targets: targets}, nil
	})
}

// Loss needs a TokenBackbone (a ViT); with another backbone it panics with a
// message naming the fix (CheckBackbone reports it as an error first).
func (m *videomae) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		if err := m.checkBackbone(bb); err != nil {
			panic(err)
		}
		vit := bb.(TokenBackbone)
		clip := views[0]
		n := m.nt * m.ns
		sel, masked := Selector(targets, n)
		bscope := backboneScope(scope)
		tokens := vit.Embed(bscope, clip) // [B,N,D]
		visible := Einsum("bmn,bnd->bmd", ConvertDType(sel, tokens.DType()), tokens)
		enc := models.LayerNorm(bscope.In("norm"), vit.Encode(bscope, visible, training), 1e-6) // [B,M,D]
		pred := m.decode(headScope(scope, "videomae"), enc, sel, training)
		target := PatchTargets(clip, m.o.Tubelet)
		return MaskedMSE(pred, target, masked), nil
	}
}

// Selector turns the visible-token targets (M nodes of shape [B], one per
// visible token) into sel [B,M,N], one-hot rows picking each visible token
// among the n, and masked [B,N], 1 at the tokens the encoder does not see.
func Selector(visible []*Node, n int) (sel, masked *Node) {
	sel = OneHot(Stack(visible, 1), n, dtypes.Float32)
	return sel, OneMinus(ReduceSum(sel, 1))
}

// CheckBackbone reports whether bb can be trained by m (videomae needs a
// ViT with the method's tubelet); other methods accept any backbone.
func CheckBackbone(m Method, bb models.Backbone) error {
	switch v := m.(type) {
	case *videomae:
		return v.checkBackbone(bb)
	case *combo:
		for _, p := range v.parts {
			if err := CheckBackbone(p, bb); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *videomae) checkBackbone(bb models.Backbone) error {
	vit, ok := bb.(TokenBackbone)
	if !ok {
		return fmt.Errorf("pretext: videomae needs a ViT backbone (token access), %s is not one; choose a vit architecture", bb.Name())
	}
	tub, err := Tubelet(vit, m.o.Frames, m.o.Size)
	if err != nil {
		return fmt.Errorf("pretext: videomae: %v; choose --frames and --size that are multiples of the tubelet", err)
	}
	if tub != m.o.Tubelet {
		return fmt.Errorf("pretext: videomae was set up for tubelet %v but %s uses %v", m.o.Tubelet, bb.Name(), tub)
	}
	return nil
}

// decode maps the encoded visible tokens [B,M,D] back to all N positions:
// a Linear to the decoder width, learned mask tokens at the masked
// positions, a learned position embedding, DecoderDepth transformer blocks,
// and a Linear to the t*h*w*3 pixels of each patch.
func (m *videomae) decode(scope *model.Scope, enc, sel *Node, training bool) *Node {
	g := enc.Graph()
	dd, n := m.o.DecoderDim, sel.Shape().Dim(2)
	x := ConvertDType(linear(scope.In("embed"), enc, dd), dtypes.Float32) // [B,M,dd]
	placed := Einsum("bmn,bmd->bnd", sel, x)                              // visible tokens at their positions
	isVis := InsertAxes(ReduceSum(sel, 1), -1)                            // [B,N,1]
	maskTok := scope.WithInitializer(smallNormal).VariableWithShape("mask_token", shapes.Make(dtypes.Float32, dd)).NodeValue(g)
	pos := scope.WithInitializer(smallNormal).VariableWithShape("pos_embed", shapes.Make(dtypes.Float32, n, dd)).NodeValue(g)
	x = Add(Add(placed, Mul(OneMinus(isVis), leading(maskTok, 3))), leading(pos, 3))
	for i := range m.o.DecoderDepth {
		x = transformerBlock(scope.In("block%d", i), x, m.o.DecoderHeads)
	}
	x = layerNorm(scope.In("norm"), x)
	t := m.o.Tubelet
	return linear(scope.In("pixels"), x, t[0]*t[1]*t[2]*3)
}

func smallNormal(g *Graph, s shapes.Shape) *Node {
	return MulScalar(model.GetStore(g).RandomNormal(g, s), 0.02)
}

// PatchTargets cuts clips [B,T,H,W,3] into tubelet patches [B,N,t*h*w*3]
// (tokens in (time, row, column) order, values in (t, y, x, channel) order)
// and normalises each patch per channel to zero mean and unit variance, as
// VideoMAE's normalised-pixel target.
func PatchTargets(clips *Node, tubelet [3]int) *Node {
	d := clips.Shape().Dimensions
	b, t, h, w := d[0], d[1], d[2], d[3]
	pt, ph, pw := tubelet[0], tubelet[1], tubelet[2]
	x := ConvertDType(clips, dtypes.Float32)
	x = Reshape(x, b, t/pt, pt, h/ph, ph, w/pw, pw, 3)
	x = TransposeAllDims(x, 0, 1, 3, 5, 2, 4, 6, 7) // [B, nt, nh, nw, pt, ph, pw, 3]
	n := (t / pt) * (h / ph) * (w / pw)
	x = Reshape(x, b, n, pt*ph*pw, 3)
	mean := ReduceAndKeep(x, ReduceMean, 2)
	variance := ReduceAndKeep(Square(Sub(x, mean)), ReduceMean, 2)
	x = Div(Sub(x, mean), Sqrt(AddScalar(variance, 1e-6)))
	return Reshape(x, b, n, pt*ph*pw*3)
}

// layerNorm normalises the last axis and applies a learned gain and bias
// (float32 variables, computed in float32).
func layerNorm(scope *model.Scope, x *Node) *Node {
	g := x.Graph()
	d := x.Shape().Dim(-1)
	x = ConvertDType(x, dtypes.Float32)
	mean := ReduceAndKeep(x, ReduceMean, -1)
	c := Sub(x, mean)
	v := ReduceAndKeep(Square(c), ReduceMean, -1)
	gain := scope.WithInitializer(ones).VariableWithShape("weight", shapes.Make(dtypes.Float32, d)).NodeValue(g)
	bias := scope.WithInitializer(zeros).VariableWithShape("bias", shapes.Make(dtypes.Float32, d)).NodeValue(g)
	r := x.Rank()
	return Add(Mul(Div(c, Sqrt(AddScalar(v, 1e-6))), leading(gain, r)), leading(bias, r))
}

// leading reshapes x to rank r by adding leading axes of size 1, so that it
// broadcasts against a rank-r operand.
func leading(x *Node, r int) *Node {
	dims := make([]int, r)
	for i := range dims {
		dims[i] = 1
	}
	copy(dims[r-x.Rank():], x.Shape().Dimensions)
	return Reshape(x, dims...)
}

func ones(g *Graph, s shapes.Shape) *Node  { return Ones(g, s) }
func zeros(g *Graph, s shapes.Shape) *Node { return Zeros(g, s) }

// transformerBlock is a pre-norm block: x + MHSA(LN(x)), then x + MLP(LN(x))
// with a 4x hidden GELU (tanh form) MLP. x is [B,N,D] float32.
func transformerBlock(scope *model.Scope, x *Node, heads int) *Node {
	d := x.Shape().Dim(-1)
	x = Add(x, selfAttention(scope.In("attn"), layerNorm(scope.In("norm1"), x), heads))
	h := layerNorm(scope.In("norm2"), x)
	h = linear(scope.In("fc2"), geluTanh(linear(scope.In("fc1"), h, 4*d)), d)
	return Add(x, h)
}

// geluTanh is GELU's tanh approximation.
func geluTanh(x *Node) *Node {
	inner := MulScalar(Add(x, MulScalar(Mul(Square(x), x), 0.044715)), math.Sqrt(2/math.Pi))
	return Mul(MulScalar(x, 0.5), OnePlus(Tanh(inner)))
}

// selfAttention is multi-head scaled dot-product self-attention over x [B,N,D].
func selfAttention(scope *model.Scope, x *Node, heads int) *Node {
	d0 := x.Shape().Dimensions
	b, n, d := d0[0], d0[1], d0[2]
	if d%heads != 0 {
		panic(fmt.Sprintf("pretext: width %d is not divisible by %d attention heads", d, heads))
	}
	hd := d / heads
	qkv := Reshape(linear(scope.In("qkv"), x, 3*d), b, n, 3, heads, hd)
	q := TransposeAllDims(Slice(qkv, AxisRange(), AxisRange(), AxisElem(0)), 0, 2, 3, 1, 4) // [B,H,1,N,hd]
	k := TransposeAllDims(Slice(qkv, AxisRange(), AxisRange(), AxisElem(1)), 0, 2, 3, 1, 4)
	v := TransposeAllDims(Slice(qkv, AxisRange(), AxisRange(), AxisElem(2)), 0, 2, 3, 1, 4)
	q, k, v = Reshape(q, b, heads, n, hd), Reshape(k, b, heads, n, hd), Reshape(v, b, heads, n, hd)
	att := Softmax(MulScalar(Einsum("bhqd,bhkd->bhqk", q, k), 1/math.Sqrt(float64(hd))), -1)
	out := Einsum("bhqk,bhkd->bhqd", att, v)                  // [B,H,N,hd]
	out = Reshape(TransposeAllDims(out, 0, 2, 1, 3), b, n, d) // [B,N,D]
	return linear(scope.In("proj"), out, d)
}

func init() { register("videomae", newVideoMAE) }

// models.ViT is the backbone videomae is meant for.
var _ TokenBackbone = (*models.ViT)(nil)
