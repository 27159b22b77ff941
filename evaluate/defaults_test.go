package evaluate

import "testing"

// TestZeroSettingsCanBeAskedFor: a zero field means the default, and the No*
// fields ask for a real zero (the CLI's --weight-decay 0, --warmup-epochs 0,
// --backbone-lr-mult 0), which QA found silently replaced by the defaults.
func TestZeroSettingsCanBeAskedFor(t *testing.T) {
	cases := []struct {
		name             string
		cfg              FinetuneConfig
		wantMult, wantWD float64
		wantWarmup       float64
		wantErr          bool
	}{
		{"zero fields take the defaults", FinetuneConfig{}, 1, 1e-2, 1, false},
		{"explicit values are kept", FinetuneConfig{BackboneLRMult: 0.1, WeightDecay: 0.05, WarmupEpochs: 2}, 0.1, 0.05, 2, false},
		{"zeros asked for", FinetuneConfig{NoBackboneLR: true, NoWeightDecay: true, NoWarmup: true}, 0, 0, 0, false},
		{"a zero asked for beside a value", FinetuneConfig{NoWeightDecay: true, WeightDecay: 0.1}, 0, 0, 0, true},
	}
	for _, c := range cases {
		c.cfg.DataRoot, c.cfg.Out = "data", "out"
		got, err := c.cfg.withDefaults()
		if (err != nil) != c.wantErr {
			t.Errorf("%s: error %v, want error %v", c.name, err, c.wantErr)
			continue
		}
		if err == nil && (got.BackboneLRMult != c.wantMult || got.WeightDecay != c.wantWD || got.WarmupEpochs != c.wantWarmup) {
			t.Errorf("%s: backbone lr x%g, weight decay %g, warm-up %g epochs; want x%g, %g, %g",
				c.name, got.BackboneLRMult, got.WeightDecay, got.WarmupEpochs, c.wantMult, c.wantWD, c.wantWarmup)
		}
	}
}
