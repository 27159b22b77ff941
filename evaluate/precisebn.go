package evaluate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// PreciseBNFile records, in a fine-tuning run directory, how its batch-norm
// statistics were recomputed.
const PreciseBNFile = "precise_bn.json"

// Default size of the precise batch-norm pass: one pass over the labeled
// clips, but at least preciseBNMinClips (a tiny budget is passed over
// several times, with fresh random clips and augmentations) and at most
// preciseBNMaxClips (a large one is sampled).
const (
	preciseBNMinClips = 64
	preciseBNMaxClips = 256
)

// PreciseBNSummary says how the running statistics were recomputed.
type PreciseBNSummary struct {
	Layers  int     `json:"layers"`  // batch-norm layers updated (0: the backbone has none)
	Batches int     `json:"batches"` // batches averaged over
	Clips   int     `json:"clips"`   // clips averaged over
	Seconds float64 `json:"seconds"`
}

// defaultPreciseBNBatches covers the labeled clips once, within
// [preciseBNMinClips, preciseBNMaxClips] clips, in batches of batch.
func defaultPreciseBNBatches(videos, batch int) int {
	clips := min(max(videos, preciseBNMinClips), preciseBNMaxClips)
	return max(1, (clips+batch-1)/batch)
}

// bnMoments accumulates a layer's per-channel count, mean and sum of squared
// deviations over batches (Chan et al.'s pairwise update, in float64).
type bnMoments struct {
	n        float64
	mean, m2 []float64
}

// add merges a batch of n values per channel with mean and biased variance.
func (a *bnMoments) add(n int, mean, variance []float32) {
	if a.mean == nil {
		a.mean, a.m2 = make([]float64, len(mean)), make([]float64, len(mean))
	}
	nb := float64(n)
	tot := a.n + nb
	for c := range mean {
		d := float64(mean[c]) - a.mean[c]
		a.mean[c] += d * nb / tot
		a.m2[c] += float64(variance[c])*nb + d*d*a.n*nb/tot
	}
	a.n = tot
}

// stats returns the mean and the unbiased variance (as the running variance
// of models.BatchNorm) of every value seen.
func (a *bnMoments) stats() (mean, variance []float32) {
	mean, variance = make([]float32, len(a.mean)), make([]float32, len(a.mean))
	for c := range a.mean {
		mean[c] = float32(a.mean[c])
		variance[c] = float32(a.m2[c] / max(a.n-1, 1))
	}
	return mean, variance
}

// recomputeBN replaces the running mean and variance of every batch-norm
// layer of the backbone in store by the mean and (unbiased) variance of its
// input over up to maxBatches batches of data, the weights fixed: each batch
// goes through the backbone in training mode (every layer normalised with its
// batch statistics, as in training) and the layers' batch moments are pooled
// over batches. Nothing else in the store changes (num_batches_tracked
// included). It closes batches.
func recomputeBN(ctx context.Context, backend compute.Backend, store *model.Store, bb models.Backbone,
	batches loader.Batches, maxBatches int) (*PreciseBNSummary, error) {
	defer batches.Close()
	t0 := time.Now()
	var rec *models.BatchNormMoments
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		rec = models.RecordBatchNormMoments(x.Graph())
		f := bb.Features(scope.At(BackboneScope), x, true)
		outs := []*graph.Node{graph.ReduceAllSum(f)} // keeps the graph non-empty without batch norm
		for i := range rec.Means {
			outs = append(outs, rec.Means[i], rec.Vars[i])
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	acc := []bnMoments(nil)
	sum := &PreciseBNSummary{}
	for sum.Batches < maxBatches {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("precise batch norm interrupted after %d batches (continue with --resume): %w", sum.Batches, err)
		}
		b, err := batches.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b.Views) != 1 {
			return nil, fmt.Errorf("precise batch norm: batch has %d views, want 1", len(b.Views))
		}
		outs, err := exec.Call(tensors.FromFlatDataAndDimensions(b.Views[0], b.ViewShape[:]...))
		if err != nil {
			return nil, fmt.Errorf("precise batch norm: %w", err)
		}
		if acc == nil {
			acc = make([]bnMoments, len(rec.Means))
		}
		err = addMoments(acc, rec.Counts, outs[1:])
		for _, o := range outs {
			o.FinalizeAll()
		}
		if err != nil {
			return nil, err
		}
		sum.Batches++
		sum.Clips += b.ViewShape[0]
		if len(acc) == 0 {
			break // no batch-norm layer: nothing to recompute
		}
	}
	if sum.Batches == 0 {
		return nil, fmt.Errorf("precise batch norm: the training data gave no batch")
	}
	sum.Layers = len(acc)
	sum.Seconds = time.Since(t0).Seconds()
	return sum, setRunningStats(store, rec.Scopes, acc)
}

