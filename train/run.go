package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vidrep/vidrep/internal/memstat"
	"github.com/vidrep/vidrep/internal/progress"
	"github.com/vidrep/vidrep/loader"
)

// bf16Anywhere lets tests exercise the bf16 graph on the Go backend.
var bf16Anywhere = false

// run is the state of one Run call.
type run struct {
	ctx      context.Context
	backend  compute.Backend
	store    *model.Store
	dir      string
	cfg      Config
	opts     runOptions
	loss     LossFn
	data     Data
	spe      int // optimizer steps per epoch
	total    int // optimizer steps of the whole run
	state    trainState
	start    time.Time
	metrics  *metricsWriter
	bar      *progress.Bar
	stepper  *stepper
	lastSave int // step of the last checkpoint written
	clips0   int64
	atFinal  bool // resumed from the final checkpoint: nothing left to do
	window   window
	last     Record // last epoch (or window) record, for the summary
	hasLast  bool
	meter    epochMeter // memory and loader counters of the current epoch
}

// window accumulates the steps between two metrics lines.
type window struct {
	steps        int
	loss, acc    float64
	clips        int64
	start        time.Time
	gradNorm, lr float64
}

// Run trains the variables of store on data with the loss and writes the run
// directory runDir: config.json, checkpoint.safetensors (every
// CheckpointEvery steps, on cancellation of ctx and at the end),
// metrics.jsonl and summary.json. A cancelled ctx stops the run after the
// current step with a checkpoint saved; WithResume(true) continues it.
func Run(ctx context.Context, backend compute.Backend, store *model.Store, runDir string, cfg Config,
	loss LossFn, data Data, opts ...Option) (*Summary, error) {
	r, err := newRun(ctx, backend, store, runDir, cfg, loss, data, opts)
	if err != nil {
		return nil, err
	}
	defer r.metrics.close()
	if err := r.loop(); err != nil {
		return nil, err
	}
	return r.finish()
}

func newRun(ctx context.Context, backend compute.Backend, store *model.Store, runDir string, cfg Config,
	loss LossFn, data Data, opts []Option) (*run, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if backend == nil || store == nil || loss == nil || data == nil || runDir == "" {
		return nil, fmt.Errorf("train: Run needs a backend, a store, a loss, data and a run directory")
	}
	r := &run{ctx: ctx, backend: backend, store: store, dir: runDir, cfg: cfg, loss: loss, data: data, start: time.Now()}
	for _, o := range opts {
		o(&r.opts)
	}
	if err := checkDType(cfg, backend); err != nil {
		return nil, err
	}
	r.spe = data.StepsPerEpoch() / cfg.AccumSteps
	if r.spe < 1 {
		return nil, fmt.Errorf("train: the data gives %d batches per epoch, fewer than --accum %d; use more clips or a smaller --batch",
			data.StepsPerEpoch(), cfg.AccumSteps)
	}
	r.total = cfg.Epochs * r.spe
	if cfg.Steps > 0 && cfg.Steps < r.total {
		r.total = cfg.Steps
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create run directory: %w", err)
	}
	if err := r.startOrResume(); err != nil {
		return nil, err
	}
	r.metrics, err = openMetrics(filepath.Join(runDir, MetricsFile))
	return r, err
}

// startOrResume restores the checkpoint (resume) or starts a fresh run.
func (r *run) startOrResume() error {
	ckpt := filepath.Join(r.dir, CheckpointFile)
	_, statErr := os.Stat(ckpt)
	exists := statErr == nil
	if exists && !r.opts.resume {
		return fmt.Errorf("%s already holds a checkpoint; pass --resume to continue that run or choose another --out", r.dir)
	}
	if exists {
		if err := checkResumable(filepath.Join(r.dir, ConfigFile), r.cfg); err != nil {
			return err
		}
		state, err := restoreCheckpoint(ckpt, r.store)
		if err != nil {
			return err
		}
		r.state, r.lastSave, r.clips0 = state, state.Step, state.Clips
		r.atFinal = state.Step >= r.total
		return truncateMetrics(filepath.Join(r.dir, MetricsFile), state.Step)
	}
	r.opts.resume = false
	r.store.SetParam(model.ParamInitialSeed, int64(r.cfg.Seed))
	if err := r.store.SetRNGStateFromSeed(int64(r.cfg.Seed)); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(r.dir, MetricsFile)); err != nil && !os.IsNotExist(err) {
		return err
	}
	rc := newRunConfig(r.cfg, r.backend, r.spe, r.total, r.opts.info)
	return writeJSON(filepath.Join(r.dir, ConfigFile), rc)
}

