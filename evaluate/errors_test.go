package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFinetuneUsageErrors checks that each wrong setting fails before any
// work with a one-line usage error that names the setting.
func TestFinetuneUsageErrors(t *testing.T) {
	data := tinyData(t)
	dir := t.TempDir()
	noCkpt := filepath.Join(dir, "empty-run")
	os.MkdirAll(noCkpt, 0o755)
	txt := filepath.Join(dir, "weights.txt")
	os.WriteFile(txt, []byte("x"), 0o644)
	cases := []struct {
		name string
		edit func(*FinetuneConfig)
		want string
	}{
		{"no out", func(c *FinetuneConfig) { c.Out = "" }, "--out"},
		{"missing init", func(c *FinetuneConfig) { c.Init = filepath.Join(dir, "nope") }, "--init"},
		{"init run without checkpoint", func(c *FinetuneConfig) { c.Init = noCkpt }, "checkpoint.safetensors"},
		{"init not safetensors", func(c *FinetuneConfig) { c.Init = txt }, ".safetensors"},
		{"no arch", func(c *FinetuneConfig) { c.Arch = "" }, "--arch"},
		{"unknown arch", func(c *FinetuneConfig) { c.Arch = "resnet9000" }, "resnet9000"},
		{"bad budget", func(c *FinetuneConfig) { c.Labels = "lots" }, "lots"},
		{"bad augmentation", func(c *FinetuneConfig) { c.Augment = "wild" }, "wild"},
		{"negative lr", func(c *FinetuneConfig) { c.LR = -1 }, "--lr"},
		{"no split 4", func(c *FinetuneConfig) { c.Split = 4 }, "split"},
		{"no data", func(c *FinetuneConfig) { c.DataRoot = "" }, "--data"},
		{"unknown dtype", func(c *FinetuneConfig) { c.DType = "f16" }, "--dtype"},
		{"bf16 linear probe", func(c *FinetuneConfig) { c.Linear, c.DType = true, "bf16" }, "--linear"},
	}
	for _, c := range cases {
		cfg := tinyFinetune(data, filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-")))
		c.edit(&cfg)
		_, err := Finetune(context.Background(), cfg)
		if !isUsage(err) {
			t.Errorf("%s: err = %v, want a usage error", c.name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %q should be one line mentioning %q", c.name, msg, c.want)
		}
	}
	// Evaluate refuses a run without a head, and a dataset with other classes.
	if _, err := Evaluate(context.Background(), EvalConfig{DataRoot: data, Ckpt: noCkpt, Runtime: a2rt()}); !isUsage(err) {
		t.Errorf("eval of a run without checkpoint: %v", err)
	}
}

// TestFinetuneBF16NeedsXLA checks that --dtype reaches training: bf16 on the
// Go backend is refused with a line that names the fix.
func TestFinetuneBF16NeedsXLA(t *testing.T) {
	cfg := tinyFinetune(tinyData(t), filepath.Join(t.TempDir(), "out"))
	cfg.DType = "bf16"
	_, err := Finetune(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "XLA") || !strings.Contains(err.Error(), "--dtype f32") {
		t.Fatalf("bf16 fine-tuning on the Go backend: err = %v, want a refusal naming XLA and --dtype f32", err)
	}
}
