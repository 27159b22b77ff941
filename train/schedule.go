package train

import "math"

// LearningRate is the learning rate of optimizer step `step` (0-based) of a
// run of `total` steps: a linear warm-up from LR/WarmupSteps to LR over the
// first WarmupSteps steps, then constant or a half cosine from LR towards
// MinLR, which it would reach one step after the last (as timm and
// PyTorch's CosineAnnealingLR with T_max = total - warm-up).
func LearningRate(cfg Config, step, total int) float64 {
	if step < cfg.WarmupSteps {
		return cfg.LR * float64(step+1) / float64(cfg.WarmupSteps)
	}
	if cfg.Schedule == "constant" {
		return cfg.LR
	}
	span := total - cfg.WarmupSteps
	if span <= 0 {
		return cfg.LR
	}
	progress := math.Min(1, float64(step-cfg.WarmupSteps)/float64(span))
	return cfg.MinLR + (cfg.LR-cfg.MinLR)*0.5*(1+math.Cos(math.Pi*progress))
}
