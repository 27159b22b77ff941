package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/flow"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// FlowTargets names the flowstats method's targets, in order, and
// FlowTargetClasses gives each one's number of classes.
var (
	FlowTargets       = []string{"direction", "grows", "turns clockwise", "reverses", "veers clockwise"}
	FlowTargetClasses = []int{FlowDirections, 2, 2, 2, 2}
)

// FlowDirections is the number of sectors the mean translation's direction
// is binned into: sector k is centred on angle 2*pi*k/FlowDirections from +x
// (right) towards +y (down in the image). The angle is measured as pan's
// directions are, but it is the content's motion: a pan of the view in
// direction 0 moves the content towards sector 4.
const FlowDirections = 8

// MotionTargets computes the flowstats targets of a clip's motion from the
// affine fields between its consecutive frames (flow.Clip), in the order of
// FlowTargets:
//   - direction: the sector of the mean translation;
//   - grows: 1 if the mean divergence is positive (expansion);
//   - turns clockwise: 1 if the mean curl is positive;
//   - reverses: 1 if the translation half the span later points against it
//     on the whole (the sum of their dot products is negative), as in a
//     back-and-forth motion whose period is near the span; a swing of half
//     that period, or one on top of a drift, does not set it;
//   - veers clockwise: 1 if successive translations turn clockwise on the
//     whole (a curved path).
//
// Every target is a sign or a sector, so no threshold has to be tuned to a
// dataset. A clip with almost none of a motion gets that target from the
// sign of its noise, which the network cannot predict and which only
// raises the loss's floor.
func MotionTargets(fields []flow.Affine) []int32 {
	var u, v, div, curl float64
	for _, a := range fields {
		du, dv := a.Translation()
		u, v = u+du, v+dv
		div += a.Divergence()
		curl += a.Curl()
	}
	lag := (len(fields) + 1) / 2
	reversal, veer := 0.0, 0.0
	for k := range fields {
		uk, vk := fields[k].Translation()
		if k+lag < len(fields) {
			ul, vl := fields[k+lag].Translation()
			reversal += uk*ul + vk*vl
		}
		if k+1 < len(fields) {
			un, vn := fields[k+1].Translation()
			veer += uk*vn - vk*un
		}
	}
	return []int32{directionSector(u, v), bit(div > 0), bit(curl > 0), bit(reversal < 0), bit(veer > 0)}
}

// directionSector bins the direction of (u, v) into FlowDirections sectors.
func directionSector(u, v float64) int32 {
	width := 2 * math.Pi / FlowDirections
	angle := math.Mod(math.Atan2(v, u)+2*math.Pi+width/2, 2*math.Pi)
	return int32(min(int(angle/width), FlowDirections-1))
}

// bit is 1 for true.
func bit(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// flowStats is motion-statistics prediction: the targets are read from the
// clip's own motion (MotionTargets), and one head predicts them all.
type flowStats struct {
	o   Options
	aug AugmentFunc
}

// newFlowStats is motion-statistics prediction, after Wang et al. (CVPR
// 2019), who predict where and in which direction a clip moves most from its
// optical flow: here the global affine flow between every two consecutive
// frames of the clip's span gives five discrete targets (MotionTargets), and
// the network sees only the clip's frames at its stride. No label is read:
// the targets are the video's own motion. Options.Augment, when set,
// replaces the default view transform and must not crop or flip, which would
// change the motion the targets describe. The flow is fitted on the whole
// decoded frame; on frames that are not square the default transform shows
// the network their centred square, so motion confined to the margins sets
// targets the network does not see.
func newFlowStats(o Options) (Method, error) {
	aug := o.Augment
	if aug == nil {
		aug = panAugment(o.Size)
	}
	return &flowStats{o: o, aug: aug}, nil
}

// Name is the registry name.
func (m *flowStats) Name() string { return "flowstats" }

// NumViews is 1: the clip.
func (m *flowStats) NumViews() int { return 1 }

// NumTargets is one per FlowTargets entry.
func (m *flowStats) NumTargets() int { return len(FlowTargets) }

// Sampler reads a clip's whole span at stride 1, computes its targets from
// every consecutive pair of frames, and keeps every Stride-th frame as the
// view.
func (m *flowStats) Sampler() loader.Sampler {
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		clip, targets, err := readMotionSpan(r, m.o, rng)
		if err != nil {
			return loader.Example{}, fmt.Errorf("flowstats: %w", err)
		}
		return loader.Example{Views: []loader.ClipTensor{m.aug(clip, rng)}, Targets: targets}, nil
	})
}

// readMotionSpan reads a random span of o.Frames frames at o.Stride, at
// stride 1, and returns its every Stride-th frame with the MotionTargets of
// all its consecutive pairs. A video shorter than the span is filled by the
// loader's policy; only the pairs of its real frames count, so that a loop
// back to the first frame does not read as a jump.
func readMotionSpan(r loader.VideoReader, o Options, rng *rand.Rand) (*loader.RawClip, []int32, error) {
	n := span(o.Frames, o.Stride)
	raw, err := r.Read(randomStart(r.NumFrames(), n, rng), n, 1)
	if err != nil {
		return nil, nil, err
	}
	fields := flow.Clip(raw.Pix, raw.T, raw.W, raw.H)
	if pairs := r.NumFrames() - 1; pairs < len(fields) { // asked after Read, which can learn the true length
		fields = fields[:max(pairs, 0)]
	}
	return everyNth(raw, o.Stride), MotionTargets(fields), nil
}

// everyNth returns frames 0, n, 2n, ... of raw.
func everyNth(raw *loader.RawClip, n int) *loader.RawClip {
	size := raw.H * raw.W * 3
	out := &loader.RawClip{H: raw.H, W: raw.W}
	for t := 0; t < raw.T; t += n {
		out.Pix = append(out.Pix, raw.Pix[t*size:(t+1)*size]...)
		out.T++
	}
	return out
}

// Loss is the mean over the targets of the cross-entropy of each one's
// slice of the head's logits; the accuracy is the mean of their accuracies.
func (m *flowStats) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		feats := viewFeatures(bb, backboneScope(scope), views[:1], training)
		logits := mlp(headScope(scope, m.Name()), feats[0], m.o.Hidden, flowLogits(), false, false)
		return flowTargetsLoss(logits, targets)
	}
}

// flowLogits is the number of logits the MotionTargets take: the sum of
// FlowTargetClasses.
func flowLogits() int {
	total := 0
	for _, c := range FlowTargetClasses {
		total += c
	}
	return total
}

// flowTargetsLoss is the mean over the MotionTargets of the cross-entropy of
// each one's slice of logits [batch, flowLogits()], in FlowTargets order,
// and the mean of their accuracies.
func flowTargetsLoss(logits *Node, targets []*Node) (loss, accuracy *Node) {
	from := 0
	for k, c := range FlowTargetClasses {
		l, a := CrossEntropy(Slice(logits, AxisRange(), AxisRange(from, from+c)), targets[k])
		from += c
		if loss == nil {
			loss, accuracy = l, a
		} else {
			loss, accuracy = Add(loss, l), Add(accuracy, a)
		}
	}
	n := float64(len(FlowTargetClasses))
	return DivScalar(loss, n), DivScalar(accuracy, n)
}

func init() { register("flowstats", newFlowStats) }
