package pretext

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// Scope names shared with the rest of vidrep.
const (
	// BackboneScope holds the backbone's variables: the part that is saved.
	BackboneScope = "backbone"
	// HeadScope holds every pretext-only variable (heads, momentum copies, queues).
	HeadScope = "pretext"
)

// LossFn has the signature of train.LossFn: views are the batched views
// ([B,T,H,W,3] each), targets the batched integer targets ([B] int32 each);
// it returns a scalar loss and a scalar accuracy: the pretext accuracy, the
// instance-discrimination top-1 for contrastive methods, or nil when the
// method has none (byol, videomae).
type LossFn = func(scope *model.Scope, views, targets []*graph.Node, training bool) (loss, accuracy *graph.Node)

// AugmentFunc turns a decoded clip into a model-ready tensor, applying the
// same spatial augmentation to every frame (loader.Augment with a preset).
type AugmentFunc func(raw *loader.RawClip, rng *rand.Rand) loader.ClipTensor

// Method is one self-supervised objective.
type Method interface {
	// Name is the registry name (or the combination spec).
	Name() string
	// Sampler makes the views and targets of one video.
	Sampler() loader.Sampler
	// NumViews is the number of views each Example holds.
	NumViews() int
	// NumTargets is the number of integer targets each Example holds.
	NumTargets() int
	// Loss builds the objective's loss on top of the backbone.
	Loss(bb models.Backbone) LossFn
}

// Options configures a method; zero fields take the defaults of WithDefaults.
type Options struct {
	Frames int // frames per clip (T); default 8
	Stride int // temporal stride between the frames of a clip; default 2
	Size   int // side of the square crops; default 112
	// Augment is the spatial augmentation. nil means loader.Augment with
	// loader.AugTrain(Size) (crops of at least TransformScaleMin of the
	// frame) for transformation prediction and masked modelling, and
	// loader.AugStrong(Size) for instance discrimination.
	Augment AugmentFunc
	// NoFlip turns off the default presets' horizontal flips, for data whose
	// classes have a left/right direction (mirroring changes the motion).
	NoFlip bool

	Hidden      int     // hidden width of the classification heads; default 512
	ProjDim     int     // projection width of contrastive heads; default 128
	Temperature float64 // InfoNCE temperature; default 0.1
	Momentum    float64 // EMA rate of momentum encoders (moco, byol); default 0.99
	QueueSize   int     // MoCo's queue of negatives; default 1024
	MaskRatio   float64 // VideoMAE tube-mask ratio in [0.75,0.9] usually; default 0.9
	Clips       int     // clips per tuple: vcop K (default 3), odd-one-out N (default 4)

	Tubelet      [3]int // videomae: the ViT's patch (t,h,w); default 2x16x16
	DecoderDim   int    // videomae: decoder width; default 128
	DecoderDepth int    // videomae: decoder transformer blocks; default 2
	DecoderHeads int    // videomae: decoder attention heads; default 4
	Gap          int    // frames between consecutive clips of vcop/order tuples; default 0 (contiguous)
	// LocalMotion is the share of camera clips whose motion is confined to
	// a random window of the view (LocalCameraClip); default 0 (none).
	LocalMotion float64
	// Still makes camera move one still frame of each clip (the middle of
	// its span) instead of the clip itself, so that the camera's motion is
	// the only motion its clips show, as MoSI's pseudo-motions of still
	// images (Huang et al., CVPR 2021); default false.
	Still bool
	// PanSpeedJitter multiplies the speed of each camera pan by a factor
	// drawn uniformly from [1-j, 1+j] (capped where the path would leave
	// the frame), as the benchmark's own motions vary in speed; default 0.
	PanSpeedJitter float64
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Frames, 8)
	def(&o.Stride, 2)
	def(&o.Size, 112)
	def(&o.Hidden, 512)
	def(&o.ProjDim, 128)
	def(&o.QueueSize, 1024)
	def(&o.DecoderDim, 128)
	def(&o.DecoderDepth, 2)
	def(&o.DecoderHeads, 4)
	deff(&o.Temperature, 0.1)
	deff(&o.Momentum, 0.99)
	deff(&o.MaskRatio, 0.9)
	return o
}

