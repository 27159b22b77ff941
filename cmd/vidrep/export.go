package main

import (
	"fmt"
	"strings"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// ExportCmd implements "vidrep export": a run's backbone (and classification
// head, as fc) written as a safetensors state dict with torchvision's key
// names and kernel layout.
type ExportCmd struct {
	Ckpt string `help:"Run directory (pretrain, import or finetune) or a vidrep .safetensors weights file." required:"" type:"path"`
	Out  string `help:"The .safetensors file to write (load in torch with safetensors.torch.load_file, then model.load_state_dict)." required:"" type:"path"`
}

// Run executes the command.
func (c *ExportCmd) Run() error {
	if !strings.HasSuffix(strings.ToLower(c.Out), ".safetensors") {
		return cli.Usagef("--out %s: name the file .safetensors", c.Out)
	}
	store, err := train.LoadStore(c.Ckpt, evaluate.BackboneScope, evaluate.HeadScope)
	if err != nil {
		return err
	}
	n, err := models.ExportTorchvision(store, evaluate.BackboneScope, evaluate.HeadScope, c.Out)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d tensors with torchvision key names to %s\n", n, c.Out)
	return nil
}
