package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/pretext"
	"github.com/vidrep/vidrep/pretext/pretrain"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// Config is every setting of an experiment.
type Config struct {
	Data   string // target dataset root (labeled, with unlabeled videos for pretraining)
	Format string // its layout ("" or "auto" detects it)
	Split  int    // 1-based split (default 1)
	Out    string // experiment directory

	Methods   []string   // self-supervised methods to compare (each pretrained PretrainSeeds times)
	Labels    []string   // label budgets ("5/class", "10%", "all")
	Seeds     int        // seeds per cell (default 3)
	Protocols []Protocol // default: finetune, linear, retrieval

	// Supervised is a labeled source dataset for supervised transfer ("" skips it).
	Supervised       string
	SupervisedEpochs int
	// Import is a safetensors weights file to compare as one more init ("" skips it).
	Import string

	Arch                 string
	Width                float64
	Frames, Stride, Size int
	// NoFlip turns off horizontal flips in pretraining and fine-tuning, for
	// classes with a left/right direction (the synthetic benchmark, SSv2).
	NoFlip bool
	// ProbeHead starts every fine-tuning cell from a linear probe's head
	// (LP-FT, evaluate.FinetuneConfig.ProbeHead); supervised source
	// training starts from scratch either way.
	ProbeHead bool
	// ProbeWeightDecay is the L2 penalty of every linear probe (linear cells
	// and LP-FT heads) on standardised features; 0 keeps the probe's
	// default (evaluate.LinearConfig).
	ProbeWeightDecay float64
	// PretrainWithTrain adds the split's training videos, labels hidden,
	// to the unlabeled videos every self-supervised pretraining reads.
	PretrainWithTrain bool

	PretrainEpochs, PretrainBatch int
	PretrainLR                    float64
	// PretrainWarmup is the number of steps over which every pretraining's
	// learning rate rises linearly to PretrainLR (0: none).
	PretrainWarmup int
	// PretrainLocalMotion is the share of a camera pretraining's clips whose
	// motion shows only through a window of the view
	// (pretext.Options.LocalMotion); methods without a camera term ignore it.
	PretrainLocalMotion float64
	// PretrainPanSpeedJitter multiplies each camera pan's speed by a factor
	// drawn from [1-J, 1+J] (pretext.Options.PanSpeedJitter); methods
	// without a camera term ignore it.
	PretrainPanSpeedJitter float64
	// PretrainSeeds is how many times each method (and the supervised
	// source) is pretrained, with seeds 1, 2, ...; the cells of seed s use
	// pretraining s mod PretrainSeeds, so that their spread holds the
	// pretraining's own. It must divide Seeds. 0 or 1: one pretraining,
	// shared by every seed.
	PretrainSeeds int
	// PretrainCandidates is how many times each self-supervised pretraining
	// is run, with other seeds, before one is kept for the cells: the
	// candidate whose pretext accuracy over its last epochs is highest
	// (lowest loss for an objective without accuracy; see
	// candidateScore). It reads no label. A pretraining's outcome varies
	// with its seed (on the synthetic benchmark some seeds stall near half
	// the accuracy of the others, and transfer half as much); this keeps
	// such a run out. 0 or 1: one run. The supervised source is trained
	// once either way.
	PretrainCandidates            int
	FinetuneEpochs, FinetuneBatch int
	FinetuneLR                    float64
	EvalClips, EvalCrops          int
	// DType is the training compute dtype of every pretraining and
	// fine-tuning: "f32" (default) or "bf16" (XLA only). Linear probes
	// extract their features in float32 either way.
	DType string
	// Jobs is how many runs go at once: the pretrainings (and the supervised
	// source training) together, then the cells. 0 picks DefaultJobs. Every
	// run is seeded on its own, so no number depends on it; each run's wall
	// time and clips/s do, as concurrent runs share the machine. While more
	// than one runs at once, they print no progress bars of their own: the
	// experiment prints a line as each pretraining starts and ends, and as
	// each cell ends.
	Jobs int

	Version string
	Log     io.Writer // progress lines of the experiment itself (default stderr)
	evaluate.Runtime
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Out == "" || c.Data == "" {
		return c, cli.Usagef("experiment: --data and --out are required")
	}
	if exists(filepath.Join(c.Out, train.ConfigFile)) {
		return c, cli.Usagef("experiment: --out %s holds a training run (%s); give an experiment directory of its own", c.Out, train.ConfigFile)
	}
	if err := (evaluate.LinearConfig{WeightDecay: c.ProbeWeightDecay}).Check(); err != nil {
		return c, err // checked here too, so that it fails before any pretraining
	}
	if c.ProbeWeightDecay == 0 {
		c.ProbeWeightDecay = evaluate.DefaultProbeWeightDecay
	}
	if c.DType == "" {
		c.DType = "f32"
	}
	if c.Split == 0 {
		c.Split = 1
	}
	if c.Seeds == 0 {
		c.Seeds = 3
	}
	if len(c.Protocols) == 0 {
		c.Protocols = []Protocol{Finetune, Linear, Retrieval}
	}
	if len(c.Labels) == 0 {
		c.Labels = []string{"5/class", "all"}
	}
	for _, p := range c.Protocols {
		if p != Finetune && p != Linear && p != Retrieval {
			return c, cli.Usagef("experiment: unknown protocol %q; use finetune, linear or retrieval", p)
		}
	}
	if err := c.checkLists(); err != nil {
		return c, err
	}
	if c.Seeds < 1 {
		return c, cli.Usagef("experiment: --seeds must be at least 1")
	}
	if c.PretrainSeeds < 0 || c.Seeds%max(c.PretrainSeeds, 1) != 0 {
		return c, cli.Usagef("experiment: --pretrain-seeds must divide --seeds (%d), so that every pretraining serves as many seeds", c.Seeds)
	}
	if c.PretrainCandidates < 0 {
		return c, cli.Usagef("experiment: --pretrain-candidates must be 1 or more")
	}
	if c.PretrainWarmup < 0 {
		return c, cli.Usagef("experiment: --pretrain-warmup must be 0 or more steps")
	}
	if !(c.PretrainLocalMotion >= 0 && c.PretrainLocalMotion <= 1) {
		return c, cli.Usagef("experiment: --pretrain-local-motion must be a share in [0,1]")
	}
	if !(c.PretrainPanSpeedJitter >= 0 && c.PretrainPanSpeedJitter < 1) {
		return c, cli.Usagef("experiment: --pretrain-pan-speed-jitter must be in [0,1)")
	}
	hasCamera := slices.ContainsFunc(c.Methods, func(m string) bool { return pretext.HasTerm(m, "camera") })
	if c.PretrainLocalMotion > 0 && !hasCamera {
		return c, cli.Usagef("experiment: --pretrain-local-motion is a camera setting, and no method in --methods has a camera term")
	}
	if c.PretrainPanSpeedJitter > 0 && !hasCamera {
		return c, cli.Usagef("experiment: --pretrain-pan-speed-jitter is a camera setting, and no method in --methods has a camera term")
	}
	if c.Jobs < 0 {
		return c, cli.Usagef("experiment: --jobs must be 0 (automatic) or more")
	}
	if c.Jobs == 0 {
		c.Jobs = DefaultJobs(c.Backend)
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if _, ok := c.Log.(*lockedWriter); !ok {
		c.Log = &lockedWriter{w: c.Log} // concurrent runs log through it
	}
	if c.Runtime.Logf == nil {
		// Every cell loads the same data: its warnings (a short class, a
		// video the loader skips) are said once, not once per cell.
		c.Runtime.Logf = onceLogf(c.Log, filepath.Join(c.Out, WarningsFile))
	}
	return c, nil
}

// checkLists refuses, before any work starts, a method or label budget that
// could only fail later, and a value listed twice (whose cells would be
// counted twice as if they were other seeds).
func (c Config) checkLists() error {
	for _, m := range c.Methods {
		if err := pretext.CheckSpec(m); err != nil {
			return cli.Usagef("experiment: --methods: %v", err)
		}
	}
	for _, l := range c.Labels {
		if _, err := dataset.ParseBudget(l); err != nil {
			return cli.Usagef("experiment: --labels: %v", err)
		}
	}
	protocols := make([]string, len(c.Protocols))
	for i, p := range c.Protocols {
		protocols[i] = string(p)
	}
	for flag, list := range map[string][]string{"--methods": c.Methods, "--labels": c.Labels, "--protocols": protocols} {
		if dup, ok := repeated(list); ok {
			return cli.Usagef("experiment: %s lists %q twice; give each once", flag, dup)
		}
	}
	return nil
}

// checkPretrainPool refuses, before anything is written, a pretraining batch
// larger than the videos the self-supervised pretrainings read: each would
// fail only after the cells that need no pretraining had run, naming
// pretrain's own --batch flag.
func (c Config) checkPretrainPool() error {
	if len(c.Methods) == 0 {
		return nil
	}
	n, err := pretrain.PoolSize(c.Data, c.Format, c.Split, c.PretrainWithTrain)
	if err != nil {
		return err
	}
	if n < c.PretrainBatch {
		return cli.Usagef("experiment: %s has %d videos to pretrain on, fewer than --pretrain-batch %d; lower --pretrain-batch", c.Data, n, c.PretrainBatch)
	}
	return nil
}

// repeated returns the first value that occurs twice in list.
func repeated(list []string) (string, bool) {
	seen := map[string]bool{}
	for _, v := range list {
		if seen[v] {
			return v, true
		}
		seen[v] = true
	}
	return "", false
}

// WarningsFile, in an experiment directory, holds every distinct warning its
// runs gave (a video the loader skipped, a class short of a budget, ...),
// one a line, across interrupted and resumed runs: the report lists them.
const WarningsFile = "warnings.txt"

// onceLogf returns a Logf that writes each distinct line to w once, as
// "vidrep: LINE", and, when file is not "", appends it to file unless the
// file already holds it (a line said by an earlier, interrupted run); safe
// for concurrent runs. A file that cannot be written is said once on w; the
// lines still reach w.
func onceLogf(w io.Writer, file string) func(format string, args ...any) {
	var mu sync.Mutex
	said := map[string]bool{}
	var filed map[string]bool // nil until the file is read
	return func(format string, args ...any) {
		line := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
		mu.Lock()
		defer mu.Unlock()
		if said[line] {
			return
		}
		said[line] = true
		fmt.Fprintf(w, "vidrep: %s\n", line)
		if file == "" {
			return
		}
		if filed == nil {
			filed = map[string]bool{}
			for _, l := range readWarnings(file) {
				filed[l] = true
			}
		}
		entry := strings.ReplaceAll(line, "\n", " ") // one line of the file
		if filed[entry] {
			return
		}
		if err := appendLine(file, entry); err != nil {
			fmt.Fprintf(w, "vidrep: warning: the report will not list this warning: %v\n", err)
			file = ""
			return
		}
		filed[entry] = true
	}
}

// readWarnings returns the lines of an experiment's warnings file (none
// when it does not exist).
func readWarnings(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' })
}

// appendLine appends line and a newline to file, creating it (and its
// directory) if needed.
func appendLine(file, line string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// lockedWriter serialises the writes of concurrent runs to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Inits lists the initialisations the experiment compares, in report order.
func (c Config) Inits() []string {
	inits := []string{InitScratch}
	inits = append(inits, c.Methods...)
	if c.Supervised != "" {
		inits = append(inits, InitSupervised)
	}
	if c.Import != "" {
		inits = append(inits, InitImported)
	}
	return inits
}

// Results is everything an experiment measured.
type Results struct {
	Config    Config         `json:"-"`
	Pretrains []PretrainInfo `json:"pretrainings"`
	Cells     []CellResult   `json:"cells"`
	Rows      []Row          `json:"rows"`
	WallS     float64        `json:"wall_s"`
}

// PretrainInfo records one shared pretraining (or the supervised source
// run), or one candidate of it (Config.PretrainCandidates).
type PretrainInfo struct {
	Init string `json:"init"`
	Seed int    `json:"seed"` // which pretraining: 1, 2, ... (Config.PretrainSeeds)
	// Candidate is which of the pretraining's candidates this run is (1,
	// 2, ...), Kept whether the cells use it, and Score what chose it
	// (candidateScore); all three are left out with one candidate.
	Candidate   int      `json:"candidate,omitempty"`
	Kept        *bool    `json:"kept,omitempty"`
	Score       *float64 `json:"selection_score,omitempty"`
	RunSeed     uint64   `json:"run_seed"` // the seed the run itself was given
	RunDir      string   `json:"run_dir"`
	Steps       int      `json:"steps"`
	FinalLoss   float64  `json:"final_loss"`
	Accuracy    float64  `json:"pretext_accuracy"` // -1 when the objective has none
	WallSeconds float64  `json:"wall_s"`
	ClipsPerSec float64  `json:"clips_per_s"`
}

// Run executes the grid, reusing every finished pretraining and cell found
// under cfg.Out, and writes the report. It returns the results.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.checkPretrainPool(); err != nil {
		return nil, err
	}
	if err := cfg.checkSettings(); err != nil {
		return nil, err
	}
	start := time.Now()
	res := &Results{Config: cfg}
	cells := Cells(cfg.Inits(), cfg.Labels, cfg.Protocols, cfg.Seeds, cfg.pretrainings())
	if res.Cells, err = cfg.runGrid(ctx, res, cells); err != nil {
		return nil, err
	}
	res.Rows = Aggregate(res.Cells)
	res.WallS = time.Since(start).Seconds()
	if err := WriteReport(cfg.Out, res); err != nil {
		return nil, err
	}
	return res, nil
}

