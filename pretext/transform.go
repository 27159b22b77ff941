package pretext

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// SpeedRates are the playback rates the speed method tells apart: the frame
// strides of its clips. Target i means rate SpeedRates[i].
var SpeedRates = []int{1, 2, 4, 8}

// drawFunc makes the views and the single target of one video.
type drawFunc func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error)

// headFunc maps the per-view features ([B,D] each) to logits [B,classes].
type headFunc func(scope *model.Scope, feats []*Node, classes int) *Node

// classifier is a transformation-prediction method: it transforms the clips
// of a video in one of classes ways and a head predicts which from the
// backbone features of the views, with cross-entropy.
type classifier struct {
	name    string
	views   int
	classes int
	draw    drawFunc
	head    headFunc
}

// Name is the registry name.
func (m *classifier) Name() string { return m.name }

// NumViews is the number of clips the transformation is applied to.
func (m *classifier) NumViews() int { return m.views }

// NumTargets is 1: the transformation class.
func (m *classifier) NumTargets() int { return 1 }

// Sampler draws the transformation and its views.
func (m *classifier) Sampler() loader.Sampler {
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		views, target, err := m.draw(r, rng)
		if err != nil {
			return loader.Example{}, fmt.Errorf("%s: %w", m.name, err)
		}
		return loader.Example{Views: views, Targets: []int32{int32(target)}}, nil
	})
}

// Loss is cross-entropy of the head's logits against the transformation.
func (m *classifier) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		feats := viewFeatures(bb, backboneScope(scope), views[:m.views], training)
		logits := m.head(headScope(scope, m.name), feats, m.classes)
		return CrossEntropy(logits, targets[0])
	}
}

// samplerFunc adapts a function to loader.Sampler. The label argument is
// never passed on: pretext samplers cannot read it.
type samplerFunc func(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error)

// Sample calls f.
func (f samplerFunc) Sample(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
	return f(r, label, rng)
}

// concatHead concatenates the view features and applies a two-layer MLP.
func concatHead(hidden int) headFunc {
	return func(scope *model.Scope, feats []*Node, classes int) *Node {
		x := feats[0]
		if len(feats) > 1 {
			x = Concatenate(feats, -1)
		}
		return mlp(scope, x, hidden, classes, false, false)
	}
}

// pairwiseHead is VCOP's: every pair (i<j) of clip features is concatenated
// and goes through one shared Dense+ReLU; the pair codes are concatenated
// and a last Dense layer gives the permutation logits.
func pairwiseHead(hidden int) headFunc {
	return func(scope *model.Scope, feats []*Node, classes int) *Node {
		b := feats[0].Shape().Dim(0)
		var pairs []*Node
		for i := range feats {
			for j := i + 1; j < len(feats); j++ {
				pairs = append(pairs, Concatenate([]*Node{feats[i], feats[j]}, -1))
			}
		}
		p := len(pairs)
		x := models.Relu(linear(scope.In("pair"), Concatenate(pairs, 0), hidden)) // [P*B, hidden]
		x = Reshape(TransposeAllDims(Reshape(x, p, b, hidden), 1, 0, 2), b, p*hidden)
		return linear(scope.In("order"), x, classes)
	}
}

// tupleStarts are the first frames of k consecutive clips of frames frames at
// stride separated by gap frames, placed at random in a video of n frames.
// When the tuple does not fit, the clips move closer (overlapping, starts
// still increasing) rather than running past the end, where the reader
// would loop back and put early frames in a late clip.
func tupleStarts(n, k, frames, stride, gap int, rng *rand.Rand) []int {
	sp := span(frames, stride)
	step := sp + gap
	if k > 1 && step*(k-1)+sp > n {
		step = max(1, (n-sp)/(k-1))
	}
	s0 := randomStart(n, step*(k-1)+sp, rng)
	starts := make([]int, k)
	for i := range starts {
		starts[i] = s0 + i*step
	}
	return starts
}

func newRotation(o Options) (Method, error) {
	aug := o.augment(false)
	return &classifier{name: "rotation", views: 1, classes: 4, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			c, err := readClip(r, randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride, aug, rng)
			if err != nil {
				return nil, 0, err
			}
			if c.H != c.W {
				return nil, 0, fmt.Errorf("rotation needs square crops, the augmentation gave %dx%d", c.H, c.W)
			}
			k := rng.IntN(4)
			return []loader.ClipTensor{RotateClip(c, k)}, k, nil
		}}, nil
}

