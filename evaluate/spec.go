package evaluate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// Scopes and files of the runs this package writes.
const (
	// BackboneScope holds the backbone's variables (shared with pretext and train).
	BackboneScope = "backbone"
	// HeadScope holds the classification head: HeadScope/weight [classes, dim]
	// and HeadScope/bias [classes], as models.LinearHead makes them.
	HeadScope = "head"
	// ModelFile describes the network of a run directory (see ModelSpec).
	ModelFile = "model.json"
	// ResultFile holds a finished fine-tuning or linear-probe run's Result.
	ResultFile = "result.json"
	// SubsetFile lists the labeled training videos a run used, one a line.
	SubsetFile = "train_videos.txt"
)

// ModelSpec is what it takes to rebuild a run's network and feed it: the
// backbone, the classes of its head, and the clip geometry it was trained on.
// Finetune writes it to ModelFile.
type ModelSpec struct {
	Arch    string   `json:"arch"`
	Width   float64  `json:"width,omitempty"`  // models.Options.Width (0: the architecture's default)
	Widths  []int    `json:"widths,omitempty"` // models.Options.Widths
	Classes []string `json:"classes,omitempty"`
	Frames  int      `json:"frames"`
	Stride  int      `json:"stride"`
	Size    int      `json:"size"`
	Linear  bool     `json:"linear,omitempty"` // the head was trained on frozen features
	Init    string   `json:"init,omitempty"`   // what the backbone started from
}

// Backbone builds the spec's backbone and checks that its clips fit it.
func (s ModelSpec) Backbone() (models.Backbone, error) {
	bb, err := models.New(s.Arch, models.Options{Width: s.Width, Widths: s.Widths, Frames: s.Frames, Size: s.Size})
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return bb, nil
}

// withClipDefaults fills zero clip fields: 8 frames, stride 2, 112 pixels.
func (s ModelSpec) withClipDefaults() ModelSpec {
	if s.Frames <= 0 {
		s.Frames = 8
	}
	if s.Stride <= 0 {
		s.Stride = 2
	}
	if s.Size <= 0 {
		s.Size = 112
	}
	return s
}

// runConfigInfo is the part of train's config.json this package reads: the
// "info" entries a pretraining or import run records about its network.
type runConfigInfo struct {
	Info struct {
		Arch   string  `json:"arch"`
		Width  float64 `json:"width"`
		Widths []int   `json:"widths"`
		Frames int     `json:"frames"`
		Stride int     `json:"stride"`
		Size   int     `json:"size"`
	} `json:"info"`
}

// ReadModelSpec reads the network description of a run directory: its
// ModelFile, or else the arch/frames/stride/size entries of the "info" of its
// config.json (what pretraining and import record). Fields it cannot find
// stay zero.
func ReadModelSpec(runDir string) (ModelSpec, error) {
	var spec ModelSpec
	data, err := os.ReadFile(filepath.Join(runDir, ModelFile))
	if err == nil {
		if err := json.Unmarshal(data, &spec); err != nil {
			return spec, fmt.Errorf("%s: not a model description (%v); re-run finetune into a new --out", filepath.Join(runDir, ModelFile), err)
		}
		return spec, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return spec, err
	}
	data, err = os.ReadFile(filepath.Join(runDir, train.ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return spec, nil
	}
	if err != nil {
		return spec, err
	}
	var rc runConfigInfo
	if err := json.Unmarshal(data, &rc); err != nil {
		return spec, fmt.Errorf("%s: not a run config (%v)", filepath.Join(runDir, train.ConfigFile), err)
	}
	i := rc.Info
	return ModelSpec{Arch: i.Arch, Width: i.Width, Widths: i.Widths, Frames: i.Frames, Stride: i.Stride, Size: i.Size}, nil
}

// WriteModelSpec writes spec to runDir/ModelFile.
func WriteModelSpec(runDir string, spec ModelSpec) error {
	return report.WriteJSON(filepath.Join(runDir, ModelFile), spec)
}

// InitKind tells what an --init value names.
type InitKind int

// The kinds of initialisation.
const (
	InitScratch InitKind = iota // random initialisation
	InitRun                     // a run directory with checkpoint.safetensors
	InitFile                    // a .safetensors weights file
)

// ResolveInit classifies init ("scratch", "", a run directory or a
// .safetensors file) and checks that its weights exist.
func ResolveInit(init string) (InitKind, error) {
	if init == "" || init == "scratch" {
		return InitScratch, nil
	}
	st, err := os.Stat(init)
	if err != nil {
		return 0, cli.Usagef("--init %s: no such run directory or weights file; use scratch, a run directory or a .safetensors file", init)
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(init, train.CheckpointFile)); err != nil {
			return 0, cli.Usagef("--init %s: the run directory has no %s; finish (or --resume) that run first", init, train.CheckpointFile)
		}
		return InitRun, nil
	}
	if !strings.HasSuffix(strings.ToLower(init), ".safetensors") {
		return 0, cli.Usagef("--init %s: not a .safetensors file; give a run directory, a .safetensors file or scratch", init)
	}
	return InitFile, nil
}

// mergeSpec fills the zero fields of want from have (a flag left unset
// takes the init run's value).
func mergeSpec(want, have ModelSpec) ModelSpec {
	if want.Arch == "" {
		want.Arch = have.Arch
		if want.Width == 0 && len(want.Widths) == 0 {
			want.Width, want.Widths = have.Width, have.Widths
		}
	}
	if want.Frames <= 0 {
		want.Frames = have.Frames
	}
	if want.Stride <= 0 {
		want.Stride = have.Stride
	}
	if want.Size <= 0 {
		want.Size = have.Size
	}
	return want
}