// DefaultJobs is the number of runs an experiment does at once unless told:
// 2 on the CPU (Go) backend of a machine with two or more cores, where one
// training step keeps about 1.5 cores busy and two runs side by side get
// ~1.35x the work done (docs/benchmarks.md); 1 on an accelerator, where two
// runs would share one device's memory.
func DefaultJobs(backend string) int {
	if name, _, _ := strings.Cut(engine.Resolve(backend), ":"); name == "go" && runtime.NumCPU() >= 2 {
		return 2
	}
	return 1
}

// inner is the configuration the experiment's own runs get when pending of
// them remain to be done: without progress bars when several will run at
// once, as their lines would interleave.
func (c Config) inner(pending int) Config {
	if min(c.Jobs, pending) > 1 {
		c.Quiet = true
	}
	return c
}

// pretrainJob is one run of the grid's pretrainings: init's k-th
// pretraining (its cells are the seeds s with s mod PretrainSeeds = k), and
// of that pretraining's candidates the cand-th (0 with one candidate).
type pretrainJob struct {
	init    string
	k, cand int
}

// pretrainJobs lists every self-supervised pretraining (each candidate of
// it) and supervised source training, PretrainSeeds of each, in the order
// they start.
func (c Config) pretrainJobs() []pretrainJob {
	var jobs []pretrainJob
	for k := range c.pretrainings() {
		for _, m := range c.Methods {
			for cand := range c.candidates(m) {
				jobs = append(jobs, pretrainJob{m, k, cand})
			}
		}
		if c.Supervised != "" {
			jobs = append(jobs, pretrainJob{InitSupervised, k, 0})
		}
	}
	return jobs
}