func newSpeed(o Options) (Method, error) {
	aug := o.augment(false)
	return &classifier{name: "speed", views: 1, classes: len(SpeedRates), head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			k := rng.IntN(len(SpeedRates))
			stride := SpeedRates[k]
			c, err := readClip(r, randomStart(r.NumFrames(), span(o.Frames, stride), rng), o.Frames, stride, aug, rng)
			return []loader.ClipTensor{c}, k, err
		}}, nil
}

func newArrow(o Options) (Method, error) {
	aug := o.augment(false)
	return &classifier{name: "arrow", views: 1, classes: 2, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			c, err := readClip(r, randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride, aug, rng)
			if err != nil {
				return nil, 0, err
			}
			if rng.IntN(2) == 1 {
				return []loader.ClipTensor{ReverseFrames(c)}, 1, nil
			}
			return []loader.ClipTensor{c}, 0, nil
		}}, nil
}

func newVCOP(o Options) (Method, error) {
	k := o.Clips
	if k == 0 {
		k = 3
	}
	if k < 2 || k > 5 {
		return nil, fmt.Errorf("pretext: vcop needs 2 to 5 clips per tuple, got %d", k)
	}
	aug := o.augment(false)
	return &classifier{name: "vcop", views: k, classes: Factorial(k), head: pairwiseHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			starts := tupleStarts(r.NumFrames(), k, o.Frames, o.Stride, o.Gap, rng)
			clips, err := readClips(r, starts, o.Frames, o.Stride, aug, rng)
			if err != nil {
				return nil, 0, err
			}
			p := rng.IntN(Factorial(k))
			perm := Permutation(k, p)
			views := make([]loader.ClipTensor, k)
			for i, src := range perm {
				views[i] = clips[src]
			}
			return views, p, nil
		}}, nil
}

// orderTuples are Shuffle & Learn's tuples over five clip positions
// a<b<c<d<e (indices 0..4): in order (target 1) or not (target 0).
var orderTuples = map[int][][3]int{
	1: {{1, 2, 3}, {3, 2, 1}},
	0: {{1, 0, 3}, {3, 0, 1}, {1, 4, 3}, {3, 4, 1}},
}

func newOrder(o Options) (Method, error) {
	aug := o.augment(false)
	return &classifier{name: "order", views: 3, classes: 2, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			starts := tupleStarts(r.NumFrames(), 5, o.Frames, o.Stride, o.Gap, rng)
			clips, err := readClips(r, starts, o.Frames, o.Stride, aug, rng)
			if err != nil {
				return nil, 0, err
			}
			target := rng.IntN(2)
			tuples := orderTuples[target]
			tup := tuples[rng.IntN(len(tuples))]
			return []loader.ClipTensor{clips[tup[0]], clips[tup[1]], clips[tup[2]]}, target, nil
		}}, nil
}

// shuffledPerm draws a random permutation of n items other than the identity.
func shuffledPerm(n int, rng *rand.Rand) []int {
	for {
		p := rng.Perm(n)
		for i, v := range p {
			if v != i {
				return p
			}
		}
	}
}

func newOddOneOut(o Options) (Method, error) {
	n := o.Clips
	if n == 0 {
		n = 4
	}
	if n < 2 || o.Frames < 2 {
		return nil, fmt.Errorf("pretext: odd-one-out needs at least 2 sequences of at least 2 frames (got %d of %d)", n, o.Frames)
	}
	aug := o.augment(false)
	return &classifier{name: "odd-one-out", views: n, classes: n, head: concatHead(o.Hidden),
		draw: func(r loader.VideoReader, rng *rand.Rand) ([]loader.ClipTensor, int, error) {
			starts := make([]int, n)
			for i := range starts {
				starts[i] = randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng)
			}
			clips, err := readClips(r, starts, o.Frames, o.Stride, aug, rng)
			if err != nil {
				return nil, 0, err
			}
			odd := rng.IntN(n)
			clips[odd] = PermuteFrames(clips[odd], shuffledPerm(o.Frames, rng))
			return clips, odd, nil
		}}, nil
}

func init() {
	register("rotation", newRotation)
	register("speed", newSpeed)
	register("arrow", newArrow)
	register("vcop", newVCOP)
	register("order", newOrder)
	register("odd-one-out", newOddOneOut)
}