func (o Options) validate() error {
	switch {
	case o.Frames < 1 || o.Stride < 1 || o.Size < 1:
		return fmt.Errorf("pretext: frames (%d), stride (%d) and size (%d) must be positive", o.Frames, o.Stride, o.Size)
	case o.Hidden < 1 || o.ProjDim < 1 || o.QueueSize < 1 || o.Gap < 0:
		return fmt.Errorf("pretext: hidden, projection and queue sizes must be positive and the gap non-negative")
	case o.DecoderDim < 1 || o.DecoderDepth < 0 || o.DecoderHeads < 1 || o.DecoderDim%o.DecoderHeads != 0:
		return fmt.Errorf("pretext: decoder width %d must be a positive multiple of its %d heads", o.DecoderDim, o.DecoderHeads)
	case o.Temperature <= 0:
		return fmt.Errorf("pretext: temperature %g must be positive", o.Temperature)
	case o.Momentum < 0 || o.Momentum >= 1:
		return fmt.Errorf("pretext: momentum %g must be in [0,1)", o.Momentum)
	case o.MaskRatio <= 0 || o.MaskRatio >= 1:
		return fmt.Errorf("pretext: mask ratio %g must be in (0,1)", o.MaskRatio)
	case !(o.LocalMotion >= 0 && o.LocalMotion <= 1):
		return fmt.Errorf("pretext: local-motion share %g must be in [0,1]", o.LocalMotion)
	case !(o.PanSpeedJitter >= 0 && o.PanSpeedJitter < 1):
		return fmt.Errorf("pretext: pan speed jitter %g must be in [0,1)", o.PanSpeedJitter)
	}
	return nil
}

// TransformScaleMin is the smallest crop area (as a fraction of the frame)
// of the default augmentation of transformation-prediction methods: zooming
// in scales apparent motion, which would blur the speed classes and the
// motion cues of the order tasks, so their crops stay near the full frame.
const TransformScaleMin = 0.7

// augment returns the configured augmentation, or the default preset:
// loader.AugStrong for contrastive views, else loader.AugTrain with crops of
// at least TransformScaleMin of the frame.
func (o Options) augment(strong bool) AugmentFunc {
	if o.Augment != nil {
		return o.Augment
	}
	cfg := loader.AugTrain(o.Size)
	cfg.ScaleMin = max(cfg.ScaleMin, TransformScaleMin)
	if strong {
		cfg = loader.AugStrong(o.Size)
	}
	if o.NoFlip {
		cfg.FlipProb = 0
	}
	return func(raw *loader.RawClip, rng *rand.Rand) loader.ClipTensor { return loader.Augment(raw, cfg, rng) }
}

type constructor func(o Options) (Method, error)

var registry = map[string]constructor{}

func register(name string, c constructor) { registry[name] = c }

// Names lists the registered methods in alphabetical order.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the method spec names: one registered name ("vcop"), or a
// weighted combination whose terms are joined by "+" or "," and each may
// carry a weight after a colon ("vcop+rotation", "vcop:1,rotation:0.5").
func New(spec string, opts Options) (Method, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	terms, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts.LocalMotion > 0 && !hasTerm(terms, "camera") {
		return nil, fmt.Errorf("pretext: a local-motion share is a camera setting; %q has no camera term", spec)
	}
	if opts.PanSpeedJitter > 0 && !hasTerm(terms, "camera") {
		return nil, fmt.Errorf("pretext: a pan speed jitter is a camera setting; %q has no camera term", spec)
	}
	if opts.Still && !hasTerm(terms, "camera") {
		return nil, fmt.Errorf("pretext: still frames are a camera setting; %q has no camera term", spec)
	}
	if len(terms) == 1 && terms[0].weight == 1 {
		return registry[terms[0].name](opts)
	}
	return newCombo(spec, terms, opts)
}

// HasTerm reports whether the method spec (see New) has a term named name;
// an invalid spec has none.
func HasTerm(spec, name string) bool {
	terms, err := parseSpec(spec)
	return err == nil && hasTerm(terms, name)
}

// hasTerm reports whether one of terms is the method name.
func hasTerm(terms []term, name string) bool {
	return slices.ContainsFunc(terms, func(t term) bool { return t.name == name })
}

// CheckSpec reports whether spec names registered methods with valid
// weights (see New), without building anything.
func CheckSpec(spec string) error {
	_, err := parseSpec(spec)
	return err
}

type term struct {
	name   string
	weight float64
}

// parseSpec splits "a:w1+b:w2" into its terms and checks every name.
func parseSpec(spec string) ([]term, error) {
	fields := strings.FieldsFunc(strings.TrimSpace(spec), func(r rune) bool { return r == '+' || r == ',' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("pretext: empty method; choose one of %s", strings.Join(Names(), ", "))
	}
	var terms []term
	seen := map[string]bool{}
	for _, f := range fields {
		name, w, hasW := strings.Cut(strings.TrimSpace(f), ":")
		t := term{name: strings.TrimSpace(name), weight: 1}
		if _, ok := registry[t.name]; !ok {
			return nil, fmt.Errorf("pretext: unknown method %q; choose one of %s (combine with +, e.g. vcop:1+rotation:0.5)", t.name, strings.Join(Names(), ", "))
		}
		if hasW {
			v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("pretext: weight %q of method %q must be a positive number", w, t.name)
			}
			t.weight = v
		}
		if seen[t.name] {
			return nil, fmt.Errorf("pretext: method %q appears twice in %q", t.name, spec)
		}
		seen[t.name] = true
		terms = append(terms, t)
	}
	return terms, nil
}
