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
	aug := o.augment(true)
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		views := make([]loader.ClipTensor, 2)
		for i := range views {
			c, err := readClip(r, randomStart(r.NumFrames(), span(o.Frames, o.Stride), rng), o.Frames, o.Stride, aug, rng)
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

// Name is the registry name.
func (m *twoView) Name() string { return m.name }

// NumViews is 2: two clips of one video.
func (m *twoView) NumViews() int { return 2 }

// NumTargets is 0: instance discrimination needs no target.
func (m *twoView) NumTargets() int { return 0 }

// Sampler draws the two clips (see twoClipSampler).
func (m *twoView) Sampler() loader.Sampler { return twoClipSampler(m.o) }

// simclr is CVRL: InfoNCE between the projections of two clips of a video,
// the other 2B-2 clips of the batch being the negatives. Both views go
// through the backbone and the projector together (one set of batch
// statistics, as SimCLR's global batch norm).
type simclr struct{ twoView }

// Loss is InfoNCE between the projections of the two views.
func (m *simclr) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		f := bb.Features(backboneScope(scope), Concatenate(views[:2], 0), training)
		z := mlp(headScope(scope, m.name).In("proj"), f, m.o.Hidden, m.o.ProjDim, true, training)
		z = ConvertDType(z, dtypes.Float32)
		zs := splitRows(z, 2)
		return InfoNCE(zs[0], zs[1], m.o.Temperature)
	}
}

// moco is MoCo v2: queries from the online backbone and projector, keys from
// a momentum (EMA) copy of both, negatives from a queue of past keys that
// the training step updates in the graph (newest first, oldest dropped).
type moco struct{ twoView }

// Loss is InfoNCE of queries against keys and the queue; it updates the queue and the key encoder.
func (m *moco) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		g := views[0].Graph()
		head := headScope(scope, m.name)
		online, keyBB, keyProj := backboneScope(scope), head.At("key_backbone"), head.At("key_proj")
		q := mlp(head.At("proj"), bb.Features(online, views[0], training), m.o.Hidden, m.o.ProjDim, true, training)
		k := mlp(keyProj, bb.Features(keyBB, views[1], training), m.o.Hidden, m.o.ProjDim, true, training)
		q = L2Normalize(ConvertDType(q, dtypes.Float32), -1)
		k = StopGradient(L2Normalize(ConvertDType(k, dtypes.Float32), -1))
		queueVar := head.WithInitializer(randomNormal).VariableWithShape("queue",
			shapes.Make(dtypes.Float32, m.o.QueueSize, m.o.ProjDim)).SetTrainable(false)
		queue := StopGradient(L2Normalize(ConvertDType(queueVar.NodeValue(g), dtypes.Float32), -1))
		loss, acc := mocoLoss(q, k, queue, m.o.Temperature)
		freeze(keyBB)
		freeze(keyProj)
		if training {
			queueVar.SetNodeValue(Enqueue(queue, k))
			emaUpdate(g, head.At("ema_backbone"), online, keyBB, m.o.Momentum)
			emaUpdate(g, head.At("ema_proj"), head.At("proj"), keyProj, m.o.Momentum)
		}
		return loss, acc
	}
}

// mocoLoss is MoCo's InfoNCE: for each query q [B,P] the positive is its key
// k [B,P] and the negatives are the queue [Q,P] (all L2-normalised); the
// logits [B,1+Q] put the positive first.
func mocoLoss(q, k, queue *Node, temperature float64) (loss, accuracy *Node) {
	pos := InsertAxes(ReduceSum(Mul(q, k), -1), -1) // [B,1]
	neg := MatMul(q, Transpose(queue, 0, 1))        // [B,Q]
	logits := DivScalar(Concatenate([]*Node{pos, neg}, -1), temperature)
	zeros := Zeros(q.Graph(), shapes.Make(dtypes.Int32, q.Shape().Dim(0)))
	return CrossEntropy(logits, zeros)
}

