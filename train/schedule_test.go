package train

import "testing"

func TestLearningRate(t *testing.T) {
	cosine := Config{LR: 1, WarmupSteps: 2, Schedule: "cosine"}
	floor := Config{LR: 1, WarmupSteps: 0, Schedule: "cosine", MinLR: 0.1}
	constant := Config{LR: 0.5, WarmupSteps: 4, Schedule: "constant"}
	cases := []struct {
		name        string
		cfg         Config
		step, total int
		want        float64
	}{
		{"warm-up first step", cosine, 0, 10, 0.5},
		{"warm-up last step", cosine, 1, 10, 1},
		{"cosine start", cosine, 2, 10, 1},
		{"cosine middle", cosine, 6, 10, 0.5},         // progress 4/8: (1+cos(pi/2))/2
		{"cosine last", cosine, 9, 10, 0.03806023374}, // (1+cos(7pi/8))/2
		{"cosine floor middle", floor, 5, 10, 0.55},   // 0.1 + 0.9*(1+cos(pi/2))/2
		{"constant warm-up", constant, 1, 100, 0.25},  // 0.5*2/4
		{"constant after", constant, 50, 100, 0.5},
		{"run no longer than warm-up", cosine, 2, 2, 1},
	}
	for _, c := range cases {
		if got := LearningRate(c.cfg, c.step, c.total); !near(got, c.want, 1e-9) {
			t.Errorf("%s: LearningRate(step %d of %d) = %.10g, want %.10g", c.name, c.step, c.total, got, c.want)
		}
	}
}

func TestWeightDecayApplies(t *testing.T) {
	cases := []struct {
		path string
		dims []int
		want bool
	}{
		{"/backbone/conv1/weights", []int{3, 3, 3, 3, 64}, true},
		{"/head/weights", []int{512, 101}, true},
		{"/head/biases", []int{101}, false},
		{"/backbone/bn1/scale", []int{64}, false},
		{"/backbone/layer1/0/batch_norm/offset", []int{64}, false},
		{"/vit/block0/layer_norm/gain", []int{1, 384}, false},
		{"/vit/pos_embed", []int{1, 196, 384}, false},
		{"/vit/cls_token", []int{1, 1, 384}, false},
		{"/scalar", nil, false},
		{"/backbone/bnx_proj/weights", []int{4, 4}, false},
		{"/backbone/downsample/weights", []int{1, 1, 1, 64, 128}, true},
	}
	for _, c := range cases {
		if got := WeightDecayApplies(c.path, c.dims); got != c.want {
			t.Errorf("WeightDecayApplies(%s, %v) = %v, want %v", c.path, c.dims, got, c.want)
		}
	}
}

func TestLRMultiplierAndPrefixes(t *testing.T) {
	mults := map[string]float64{"backbone": 0.1, "/backbone/layer4": 0.5}
	cases := []struct {
		path string
		want float64
	}{
		{"/backbone/conv1/weights", 0.1},
		{"/backbone/layer4/0/weights", 0.5},
		{"/backbone2/weights", 1},
		{"/head/weights", 1},
	}
	for _, c := range cases {
		if got := lrMultiplier(c.path, mults); got != c.want {
			t.Errorf("lrMultiplier(%s) = %g, want %g", c.path, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Epochs: 0, LR: 1},
		{Epochs: 1, LR: 0},
		{Epochs: 1, LR: 1, Optimizer: "lamb"},
		{Epochs: 1, LR: 1, Schedule: "step"},
		{Epochs: 1, LR: 1, DType: "fp8"},
		{Epochs: 1, LR: 1, WeightDecay: -1},
		{Epochs: 1, LR: 1, Beta2: 1},
	}
	for _, c := range bad {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("config %+v: no error", c)
		}
	}
	good, err := Config{Epochs: 1, LR: 1, Optimizer: "sgd"}.withDefaults()
	if err != nil || good.AccumSteps != 1 || good.Schedule != "cosine" || good.DType != "f32" {
		t.Errorf("defaults = %+v, %v", good, err)
	}
}
