// Package models holds the video backbones (C3D, R3D-18, MC3-18, R(2+1)D-18,
// video ViT) and heads, built on GoMLX, and a registry that maps names to
// constructors.
//
// Tensors are channels-last: clips enter as [B,T,H,W,3] float32.
//
// Variable naming: a variable's path in the model.Store is its PyTorch
// state-dict key with "." replaced by "/" and a leading "/" (torchvision's
// layer1.0.conv1.0.weight is /layer1/0/conv1/0/weight under the backbone's
// scope), batch-norm running statistics included. Layouts differ from
// torch's only for convolution kernels, stored [kT,kH,kW,Cin,Cout] (torch:
// [Cout,Cin,kT,kH,kW]); Linear weights keep torch's [out,in].
//
// On the pure-Go backend, Conv3D runs through matmul with hand-written
// gradients (see conv.go); elsewhere it is the backend's own convolution.
package models

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Backbone maps a batch of clips to one feature vector per clip.
type Backbone interface {
	// Name is the registry name the backbone was built from.
	Name() string
	// FeatureDim is the length of the pooled feature vector.
	FeatureDim() int
	// Features builds the graph from clips [B,T,H,W,3] to pooled features
	// [B,FeatureDim]. training selects batch statistics (and updates the
	// running ones) or the running statistics.
	Features(scope *model.Scope, clips *graph.Node, training bool) *graph.Node
}

// TransferScopes is implemented by backbones whose pretraining and transfer
// end in different layers. FreshOnTransfer names the scopes (under the
// backbone's) that transfer builds anew rather than loads, such as a ViT's
// fc_norm after mean pooling; PretrainOnly names those a pretraining saves
// that transfer does not use, such as the ViT's token norm that VideoMAE
// trains. Loading weights checks every other variable.
type TransferScopes interface {
	FreshOnTransfer() []string
	PretrainOnly() []string
}

// ClipChecker is implemented by backbones that need clips of a least size,
// such as C3D, whose pooling halves time three times and space four.
type ClipChecker interface {
	// CheckClip reports, as a message naming the flags, whether clips of
	// frames x size x size pixels can pass through the network.
	CheckClip(frames, size int) error
}

// Options configure a backbone built by New.
type Options struct {
	// Width multiplies every channel width (0 means 1). 0.125 turns
	// R3D-18's 64/128/256/512 into 8/16/32/64.
	Width float64
	// Widths, when set, replaces the stage widths outright (4 for the
	// ResNets, 1 for ViT: the embedding width).
	Widths []int
	// Tubelet is the ViT patch size (T,H,W); zero means 2x16x16.
	Tubelet [3]int
	// Frames and Size, when both are set, are the clips the backbone will
	// see (Frames x Size x Size): New refuses a clip it cannot take
	// (ClipChecker) instead of leaving it to fail in graph compilation.
	Frames, Size int
}

// stageWidths applies Widths or Width to the default widths.
func (o Options) stageWidths(def [4]int) ([4]int, error) {
	if len(o.Widths) > 0 {
		if len(o.Widths) != 4 {
			return def, fmt.Errorf("want 4 stage widths, got %v", o.Widths)
		}
		var w [4]int
		for i, v := range o.Widths {
			if v < 1 {
				return def, fmt.Errorf("stage widths must be positive, got %v", o.Widths)
			}
			w[i] = v
		}
		return w, nil
	}
	mult := o.Width
	if mult == 0 {
		mult = 1
	}
	if mult < 0 {
		return def, fmt.Errorf("width multiplier must be positive, got %g", mult)
	}
	var w [4]int
	for i, v := range def {
		w[i] = max(1, int(math.Round(float64(v)*mult)))
	}
	return w, nil
}

// Constructor builds a backbone registered under name.
type Constructor func(name string, opts Options) (Backbone, error)

// registry maps backbone names to constructors and their default options.
var registry = map[string]registered{}

type registered struct {
	ctor     Constructor
	defaults Options
	doc      string
}

// Register adds a backbone constructor under name; defaults are the
// options used where the caller leaves a field zero. It panics on a
// duplicate name (a programming error at init time).
func Register(name, doc string, ctor Constructor, defaults Options) {
	if _, dup := registry[name]; dup {
		panic("models: duplicate backbone name " + name)
	}
	registry[name] = registered{ctor: ctor, defaults: defaults, doc: doc}
}