// Enqueue returns queue [Q,P] with the rows of keys [B,P] put first and the
// oldest (last) rows dropped, keeping Q rows.
func Enqueue(queue, keys *Node) *Node {
	q, b := queue.Shape().Dim(0), keys.Shape().Dim(0)
	if b >= q {
		return Slice(keys, AxisRange(0, q))
	}
	return Concatenate([]*Node{keys, Slice(queue, AxisRange(0, q-b))}, 0)
}

func randomNormal(g *Graph, shape shapes.Shape) *Node {
	return model.GetStore(g).RandomNormal(g, shape)
}

// byol is BYOL: an online backbone, projector and predictor regress the
// projection that a momentum (EMA) copy of the backbone and projector makes
// of the other view (stop-gradient), with the normalised MSE, symmetrised.
// It has no negatives and no accuracy (nil).
type byol struct{ twoView }

// Loss is the symmetrised normalised MSE to the target network; it updates the target network.
func (m *byol) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, _ []*Node, training bool) (*Node, *Node) {
		g := views[0].Graph()
		head := headScope(scope, m.name)
		online, targetBB, targetProj := backboneScope(scope), head.At("target_backbone"), head.At("target_proj")
		both := Concatenate(views[:2], 0)
		z := mlp(head.At("proj"), bb.Features(online, both, training), m.o.Hidden, m.o.ProjDim, true, training)
		p := mlp(head.At("predictor"), z, m.o.Hidden, m.o.ProjDim, true, training)
		tz := mlp(targetProj, bb.Features(targetBB, both, training), m.o.Hidden, m.o.ProjDim, true, training)
		ps := splitRows(ConvertDType(p, dtypes.Float32), 2)
		ts := splitRows(StopGradient(ConvertDType(tz, dtypes.Float32)), 2)
		loss := Add(NormalizedMSE(ps[0], ts[1]), NormalizedMSE(ps[1], ts[0]))
		freeze(targetBB)
		freeze(targetProj)
		if training {
			emaUpdate(g, head.At("ema_backbone"), online, targetBB, m.o.Momentum)
			emaUpdate(g, head.At("ema_proj"), head.At("proj"), targetProj, m.o.Momentum)
		}
		return loss, nil
	}
}

// freeze marks every variable under scope as not trainable.
func freeze(scope *model.Scope) {
	for v := range scope.IterVariables() {
		v.SetTrainable(false)
	}
}

// emaUpdate sets every trainable variable of target (a copy of online,
// created by building the same layers under another scope) to
// m*target + (1-m)*online in the graph, computed in float32. On the first
// step (the flag "started" under state is 0) the copy is exact. Variables
// that are not trainable (batch-norm running statistics) keep their own
// updates.
func emaUpdate(g *Graph, state, online, target *model.Scope, m float64) {
	started := state.VariableWithValue("started", float32(0)).SetTrainable(false)
	mEff := MulScalar(ConvertDType(started.NodeValue(g), dtypes.Float32), m) // 0 on the first step, then m
	prefix := online.Scope() + "/"
	for v := range online.IterVariables() {
		if !v.Trainable || !v.InUseByGraph(g) {
			continue
		}
		tv := target.Store().GetVariable(target.Scope() + "/" + strings.TrimPrefix(v.Path(), prefix))
		if tv == nil || !tv.InUseByGraph(g) {
			continue
		}
		ov := StopGradient(ConvertDType(v.NodeValue(g), dtypes.Float32))
		old := ConvertDType(tv.NodeValue(g), dtypes.Float32)
		tv.SetNodeValue(Add(Mul(mEff, old), Mul(OneMinus(mEff), ov)))
	}
	started.SetNodeValue(OnesLike(ConvertDType(started.NodeValue(g), dtypes.Float32)))
}

func init() {
	register("simclr", func(o Options) (Method, error) { return &simclr{twoView{"simclr", o}}, nil })
	register("moco", func(o Options) (Method, error) { return &moco{twoView{"moco", o}}, nil })
	register("byol", func(o Options) (Method, error) { return &byol{twoView{"byol", o}}, nil })
}