// loop runs epochs until the run's last step.
func (r *run) loop() error {
	if !r.opts.quiet {
		out := r.opts.progressOut
		if out == nil {
			r.bar = progress.New("train", r.total-r.state.Step)
		} else {
			r.bar = progress.NewTo(out, "train", r.total-r.state.Step, r.opts.terminal)
		}
		defer r.bar.Finish()
	}
	r.window = window{start: time.Now()}
	for r.state.Step < r.total {
		r.meter = newEpochMeter(r.data)
		batches, err := r.data.Epoch(r.state.Epoch, r.state.StepInEpoch*r.cfg.AccumSteps)
		if err != nil {
			return fmt.Errorf("train: epoch %d: %w", r.state.Epoch+1, err)
		}
		err = r.epoch(batches)
		if cerr := batches.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// epoch runs the steps of the current epoch (or until the run's last step).
func (r *run) epoch(batches Batches) error {
	for r.state.Step < r.total {
		if err := r.ctx.Err(); err != nil {
			if serr := r.save(); serr != nil {
				return serr
			}
			return fmt.Errorf("training interrupted at step %d of %d (checkpoint saved in %s; continue with --resume): %w",
				r.state.Step, r.total, r.dir, err)
		}
		if err := r.step(batches); err != nil {
			return err
		}
		epochDone := r.state.StepInEpoch == r.spe
		if epochDone {
			if err := r.endEpoch(); err != nil {
				return err
			}
		}
		if r.cfg.CheckpointEvery > 0 && r.state.Step%r.cfg.CheckpointEvery == 0 && r.state.Step < r.total {
			if err := r.save(); err != nil {
				return err
			}
		}
		if r.opts.afterStep != nil {
			if err := r.opts.afterStep(r.state.Step); err != nil {
				return err
			}
		}
		if epochDone {
			return nil
		}
	}
	return nil
}

// step runs AccumSteps batches and one optimizer update.
func (r *run) step(batches Batches) error {
	lr := LearningRate(r.cfg, r.state.Step, r.total)
	var lossSum, accSum, norm float64
	for k := 0; k < r.cfg.AccumSteps; k++ {
		b, err := batches.Next()
		if err == io.EOF {
			return fmt.Errorf("train: the data ended after %d batches of epoch %d, but it promised %d per epoch",
				r.state.StepInEpoch*r.cfg.AccumSteps+k, r.state.Epoch+1, r.data.StepsPerEpoch())
		}
		if err != nil {
			return fmt.Errorf("train: epoch %d: %w", r.state.Epoch+1, err)
		}
		if err := r.ensureStepper(b); err != nil {
			return err
		}
		res, err := r.stepper.run(b, k == r.cfg.AccumSteps-1, r.state.Step+1, lr)
		if err != nil {
			return fmt.Errorf("train: step %d: %w", r.state.Step+1, err)
		}
		if math.IsNaN(res.loss) || math.IsInf(res.loss, 0) {
			return r.diverged(res.loss)
		}
		lossSum += res.loss
		accSum += res.accuracy
		norm = res.gradNorm
		r.state.Clips += int64(b.ViewShape[0])
		r.window.clips += int64(b.ViewShape[0])
	}
	n := float64(r.cfg.AccumSteps)
	r.state.Step++
	r.state.StepInEpoch++
	r.state.EpochLoss += lossSum / n
	r.state.EpochAcc += accSum / n
	r.state.EpochSteps++
	r.window.steps++
	r.window.loss += lossSum / n
	r.window.acc += accSum / n
	r.window.gradNorm, r.window.lr = norm, lr
	if r.bar != nil {
		r.bar.SetExtra("loss %.4f  %.1f clips/s", lossSum/n, r.clipsPerS())
		r.bar.Add(1)
	}
	if r.state.Step%r.cfg.LogEvery == 0 || r.state.Step == 1 || r.state.Step == r.total {
		return r.logWindow()
	}
	return nil
}

// ensureStepper compiles the step graphs on the first batch.
func (r *run) ensureStepper(batch *loader.Batch) error {
	if r.stepper != nil {
		return nil
	}
	s, err := newStepper(r.backend, r.store, &r.cfg, r.loss, batch)
	if err != nil {
		return fmt.Errorf("train: building the training step: %w", err)
	}
	r.stepper = s
	return nil
}

// diverged reports a NaN or Inf loss; the last checkpoint stays as it was.
func (r *run) diverged(loss float64) error {
	kept := "no checkpoint was written yet"
	if r.lastSave > 0 {
		kept = fmt.Sprintf("%s keeps the last good checkpoint (step %d)", filepath.Join(r.dir, CheckpointFile), r.lastSave)
	}
	return fmt.Errorf("train: the loss became %v at step %d (epoch %d, lr %.3g); the run stopped and %s; "+
		"lower --lr, set --clip-norm, or use --dtype f32", loss, r.state.Step+1, r.state.Epoch+1,
		LearningRate(r.cfg, r.state.Step, r.total), kept)
}

func (r *run) elapsed() float64 { return r.state.ElapsedS + time.Since(r.start).Seconds() }

func (r *run) clipsPerS() float64 {
	s := time.Since(r.start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(r.state.Clips-r.clips0) / s
}

// logWindow writes a step line for the steps since the previous one.
func (r *run) logWindow() error {
	w := r.window
	n := float64(w.steps)
	rec := Record{Kind: "step", Step: r.state.Step, Epoch: r.state.Epoch + 1, Loss: w.loss / n, LR: w.lr,
		GradNorm: w.gradNorm, ElapsedS: r.elapsed()}
	if r.stepper.hasAccuracy {
		a := w.acc / n
		rec.Accuracy = &a
	}
	if s := time.Since(w.start).Seconds(); s > 0 {
		rec.ClipsPerS = float64(w.clips) / s
	}
	r.last, r.hasLast = rec, true
	r.window = window{start: time.Now()}
	return r.metrics.write(rec)
}

// endEpoch writes the epoch line and moves to the next epoch.
func (r *run) endEpoch() error {
	n := float64(r.state.EpochSteps)
	rec := Record{Kind: "epoch", Step: r.state.Step, Epoch: r.state.Epoch + 1, Loss: r.state.EpochLoss / n,
		LR: LearningRate(r.cfg, r.state.Step-1, r.total), ElapsedS: r.elapsed(), ClipsPerS: r.clipsPerS()}
	if r.stepper.hasAccuracy {
		a := r.state.EpochAcc / n
		rec.Accuracy = &a
	}
	r.meter.annotate(&rec)
	r.printEpoch(rec)
	r.last, r.hasLast = rec, true
	r.state.Epoch++
	r.state.StepInEpoch = 0
	r.state.EpochLoss, r.state.EpochAcc, r.state.EpochSteps = 0, 0, 0
	return r.metrics.write(rec)
}

// save writes the checkpoint of the current step.
func (r *run) save() error {
	st := r.state
	st.ElapsedS = r.elapsed()
	if err := saveCheckpoint(filepath.Join(r.dir, CheckpointFile), r.store, st); err != nil {
		return err
	}
	r.lastSave = r.state.Step
	return nil
}

// finish writes the final checkpoint and summary.json.
func (r *run) finish() (*Summary, error) {
	if r.opts.beforeFinal != nil && !r.atFinal {
		if err := r.opts.beforeFinal(); err != nil {
			return nil, err
		}
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	s := &Summary{Steps: r.state.Step, Epochs: r.state.Epoch, ElapsedS: r.elapsed(), ClipsPerS: r.clipsPerS(),
		Checkpoint: filepath.Join(r.dir, CheckpointFile), Resumed: r.opts.resume, Backend: r.backend.Name(),
		PeakRSSMB: round(memstat.PeakRSSMB(), 1)}
	for v := range r.store.IterVariables() {
		if !isInternal(v.Path()) {
			s.Params += v.Shape().Size()
		}
	}
	if r.hasLast {
		s.Loss, s.Accuracy = r.last.Loss, r.last.Accuracy
	} else if recs, err := ReadMetrics(filepath.Join(r.dir, MetricsFile)); err == nil && len(recs) > 0 {
		s.Loss, s.Accuracy = recs[len(recs)-1].Loss, recs[len(recs)-1].Accuracy
	}
	if err := writeJSON(filepath.Join(r.dir, SummaryFile), s); err != nil {
		return nil, err
	}
	return s, nil
}

// checkDType refuses bf16 off XLA: the Go backend's bf16 paths are scalar,
// about 20x slower than its float32 (docs/benchmarks.md).
func checkDType(cfg Config, backend compute.Backend) error {
	if cfg.DType == "bf16" && !bf16Anywhere && !strings.Contains(strings.ToLower(backend.Name()), "xla") {
		return fmt.Errorf("train: --dtype bf16 needs the XLA backend (this is %q); use --dtype f32", backend.Name())
	}
	return nil
}
