package experiment

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/pretext/pretrain"
	"github.com/vidrep/vidrep/train"
)

// SettingsFile is the file in an experiment directory that records the
// settings its pretrainings and cells were computed with.
const SettingsFile = "settings.json"

// cellSettings are the settings that change what a finished pretraining or
// cell holds. Methods, label budgets, seeds and protocols are left out: a
// rerun may add to them and reuse the work already done.
type cellSettings struct {
	Data, Format, Supervised, Import string
	Split                            int
	Arch                             string
	Width                            float64
	Frames, Stride, Size             int
	NoFlip, ProbeHead                bool
	ProbeWeightDecay                 float64
	PretrainWithTrain                bool
	PretrainEpochs, PretrainBatch    int
	PretrainLR                       float64
	PretrainWarmup                   int     `json:",omitempty"` // absent in records older than the field, which had none
	PretrainSeeds                    int     `json:",omitempty"` // recorded when above 1: older records had one pretraining
	PretrainCandidates               int     `json:",omitempty"` // recorded when above 1: older records had one candidate
	PretrainLocalMotion              float64 `json:",omitempty"` // absent in records older than the field, which had none
	PretrainPanSpeedJitter           float64 `json:",omitempty"` // absent in records older than the field, which had none
	SupervisedEpochs                 int
	FinetuneEpochs, FinetuneBatch    int
	FinetuneLR                       float64
	EvalClips, EvalCrops             int
	DType                            string
}

func (c Config) cellSettings() cellSettings {
	// Paths are kept relative to Out, so that a directory moved together
	// with its data (the demo's demo-out/data beside demo-out/experiment)
	// still matches.
	path := func(p string) string {
		if p == "" {
			return p
		}
		a, errA := filepath.Abs(p)
		out, errO := filepath.Abs(c.Out)
		if errA != nil || errO != nil {
			return p
		}
		if rel, err := filepath.Rel(out, a); err == nil {
			return rel
		}
		return a
	}
	return cellSettings{
		Data: path(c.Data), Format: c.Format, Supervised: path(c.Supervised), Import: path(c.Import), Split: c.Split,
		Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
		NoFlip: c.NoFlip, ProbeHead: c.ProbeHead, ProbeWeightDecay: c.ProbeWeightDecay,
		PretrainWithTrain: c.PretrainWithTrain, PretrainEpochs: c.PretrainEpochs, PretrainBatch: c.PretrainBatch,
		PretrainLR: c.PretrainLR, PretrainWarmup: c.PretrainWarmup, PretrainSeeds: recordedCount(c.PretrainSeeds),
		PretrainCandidates:  recordedCount(c.PretrainCandidates),
		PretrainLocalMotion: c.PretrainLocalMotion, PretrainPanSpeedJitter: c.PretrainPanSpeedJitter, SupervisedEpochs: c.SupervisedEpochs, FinetuneEpochs: c.FinetuneEpochs,
		FinetuneBatch: c.FinetuneBatch, FinetuneLR: c.FinetuneLR, EvalClips: c.EvalClips, EvalCrops: c.EvalCrops,
		DType: c.DType,
	}
}

// recordedCount is a count of pretrainings (PretrainSeeds,
// PretrainCandidates) as settings.json holds it: 0 (left out) for one, as
// every record made before the setting existed.
func recordedCount(n int) int {
	if n <= 1 {
		return 0
	}
	return n
}

// checkSettings records c's settings in c.Out and, when the directory
// already holds work (a finished cell, a pretrained backbone or a
// checkpoint to resume), refuses settings that differ from the recorded
// ones: that work would otherwise be reused as if computed with the new
// settings. Work with no record (an older vidrep) is refused too.
func (c Config) checkSettings() error {
	want, err := json.MarshalIndent(c.cellSettings(), "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(c.Out, SettingsFile)
	have, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if hasWork(c.Out) {
		if err != nil {
			return cli.Usagef("experiment: %s holds work from a vidrep that did not record its settings (no %s), so it cannot be reused safely; choose another --out, or delete it to start over", c.Out, SettingsFile)
		}
		if diff := differingFields(have, want); len(diff) > 0 {
			return cli.Usagef("experiment: %s holds work computed with other settings (%s differ from its %s); choose another --out, or delete it to start over", c.Out, strings.Join(diff, ", "), SettingsFile)
		}
		return nil
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(want, '\n'), 0o644)
}

// hasWork reports whether out holds a finished cell, a pretrained backbone
// or a training checkpoint.
func hasWork(out string) bool {
	found := false
	for _, sub := range []string{"cells", "pretrain"} {
		_ = filepath.WalkDir(filepath.Join(out, sub), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (d.Name() == cellFile || d.Name() == pretrain.BackboneFile || d.Name() == train.CheckpointFile) {
				found = true
				return filepath.SkipAll
			}
			return nil
		})
	}
	return found
}

// differingFields lists the settings whose recorded and wanted JSON values
// differ (a field only one side has counts as differing).
func differingFields(have, want []byte) []string {
	var a, b map[string]any
	if json.Unmarshal(have, &a) != nil || json.Unmarshal(want, &b) != nil {
		return []string{"the whole file (unreadable)"}
	}
	var diff []string
	for k, v := range b {
		if w, ok := a[k]; !ok || !reflect.DeepEqual(v, w) {
			diff = append(diff, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			diff = append(diff, k)
		}
	}
	sort.Strings(diff)
	return diff
}
