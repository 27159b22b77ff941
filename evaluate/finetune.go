package evaluate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/loader"
	"github.com/vidrep/vidrep/models"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// FinetuneConfig configures fine-tuning (or linear probing) on a labeled
// budget of a split's training videos. Zero values take the defaults given.
type FinetuneConfig struct {
	DataRoot string // dataset root
	Format   string // dataset layout ("" or "auto" detects it)
	Split    int    // 1-based split (default 1)
	Labels   string // label budget: "all" (default), "10%", "5/class" (dataset.Subset)
	Out      string // run directory to write (required)

	// Init is "scratch" (default), a run directory (a pretraining, import or
	// earlier fine-tuning run) or a .safetensors weights file. Only the
	// backbone's weights are taken from it.
	Init string
	// Arch and its widths; left empty, they come from the Init run.
	Arch   string
	Width  float64
	Widths []int
	// Clip geometry; zero takes the Init run's, else 8 frames, stride 2, 112 px.
	Frames, Stride, Size int

	// Linear freezes the backbone: features are extracted once (LinearClips
	// uniformly spaced clips per training video, centre crop, each a training
	// row) and a multinomial logistic regression is fitted on them.
	Linear      bool
	LinearClips int          // default 5
	LinearCfg   LinearConfig // the probe's optimiser settings

	// ProbeHead starts fine-tuning from a linear probe's head instead of a
	// random one (LP-FT, Kumar et al., ICLR 2022): the probe is fitted on
	// the frozen backbone's features first, so the early, large gradients
	// of a random head do not wreck pretrained features. Same protocol for
	// every initialisation, scratch included.
	ProbeHead bool

	Epochs         int     // default 10
	Batch          int     // clips per training batch (default 16; lowered to the subset's size)
	LR             float64 // peak learning rate (default 1e-3)
	BackboneLRMult float64 // learning-rate multiplier of the backbone (default 1)
	WeightDecay    float64 // AdamW decoupled weight decay (default 1e-2)
	WarmupEpochs   float64 // linear warm-up length in epochs (default 1, at most a third of the run)
	// NoBackboneLR, NoWeightDecay and NoWarmup set BackboneLRMult,
	// WeightDecay and WarmupEpochs to zero, which the fields alone cannot
	// say (zero there means the default); the CLI sets them when those flags
	// are given as 0. A zero backbone multiplier trains the head only.
	NoBackboneLR, NoWeightDecay, NoWarmup bool
	LabelSmoothing                        float64 // default 0
	Optimizer                             string  // "adamw" (default) or "sgd"
	DType                                 string  // training compute dtype: "f32" (default) or "bf16" (XLA only; weights stay f32)
	Augment                               string  // training augmentation preset: "train" (default) or "strong"
	// NoFlip turns off horizontal flips, for datasets whose classes have a
	// left/right direction (a mirrored "move right" is "move left"), such as
	// Something-Something v2 and the synthetic motion benchmark.
	NoFlip bool
	Seed   uint64 // fixes the label subset, the initialisation and the data order
	Resume bool   // continue an interrupted run in Out

	// PreciseBNBatches is the size, in training batches, of the pass that
	// recomputes every batch-norm layer's running mean and variance once
	// fine-tuning is done (see recomputeBN): 0 takes one pass over the
	// labeled clips, at least 64 and at most 256 clips; NoPreciseBN keeps the
	// running averages training left. Short runs need it: the running
	// averages (momentum 0.1) lag far behind the weights after a few steps.
	PreciseBNBatches int
	NoPreciseBN      bool

	// EvalClips x EvalCrops views per test video (defaults 10 x 3); SkipEval
	// leaves testing to a later Evaluate.
	EvalClips, EvalCrops int
	SkipEval             bool

	Info map[string]any // extra entries for config.json (version, experiment cell...)
	// AfterStep, when set, is called after each optimizer step of fine-tuning;
	// an error stops the run as a crash would (tests of --resume use it).
	AfterStep func(step int) error
	Runtime
}

