package pretext

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better with the dot import.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
)

// combo trains several methods at once on the same backbone: its Example
// holds the views and targets of every part, in order, and its loss is the
// weighted sum of the parts' losses. Its accuracy is that of the first part
// that has one.
type combo struct {
	spec    string
	parts   []Method
	weights []float64
}

func newCombo(spec string, terms []term, o Options) (Method, error) {
	c := &combo{spec: spec}
	for _, t := range terms {
		m, err := registry[t.name](o)
		if err != nil {
			return nil, err
		}
		c.parts = append(c.parts, m)
		c.weights = append(c.weights, t.weight)
	}
	return c, nil
}

// Name is the combination spec as given.
func (c *combo) Name() string { return c.spec }

// NumViews is the sum of the parts' views.
func (c *combo) NumViews() int {
	n := 0
	for _, p := range c.parts {
		n += p.NumViews()
	}
	return n
}

// NumTargets is the sum of the parts' targets.
func (c *combo) NumTargets() int {
	n := 0
	for _, p := range c.parts {
		n += p.NumTargets()
	}
	return n
}

// Sampler concatenates the parts' views and targets, in order.
func (c *combo) Sampler() loader.Sampler {
	samplers := make([]loader.Sampler, len(c.parts))
	for i, p := range c.parts {
		samplers[i] = p.Sampler()
	}
	return samplerFunc(func(r loader.VideoReader, label int, rng *rand.Rand) (loader.Example, error) {
		var ex loader.Example
		for i, s := range samplers {
			part, err := s.Sample(r, label, rng)
			if err != nil {
				return loader.Example{}, err
			}
			if len(part.Views) != c.parts[i].NumViews() || len(part.Targets) != c.parts[i].NumTargets() {
				return loader.Example{}, fmt.Errorf("pretext: %s made %d views and %d targets, expected %d and %d",
					c.parts[i].Name(), len(part.Views), len(part.Targets), c.parts[i].NumViews(), c.parts[i].NumTargets())
			}
			ex.Views = append(ex.Views, part.Views...)
			ex.Targets = append(ex.Targets, part.Targets...)
		}
		return ex, nil
	})
}

// Loss is the weighted sum of the parts' losses.
func (c *combo) Loss(bb models.Backbone) LossFn {
	losses := make([]LossFn, len(c.parts))
	for i, p := range c.parts {
		losses[i] = p.Loss(bb)
	}
	return func(scope *model.Scope, views, targets []*Node, training bool) (*Node, *Node) {
		var total, acc *Node
		v, t := 0, 0
		for i, p := range c.parts {
			nv, nt := p.NumViews(), p.NumTargets()
			l, a := losses[i](scope, views[v:v+nv], targets[t:t+nt], training)
			v, t = v+nv, t+nt
			l = MulScalar(l, c.weights[i])
			if total == nil {
				total = l
			} else {
				total = Add(total, l)
			}
			if acc == nil {
				acc = a
			}
		}
		return total, acc
	}
}
