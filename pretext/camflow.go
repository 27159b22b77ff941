package pretext

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// camFlow asks one view for two motions at once: the synthetic camera's
// (camera's twelve motions) and the scene's own (flowstats' MotionTargets,
// read from the video before the camera moves). Its targets are the camera
// motion, then the five MotionTargets.
type camFlow struct {
	o   Options
	aug AugmentFunc
}

// newCamFlow is camera-motion prediction and motion-statistics prediction on
// the same view: the clip's span is read at stride 1, its affine flow gives
// flowstats' five targets, and a camera motion (CameraPath) is then applied
// to the frames at the clip's stride, which is all the network sees. To
// answer both, the network has to tell the camera's motion from the
// scene's, which is what a moving object seen by a moving camera asks of
// an action recogniser. The cost per step is camera's: one view. The flow
// is fitted on the whole decoded frame while the network sees the camera's
// smaller moving view, so scene motion outside that view sets targets the
// network cannot see (as with flowstats' centred square). Options.Augment,
// when set, replaces the default view transform and must not crop or flip.
func newCamFlow(o Options) (Method, error) {
	aug := o.Augment
	if aug == nil {
		aug = panAugment(o.Size)
	}
	return &camFlow{o: o, aug: aug}, nil
}

// Name is the registry name.
func (m *camFlow) Name() string { return "camflow" }

// NumViews is 1: the clip as the moving camera sees it.
func (m *camFlow) NumViews() int { return 1 }

// NumTargets is the camera motion and the MotionTargets.
func (m *camFlow) NumTargets() int { return 1 + len(FlowTargets) }

// Sampler reads the span, computes the scene's MotionTargets, and moves the
// camera over the stride frames.
func (m *camFlow) Sampler() loader.Sampler {
	return samplerFunc(func(r loader.VideoReader, _ int, rng *rand.Rand) (loader.Example, error) {
		clip, flowTargets, err := readMotionSpan(r, m.o, rng)
		if err != nil {
			return loader.Example{}, fmt.Errorf("camflow: %w", err)
		}
		side, motion, views, err := drawCameraMotion(clip, 0, rng)
		if err != nil {
			return loader.Example{}, fmt.Errorf("camflow: %w", err)
		}
		warped, err := WarpClip(clip, side, views)
		if err != nil {
			return loader.Example{}, fmt.Errorf("camflow: %w", err)
		}
		targets := append([]int32{int32(motion)}, flowTargets...)
		return loader.Example{Views: []loader.ClipTensor{m.aug(warped, rng)}, Targets: targets}, nil
	})
}

// Loss is the mean of the camera motion's cross-entropy and flowstats' loss
// (the mean over its targets), from one head whose first CameraMotions
// logits are the camera's; the accuracy is the mean of the two accuracies.
func (m *camFlow) Loss(bb models.Backbone) LossFn {
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		feats := viewFeatures(bb, backboneScope(scope), views[:1], training)
		logits := mlp(headScope(scope, m.Name()), feats[0], m.o.Hidden, CameraMotions+flowLogits(), false, false)
		camLoss, camAcc := CrossEntropy(Slice(logits, AxisRange(), AxisRange(0, CameraMotions)), targets[0])
		flowLoss, flowAcc := flowTargetsLoss(Slice(logits, AxisRange(), AxisRange(CameraMotions, CameraMotions+flowLogits())), targets[1:])
		return DivScalar(Add(camLoss, flowLoss), 2), DivScalar(Add(camAcc, flowAcc), 2)
	}
}

func init() { register("camflow", newCamFlow) }