// New builds the backbone registered under name (see Names).
func New(name string, opts Options) (Backbone, error) {
	r, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown architecture %q: choose one of %s", name, strings.Join(Names(), ", "))
	}
	if opts.Width < 0 || math.IsNaN(opts.Width) {
		return nil, fmt.Errorf("%s: width multiplier must be positive (0: the architecture's default), got %g", name, opts.Width)
	}
	if len(opts.Widths) == 0 && len(r.defaults.Widths) > 0 {
		// A small variant's own widths are its base: --width 0.5 on
		// r3d-small halves 8/16/32/64, not r3d_18's 64..512.
		opts.Widths = scaleWidths(r.defaults.Widths, opts.Width)
		opts.Width = 0
	} else if opts.Width == 0 && len(opts.Widths) == 0 {
		opts.Width = r.defaults.Width
	}
	if opts.Tubelet == [3]int{} {
		opts.Tubelet = r.defaults.Tubelet
	}
	bb, err := r.ctor(name, opts)
	if err != nil || opts.Frames <= 0 || opts.Size <= 0 {
		return bb, err
	}
	if cc, ok := bb.(ClipChecker); ok {
		if err := cc.CheckClip(opts.Frames, opts.Size); err != nil {
			return nil, err
		}
	}
	return bb, nil
}

// scaleWidths multiplies widths by mult (0 keeps them), keeping each at least 1.
func scaleWidths(widths []int, mult float64) []int {
	out := make([]int, len(widths))
	for i, w := range widths {
		out[i] = w
		if mult != 0 {
			out[i] = max(1, int(math.Round(float64(w)*mult)))
		}
	}
	return out
}

// Names lists the registered backbone names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Describe returns the one-line description a backbone was registered with.
func Describe(name string) string { return registry[name].doc }

func init() {
	Register("r3d_18", "torchvision r3d_18: 3x3x3 convs, 33.2 M parameters", newVideoResNet([4]string{convSimple, convSimple, convSimple, convSimple}, false), Options{})
	Register("mc3_18", "torchvision mc3_18: 3x3x3 in layer1, 1x3x3 after", newVideoResNet([4]string{convSimple, convNoTemporal, convNoTemporal, convNoTemporal}, false), Options{})
	Register("r2plus1d_18", "torchvision r2plus1d_18: (2+1)D factorised convs", newVideoResNet([4]string{conv2Plus1D, conv2Plus1D, conv2Plus1D, conv2Plus1D}, true), Options{})
	Register("r3d-small", "r3d_18 with widths 8/16/32/64 (the CPU anchor's network)", newVideoResNet([4]string{convSimple, convSimple, convSimple, convSimple}, false), Options{Widths: []int{8, 16, 32, 64}})
	Register("mc3-small", "mc3_18 with widths 8/16/32/64", newVideoResNet([4]string{convSimple, convNoTemporal, convNoTemporal, convNoTemporal}, false), Options{Widths: []int{8, 16, 32, 64}})
	Register("c3d", "C3D as in VCOP: 8 convs with batch norm, 512 features", newC3D, Options{})
	Register("c3d-small", "C3D with widths 8/16/32/64/64", newC3D, Options{Widths: []int{8, 16, 32, 64}})
	Register("vit_tiny", "video ViT-Ti (192 wide, 12 blocks, 3 heads), tubelet 2x16x16", newViT(192, 12, 3), Options{})
	Register("vit_small", "video ViT-S (384 wide, 12 blocks, 6 heads), tubelet 2x16x16", newViT(384, 12, 6), Options{})
	Register("vit_base", "video ViT-B (768 wide, 12 blocks, 12 heads), tubelet 2x16x16", newViT(768, 12, 12), Options{})
	Register("vit-micro", "video ViT for CPU tests: 64 wide, 4 blocks, 2 heads, tubelet 2x8x8", newViT(64, 4, 2), Options{Tubelet: [3]int{2, 8, 8}})
	Register("r2plus1d-small", "r2plus1d_18 with widths 8/16/32/64", newVideoResNet([4]string{conv2Plus1D, conv2Plus1D, conv2Plus1D, conv2Plus1D}, true), Options{Widths: []int{8, 16, 32, 64}})
}