// candidates is how many candidates each pretraining of init gets
// (PretrainCandidates, at least 1; always 1 for the supervised source).
func (c Config) candidates(init string) int {
	if init == InitSupervised {
		return 1
	}
	return max(c.PretrainCandidates, 1)
}

// candidateSeedStride separates the seeds of a pretraining's candidates:
// candidate cand of pretraining k runs with seed k+1+cand*stride, so the
// first candidate keeps the seed a single pretraining has always had and no
// candidate's seed is another pretraining's.
const candidateSeedStride = 1000

// runSeed is the seed job's run is given.
func runSeed(k, cand int) uint64 { return uint64(k + 1 + cand*candidateSeedStride) }

// initReady is one pretraining's outcome, published to the cells that use
// it: done closes when the pretraining ends, and dir (or failed) says how.
type initReady struct {
	done   chan struct{}
	dir    string
	failed bool
	// kept is the choice among the pretraining's candidates, made once
	// for all its cells; only the first candidate's entry uses it.
	kept candidateChoice
}

// candidateChoice is pickCandidate's answer for one pretraining, computed
// by whichever caller needs it first.
type candidateChoice struct {
	once   sync.Once
	index  int
	scores []float64
	err    error
}

// pick returns pickCandidate(dirs), computing it on the first call only.
func (k *candidateChoice) pick(dirs []string) (int, []float64, error) {
	k.once.Do(func() { k.index, k.scores, k.err = pickCandidate(dirs) })
	return k.index, k.scores, k.err
}

