package pretext

import (
	"fmt"
	"math/rand/v2"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/loader"
)

// HideLabels returns a copy of samples with every label set to
// dataset.Unlabeled: what pretraining gives the loader, so that no label
// can reach a sampler or a loss.
func HideLabels(samples []dataset.Sample) []dataset.Sample {
	out := make([]dataset.Sample, len(samples))
	for i, s := range samples {
		s.Label = dataset.Unlabeled
		out[i] = s
	}
	return out
}

// Unlabeled wraps s so that it fails on any sample that carries a label:
// a pretraining loader built with it cannot use a label even by mistake.
func Unlabeled(s loader.Sampler) loader.Sampler { return unlabeled{s} }

type unlabeled struct{ inner loader.Sampler }

// Sample refuses labeled samples and passes dataset.Unlabeled on.
func (u unlabeled) Sample(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
	if label != dataset.Unlabeled {
		return loader.Example{}, fmt.Errorf("pretext: a sample with label %d reached pretraining; pretraining reads unlabeled videos only (hide labels with pretext.HideLabels)", label)
	}
	return u.inner.Sample(r, dataset.Unlabeled, rng)
}

// Validate checks the wrapped sampler's settings when it can.
func (u unlabeled) Validate() error {
	if v, ok := u.inner.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}