// Result is what Finetune did and measured; it is written to Out/result.json.
type Result struct {
	RunDir      string            `json:"run_dir"`
	Init        string            `json:"init"`
	Labels      string            `json:"labels"`
	Seed        uint64            `json:"seed"`
	Linear      bool              `json:"linear"`
	TrainVideos int               `json:"train_videos"` // labeled videos in the budget
	Classes     []string          `json:"classes"`
	Train       *train.Summary    `json:"train,omitempty"`        // fine-tuning's summary (nil for the linear probe)
	Probe       *ProbeSummary     `json:"linear_probe,omitempty"` // the linear probe's summary
	PreciseBN   *PreciseBNSummary `json:"precise_bn,omitempty"`   // the recomputed batch-norm statistics (fine-tuning)
	Test        *EvalResult       `json:"test,omitempty"`         // multi-view test results (nil with SkipEval)
	WallS       float64           `json:"wall_s"`                 // the whole call, testing included
	ClipsPerS   float64           `json:"clips_per_s"`            // training (or feature extraction) throughput
}

// ProbeSummary describes a linear probe's fit.
type ProbeSummary struct {
	Rows      int          `json:"rows"` // training rows (videos x clips)
	Dim       int          `json:"dim"`
	Loss      float64      `json:"final_loss"`
	TrainAcc  float64      `json:"train_acc"`
	Config    LinearConfig `json:"config"`
	ExtractS  float64      `json:"extract_s"`
	FitS      float64      `json:"fit_s"`
	ClipsPerS float64      `json:"clips_per_s"`
}

