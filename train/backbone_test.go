package train

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// clipData serves random [T,H,W,3] clips with 2 classes, batches of 2.
type clipData struct{ clips [][]float32 }

const bbT, bbH = 4, 16

func newClipData(n int) *clipData {
	rng := rand.New(rand.NewPCG(3, 3))
	d := &clipData{}
	for i := 0; i < n; i++ {
		c := make([]float32, bbT*bbH*bbH*3)
		for j := range c {
			c[j] = float32(rng.NormFloat64()) + float32(i%2)*0.5
		}
		d.clips = append(d.clips, c)
	}
	return d
}

func (d *clipData) StepsPerEpoch() int { return len(d.clips) / 2 }

func (d *clipData) Epoch(epoch, skip int) (Batches, error) {
	order := rand.New(rand.NewPCG(9, uint64(epoch))).Perm(len(d.clips))
	return &clipBatches{d: d, order: order, next: skip}, nil
}

type clipBatches struct {
	d     *clipData
	order []int
	next  int
}

func (b *clipBatches) Next() (*loader.Batch, error) {
	if 2*(b.next+1) > len(b.order) {
		return nil, io.EOF
	}
	out := &loader.Batch{ViewShape: [5]int{2, bbT, bbH, bbH, 3}, Views: [][]float32{nil}, Targets: [][]int32{nil}}
	for _, i := range b.order[2*b.next : 2*b.next+2] {
		out.Views[0] = append(out.Views[0], b.d.clips[i]...)
		out.Targets[0] = append(out.Targets[0], int32(i%2))
		out.Index = append(out.Index, i)
	}
	b.next++
	return out, nil
}

func (b *clipBatches) Close() error { return nil }

// TestResumeIsBitExactWithBatchNormBackbone repeats the exact-resume check
// with a real (very narrow) R3D-18, whose batch-norm running statistics and
// int64 counters must come back from the checkpoint too.
func TestResumeIsBitExactWithBatchNormBackbone(t *testing.T) {
	bb, err := models.New("r3d_18", models.Options{Widths: []int{2, 2, 2, 2}})
	must(t, err)
	loss := func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		f := bb.Features(scope.In("backbone"), views[0], training)
		logits := models.LinearHead(scope.In("head"), f, 2)
		return CrossEntropy(logits, targets[0], 0), Accuracy(logits, targets[0])
	}
	cfg := Config{Epochs: 2, BatchSize: 2, LR: 0.01, WeightDecay: 0.05, WarmupSteps: 1, CheckpointEvery: 2, Seed: 5}
	backend := goBackend(t)
	ref := model.NewStore()
	_, err = Run(context.Background(), backend, ref, t.TempDir(), cfg, loss, newClipData(6), WithQuiet())
	must(t, err)
	want := storeValues(t, ref)

	dir := t.TempDir()
	crash := WithAfterStep(func(step int) error {
		if step == 5 {
			return errors.New("simulated crash")
		}
		return nil
	})
	if _, err := Run(context.Background(), backend, model.NewStore(), dir, cfg, loss, newClipData(6), WithQuiet(), crash); err == nil {
		t.Fatal("crashed run returned no error")
	}
	store := model.NewStore()
	_, err = Run(context.Background(), backend, store, dir, cfg, loss, newClipData(6), WithQuiet(), WithResume(true))
	must(t, err)
	got := storeValues(t, store)
	if len(got) != len(want) {
		t.Fatalf("resumed store has %d variables, uninterrupted %d", len(got), len(want))
	}
	for path, w := range want {
		if !bytes.Equal(got[path], w) {
			t.Errorf("variable %s differs after resume", path)
		}
	}
}
