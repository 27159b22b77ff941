package evaluate

import (
	"context"
	"fmt"
	"runtime"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/internal/progress"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
	"github.com/vidrep/vidrep/video"
)

// Runtime holds the settings every protocol shares that do not change its
// numbers: the backend, the loader's workers and batch, and progress output.
type Runtime struct {
	Backend string // "go" (default), "xla:cuda", ... (see internal/engine)
	// Engine, when set, is a backend created by the caller and shared by many
	// calls (an experiment's cells); Backend is then ignored. Otherwise each
	// call creates its backend and releases it on return.
	Engine  compute.Backend
	Workers int  // decoding workers (default: the number of CPUs)
	Batch   int  // clips per inference pass (default 32); a batch holds max(1, Batch/views) videos
	Quiet   bool // no progress bars
	// Opener decodes videos (default video.SharedFrameCache(): decoded
	// videos are kept in memory within its budget and shared by every run of
	// the process).
	Opener video.Opener
	// Logf reports videos that fail to decode (default: the loader's log.Printf).
	Logf func(format string, args ...any)
	// Features keeps the test sets' features that linear probes extract
	// (nil means SharedFeatureCache(): probes of one process that share a
	// backbone extract the test set once; NewFeatureCache(0) keeps none).
	Features *FeatureCache
}

func (r Runtime) withDefaults() Runtime {
	if r.Workers <= 0 {
		r.Workers = runtime.NumCPU()
	}
	if r.Batch <= 0 {
		r.Batch = 32
	}
	if r.Opener == nil {
		r.Opener = video.SharedFrameCache()
	}
	if r.Features == nil {
		r.Features = SharedFeatureCache()
	}
	return r
}

// network is a backbone, and optionally a classification head, with weights.
type network struct {
	backend compute.Backend
	owned   bool // backend created for this call: released by close
	store   *model.Store
	spec    ModelSpec
	bb      models.Backbone
}

// openBackend returns rt.Engine, or a new backend this call owns.
func (rt Runtime) openBackend() (compute.Backend, bool, error) {
	if rt.Engine != nil {
		return rt.Engine, false, nil
	}
	b, err := engine.New(rt.Backend)
	if err != nil {
		return nil, false, cli.Usagef("%v", err)
	}
	return b, true, nil
}

// close releases the weights and, when this call created it, the backend.
func (n *network) close() {
	n.store.Finalize()
	if n.owned {
		n.backend.Finalize()
	}
}

// decodeShortSide is the short side frames are decoded at: the evaluation
// resize of the crop size (128 for 112), so that nothing larger is decoded.
func decodeShortSide(size int) int { return loader.AugEval(size).EvalResize }

