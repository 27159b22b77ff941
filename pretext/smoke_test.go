package pretext

import "testing"

// TestPretextLossDecreases trains each method's loss for a few Adam steps on
// a fixed batch of in-memory clips with a tiny backbone: the loss must fall.
func TestPretextLossDecreases(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps int
	}{
		{"vcop", 30}, {"speed", 30}, {"pan", 30}, {"camera", 30}, {"flowstats", 30}, {"camflow", 30}, {"arrow", 30}, {"rotation", 30}, {"simclr", 30},
		{"order", 30}, {"odd-one-out", 30}, {"byol", 30}, {"moco", 30}, {"vcop:1+rotation:0.5", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMethod(t, tc.name, testOptions())
			losses, acc := trainLosses(t, m, tinyBackbone{dim: 32}, tc.steps, 8, 0.01)
			first, last := losses[0], losses[len(losses)-1]
			t.Logf("%s: loss %.4f -> %.4f, accuracy %.2f", tc.name, first, last, acc)
			if !(last < 0.8*first) {
				t.Errorf("%s: loss did not fall: %v", tc.name, losses)
			}
		})
	}
}