// runGrid runs (or reuses) every pretraining, then every cell, Jobs at a
// time in one queue: the pretrainings first, and each cell as soon as a slot
// is free and the pretraining it starts from has finished, so that a core
// freed by a short pretraining takes cells (scratch's need none) while a
// longer one still runs. Once every run has succeeded it records the
// pretrainings in res and returns the cells' results in the grid's order;
// cell lines are printed as each finishes.
func (c Config) runGrid(ctx context.Context, res *Results, cells []Cell) ([]CellResult, error) {
	jobs := c.pretrainJobs()
	ready := map[pretrainJob]*initReady{}
	for _, j := range jobs {
		ready[j] = &initReady{done: make(chan struct{})}
	}
	pending := 0
	for _, j := range jobs {
		if !c.pretrainDone(j) {
			pending++
		}
	}
	for _, cell := range cells {
		if !exists(filepath.Join(cell.Dir(c.Out), cellFile)) {
			pending++
		}
	}
	infos := make([]PretrainInfo, len(jobs))
	results := make([]CellResult, len(cells))
	var mu sync.Mutex
	done := 0
	err := runParallel(ctx, len(jobs)+len(cells), c.Jobs, func(ctx context.Context, i int) error {
		inner := c.inner(pending)
		if i < len(jobs) {
			info, err := inner.pretrainJob(ctx, jobs[i])
			r := ready[jobs[i]]
			r.dir, r.failed = info.RunDir, err != nil
			close(r.done)
			infos[i] = info
			return err
		}
		cell := cells[i-len(jobs)]
		dir, err := c.initDir(ctx, cell, ready)
		if err != nil {
			return fmt.Errorf("experiment: cell %s: %w", cell.Key(), err)
		}
		r, err := inner.cellOnce(ctx, cell, dir)
		if err != nil {
			return fmt.Errorf("experiment: cell %s: %w", cell.Key(), err)
		}
		results[i-len(jobs)] = r
		mu.Lock()
		defer mu.Unlock()
		done++
		fmt.Fprintf(c.Log, "experiment: [%d/%d] %-40s top1 %.1f%%  (%.0fs)\n", done, len(cells), cell.Key(), 100*r.Top1, r.WallSeconds)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.markKept(jobs, infos, ready); err != nil {
		return nil, err
	}
	res.Pretrains = append(res.Pretrains, infos...)
	return results, nil
}

// markKept records, for every pretraining with several candidates, each
// candidate's score and which one its cells use (the choice initDir made,
// or makes now for a pretraining no cell used). infos[i] is jobs[i]'s run.
func (c Config) markKept(jobs []pretrainJob, infos []PretrainInfo, ready map[pretrainJob]*initReady) error {
	index := make(map[pretrainJob]int, len(jobs))
	for i, j := range jobs {
		index[j] = i
	}
	for _, first := range jobs {
		n := c.candidates(first.init)
		if first.cand != 0 || n == 1 {
			continue
		}
		idx := make([]int, n)
		dirs := make([]string, n)
		for cand := range n {
			idx[cand] = index[pretrainJob{first.init, first.k, cand}]
			dirs[cand] = infos[idx[cand]].RunDir
		}
		kept, scores, err := ready[first].kept.pick(dirs)
		if err != nil {
			return err
		}
		for cand, i := range idx {
			score, isKept := scores[cand], cand == kept
			infos[i].Score, infos[i].Kept = &score, &isKept
		}
	}
	return nil
}

// pretrainJob runs (or reuses) one pretraining.
func (c Config) pretrainJob(ctx context.Context, j pretrainJob) (PretrainInfo, error) {
	var info PretrainInfo
	var err error
	if j.init == InitSupervised {
		info, err = c.supervisedOnce(ctx, j)
	} else {
		info, err = c.pretrainOnce(ctx, j)
	}
	if err != nil {
		return PretrainInfo{}, fmt.Errorf("experiment: %s: %w", pretrainLabel(j), err)
	}
	return info, nil
}

// initDir returns the run directory cell starts from, waiting for its
// pretraining (every candidate of it) to finish: scratch and imported
// weights need none.
func (c Config) initDir(ctx context.Context, cell Cell, ready map[pretrainJob]*initReady) (string, error) {
	switch cell.Init {
	case InitScratch:
		return "scratch", nil
	case InitImported:
		return c.Import, nil
	}
	k := cell.Seed % c.pretrainings()
	dirs := make([]string, c.candidates(cell.Init))
	for cand := range dirs {
		j := pretrainJob{cell.Init, k, cand}
		r, ok := ready[j]
		if !ok {
			return "", fmt.Errorf("no pretraining %q in this experiment", cell.Init)
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if r.failed {
			return "", fmt.Errorf("its %s failed", pretrainLabel(j))
		}
		dirs[cand] = r.dir
	}
	if len(dirs) == 1 {
		return dirs[0], nil
	}
	kept, _, err := ready[pretrainJob{cell.Init, k, 0}].kept.pick(dirs)
	if err != nil {
		return "", err
	}
	return dirs[kept], nil
}

// selectionSteps is how many final training steps candidateScore averages,
// in whole epochs: the last epochs that together hold at least this many
// steps (every epoch of a shorter run). On 300 unlabeled videos, 18 steps
// an epoch, that is the last 5 epochs, the window the demo's best-of-N rule
// was measured with; on a large dataset it is the last epoch, not half the
// run. With the learning rate near zero at the end of the schedule they
// measure one model on fresh augmentations, less noisily than the last epoch
// alone.
const selectionSteps = 90

// candidateScore is how a pretraining's candidate in dir is judged: the mean
// pretext accuracy of its final epochs (selectionSteps), weighted by their
// steps, from metrics.jsonl, or, for an objective without accuracy, minus
// their mean loss. Higher is better. No label is read.
func candidateScore(dir string) (float64, error) {
	recs, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		return 0, err
	}
	var epochs []train.Record
	for _, r := range recs {
		if r.Kind == "epoch" {
			epochs = append(epochs, r)
		}
	}
	if len(epochs) == 0 {
		return 0, fmt.Errorf("%s: no finished epoch to judge the candidate by; delete %s to pretrain it again", filepath.Join(dir, train.MetricsFile), dir)
	}
	var acc, loss, steps float64
	withAccuracy := true
	for i := len(epochs) - 1; i >= 0 && steps < selectionSteps; i-- {
		n := float64(epochs[i].Step)
		if i > 0 {
			n -= float64(epochs[i-1].Step)
		}
		steps += n
		loss += n * epochs[i].Loss
		if epochs[i].Accuracy == nil {
			withAccuracy = false
		} else {
			acc += n * *epochs[i].Accuracy
		}
	}
	if withAccuracy {
		return acc / steps, nil
	}
	return -loss / steps, nil
}

// pickCandidate returns the index of the best-scoring candidate among the
// finished runs in dirs (the first on a tie) and every candidate's score.
func pickCandidate(dirs []string) (int, []float64, error) {
	scores := make([]float64, len(dirs))
	kept := 0
	for i, dir := range dirs {
		score, err := candidateScore(dir)
		if err != nil {
			return 0, nil, err
		}
		scores[i] = score
		if score > scores[kept] {
			kept = i
		}
	}
	return kept, scores, nil
}

// pretrainings is how many pretrainings each method gets (PretrainSeeds, at least 1).
func (c Config) pretrainings() int { return max(c.PretrainSeeds, 1) }

// pretrainDir is where job's run lives: pretrain/<init> for the first
// pretraining, pretrain/<init>.seed<k+1> for the others, with
// ".cand<cand+1>" after either for a further candidate.
func (c Config) pretrainDir(j pretrainJob) string {
	name := j.init
	if j.k > 0 {
		name += fmt.Sprintf(".seed%d", j.k+1)
	}
	if j.cand > 0 {
		name += fmt.Sprintf(".cand%d", j.cand+1)
	}
	return filepath.Join(c.Out, "pretrain", name)
}

// pretrainDone reports whether job's run finished.
func (c Config) pretrainDone(j pretrainJob) bool {
	if j.init == InitSupervised {
		return exists(filepath.Join(c.pretrainDir(j), train.SummaryFile))
	}
	return exists(filepath.Join(c.pretrainDir(j), pretrain.BackboneFile))
}

// pretrainLabel names job's run in log lines and errors.
func pretrainLabel(j pretrainJob) string {
	what := "pretraining " + j.init
	if j.init == InitSupervised {
		what = "supervised source training"
	}
	var about []string
	if j.k > 0 {
		about = append(about, fmt.Sprintf("seed %d", j.k+1))
	}
	if j.cand > 0 {
		about = append(about, fmt.Sprintf("candidate %d", j.cand+1))
	}
	if len(about) > 0 {
		what += " (" + strings.Join(about, ", ") + ")"
	}
	return what
}

// runParallel calls job(ctx, i) for every i in [0, n), at most jobs at a
// time, in order of i. After the first error it starts no new job but lets
// the running ones finish, so that their work is kept; it returns that first
// error. When ctx ends before every job finished, and no job failed for
// another reason, it returns instead one error, wrapping ctx's, that says how
// many jobs did not finish and that running again resumes.
func runParallel(ctx context.Context, n, jobs int, job func(ctx context.Context, i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		first    error
		failed   = make(chan struct{})
		slots    = make(chan struct{}, max(jobs, 1))
		finished atomic.Int32 // jobs that returned nil
	)
	started := 0
	for ; started < n; started++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		case <-failed:
		}
		if ctx.Err() != nil || isClosed(failed) {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-slots; wg.Done() }()
			if err := job(ctx, i); err == nil {
				finished.Add(1)
			} else {
				mu.Lock()
				if first == nil {
					first = err
					close(failed)
				}
				mu.Unlock()
			}
		}(started)
	}
	wg.Wait()
	unfinished := n - int(finished.Load())
	if ctx.Err() != nil && unfinished > 0 && (first == nil || errors.Is(first, ctx.Err())) {
		// Said at the experiment's level: a run's own message would point to
		// its --resume flag, which experiment does for itself. A run that
		// failed for another reason keeps its own error.
		return fmt.Errorf("experiment: interrupted with %d of %d runs unfinished (run the same command again to resume: finished runs are kept): %w",
			unfinished, n, ctx.Err())
	}
	return first
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// pretrainOnce runs job's self-supervised pretraining (seed runSeed) into
// c.pretrainDir(job), or reuses a finished run there; an interrupted one is
// resumed.
func (c Config) pretrainOnce(ctx context.Context, j pretrainJob) (PretrainInfo, error) {
	method := j.init
	return c.runOrReuse(j, func(dir string) error {
		fmt.Fprintf(c.Log, "experiment: %s (%s, %d epochs)\n", pretrainLabel(j), c.Arch, c.PretrainEpochs)
		_, err := pretrain.Run(ctx, pretrain.Config{
			Data: c.Data, Format: c.Format, Split: c.Split, WithTrain: c.PretrainWithTrain, Out: dir,
			Method: method, Arch: c.Arch, Width: c.Width,
			Epochs: c.PretrainEpochs, Batch: c.PretrainBatch, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
			LR: c.PretrainLR, Warmup: c.PretrainWarmup, Seed: runSeed(j.k, j.cand), Resume: exists(filepath.Join(dir, train.CheckpointFile)),
			Workers: c.Workers, Backend: c.Backend, DType: c.DType, Quiet: c.Quiet, Version: c.Version, Opener: c.Opener,
			Pretext: c.pretextOptions(method), Logf: c.Runtime.Logf,
		})
		return err
	})
}

