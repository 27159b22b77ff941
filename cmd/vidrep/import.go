package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/train"
)

// ImportCmd implements "vidrep import": a torchvision state dict in
// safetensors (keys unchanged) becomes a run directory that finetune --init,
// eval, predict and export accept.
type ImportCmd struct {
	Arch    string `help:"Backbone: r3d_18, mc3_18, r2plus1d_18 (torchvision.models.video), or i3d_r18 to inflate torchvision resnet18 weights." required:""`
	Weights string `help:"The torchvision state dict as .safetensors (e.g. safetensors.torch.save_file(model.state_dict(), FILE))." required:"" type:"path"`
	Out     string `help:"Run directory to write." required:"" type:"path"`
	Inflate string `help:"With i3d_r18 and 2D resnet18 weights: centre (2D kernel in the middle time slice; a still clip gives resnet18's features exactly) or mean (kernel/T at every slice, as in I3D)." default:"centre" enum:"centre,center,mean"`
	Classes string `help:"Text file with one class name per line for the fc head (default: class_0, class_1, ...)." type:"path"`
	Frames  int    `help:"Frames per clip recorded for later commands." default:"16"`
	Stride  int    `help:"Temporal stride recorded for later commands." default:"2"`
	Size    int    `help:"Crop side recorded for later commands." default:"112"`
	Backend string `help:"go or xla:<plugin> (default: $GOMLX_BACKEND, else go); only used to build the network's graph."`
}

// Run executes the command.
func (c *ImportCmd) Run() error {
	if _, err := os.Stat(filepath.Join(c.Out, train.CheckpointFile)); err == nil {
		return cli.Usagef("%s already holds a run; choose another --out", c.Out)
	}
	if _, err := os.Stat(c.Weights); err != nil {
		return cli.Usagef("--weights %s: no such file; save the state dict with safetensors.torch.save_file first", c.Weights)
	}
	mode, err := models.ParseInflation(c.Inflate)
	if err != nil {
		return cli.Usagef("--inflate: %v", err)
	}
	backend, err := engine.New(c.Backend)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	store, info, err := models.ImportTorchvision(backend, c.Arch, models.Options{}, c.Weights, models.ImportOptions{
		BackboneScope: evaluate.BackboneScope, HeadScope: evaluate.HeadScope, Inflate: mode})
	if err != nil {
		return err
	}
	classes, err := classNames(c.Classes, info.Classes)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	spec := evaluate.ModelSpec{Arch: c.Arch, Classes: classes, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
		Init: "import:" + c.Weights}
	if err := evaluate.WriteModelSpec(c.Out, spec); err != nil {
		return err
	}
	if err := train.SaveStore(store, filepath.Join(c.Out, train.CheckpointFile), evaluate.BackboneScope, evaluate.HeadScope); err != nil {
		return err
	}
	head := "no fc head"
	if info.Classes > 0 {
		head = fmt.Sprintf("fc head of %d classes", info.Classes)
	}
	fmt.Printf("imported %d backbone tensors (%s, %s) from %s into %s\nfine-tune with: vidrep finetune --init %s --data DIR --out RUN2\n",
		info.Tensors, info.Source, head, c.Weights, c.Out, c.Out)
	return nil
}

// classNames reads one name per line from file, or makes class_<i> names;
// the count must match the fc head's rows.
func classNames(file string, n int) ([]string, error) {
	if file == "" {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("class_%d", i)
		}
		return names, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, cli.Usagef("--classes %s: %v", file, err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name := strings.TrimSpace(sc.Text()); name != "" {
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--classes %s: %w", file, err)
	}
	if len(names) != n {
		return nil, cli.Usagef("--classes %s: %d names, but the fc head has %d classes; give one name per line", file, len(names), n)
	}
	return names, nil
}
