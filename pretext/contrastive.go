package pretext

import (
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// twoClipSampler draws CVRL's views: two clips of one video at independent
// random times, each with its own augmentation (same on all its frames).
// It makes no target.
func twoClipSampler(o Options) loader.Sampler {
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		views := make([]loader.ClipTensor, 2)
		for i := range views {
			c, err := readClip(r, randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride, o.Augment, rng)
			if err != nil {
				return loader.Example{}, err
			}
			views[i] = c
		}
		return loader.Example{Views: views}, nil
	})
}

// twoView is the common part of the instance-discrimination methods.
type twoView struct {
	name string
	o    Options
}

func (m *twoView) Name() string            { return m.name }
func (m *twoView) NumViews() int           { return 2 }
func (m *twoView) NumTargets() int         { return 0 }
func (m *twoView) Sampler() loader.Sampler { return twoClipSampler(m.o) }

// simclr is CVRL: InfoNCE between the projections of two clips of a video,
// the other 2B-2 clips of the batch being the negatives.
type simclr struct{ twoView }

func (m *simclr) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		f := viewFeatures(bb, backboneScope(scope), views[:2], training)
		proj := headScope(scope, m.name)
		z1 := mlp(proj.At("proj"), f[0], m.o.Hidden, m.o.ProjDim)
		z2 := mlp(proj.At("proj"), f[1], m.o.Hidden, m.o.ProjDim)
		return InfoNCE(z1, z2, m.o.Temperature)
	}
}

// moco is MoCo v2: queries from the online backbone and projector, keys from
// a momentum (EMA) copy of both, negatives from a queue of past keys that
// the training step updates in the graph.
type moco struct{ twoView }

func (m *moco) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		g := views[0].Graph()
		head := headScope(scope, m.name)
		online := backboneScope(scope)
		q := L2Normalize(mlp(head.At("proj"), bb.Features(online, views[0], training), m.o.Hidden, m.o.ProjDim), -1)
		keyBB, keyProj := head.At("key_backbone"), head.At("key_proj")
		k := mlp(keyProj, bb.Features(keyBB, views[1], training), m.o.Hidden, m.o.ProjDim)
		k = StopGradient(L2Normalize(k, -1))
		queueVar := head.VariableWithShape("queue", shapes.Make(dtypes.Float32, m.o.QueueSize, m.o.ProjDim)).SetTrainable(false)
		queue := StopGradient(L2Normalize(queueVar.NodeValue(g), -1))

		pos := ReduceSum(Mul(q, k), -1)          // [B]
		neg := MatMul(q, Transpose(queue, 0, 1)) // [B,Q]
		logits := DivScalar(Concatenate([]*Node{InsertAxes(pos, -1), neg}, -1), m.o.Temperature)
		zeros := Zeros(g, shapes.Make(dtypes.Int32, q.Shape().Dim(0)))
		if training {
			b := k.Shape().Dim(0)
			keep := m.o.QueueSize - b
			if keep < 0 {
				keep, b = 0, m.o.QueueSize
			}
			newest := Slice(k, AxisRange(0, b))
			queueVar.SetNodeValue(Concatenate([]*Node{newest, Slice(queue, AxisRange(0, keep))}, 0))
			emaUpdate(g, head, online, keyBB, m.o.Momentum)
			emaUpdate(g, head.At("ema_proj"), head.At("proj"), keyProj, m.o.Momentum)
		} else {
			freeze(keyBB)
			freeze(keyProj)
		}
		return CrossEntropy(logits, zeros)
	}
}

// byol is BYOL: an online backbone, projector and predictor regress the
// projection made by a momentum (EMA) copy of the backbone and projector of
// the other view (stop-gradient), with the normalised MSE, symmetrised.
// It has no negatives and no accuracy (it returns 0).
type byol struct{ twoView }

func (m *byol) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		g := views[0].Graph()
		head := headScope(scope, m.name)
		online := backboneScope(scope)
		f := viewFeatures(bb, online, views[:2], training)
		targetBB, targetProj := head.At("target_backbone"), head.At("target_proj")
		both := Concatenate(views[:2], 0)
		tf := bb.Features(targetBB, both, training)
		tz := StopGradient(mlp(targetProj, tf, m.o.Hidden, m.o.ProjDim))
		b := views[0].Shape().Dim(0)
		t1, t2 := Slice(tz, AxisRange(0, b)), Slice(tz, AxisRange(b, 2*b))
		p := make([]*Node, 2)
		for i := range p {
			z := mlp(head.At("proj"), f[i], m.o.Hidden, m.o.ProjDim)
			p[i] = mlp(head.At("predictor"), z, m.o.Hidden, m.o.ProjDim)
		}
		loss := Add(NormalizedMSE(p[0], t2), NormalizedMSE(p[1], t1))
		if training {
			emaUpdate(g, head, online, targetBB, m.o.Momentum)
			emaUpdate(g, head.At("ema_proj"), head.At("proj"), targetProj, m.o.Momentum)
		} else {
			freeze(targetBB)
			freeze(targetProj)
		}
		return loss, ScalarZero(g, dtypes.Float32)
	}
}

// freeze marks every variable under scope as not trainable.
func freeze(scope *model.Scope) {
	for v := range scope.IterVariables() {
		v.SetTrainable(false)
	}
}

// emaUpdate sets every trainable variable of target (a copy of online
// created by building the same layers under another scope) to
// m*target + (1-m)*online, in the graph, and freezes target. On the first
// step (the flag variable "ema_started" under state is 0) the copy is exact.
func emaUpdate(g *Graph, state, online, target *model.Scope, m float64) {
	freeze(target)
	started := state.VariableWithValue("ema_started", float32(0)).SetTrainable(false)
	prefix := online.Scope() + "/"
	for v := range online.IterVariables() {
		if !v.Trainable {
			continue
		}
		rel := strings.TrimPrefix(v.Path(), prefix)
		tv := target.Store().GetVariable(target.Scope() + "/" + rel)
		if tv == nil || !v.InUseByGraph(g) || !tv.InUseByGraph(g) {
			continue
		}
		mEff := MulScalar(started.NodeValue(g), m) // 0 on the first step, then m
		ov, old := StopGradient(v.NodeValue(g)), tv.NodeValue(g)
		tv.SetNodeValue(Add(Mul(mEff, old), Mul(OneMinus(mEff), ov)))
	}
	started.SetNodeValue(OnesLike(started.NodeValue(g)))
}

func init() {
	register("simclr", func(o Options) (Method, error) { return &simclr{twoView{"simclr", o}}, nil })
	register("moco", func(o Options) (Method, error) { return &moco{twoView{"moco", o}}, nil })
	register("byol", func(o Options) (Method, error) { return &byol{twoView{"byol", o}}, nil })
}