// addMoments adds one batch's moments (mean, variance pairs per layer).
func addMoments(acc []bnMoments, counts []int, outs []*tensors.Tensor) error {
	for i := range acc {
		mean, err := tensors.CopyFlatData[float32](outs[2*i])
		if err != nil {
			return err
		}
		variance, err := tensors.CopyFlatData[float32](outs[2*i+1])
		if err != nil {
			return err
		}
		acc[i].add(counts[i], mean, variance)
	}
	return nil
}

// setRunningStats writes the pooled moments into each layer's running_mean
// and running_var.
func setRunningStats(store *model.Store, scopes []string, acc []bnMoments) error {
	for i, scope := range scopes {
		mean, variance := acc[i].stats()
		for name, vals := range map[string][]float32{"running_mean": mean, "running_var": variance} {
			path := model.JoinPath(scope, name)
			v := store.GetVariable(path)
			if v == nil {
				return fmt.Errorf("precise batch norm: no variable %s in the store", path)
			}
			if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, len(vals))); err != nil {
				return fmt.Errorf("precise batch norm: %s: %w", path, err)
			}
		}
	}
	return nil
}

// epochsFrom chains the training passes epoch, epoch+1, ... of a loader into
// one stream of batches (the precise batch-norm pass draws fresh clips and
// augmentations after the last training epoch).
type epochsFrom struct {
	ld    *loader.Loader
	epoch int
	cur   loader.Batches
}

// Next returns the next batch, starting the next pass when one ends.
func (e *epochsFrom) Next() (*loader.Batch, error) {
	for {
		if e.cur == nil {
			b, err := e.ld.Epoch(e.epoch, 0)
			if err != nil {
				return nil, err
			}
			e.cur = b
		}
		b, err := e.cur.Next()
		if err != io.EOF {
			return b, err
		}
		if err := e.cur.Close(); err != nil {
			return nil, err
		}
		e.cur, e.epoch = nil, e.epoch+1
	}
}

// Close stops the pass in progress.
func (e *epochsFrom) Close() error {
	if e.cur == nil {
		return nil
	}
	err := e.cur.Close()
	e.cur = nil
	return err
}

// preciseBNOption recomputes the batch-norm statistics (cfg.PreciseBNBatches
// batches of the training loader, after its last training epoch) when
// fine-tuning is done, before the final checkpoint, and records the pass in
// PreciseBNFile.
func (n *network) preciseBNOption(ctx context.Context, cfg FinetuneConfig, ld *loader.Loader) train.Option {
	return train.WithBeforeFinal(func() error {
		pbn, err := recomputeBN(ctx, n.backend, n.store, n.bb, &epochsFrom{ld: ld, epoch: cfg.Epochs}, cfg.PreciseBNBatches)
		if err != nil {
			return err
		}
		return report.WriteJSON(filepath.Join(cfg.Out, PreciseBNFile), pbn)
	})
}

// readPreciseBN reads a run's PreciseBNFile; a run finished without one
// (before precise batch norm existed) gives nil.
func readPreciseBN(dir string) (*PreciseBNSummary, error) {
	path := filepath.Join(dir, PreciseBNFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &PreciseBNSummary{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: %v; it is written by fine-tuning: rerun into a new --out", path, err)
	}
	return s, nil
}