// pretextOptions are the method settings of method's pretraining.
func (c Config) pretextOptions(method string) pretext.Options {
	o := pretext.Options{NoFlip: c.NoFlip}
	if pretext.HasTerm(method, "camera") {
		o.LocalMotion = c.PretrainLocalMotion
		o.PanSpeedJitter = c.PretrainPanSpeedJitter
	}
	return o
}

// supervisedOnce trains the supervised-transfer source model of job on
// every label of the source dataset (seed runSeed), or reuses a finished
// run.
func (c Config) supervisedOnce(ctx context.Context, j pretrainJob) (PretrainInfo, error) {
	return c.runOrReuse(j, func(dir string) error {
		fmt.Fprintf(c.Log, "experiment: %s on %s (%d epochs)\n", pretrainLabel(j), c.Supervised, c.SupervisedEpochs)
		_, err := evaluate.Finetune(ctx, evaluate.FinetuneConfig{
			DataRoot: c.Supervised, Split: 1, Labels: "all", Out: dir, Init: "scratch",
			Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
			Epochs: c.SupervisedEpochs, Batch: c.FinetuneBatch, LR: c.FinetuneLR, Seed: runSeed(j.k, j.cand), DType: c.DType,
			SkipEval: true, Resume: exists(filepath.Join(dir, train.CheckpointFile)), NoFlip: c.NoFlip,
			Info: map[string]any{"experiment_role": "supervised source"}, Runtime: c.Runtime,
		})
		return err
	})
}

