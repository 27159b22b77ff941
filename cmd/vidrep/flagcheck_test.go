package main

import (
	"strings"
	"testing"
)

// TestZeroAndNegativeFlagsAreRefused: QA found --epochs 0, --size 0 and
// --workers -1 silently replaced by defaults (a 112-pixel run instead of a
// refusal); every such flag is now refused when parsed, naming itself.
func TestZeroAndNegativeFlagsAreRefused(t *testing.T) {
	pretrain := []string{"pretrain", "--data", "d", "--method", "rotation", "--arch", "r3d-small", "--out", "o"}
	finetune := []string{"finetune", "--data", "d", "--out", "o"}
	cases := []struct {
		args []string
		want string // "" when the arguments are valid
	}{
		{pretrain, ""},
		{append(pretrain, "--epochs", "0"), "--epochs must be at least 1"},
		{append(pretrain, "--size", "0"), "--size must be at least 1"},
		{append(pretrain, "--frames=-2"), "--frames must be at least 1"},
		{append(pretrain, "--workers=-1"), "--workers must be at least 0"},
		{finetune, ""},
		{append(finetune, "--frames", "0"), ""}, // 0: the --init run's
		{append(finetune, "--split", "0"), "--split must be at least 1"},
		{append(finetune, "--eval-clips", "0"), "--eval-clips must be at least 1"},
		{append(finetune, "--linear", "--probe-head"), "drop one"},
		{append(finetune, "--linear", "--optimizer", "sgd"), "drop --optimizer"},
		{append(finetune, "--probe-head", "--optimizer", "sgd"), ""},
		{[]string{"predict", "--ckpt", "r", "a.mp4", "--clips=-3"}, "--clips must be at least 1"},
		{[]string{"predict", "--ckpt", "r", "a.mp4", "--hop=-1"}, "--hop must be at least 0"},
		{[]string{"eval", "--data", "d", "--ckpt", "r", "--workers=-1"}, "--workers must be at least 0"},
		{[]string{"experiment", "--data", "d", "--out", "o"}, ""},
		{[]string{"experiment", "--data", "d", "--out", "o", "--seeds", "0"}, "--seeds must be at least 1"},
		{[]string{"experiment", "--data", "d", "--out", "o", "--pretrain-epochs", "0"}, "--pretrain-epochs must be at least 1"},
	}
	for _, c := range cases {
		_, _, err := parseArgs(t, c.args...)
		if c.want == "" && err != nil {
			t.Errorf("%v: %v", c.args, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestFinetuneZeroFlagsAskForZero checks the CLI's side of c32499f: a 0 for
// a setting the library reads as "the default" must set its No* field.
func TestFinetuneZeroFlagsAskForZero(t *testing.T) {
	base := []string{"finetune", "--data", "d", "--out", "o"}
	for _, c := range []struct {
		args                 []string
		noMult, noWD, noWarm bool
	}{
		{base, false, false, false},
		{append(base, "--weight-decay", "0"), false, true, false},
		{append(base, "--warmup-epochs", "0", "--backbone-lr-mult", "0"), true, false, true},
	} {
		root, _, err := parseArgs(t, c.args...)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		cfg := root.Finetune.config()
		if cfg.NoBackboneLR != c.noMult || cfg.NoWeightDecay != c.noWD || cfg.NoWarmup != c.noWarm {
			t.Errorf("%v: NoBackboneLR %v NoWeightDecay %v NoWarmup %v, want %v %v %v",
				c.args, cfg.NoBackboneLR, cfg.NoWeightDecay, cfg.NoWarmup, c.noMult, c.noWD, c.noWarm)
		}
	}
}
