package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gomlx/compute"
)

// Record is one line of metrics.jsonl: a logged step (Kind "step", loss and
// accuracy averaged over the steps since the previous line) or the end of
// an epoch (Kind "epoch", averaged over the epoch). Epoch counts from 1.
// Epoch records also carry the process's memory at the epoch's end and,
// when the Data is a loader (see LoaderStats), how data-bound the epoch was.
type Record struct {
	Kind      string   `json:"kind"`
	Step      int      `json:"step"`
	Epoch     int      `json:"epoch"`
	Loss      float64  `json:"loss"`
	Accuracy  *float64 `json:"accuracy,omitempty"`
	LR        float64  `json:"lr"`
	GradNorm  float64  `json:"grad_norm,omitempty"`
	ClipsPerS float64  `json:"clips_per_s"`
	ElapsedS  float64  `json:"elapsed_s"`
	// RSSMB is the process's resident set (VmRSS, MiB) at the epoch's end;
	// absent (0) on step records and where /proc is unavailable.
	RSSMB float64 `json:"rss_mb,omitempty"`
	// PeakRSSMB is the process's peak resident set (VmHWM, MiB) so far.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// LoaderWait is the share of the epoch's wall time the training step
	// waited for a batch, in [0,1]; nil when the Data has no loader stats.
	LoaderWait *float64 `json:"loader_wait_frac,omitempty"`
	// LoaderBusy is the loader workers' utilisation over the epoch, in [0,1].
	LoaderBusy *float64 `json:"loader_busy_frac,omitempty"`
}

// Summary is what a finished run reports; it is written to summary.json.
type Summary struct {
	Steps      int      `json:"steps"`              // optimizer steps done
	Epochs     int      `json:"epochs"`             // epochs completed
	Loss       float64  `json:"loss"`               // mean loss of the last epoch (or last steps)
	Accuracy   *float64 `json:"accuracy,omitempty"` // mean accuracy of the same steps, if the loss gives one
	ElapsedS   float64  `json:"elapsed_s"`          // training time, all sessions together
	ClipsPerS  float64  `json:"clips_per_s"`        // throughput of this session
	Params     int      `json:"params"`             // model parameters (optimizer state excluded)
	Checkpoint string   `json:"checkpoint"`         // path of the final checkpoint
	Resumed    bool     `json:"resumed"`            // whether this session resumed a run
	Backend    string   `json:"backend"`            // backend name
	PeakRSSMB  float64  `json:"peak_rss_mb"`        // peak resident set of the process (VmHWM, MiB; 0 without /proc)
}

// ReadMetrics parses a metrics.jsonl file.
func ReadMetrics(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: not a metrics record: %v", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// truncateMetrics keeps the records of path up to step (those a resumed run
// will not write again).
func truncateMetrics(path string, step int) error {
	records, err := ReadMetrics(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return writeAtomically(path, func(w0 io.Writer) error {
		w := bufio.NewWriter(w0)
		enc := json.NewEncoder(w)
		for _, r := range records {
			if r.Step <= step {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
		}
		return w.Flush()
	})
}

// metricsWriter appends records to metrics.jsonl, one JSON object per line.
type metricsWriter struct {
	f *os.File
}

func openMetrics(path string) (*metricsWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot write metrics: %w", err)
	}
	return &metricsWriter{f: f}, nil
}

func (m *metricsWriter) write(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = m.f.Write(append(line, '\n'))
	return err
}

func (m *metricsWriter) close() error { return m.f.Close() }

// writeJSON writes v as indented JSON to path, atomically.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomically(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// runConfig is the content of config.json.
type runConfig struct {
	Config             Config         `json:"config"`
	Version            string         `json:"version"`
	Backend            string         `json:"backend"`
	BackendDescription string         `json:"backend_description"`
	GoVersion          string         `json:"go_version"`
	StepsPerEpoch      int            `json:"steps_per_epoch"`
	TotalSteps         int            `json:"total_steps"`
	Created            string         `json:"created"`
	Info               map[string]any `json:"info,omitempty"`
}

func newRunConfig(cfg Config, backend compute.Backend, stepsPerEpoch, total int, info map[string]any) runConfig {
	version := buildVersion()
	if v, ok := info["version"].(string); ok && v != "" {
		version = v
	}
	return runConfig{Config: cfg, Version: version, Backend: backend.Name(), BackendDescription: backend.Description(),
		GoVersion: runtime.Version(), StepsPerEpoch: stepsPerEpoch, TotalSteps: total,
		Created: time.Now().UTC().Format(time.RFC3339), Info: info}
}

// buildVersion is the module version and VCS revision of the binary, if known.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	version := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			version += " " + s.Value
		}
	}
	return version
}

// checkResumable compares the optimiser settings that fix a run's trajectory
// with those in an existing config.json; epochs, steps and logging may
// change. It is Run's own guard: the commands check the settings that define
// their runs (RunRecord.Check) before they write anything.
func checkResumable(path string, cfg Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil // no config to compare with: the checkpoint alone decides
	}
	var old runConfig
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("%s: not a run config (%v); remove it or resume in the right run directory", path, err)
	}
	o := old.Config
	diffs := []struct {
		name     string
		old, new any
	}{
		{"optimizer", o.Optimizer, cfg.Optimizer}, {"batch", o.BatchSize, cfg.BatchSize},
		{"lr", o.LR, cfg.LR}, {"accum", o.AccumSteps, cfg.AccumSteps}, {"dtype", o.DType, cfg.DType},
		{"seed", o.Seed, cfg.Seed}, {"schedule", o.Schedule, cfg.Schedule},
		{"weight decay", o.WeightDecay, cfg.WeightDecay}, {"clip norm", o.ClipNorm, cfg.ClipNorm},
		{"momentum", o.Momentum, cfg.Momentum}, {"min lr", o.MinLR, cfg.MinLR},
		// Last: callers often derive the warm-up from other settings
		// (epochs, the label budget), which should be named instead.
		{"warmup steps", o.WarmupSteps, cfg.WarmupSteps},
	}
	for _, d := range diffs {
		if d.old != d.new {
			return fmt.Errorf("cannot resume %s: it was trained with %s %v, now %v; use the same setting or a new run directory",
				path, d.name, d.old, d.new)
		}
	}
	return nil
}