// runOrReuse calls run on job's directory unless that run finished, then
// reads its summary; a run done now is logged with its numbers.
func (c Config) runOrReuse(j pretrainJob, run func(dir string) error) (PretrainInfo, error) {
	dir := c.pretrainDir(j)
	ran := !c.pretrainDone(j)
	if ran {
		err := run(dir)
		if errors.Is(err, train.ErrResumeMismatch) {
			err = c.startOver(pretrainLabel(j), dir, err, func() error { return run(dir) })
		}
		if err != nil {
			return PretrainInfo{}, err
		}
	}
	info, err := c.readPretrainInfo(j)
	if err == nil && ran {
		c.logFinished(info)
	}
	return info, err
}

// startOver deletes the half-done run in dir, whose record no longer
// matches what the experiment asks (err says how: typically its paths,
// after the experiment's directory was moved, since settings.json already
// guards every setting), and runs it again from the start.
func (c Config) startOver(label, dir string, err error, again func() error) error {
	fmt.Fprintf(c.Log, "experiment: %s: the half-done run cannot be resumed (%v); starting it over\n", label, err)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return again()
}

// logFinished prints that a pretraining (or source training) is done, with
// its wall time and final numbers.
func (c Config) logFinished(info PretrainInfo) {
	j := pretrainJob{info.Init, info.Seed - 1, max(info.Candidate-1, 0)}
	line := fmt.Sprintf("experiment: %s done: %d steps in %.0fs, loss %.3f", pretrainLabel(j), info.Steps, info.WallSeconds, info.FinalLoss)
	if info.Accuracy >= 0 {
		line += fmt.Sprintf(", accuracy %.1f%%", 100*info.Accuracy)
	}
	fmt.Fprintln(c.Log, line)
}

