package pretrain

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/train"
)

// definingSettings are the settings that make a pretraining run what it is,
// in the order a resume checks them: the command, the method, the network
// and its clips, the data, then the method's options and the optimiser.
// Those under "info." are what runOptions records in config.json, so the
// record and the check cannot drift apart. Epochs and --steps are left out:
// a run may be extended.
func definingSettings(c Config) []train.Setting {
	p := c.Pretext.WithDefaults()
	format := c.Format
	if format == "" {
		format = dataset.FormatAuto
	}
	return []train.Setting{
		train.CommandSetting("pretrain", "finetune"), // pretrain has always recorded it
		{Name: "--method", Key: "info.method", Value: c.Method},
		{Name: "--arch", Key: "info.arch", Value: c.Arch},
		{Name: "--width", Key: "info.width", Value: c.Width},
		{Name: "--frames", Key: "info.frames", Value: c.Frames},
		{Name: "--stride", Key: "info.stride", Value: c.Stride},
		{Name: "--size", Key: "info.size", Value: c.Size},
		{Name: "--data", Key: "info.data", Value: c.Data, Path: true},
		{Name: "--format", Key: "info.format", Value: format},
		// Not "split": in a record, that names the labeled split a run trained on
		// (evaluate's leak checks), and pretraining hides the labels.
		{Name: "--split", Key: "info.pretrain_split", Value: c.Split},
		{Name: "--with-train", Key: "info.with_train", Value: c.WithTrain},
		{Name: "--batch", Key: "config.batch_size", Value: c.Batch},
		{Name: "--seed", Key: "config.seed", Value: c.Seed},
		{Name: "--temperature", Key: "info.temperature", Value: p.Temperature},
		{Name: "--momentum", Key: "info.momentum", Value: p.Momentum},
		{Name: "--queue", Key: "info.queue", Value: c.Pretext.QueueSize}, // 0: chosen from the videos
		{Name: "--mask-ratio", Key: "info.mask_ratio", Value: p.MaskRatio},
		{Name: "--clips", Key: "info.clips", Value: c.Pretext.Clips}, // 0: the method's default
		{Name: "--gap", Key: "info.gap", Value: c.Pretext.Gap},
		{Name: "--no-flip", Key: "info.no_flip", Value: c.Pretext.NoFlip},
		{Name: "--local-motion", Key: "info.local_motion", Value: c.Pretext.LocalMotion, Old: 0.0},            // once recorded only when set
		{Name: "--still", Key: "info.still", Value: c.Pretext.Still, Old: false},                              // absent in records older than the flag
		{Name: "--pan-speed-jitter", Key: "info.pan_speed_jitter", Value: c.Pretext.PanSpeedJitter, Old: 0.0}, // absent in records older than the flag
		{Name: "Pretext.Hidden", Key: "info.hidden", Value: p.Hidden},
		{Name: "Pretext.ProjDim", Key: "info.proj_dim", Value: p.ProjDim},
		{Name: "--lr", Key: "config.lr", Value: c.LR},
		{Name: "--weight-decay", Key: "config.weight_decay", Value: c.WeightDecay},
		{Name: "--warmup", Key: "config.warmup_steps", Value: c.Warmup},
		{Name: "--dtype", Key: "config.dtype", Value: c.DType},
	}
}

// dataSettings are what the data gave the run, checked once it is loaded:
// the same flags over a changed dataset are not the same run.
func dataSettings(c Config, videos int) []train.Setting {
	return []train.Setting{
		{Name: "pretraining videos", Key: "info.videos", Value: videos,
			Fix: func(string) string { return "restore the dataset in " + c.Data + " it was made with" }},
	}
}

// openResume returns the record of the run c resumes, after checking that
// it was made with c's defining settings; nil when c starts a run (no
// --resume, or no checkpoint to resume). It writes nothing.
func openResume(c Config) (train.RunRecord, error) {
	if !c.Resume {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(c.Out, train.CheckpointFile)); err != nil {
		return nil, nil // nothing to resume: the run starts fresh
	}
	rec, err := train.ReadRunRecord(filepath.Join(c.Out, train.ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usagef("cannot resume %s: it holds a checkpoint but no %s, so it was not made by vidrep pretrain; use a new --out without --resume",
			c.Out, train.ConfigFile)
	}
	if err != nil {
		return nil, err
	}
	return rec, rec.Check(c.Out, definingSettings(c)...)
}