func (c FinetuneConfig) withDefaults() (FinetuneConfig, error) {
	if c.Out == "" {
		return c, cli.Usagef("no run directory given; pass --out RUN")
	}
	if c.Init == "" {
		c.Init = "scratch"
	}
	if c.Init != "scratch" {
		// Recorded absolute, so that a resume from another directory, or
		// the leak check of a later run, finds the same weights.
		if abs, err := filepath.Abs(c.Init); err == nil {
			c.Init = abs
		}
	}
	if c.Labels == "" {
		c.Labels = "all"
	}
	if c.Split <= 0 {
		c.Split = 1
	}
	if c.Epochs <= 0 {
		c.Epochs = 10
	}
	if c.Batch <= 0 {
		c.Batch = 16
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if (c.NoBackboneLR && c.BackboneLRMult != 0) || (c.NoWeightDecay && c.WeightDecay != 0) || (c.NoWarmup && c.WarmupEpochs != 0) {
		return c, cli.Usagef("finetune: NoBackboneLR, NoWeightDecay and NoWarmup ask for zero, so their fields must be 0")
	}
	if c.BackboneLRMult == 0 && !c.NoBackboneLR {
		c.BackboneLRMult = 1
	}
	if c.WeightDecay == 0 && !c.NoWeightDecay {
		c.WeightDecay = 1e-2
	}
	if c.WarmupEpochs == 0 && !c.NoWarmup {
		c.WarmupEpochs = 1
	}
	if c.LinearClips <= 0 {
		c.LinearClips = 5
	}
	if c.EvalClips <= 0 {
		c.EvalClips = 10
	}
	if c.EvalCrops <= 0 {
		c.EvalCrops = 3
	}
	if c.Augment == "" {
		c.Augment = "train"
	}
	if c.Augment != "train" && c.Augment != "strong" {
		return c, cli.Usagef("unknown augmentation %q; use train or strong", c.Augment)
	}
	if c.LR < 0 || c.BackboneLRMult < 0 || c.WeightDecay < 0 || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1 {
		return c, cli.Usagef("--lr, --backbone-lr-mult and --weight-decay must not be negative and label smoothing must lie in [0,1)")
	}
	if c.DType != "" && c.DType != "f32" && c.DType != "bf16" {
		return c, cli.Usagef("unknown --dtype %q; use f32 or bf16 (bf16 on XLA)", c.DType)
	}
	if c.Linear && c.DType == "bf16" {
		return c, cli.Usagef("--dtype bf16 sets how a network trains; --linear trains none (features are extracted in f32): drop --dtype")
	}
	if err := c.LinearCfg.Check(); err != nil {
		return c, err
	}
	c.Runtime = c.Runtime.withDefaults()
	return c, nil
}

// resolveSpec works out the network: flags first, then the Init run's record.
func (c FinetuneConfig) resolveSpec() (ModelSpec, InitKind, error) {
	kind, err := ResolveInit(c.Init)
	if err != nil {
		return ModelSpec{}, kind, err
	}
	spec := ModelSpec{Arch: c.Arch, Width: c.Width, Widths: c.Widths, Frames: c.Frames, Stride: c.Stride, Size: c.Size, Linear: c.Linear, Init: c.Init}
	if kind == InitRun {
		have, err := ReadModelSpec(c.Init)
		if err != nil {
			return spec, kind, err
		}
		spec = mergeSpec(spec, have)
	}
	if spec.Arch == "" {
		return spec, kind, cli.Usagef("no architecture: pass --arch (one of %v); the init %q does not record one", models.Names(), c.Init)
	}
	return spec.withClipDefaults(), kind, nil
}

// Finetune trains a classifier for the dataset's classes on the label budget
// of a split's training videos, starting from Init, and (unless SkipEval)
// tests it with EvalClips x EvalCrops views per test video. It writes the run
// directory Out: model.json, config.json, checkpoint.safetensors,
// metrics.jsonl and summary.json (fine-tuning) or linear.json (linear
// probe), eval/ and result.json. For a given Seed and Labels every Init sees
// the same labeled subset.
func Finetune(ctx context.Context, cfg FinetuneConfig) (*Result, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	spec, kind, err := cfg.resolveSpec()
	if err != nil {
		return nil, err
	}
	// A resume is checked against the run's record before anything is
	// written to Out: a refused one leaves the directory as it was.
	resumed, err := openResume(cfg, spec)
	if err != nil {
		return nil, err
	}
	cfg.Resume = resumed != nil // --resume without a checkpoint starts the run
	d, split, warns, err := loadChecked(cfg.DataRoot, cfg.Format, cfg.Split, cfg.Runtime, dataCheck{strict: true, run: cfg.Init})
	if err != nil {
		return nil, err
	}
	subset, err := dataset.Subset(split.Train, cfg.Labels, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if len(subset) == 0 {
		return nil, cli.Usagef("--labels %s keeps no training video of split %d; use a larger budget", cfg.Labels, cfg.Split)
	}
	if short, fewest := dataset.ShortClasses(split.Train, cfg.Labels); short > 0 {
		warn(cfg.Runtime, fmt.Sprintf("--labels %s: %d classes of split %d have fewer training videos (the fewest %d), and use all they have",
			cfg.Labels, short, cfg.Split, fewest))
	}
	spec.Classes = d.Classes
	if resumed != nil {
		if err := checkResumeData(cfg, resumed, subset, d.Classes); err != nil {
			return nil, err
		}
	}
	net, err := newNetwork(spec, kind, "--init", cfg.Init, cfg.Runtime)
	if err != nil {
		return nil, err
	}
	defer net.close()
	if err := prepareOut(cfg.Out, cfg.Resume); err != nil {
		return nil, err
	}
	if err := writeRunFiles(cfg.Out, spec, subset, cfg.Resume); err != nil {
		return nil, err
	}
	res := &Result{RunDir: cfg.Out, Init: cfg.Init, Labels: cfg.Labels, Seed: cfg.Seed, Linear: cfg.Linear,
		TrainVideos: len(subset), Classes: d.Classes}
	var probe *LinearModel // testing applies a linear probe to the frozen backbone's features
	if cfg.Linear {
		probe, err = net.linearProbe(ctx, cfg, d.Root, subset, res)
	} else {
		err = net.fineTune(ctx, cfg, d.Root, subset, res)
	}
	if err != nil {
		return nil, err
	}
	if !cfg.SkipEval {
		if res.Test, err = net.evaluate(ctx, cfg.Runtime, d.Root, split.Test, cfg.EvalClips, cfg.EvalCrops, probe); err != nil {
			return nil, err
		}
		res.Test.Warnings = warns
		if err := WriteEval(filepath.Join(cfg.Out, "eval"), res.Test); err != nil {
			return nil, err
		}
	}
	res.WallS = time.Since(start).Seconds()
	return res, report.WriteJSON(filepath.Join(cfg.Out, ResultFile), res)
}

// writeSubset lists the labeled training videos of a run, one path a line,
// so that runs of different initialisations can be checked to share them.
func writeSubset(path string, subset []dataset.Sample) error {
	return report.WriteFile(path, []byte(subsetList(subset)))
}

// subsetList is the content of SubsetFile for subset.
func subsetList(subset []dataset.Sample) string {
	var b strings.Builder
	for _, s := range subset {
		b.WriteString(s.Path + "\n")
	}
	return b.String()
}

// newNetwork builds the backbone and loads the weights of init, given as
// flag (--init, --ckpt), backbone only.
func newNetwork(spec ModelSpec, kind InitKind, flag, init string, rt Runtime) (*network, error) {
	bb, err := spec.Backbone()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if kind != InitScratch {
		if err := train.LoadInto(store, init, BackboneScope); err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, init, err)
		}
	}
	backend, owned, err := rt.openBackend()
	if err != nil {
		return nil, err
	}
	n := &network{backend: backend, owned: owned, store: store, spec: spec, bb: bb}
	if kind != InitScratch {
		if err := n.checkWeightsFit(flag, init, kind); err != nil {
			n.close()
			return nil, err
		}
	}
	return n, nil
}