// readPretrainInfo summarises job's finished run.
func (c Config) readPretrainInfo(j pretrainJob) (PretrainInfo, error) {
	dir := c.pretrainDir(j)
	var s train.Summary
	if err := readJSON(filepath.Join(dir, train.SummaryFile), &s); err != nil {
		return PretrainInfo{}, err
	}
	acc := -1.0
	if s.Accuracy != nil {
		acc = *s.Accuracy
	}
	info := PretrainInfo{Init: j.init, Seed: j.k + 1, RunSeed: runSeed(j.k, j.cand), RunDir: dir, Steps: s.Steps, FinalLoss: s.Loss, Accuracy: acc,
		WallSeconds: s.ElapsedS, ClipsPerSec: s.ClipsPerS}
	if c.candidates(j.init) > 1 {
		info.Candidate = j.cand + 1
	}
	return info, nil
}

// cellFile is the file a finished cell leaves in its directory; its presence
// marks the cell as done.
const cellFile = "cell.json"

// cellOnce runs one cell, or reads its result when it already finished.
func (c Config) cellOnce(ctx context.Context, cell Cell, initDir string) (CellResult, error) {
	dir := cell.Dir(c.Out)
	var done CellResult
	if err := readJSON(filepath.Join(dir, cellFile), &done); err == nil {
		return done, nil
	}
	r, err := c.runCell(ctx, cell, initDir, dir)
	if err != nil {
		return CellResult{}, err
	}
	return r, report.WriteJSON(filepath.Join(dir, cellFile), r)
}

