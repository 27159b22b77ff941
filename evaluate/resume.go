package evaluate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/train"
)

// LinearFile is the record a linear-probe run leaves (it has no config.json):
// the probe's summary and the same "info" a fine-tuning run's config.json has.
const LinearFile = "linear.json"

// definingSettings are the settings that make a fine-tuning or linear-probe
// run what it is, in the order a resume checks them: the command and
// protocol, the initialisation and network, the data and label budget, then
// the protocol's training settings. Those under "info." are what the run
// records (network.info), so the record and the check cannot drift apart.
// Settings derived from the data come later (dataSettings); the warm-up
// steps, derived from epochs and the label budget, are left to train.Run.
func definingSettings(cfg FinetuneConfig, spec ModelSpec) []train.Setting {
	format := cfg.Format
	if format == "" {
		format = dataset.FormatAuto
	}
	s := []train.Setting{
		// Pretraining has always recorded its command; a record without one
		// is a fine-tuning or probe run made through the Go API.
		train.CommandSetting("finetune", "finetune"),
		{Name: "--linear", Key: "info.linear", Value: cfg.Linear},
		{Name: "--init", Key: "info.init", Value: cfg.Init, Path: true},
		{Name: "--arch", Key: "info.arch", Value: spec.Arch},
		{Name: "--width", Key: "info.width", Value: spec.Width},
		{Name: "Widths", Key: "info.widths", Value: spec.Widths},
		{Name: "--frames", Key: "info.frames", Value: spec.Frames},
		{Name: "--stride", Key: "info.stride", Value: spec.Stride},
		{Name: "--size", Key: "info.size", Value: spec.Size},
		{Name: "--data", Key: "info.data", Value: cfg.DataRoot, Path: true},
		{Name: "--format", Key: "info.format", Value: format},
		{Name: "--split", Key: "info.split", Value: cfg.Split},
		{Name: "--labels", Key: "info.labels", Value: cfg.Labels},
		{Name: "--seed", Key: "info.seed", Value: cfg.Seed},
	}
	if cfg.Linear {
		lc := cfg.LinearCfg.withDefaults()
		return append(s,
			train.Setting{Name: "--linear-clips", Key: "info.linear_clips", Value: cfg.LinearClips},
			train.Setting{Name: "--probe-weight-decay", Key: "probe.config.weight_decay", Value: lc.WeightDecay},
			train.Setting{Name: "LinearCfg.Steps", Key: "probe.config.steps", Value: lc.Steps},
			train.Setting{Name: "LinearCfg.LR", Key: "probe.config.lr", Value: lc.LR},
		)
	}
	optimizer := strings.ToLower(cfg.Optimizer)
	if optimizer == "" {
		optimizer = "adamw"
	}
	dtype := cfg.DType
	if dtype == "" {
		dtype = "f32"
	}
	return append(s,
		train.Setting{Name: "--seed", Key: "config.seed", Value: cfg.Seed}, // runs made before info.seed
		train.Setting{Name: "--epochs", Key: "config.epochs", Value: cfg.Epochs},
		train.Setting{Name: "--batch", Key: "info.batch", Value: cfg.Batch},
		train.Setting{Name: "--optimizer", Key: "config.optimizer", Value: optimizer},
		train.Setting{Name: "--lr", Key: "config.lr", Value: cfg.LR},
		// config.json leaves the multiplier out when it is 1.
		train.Setting{Name: "--backbone-lr-mult", Key: "config.lr_multipliers." + BackboneScope, Value: cfg.BackboneLRMult, Old: 1.0},
		train.Setting{Name: "--weight-decay", Key: "config.weight_decay", Value: cfg.WeightDecay},
		train.Setting{Name: "--warmup-epochs", Key: "info.warmup_epochs", Value: cfg.WarmupEpochs},
		train.Setting{Name: "--label-smoothing", Key: "info.label_smoothing", Value: cfg.LabelSmoothing},
		train.Setting{Name: "--augment", Key: "info.augment", Value: cfg.Augment},
		train.Setting{Name: "--no-flip", Key: "info.no_flip", Value: cfg.NoFlip},
		// Runs made before --probe-head had none.
		train.Setting{Name: "--probe-head", Key: "info.probe_head", Value: cfg.ProbeHead, Old: false},
		train.Setting{Name: "--dtype", Key: "config.dtype", Value: dtype},
	)
}