// checkWeightsFit checks that the backbone weights loaded from init (given
// as flag, which names a run directory or a weights file by kind) are
// exactly the variables of n's backbone, with their shapes: without it,
// weights made for another architecture would be left unused and the
// missing variables initialised at random, a scratch run reported as a
// pretrained one, and another width would fail deep in graph compilation.
func (n *network) checkWeightsFit(flag, init string, kind InitKind) error {
	want, err := n.backboneShapes()
	if err != nil {
		return err
	}
	var fresh, pretrainOnly []string
	if ts, ok := n.bb.(models.TransferScopes); ok {
		fresh, pretrainOnly = ts.FreshOnTransfer(), ts.PretrainOnly()
	}
	var missing, extra, reshaped []string
	for path, shape := range want {
		if underAny(path, fresh) {
			continue
		}
		switch v := n.store.GetVariable(path); {
		case v == nil:
			missing = append(missing, path)
		case !v.Shape().Equal(shape):
			reshaped = append(reshaped, fmt.Sprintf("%s is %s in the file, %s in the backbone", path, v.Shape(), shape))
		}
	}
	for v := range n.store.IterVariables() {
		if _, ok := want[v.Path()]; isBackboneVariable(v.Path()) && !underAny(v.Path(), pretrainOnly) && !ok {
			extra = append(extra, v.Path())
		}
	}
	if len(missing)+len(extra)+len(reshaped) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(reshaped)
	var details []string
	if len(reshaped) > 0 {
		details = append(details, fmt.Sprintf("%d variables differ in shape (first: %s)", len(reshaped), reshaped[0]))
	}
	if len(missing) > 0 {
		details = append(details, fmt.Sprintf("%d of its variables are not in the file (first %s)", len(missing), missing[0]))
	}
	if len(extra) > 0 {
		details = append(details, fmt.Sprintf("the file holds %d variables it does not have (first %s)", len(extra), extra[0]))
	}
	fix := "pass the --arch and --width they were trained with"
	if kind == InitRun {
		fix += " (or leave both out to use the run's)"
	}
	return cli.Usagef("%s %s does not fit backbone %s: %s; the weights were made for another architecture or width, so %s",
		flag, init, n.spec.Arch, strings.Join(details, " and "), fix)
}

// shapesCache holds, per backbone and clip geometry, the shapes of the
// backbone's variables: building a backbone to list them costs seconds for
// R3D-18 at 112 pixels, and an experiment checks every cell's init.
var shapesCache sync.Map // string -> map[string]shapes.Shape

// backboneShapes lists the shapes of n's backbone variables by path,
// building the backbone once in a scratch store (cached per process).
func (n *network) backboneShapes() (map[string]shapes.Shape, error) {
	key := fmt.Sprintf("%s|%g|%v|%d|%d", n.spec.Arch, n.spec.Width, n.spec.Widths, n.spec.Frames, n.spec.Size)
	if got, ok := shapesCache.Load(key); ok {
		return got.(map[string]shapes.Shape), nil
	}
	store := model.NewStore()
	defer store.Finalize()
	ref := &network{backend: n.backend, store: store, spec: n.spec, bb: n.bb}
	if err := ref.ensureBackbone(0); err != nil {
		return nil, err
	}
	want := map[string]shapes.Shape{}
	for v := range store.IterVariables() {
		if isBackboneVariable(v.Path()) {
			want[v.Path()] = v.Shape()
		}
	}
	shapesCache.Store(key, want)
	return want, nil
}

// isBackboneVariable reports whether a store path is a backbone weight (not
// a head, nor the store's RNG state).
func isBackboneVariable(path string) bool {
	return strings.HasPrefix(path, "/"+BackboneScope+"/")
}