// runCell computes one cell from scratch (or resumes its fine-tuning).
func (c Config) runCell(ctx context.Context, cell Cell, initDir, dir string) (CellResult, error) {
	r := CellResult{Cell: cell, RunDir: dir}
	if cell.Protocol == Retrieval {
		return c.retrievalCell(ctx, r, initDir)
	}
	resume := cell.Protocol == Finetune && exists(filepath.Join(dir, train.CheckpointFile))
	if !resume {
		if err := os.RemoveAll(dir); err != nil {
			return r, err
		}
	}
	var ft *evaluate.Result
	finetune := func(resume bool) (err error) {
		ft, err = evaluate.Finetune(ctx, evaluate.FinetuneConfig{
			DataRoot: c.Data, Format: c.Format, Split: c.Split, Labels: cell.Labels, Out: dir,
			Init: initDir, Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
			Linear: cell.Protocol == Linear, Epochs: c.FinetuneEpochs, Batch: c.FinetuneBatch, LR: c.FinetuneLR,
			Seed: uint64(cell.Seed), Resume: resume, EvalClips: c.EvalClips, EvalCrops: c.EvalCrops, NoFlip: c.NoFlip,
			ProbeHead: c.ProbeHead && cell.Protocol == Finetune, DType: cellDType(c.DType, cell.Protocol),
			LinearCfg: evaluate.LinearConfig{WeightDecay: c.ProbeWeightDecay},
			Info:      map[string]any{"experiment_cell": cell.Key(), "version": c.Version}, Runtime: c.Runtime,
		})
		return err
	}
	err := finetune(resume)
	if resume && errors.Is(err, train.ErrResumeMismatch) {
		err = c.startOver("cell "+cell.Key(), dir, err, func() error { return finetune(false) })
	}
	if err != nil {
		return r, err
	}
	if ft.Test == nil {
		return r, errors.New("fine-tuning returned no test result")
	}
	r.Top1, r.Top5 = ft.Test.Video.Top1, ft.Test.Video.Top5
	r.TrainVideos = ft.TrainVideos
	r.WallSeconds, r.ClipsPerSec = ft.WallS, ft.ClipsPerS
	return r, nil
}

// retrievalCell measures R@k of the init's frozen features (test queries train).
func (c Config) retrievalCell(ctx context.Context, r CellResult, initDir string) (CellResult, error) {
	ret, err := evaluate.Retrieve(ctx, evaluate.RetrieveConfig{
		FeatureConfig: evaluate.FeatureConfig{
			DataRoot: c.Data, Format: c.Format, Split: c.Split, Ckpt: initDir,
			Arch: c.Arch, Width: c.Width, Frames: c.Frames, Stride: c.Stride, Size: c.Size,
			Seed: uint64(r.Seed), Runtime: c.Runtime,
		},
		Out: filepath.Join(r.RunDir, "retrieval.json"),
	})
	if err != nil {
		return r, err
	}
	r.RecallAtK = map[string]float64{}
	for _, ra := range ret.Recall {
		r.RecallAtK[fmt.Sprint(ra.K)] = ra.Recall
	}
	r.Top1 = ret.At(1)
	r.WallSeconds = ret.WallS
	return r, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w (delete it to recompute)", path, err)
	}
	return nil
}

// ParseProtocols parses a comma-separated protocol list.
func ParseProtocols(s string) ([]Protocol, error) {
	var ps []Protocol
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch Protocol(f) {
		case Finetune, Linear, Retrieval:
			ps = append(ps, Protocol(f))
		case "":
		default:
			return nil, cli.Usagef("unknown protocol %q in --protocols; use finetune, linear, retrieval", f)
		}
	}
	return ps, nil
}

// cellDType is the dtype a cell trains in: the experiment's for fine-tuning,
// none for a linear probe (which trains no network).
func cellDType(dtype string, p Protocol) string {
	if p == Finetune {
		return dtype
	}
	return ""
}