// dataSettings are what the data gave the run, checked once the labeled
// subset is drawn: the same flags over a changed dataset are not the same run.
func dataSettings(cfg FinetuneConfig, videos, classes int) []train.Setting {
	restore := func(string) string { return "restore the dataset in " + cfg.DataRoot + " it was made with" }
	s := []train.Setting{
		{Name: "classes in --data", Key: "info.classes", Value: classes, Fix: restore},
		{Name: "labeled training videos", Key: "info.train_videos", Value: videos, Fix: restore},
	}
	if cfg.Linear {
		return s
	}
	return append(s,
		// What --batch came to on this subset, for runs made before info.batch.
		train.Setting{Name: "--batch", Key: "config.batch_size", Value: min(cfg.Batch, videos)},
		// Runs made before precise batch norm had none.
		train.Setting{Name: "--precise-bn-batches", Key: "info.precise_bn_batches", Value: preciseBNBatches(cfg, videos), Old: 0},
	)
}

// preciseBNBatches is the size of the precise batch-norm pass a fine-tuning
// run on videos labeled videos makes (0: none).
func preciseBNBatches(cfg FinetuneConfig, videos int) int {
	switch {
	case cfg.NoPreciseBN:
		return 0
	case cfg.PreciseBNBatches > 0:
		return cfg.PreciseBNBatches
	}
	return defaultPreciseBNBatches(videos, max(1, min(cfg.Batch, videos)))
}

// openResume returns the record of the run cfg resumes, after checking that
// it was made by finetune with cfg's defining settings; nil when cfg starts
// a run (no --resume, or no checkpoint in Out). It writes nothing.
func openResume(cfg FinetuneConfig, spec ModelSpec) (train.RunRecord, error) {
	if !cfg.Resume {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, train.CheckpointFile)); err != nil {
		return nil, nil // nothing to resume: the run starts fresh
	}
	rec, err := readRecord(cfg.Out)
	if err == nil {
		return rec, rec.Check(cfg.Out, definingSettings(cfg, spec)...)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return nil, cli.Usagef("cannot resume %s: it holds a checkpoint but neither %s nor %s, so it was not made by vidrep finetune (an import?); use a new --out without --resume",
		cfg.Out, train.ConfigFile, LinearFile)
}

// checkResumeData checks what the data gives the resumed run against its
// record, its SubsetFile and its ModelFile: the labeled videos and the
// classes must be those it was trained on. It writes nothing.
func checkResumeData(cfg FinetuneConfig, rec train.RunRecord, subset []dataset.Sample, classes []string) error {
	if err := rec.Check(cfg.Out, dataSettings(cfg, len(subset), len(classes))...); err != nil {
		return err
	}
	fix := "restore the dataset it was made with, or use a new --out without --resume"
	if list, err := os.ReadFile(filepath.Join(cfg.Out, SubsetFile)); err == nil && string(list) != subsetList(subset) {
		return train.MismatchErrorf("cannot resume %s: the labeled training videos of --data %s (--labels %s, --seed %d) are not the %d listed in its %s; %s",
			cfg.Out, cfg.DataRoot, cfg.Labels, cfg.Seed, strings.Count(string(list), "\n"), SubsetFile, fix)
	}
	if have, err := readOwnSpec(cfg.Out); err == nil && have != nil && have.Classes != nil && !slices.Equal(have.Classes, classes) {
		return train.MismatchErrorf("cannot resume %s: it was made for the classes %v of its %s, --data %s now has %v; %s",
			cfg.Out, have.Classes, ModelFile, cfg.DataRoot, classes, fix)
	}
	return nil
}

// readOwnSpec reads dir's own ModelFile; nil when it has none.
func readOwnSpec(dir string) (*ModelSpec, error) {
	if _, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil {
		return nil, nil
	}
	spec, err := ReadModelSpec(dir)
	return &spec, err
}

// writeRunFiles writes the run's ModelFile and SubsetFile. A resumed run
// leaves a file that already says the same untouched.
func writeRunFiles(out string, spec ModelSpec, subset []dataset.Sample, resuming bool) error {
	if have, err := readOwnSpec(out); !resuming || err != nil || have == nil || !reflect.DeepEqual(*have, spec) {
		if err := WriteModelSpec(out, spec); err != nil {
			return err
		}
	}
	list := subsetList(subset)
	if have, err := os.ReadFile(filepath.Join(out, SubsetFile)); resuming && err == nil && string(have) == list {
		return nil
	}
	return writeSubset(filepath.Join(out, SubsetFile), subset)
}
