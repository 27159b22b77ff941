package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vidrep/vidrep/internal/cli"
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
	SupervisedEpochs                 int
	FinetuneEpochs, FinetuneBatch    int
	FinetuneLR                       float64
	EvalClips, EvalCrops             int
	DType                            string
}

func (c Config) cellSettings() cellSettings {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil && p != "" {
			return a
		}
		return p
	}
	return cellSettings{
		Data: abs(c.Data), Format: c.Format, Supervised: abs(c.Supervised), Import: abs(c.Import), Split: c.Split,
		Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
		NoFlip: c.NoFlip, ProbeHead: c.ProbeHead, ProbeWeightDecay: c.ProbeWeightDecay,
		PretrainWithTrain: c.PretrainWithTrain, PretrainEpochs: c.PretrainEpochs, PretrainBatch: c.PretrainBatch,
		PretrainLR: c.PretrainLR, SupervisedEpochs: c.SupervisedEpochs, FinetuneEpochs: c.FinetuneEpochs,
		FinetuneBatch: c.FinetuneBatch, FinetuneLR: c.FinetuneLR, EvalClips: c.EvalClips, EvalCrops: c.EvalCrops,
		DType: c.DType,
	}
}

// checkSettings records c's settings in c.Out on the first run and, on a
// later one, refuses settings that differ from the recorded ones: the
// finished work there would otherwise be reused as if it had been computed
// with the new settings.
func (c Config) checkSettings() error {
	want, err := json.MarshalIndent(c.cellSettings(), "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(c.Out, SettingsFile)
	have, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, sub := range []string{"cells", "pretrain"} {
			if _, err := os.Stat(filepath.Join(c.Out, sub)); err == nil {
				return cli.Usagef("experiment: %s holds work from a vidrep that did not record its settings (no %s), so it cannot be reused safely; choose another --out, or delete it to start over", c.Out, SettingsFile)
			}
		}
		if err := os.MkdirAll(c.Out, 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, append(want, '\n'), 0o644)
	case err != nil:
		return err
	case !bytes.Equal(bytes.TrimSpace(have), want):
		return cli.Usagef("experiment: %s holds work computed with other settings (see its %s); choose another --out, or delete it to start over", c.Out, SettingsFile)
	}
	return nil
}
