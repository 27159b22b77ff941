package train

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/loader"
)

// StepTimes is what TimeSteps measured.
type StepTimes struct {
	First  time.Duration   // the first call: graph building, compilation and one step
	Steps  []time.Duration // each timed step, wall clock until its loss was read back
	Losses []float64       // the loss of each timed step
}

// TimeSteps compiles the training step of loss for batch's shapes and runs it
// 1+warmup+steps times on that same batch, as Run would (the weights and the
// optimizer state change; the learning rate stays cfg.LR), and returns the
// time of the first call and of each of the last steps calls. The batch's
// tensors are made once and stay on the device, as a benchmark's inputs do;
// each call reads its loss back, so on an asynchronous device a step is timed
// to its end. Nothing is written. It is what `vidrep bench pretrain` measures.
func TimeSteps(backend compute.Backend, store *model.Store, cfg Config, loss LossFn, batch *loader.Batch, warmup, steps int) (StepTimes, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return StepTimes{}, err
	}
	if cfg.AccumSteps != 1 {
		return StepTimes{}, fmt.Errorf("train: TimeSteps times whole optimizer steps; use AccumSteps 1, not %d", cfg.AccumSteps)
	}
	if err := checkDType(cfg, backend); err != nil {
		return StepTimes{}, err
	}
	s, err := newStepper(backend, store, &cfg, loss, batch)
	if err != nil {
		return StepTimes{}, fmt.Errorf("train: building the training step: %w", err)
	}
	// Converted once: like the anchors' tensors, the batch is uploaded to the
	// device by the first call and reused there, so steps time the step alone.
	inputs, err := batchInputs(batch, s.numViews, s.numTargets)
	if err != nil {
		return StepTimes{}, err
	}
	var st StepTimes
	for t := 1; t <= 1+warmup+steps; t++ {
		t0 := time.Now()
		res, err := s.runInputs(inputs, true, t, cfg.LR)
		if err != nil {
			return st, fmt.Errorf("train: step %d: %w", t, err)
		}
		el := time.Since(t0)
		if math.IsNaN(res.loss) || math.IsInf(res.loss, 0) {
			return st, fmt.Errorf("train: step %d: the loss is %v", t, res.loss)
		}
		switch {
		case t == 1:
			st.First = el
		case t > 1+warmup:
			st.Steps = append(st.Steps, el)
			st.Losses = append(st.Losses, res.loss)
		}
	}
	return st, nil
}
