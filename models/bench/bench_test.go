package bench

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
)

// TestOptimizerSetsTheBuffersPerCall runs a tiny training step with each
// optimizer: AdamW keeps two moment buffers per trainable variable, which
// SGD does not, so its step passes exactly that many more variables; the
// RESULT line names the optimizer and the count, and inference has none.
func TestOptimizerSetsTheBuffersPerCall(t *testing.T) {
	backend, err := engine.New("go")
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Arch: "r3d-small", Batch: 2, Frames: 2, Size: 16, Steps: 1, Warmup: 0, Train: true, DType: "f32", Backend: backend}
	vars := map[string]int{}
	trainable := 0
	for _, opt := range []string{"adamw", "sgd"} {
		cfg := base
		cfg.Optimizer = opt
		res, err := Run(cfg, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", opt, err)
		}
		vars[opt] = res.Variables
		if line := res.String(); !strings.Contains(line, " optimizer="+opt+" ") || !strings.Contains(line, " variables=") {
			t.Errorf("%s: RESULT line %q lacks optimizer=%s or variables=", opt, line, opt)
		}
		if opt == "sgd" {
			trainable = res.trainableVariables
		}
	}
	if trainable == 0 || vars["adamw"]-vars["sgd"] < 2*trainable {
		t.Errorf("variables: adamw %d, sgd %d with %d trainable; want adamw to hold at least two moments per trainable variable more",
			vars["adamw"], vars["sgd"], trainable)
	}
	infer := base
	infer.Train = false
	res, err := Run(infer, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if line := res.String(); !strings.Contains(line, " optimizer=- ") {
		t.Errorf("inference RESULT line %q, want optimizer=-", line)
	}
	bad := base
	bad.Optimizer = "lamb"
	var u *cli.UsageError
	if _, err := Run(bad, io.Discard); !errors.As(err, &u) || !strings.Contains(err.Error(), "--optimizer") {
		t.Errorf("optimizer lamb: error %v, want a usage error naming --optimizer", err)
	}
}