// underAny reports whether a store path lies under one of the backbone's
// sub-scopes.
func underAny(path string, scopes []string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool { return strings.HasPrefix(path, "/"+BackboneScope+"/"+s+"/") })
}

// prepareOut refuses to overwrite a finished or interrupted run unless resuming.
func prepareOut(out string, resume bool) error {
	_, err := os.Stat(filepath.Join(out, train.CheckpointFile))
	if err == nil && !resume {
		return cli.Usagef("%s already holds a run; pass --resume to continue it or choose another --out", out)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.MkdirAll(out, 0o755)
}

// classifierLoss is the fine-tuning loss: backbone, linear head, cross-entropy.
func classifierLoss(bb models.Backbone, classes int, smoothing float64) train.LossFn {
	return func(scope *model.Scope, views, targets []*graph.Node, training bool) (loss, acc *graph.Node) {
		f := bb.Features(scope.At(BackboneScope), views[0], training)
		logits := models.LinearHead(scope.At(HeadScope), f, classes)
		return train.CrossEntropy(logits, targets[0], smoothing), train.Accuracy(logits, targets[0])
	}
}

// fineTune trains backbone and head end to end with train.Run.
func (n *network) fineTune(ctx context.Context, cfg FinetuneConfig, root string, subset []dataset.Sample, res *Result) error {
	s := n.spec
	aug := loader.AugTrain(s.Size)
	if cfg.Augment == "strong" {
		aug = loader.AugStrong(s.Size)
	}
	if cfg.NoFlip {
		aug.FlipProb = 0
	}
	batch := min(cfg.Batch, len(subset))
	ld, err := loader.New(loader.Config{
		Root: root, Samples: subset, Opener: cfg.Opener, Sampler: loader.RandomClip{Frames: s.Frames, Stride: s.Stride, Aug: aug},
		BatchSize: batch, Workers: cfg.Workers, Seed: cfg.Seed, Shuffle: true, DropLast: true,
		DecodeShortSide: decodeShortSide(s.Size), Logf: cfg.Logf,
	})
	if err != nil {
		return err
	}
	tc := train.Config{
		Epochs: cfg.Epochs, BatchSize: batch, Optimizer: cfg.Optimizer, LR: cfg.LR, WeightDecay: cfg.WeightDecay,
		WarmupSteps: warmupSteps(cfg.WarmupEpochs, ld.StepsPerEpoch(), cfg.Epochs), Seed: cfg.Seed, DType: cfg.DType,
		LogEvery: max(1, min(10, ld.StepsPerEpoch())), CheckpointEvery: ld.StepsPerEpoch(),
	}
	if !cfg.NoPreciseBN {
		cfg.PreciseBNBatches = preciseBNBatches(cfg, len(subset))
	}
	if cfg.BackboneLRMult != 1 {
		tc.LRMultipliers = map[string]float64{BackboneScope: cfg.BackboneLRMult}
	}
	if cfg.ProbeHead && !cfg.Resume {
		if res.Probe, _, err = n.fitProbeHead(ctx, cfg, root, subset); err != nil {
			return err
		}
	}
	opts := []train.Option{train.WithResume(cfg.Resume), train.WithInfo(n.info(cfg, len(subset)))}
	if cfg.Quiet {
		opts = append(opts, train.WithQuiet())
	}
	if cfg.AfterStep != nil {
		opts = append(opts, train.WithAfterStep(cfg.AfterStep))
	}
	if !cfg.NoPreciseBN {
		opts = append(opts, n.preciseBNOption(ctx, cfg, ld))
	}
	sum, err := train.Run(ctx, n.backend, n.store, cfg.Out, tc, classifierLoss(n.bb, len(s.Classes), cfg.LabelSmoothing), trainData{ld}, opts...)
	if err != nil {
		return err
	}
	res.Train, res.ClipsPerS = sum, sum.ClipsPerS
	if !cfg.NoPreciseBN {
		res.PreciseBN, err = readPreciseBN(cfg.Out)
	}
	return err
}

// warmupSteps converts warm-up epochs to steps, at most a third of the run.
func warmupSteps(epochs float64, perEpoch, totalEpochs int) int {
	return min(int(epochs*float64(perEpoch)+0.5), perEpoch*totalEpochs/3)
}

// info is what config.json (LinearFile for a probe) records about the run:
// cfg.Info, then every setting a resume checks (definingSettings and
// dataSettings), among them the network and the data.
func (n *network) info(cfg FinetuneConfig, videos int) map[string]any {
	info := map[string]any{}
	for k, v := range cfg.Info {
		info[k] = v
	}
	for k, v := range train.RecordedInfo(append(definingSettings(cfg, n.spec), dataSettings(cfg, videos, len(n.spec.Classes))...)) {
		info[k] = v
	}
	info["protocol"] = "finetune"
	if cfg.Linear {
		info["protocol"] = "linear"
	}
	return info
}

// linearProbe extracts features of the frozen backbone once, fits the
// logistic regression, saves backbone + head as a run, and returns the
// fitted probe.
func (n *network) linearProbe(ctx context.Context, cfg FinetuneConfig, root string, subset []dataset.Sample, res *Result) (*LinearModel, error) {
	ps, m, err := n.fitProbeHead(ctx, cfg, root, subset)
	if err != nil {
		return nil, err
	}
	if err := train.SaveStore(n.store, filepath.Join(cfg.Out, train.CheckpointFile), BackboneScope, HeadScope); err != nil {
		return nil, err
	}
	res.Probe, res.ClipsPerS = ps, ps.ClipsPerS
	return m, report.WriteJSON(filepath.Join(cfg.Out, LinearFile), map[string]any{"probe": ps, "info": n.info(cfg, len(subset))})
}

// fitProbeHead fits a logistic regression on the frozen backbone's
// features of the labeled clips (LinearClips per video), makes it the
// network's head and returns it.
func (n *network) fitProbeHead(ctx context.Context, cfg FinetuneConfig, root string, subset []dataset.Sample) (*ProbeSummary, *LinearModel, error) {
	if err := n.ensureBackbone(cfg.Seed); err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	pv, err := n.runViews(ctx, cfg.Runtime, root, subset, cfg.LinearClips, 1, false, "features")
	if err != nil && ctx.Err() != nil {
		return nil, nil, fmt.Errorf("linear probe interrupted while extracting features; nothing was saved, run the same command again: %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	var x [][]float32
	var y []int
	for i, idx := range pv.Index {
		for _, row := range pv.Rows[i] {
			x = append(x, row)
			y = append(y, subset[idx].Label)
		}
	}
	extract := time.Since(t0).Seconds()
	t1 := time.Now()
	m, err := TrainLinear(x, y, len(n.spec.Classes), cfg.LinearCfg)
	if err != nil {
		return nil, nil, err
	}
	met, err := Classify(m.Predict(x), y, len(n.spec.Classes))
	if err != nil {
		return nil, nil, err
	}
	ps := &ProbeSummary{Rows: len(x), Dim: len(x[0]), Loss: m.Loss, TrainAcc: met.Top1, Config: cfg.LinearCfg.withDefaults(),
		ExtractS: extract, FitS: time.Since(t1).Seconds()}
	if extract > 0 {
		ps.ClipsPerS = float64(pv.Clips) / extract
	}
	return ps, m, n.setHead(m)
}

// setHead stores a linear model as the head variables models.LinearHead
// reads: weight [classes, dim] and bias [classes].
func (n *network) setHead(m *LinearModel) error {
	c, d := len(m.W), len(m.W[0])
	w := make([]float32, 0, c*d)
	for _, row := range m.W {
		w = append(w, row...)
	}
	vals := map[string]*tensors.Tensor{
		"/" + HeadScope + "/weight": tensors.FromFlatDataAndDimensions(w, c, d),
		"/" + HeadScope + "/bias":   tensors.FromFlatDataAndDimensions(append([]float32(nil), m.B...), c),
	}
	for path, t := range vals {
		if v := n.store.GetVariable(path); v != nil {
			if err := v.SetValue(t); err != nil {
				return err
			}
			continue
		}
		if _, err := n.store.CreateVariable(path, t); err != nil {
			return err
		}
	}
	return nil
}

// trainData adapts a loader to train.Data.
type trainData struct{ *loader.Loader }

// Epoch starts a training pass (see loader.Loader.Epoch).
func (d trainData) Epoch(epoch, skip int) (train.Batches, error) { return d.Loader.Epoch(epoch, skip) }