// ensureBackbone creates and initialises, from seed, the backbone variables
// the store lacks (all of them for a scratch network) by building the
// backbone once on a one-clip batch.
func (n *network) ensureBackbone(seed uint64) error {
	n.store.SetParam(model.ParamInitialSeed, int64(seed))
	if err := n.store.SetRNGStateFromSeed(int64(seed)); err != nil {
		return err
	}
	s := n.spec
	exec, err := model.NewExec(n.backend, n.store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		n.store.SetTraining(x.Graph(), false)
		return n.bb.Features(scope.At(BackboneScope), x, false)
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	zeros := tensors.FromFlatDataAndDimensions(make([]float32, s.Frames*s.Size*s.Size*3), 1, s.Frames, s.Size, s.Size, 3)
	out, err := exec.Call(zeros)
	if err != nil {
		return fmt.Errorf("building backbone %s: %w", s.Arch, err)
	}
	for _, o := range out {
		o.FinalizeAll()
	}
	return nil
}

// viewsFeatures runs the backbone (inference mode) on every view at once and
// returns features [B, V, D].
func viewsFeatures(scope *model.Scope, bb models.Backbone, views []*graph.Node) *graph.Node {
	b := views[0].Shape().Dimensions[0]
	x := views[0]
	if len(views) > 1 {
		x = graph.Concatenate(views, 0) // [V*B, T, H, W, 3], view-major
	}
	f := bb.Features(scope.At(BackboneScope), x, false)
	f = graph.Reshape(f, len(views), b, bb.FeatureDim())
	return graph.TransposeAllAxes(f, 1, 0, 2)
}

// viewsLogits adds the head to viewsFeatures: logits [B, V, classes].
func viewsLogits(scope *model.Scope, bb models.Backbone, classes int, views []*graph.Node) *graph.Node {
	f := viewsFeatures(scope, bb, views) // [B, V, D]
	dims := f.Shape().Dimensions
	flat := graph.Reshape(f, dims[0]*dims[1], dims[2])
	logits := models.LinearHead(scope.At(HeadScope), flat, classes)
	return graph.Reshape(logits, dims[0], dims[1], classes)
}

// perView is the output of a multi-view pass: for each video that decoded,
// its index in the sample list and one row per view.
type perView struct {
	Index []int         // sample index of each video, in pass order
	Rows  [][][]float32 // [video][view][dim]
	Clips int           // clips run through the network
}

// runViews runs every sample through the network with K uniform clips x
// crops per video and returns features (head false) or logits (head true).
func (n *network) runViews(ctx context.Context, rt Runtime, root string, samples []dataset.Sample, clips, crops int, head bool, label string) (*perView, error) {
	ld, err := n.viewLoader(rt, root, samples, clips, crops)
	if err != nil {
		return nil, err
	}
	return n.runLoader(ctx, rt, ld, head, label)
}

// viewLoader is the loader of runViews: K uniform clips x crops of every
// sample, in order.
func (n *network) viewLoader(rt Runtime, root string, samples []dataset.Sample, clips, crops int) (*loader.Loader, error) {
	s := n.spec
	sampler := loader.UniformClips{K: clips, Frames: s.Frames, Stride: s.Stride, Aug: loader.AugEval(s.Size), Crops: crops}
	return loader.New(loader.Config{
		Root: root, Samples: samples, Opener: rt.Opener, Sampler: sampler, BatchSize: max(1, rt.Batch/sampler.Views()),
		Workers: rt.Workers, DecodeShortSide: decodeShortSide(s.Size), Logf: rt.Logf,
	})
}

// runLoader runs the network over every batch of ld.
func (n *network) runLoader(ctx context.Context, rt Runtime, ld *loader.Loader, head bool, label string) (*perView, error) {
	fn := func(scope *model.Scope, x []*graph.Node) []*graph.Node {
		if head {
			return []*graph.Node{viewsLogits(scope, n.bb, len(n.spec.Classes), x)}
		}
		return []*graph.Node{viewsFeatures(scope, n.bb, x)}
	}
	var bar *progress.Bar
	if !rt.Quiet {
		bar = progress.New(label, ld.Len())
		defer bar.Finish()
	}
	pred, err := train.Predict(ctx, n.backend, n.store, fn, &countingBatches{Batches: ld.Iterate(), bar: bar})
	if err != nil {
		return nil, err
	}
	if pred.N == 0 {
		return nil, fmt.Errorf("no video of the %d could be decoded; run vidrep prepare on the dataset to find the broken files", ld.Len())
	}
	v, d := pred.Dims[0][0], pred.Dims[0][1] // views per video, values per view
	out := &perView{Index: pred.Index, Rows: make([][][]float32, pred.N), Clips: pred.N * v}
	for i := 0; i < pred.N; i++ {
		row := pred.Row(0, i)
		out.Rows[i] = make([][]float32, v)
		for j := 0; j < v; j++ {
			out.Rows[i][j] = append([]float32(nil), row[j*d:(j+1)*d]...)
		}
	}
	return out, nil
}

// countingBatches advances a progress bar as batches are consumed.
type countingBatches struct {
	loader.Batches
	bar *progress.Bar
}

// Next returns the next batch and counts its videos.
func (c *countingBatches) Next() (*loader.Batch, error) {
	b, err := c.Batches.Next()
	if err == nil && c.bar != nil {
		c.bar.Add(len(b.Index))
	}
	return b, err
}
