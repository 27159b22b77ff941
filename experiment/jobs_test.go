package experiment

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vidrep/vidrep/internal/cli"
)

func TestRunParallel(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name     string
		n, jobs  int
		failAt   int // -1: no job fails
		cancel   bool
		wantRuns int // jobs started
		wantErr  error
	}{
		{"all run, three at a time", 7, 3, -1, false, 7, nil},
		{"one at a time", 4, 1, -1, false, 4, nil},
		{"more slots than jobs", 2, 5, -1, false, 2, nil},
		{"an error stops new jobs", 6, 1, 1, false, 2, boom},
		{"an error lets the running job finish", 6, 2, 0, false, 2, boom},
		{"a cancelled context starts nothing", 3, 2, -1, true, 0, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancel {
				cancel()
			}
			var mu sync.Mutex
			ran, finished := make([]int, c.n), make([]bool, c.n)
			var running, peak atomic.Int32
			want := int32(min(c.jobs, c.wantRuns))
			err := runParallel(ctx, c.n, c.jobs, func(ctx context.Context, i int) error {
				now := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				mu.Lock()
				ran[i]++
				mu.Unlock()
				// Wait (up to a second) until as many jobs as allowed run
				// together, so that the peak below does not hang on timing.
				for deadline := time.Now().Add(time.Second); peak.Load() < want && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				if i == c.failAt {
					return boom
				}
				time.Sleep(5 * time.Millisecond)
				mu.Lock()
				finished[i] = ctx.Err() == nil
				mu.Unlock()
				return nil
			})
			if !errors.Is(err, c.wantErr) {
				t.Errorf("error %v, want %v", err, c.wantErr)
			}
			runs := 0
			for i, r := range ran {
				if r > 1 {
					t.Errorf("job %d ran %d times", i, r)
				}
				if r == 1 && i != c.failAt && !finished[i] {
					t.Errorf("job %d was cancelled, want it left to finish", i)
				}
				runs += r
			}
			if runs != c.wantRuns {
				t.Errorf("%d jobs ran, want %d", runs, c.wantRuns)
			}
			if peak.Load() != want {
				t.Errorf("at most %d ran at once, want %d", peak.Load(), want)
			}
		})
	}
}

// TestJobsDoNotChangeNumbers runs one tiny grid (two pretrainings that run
// side by side, fine-tuning and linear cells) one run at a time and two at a
// time: every number must be the same, as each run is seeded on its own.
func TestJobsDoNotChangeNumbers(t *testing.T) {
	data := tinyBenchmark(t)
	run := func(jobs int) *Results {
		cfg := tinyConfig(data, filepath.Join(t.TempDir(), "exp"))
		cfg.Methods, cfg.Protocols, cfg.Jobs = []string{"arrow", "rotation"}, []Protocol{Finetune, Linear}, jobs
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("jobs %d: %v", jobs, err)
		}
		return res
	}
	one, two := run(1), run(2)
	if len(one.Cells) != 6 || len(two.Cells) != len(one.Cells) {
		t.Fatalf("cells: %d and %d, want 6 each", len(one.Cells), len(two.Cells))
	}
	for i, a := range one.Cells {
		b := two.Cells[i]
		if a.Key() != b.Key() || a.Top1 != b.Top1 || a.Top5 != b.Top5 {
			t.Errorf("cell %d: %s top1 %v top5 %v with one job, %s %v %v with two", i, a.Key(), a.Top1, a.Top5, b.Key(), b.Top1, b.Top5)
		}
	}
	for i, a := range one.Pretrains {
		if b := two.Pretrains[i]; a.Init != b.Init || a.FinalLoss != b.FinalLoss || a.Steps != b.Steps {
			t.Errorf("pretraining %d: %+v with one job, %+v with two", i, a, b)
		}
	}
}

func TestJobsDefaults(t *testing.T) {
	cases := []struct {
		backend string
		jobs    int
		want    int // 0: a usage error
	}{
		{"go", 0, min(2, max(runtime.NumCPU(), 1))},
		{"xla:cuda", 0, 1},
		{"go", 3, 3},
		{"go", -1, 0},
	}
	for _, c := range cases {
		cfg := tinyConfig("data", "out")
		cfg.Backend, cfg.Jobs = c.backend, c.jobs
		got, err := cfg.withDefaults()
		var u *cli.UsageError
		switch {
		case c.want == 0 && (err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), "--jobs")):
			t.Errorf("backend %s, jobs %d: error %v, want a usage error naming --jobs", c.backend, c.jobs, err)
		case c.want != 0 && (err != nil || got.Jobs != c.want):
			t.Errorf("backend %s, jobs %d: got %d (%v), want %d", c.backend, c.jobs, got.Jobs, err, c.want)
		}
	}
}

// TestPretrainSeeds runs a tiny grid with two pretrainings of one method and
// of the supervised source: each is its own run (seed 1 in pretrain/arrow,
// seed 2 in pretrain/arrow.seed2, the same for supervised); the linear cells
// of seed s probe pretraining s mod 2, and each pretraining of the method
// gets its own retrieval cell.
func TestPretrainSeeds(t *testing.T) {
	data := tinyBenchmark(t)
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.Seeds, cfg.PretrainSeeds, cfg.Protocols, cfg.Supervised = 4, 2, []Protocol{Linear, Retrieval}, data
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pre := filepath.Join(out, "pretrain")
	want := []PretrainInfo{
		{Init: "arrow", Seed: 1, RunDir: filepath.Join(pre, "arrow")}, {Init: InitSupervised, Seed: 1, RunDir: filepath.Join(pre, "supervised")},
		{Init: "arrow", Seed: 2, RunDir: filepath.Join(pre, "arrow.seed2")}, {Init: InitSupervised, Seed: 2, RunDir: filepath.Join(pre, "supervised.seed2")},
	}
	if len(res.Pretrains) != len(want) {
		t.Fatalf("%d pretrainings, want %d: %+v", len(res.Pretrains), len(want), res.Pretrains)
	}
	for i, w := range want {
		if p := res.Pretrains[i]; p.Init != w.Init || p.Seed != w.Seed || p.RunDir != w.RunDir {
			t.Errorf("pretraining %d: %s seed %d in %s, want %s seed %d in %s", i, p.Init, p.Seed, p.RunDir, w.Init, w.Seed, w.RunDir)
		}
	}
	dirs := []string{want[0].RunDir, want[2].RunDir}
	supervised := []string{want[1].RunDir, want[3].RunDir}
	a, errA := os.ReadFile(filepath.Join(dirs[0], "backbone.safetensors"))
	b, errB := os.ReadFile(filepath.Join(dirs[1], "backbone.safetensors"))
	if errA != nil || errB != nil || bytes.Equal(a, b) {
		t.Errorf("the two pretrainings saved the same backbone (or none: %v, %v)", errA, errB)
	}
	used := map[Protocol]int{}
	for _, c := range res.Cells {
		if c.Init == InitSupervised && c.Protocol == Linear {
			var r struct {
				Init string `json:"init"`
			}
			if err := readJSON(filepath.Join(c.RunDir, "result.json"), &r); err != nil || r.Init != supervised[c.Seed%2] {
				t.Errorf("cell %s used %q (%v), want %s", c.Key(), r.Init, err, supervised[c.Seed%2])
			}
		}
		if c.Init != "arrow" {
			continue
		}
		used[c.Protocol]++
		var r struct {
			Init string `json:"init"` // result.json of a linear cell
			Ckpt string `json:"ckpt"` // retrieval.json of a retrieval cell
		}
		file := "result.json"
		if c.Protocol == Retrieval {
			file = "retrieval.json"
		}
		if err := readJSON(filepath.Join(c.RunDir, file), &r); err != nil || r.Init+r.Ckpt != dirs[c.Seed%2] {
			t.Errorf("cell %s used %q (%v), want %s", c.Key(), r.Init+r.Ckpt, err, dirs[c.Seed%2])
		}
	}
	if used[Linear] != 4 || used[Retrieval] != 2 {
		t.Errorf("arrow has %d linear and %d retrieval cells, want 4 (the seeds) and 2 (the pretrainings)", used[Linear], used[Retrieval])
	}
	if !strings.Contains(verdict(res), "pretrained 2 times") {
		t.Errorf("the verdict does not say each method was pretrained twice: %s", verdict(res))
	}
	for _, c := range []struct{ seeds, n int }{{4, -1}, {3, 2}, {2, 4}} {
		bad := tinyConfig(data, out)
		bad.Seeds, bad.PretrainSeeds = c.seeds, c.n
		if _, err := bad.withDefaults(); err == nil || !strings.Contains(err.Error(), "--pretrain-seeds") {
			t.Errorf("PretrainSeeds %d with %d seeds: error %v, want one naming --pretrain-seeds", c.n, c.seeds, err)
		}
	}
	// The directory holds work made with two pretrainings: one is refused.
	one := tinyConfig(data, out)
	one.Seeds = 4
	if err := one.checkSettings(); err == nil || !strings.Contains(err.Error(), "PretrainSeeds") {
		t.Errorf("rerun with one pretraining: error %v, want a refusal naming PretrainSeeds", err)
	}
}

// cancelOnWrite calls cancel the first time a line containing mark is logged.
type cancelOnWrite struct {
	mark   string
	cancel context.CancelFunc
}

func (w cancelOnWrite) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return len(p), nil
}

// TestInterruptWithJobsResumes interrupts a two-job grid as soon as its
// first cell is done, as Ctrl-C would: the run says it was interrupted, keeps
// the finished cells, and a second run recomputes none of them and completes
// the grid.
func TestInterruptWithJobsResumes(t *testing.T) {
	data := tinyBenchmark(t)
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.Protocols, cfg.Seeds, cfg.Jobs = []Protocol{Finetune, Linear}, 2, 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Log = cancelOnWrite{mark: "experiment: [1/", cancel: cancel}
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") ||
		strings.Contains(err.Error(), "--resume") {
		t.Fatalf("interrupted run: error %v, want one wrapping context.Canceled that says to run the same command again (experiment has no --resume)", err)
	}
	cells := Cells(cfg.Inits(), cfg.Labels, cfg.Protocols, cfg.Seeds, 1)
	var finished []string
	for _, c := range cells {
		if p := filepath.Join(c.Dir(out), cellFile); exists(p) {
			finished = append(finished, p)
		}
	}
	if len(finished) == 0 || len(finished) == len(cells) {
		t.Fatalf("%d of %d cells finished before the interrupt, want some but not all", len(finished), len(cells))
	}
	before := modTimes(t, finished...)
	time.Sleep(20 * time.Millisecond) // so that a rewrite would show in the modification time
	cfg.Log = io.Discard
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if len(res.Cells) != len(cells) {
		t.Errorf("resumed run has %d cells, want %d", len(res.Cells), len(cells))
	}
	for i, at := range modTimes(t, finished...) {
		if !at.Equal(before[i]) {
			t.Errorf("%s was recomputed after the interrupt", finished[i])
		}
	}
}

// TestRunParallelKeepsRealErrors: an interrupt that comes after a run failed
// for its own reason, or after every run finished, must not hide that
// failure or report unfinished work.
func TestRunParallelKeepsRealErrors(t *testing.T) {
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(context.Background())
	err := runParallel(ctx, 3, 1, func(ctx context.Context, i int) error {
		cancel() // Ctrl-C arrives while the first run fails on its own
		return boom
	})
	if !errors.Is(err, boom) || strings.Contains(err.Error(), "interrupted") {
		t.Errorf("a failed run, then an interrupt: error %v, want boom itself", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	err = runParallel(ctx, 2, 2, func(ctx context.Context, i int) error {
		if i == 1 {
			defer cancel() // the interrupt comes as the last run returns
		}
		return nil
	})
	if err != nil {
		t.Errorf("every run finished before the interrupt: error %v, want nil", err)
	}
}

// TestOnceLogfSaysEachLineOnce: every cell loads the same data, so a warning
// about it must reach the log once per experiment, not once per cell.
func TestOnceLogfSaysEachLineOnce(t *testing.T) {
	var buf bytes.Buffer
	logf := onceLogf(&buf, "")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logf("warning: %s", "--labels 50/class: 3 classes have fewer")
			logf("loader: skipping %s", "a.mp4")
		}()
	}
	wg.Wait()
	logf("loader: skipping %s", "b.mp4")
	want := []string{"vidrep: warning: --labels 50/class: 3 classes have fewer", "vidrep: loader: skipping a.mp4", "vidrep: loader: skipping b.mp4"}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant each of %q once", buf.String(), want)
	}
	for _, w := range want {
		if strings.Count(buf.String(), w+"\n") != 1 {
			t.Errorf("%q appears %d times in:\n%s", w, strings.Count(buf.String(), w+"\n"), buf.String())
		}
	}
}

// TestWarningsAreFiledOnceAcrossRuns: a resumed experiment's report must list
// the warnings of the runs before the interruption too, each once.
func TestWarningsAreFiledOnceAcrossRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "exp", WarningsFile)
	var first, second bytes.Buffer
	logf := onceLogf(&first, file)
	logf("loader: skipping %s", "a.mp4")
	logf("loader: skipping %s", "b.mp4")
	logf("loader: skipping %s", "a.mp4")
	logf = onceLogf(&second, file) // the same experiment, run again
	logf("loader: skipping %s", "a.mp4")
	logf("warning: %s", "--labels 5/class: class Orbit has 3 videos")
	logf("warning: two\nlines")
	logf = onceLogf(&second, file)
	logf("warning: two\nlines")
	want := []string{"loader: skipping a.mp4", "loader: skipping b.mp4", "warning: --labels 5/class: class Orbit has 3 videos", "warning: two lines"}
	if got := readWarnings(file); !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", WarningsFile, got, want)
	}
	if !strings.Contains(second.String(), "vidrep: loader: skipping a.mp4\n") {
		t.Errorf("the second run did not say its warning on the terminal:\n%s", second.String())
	}
	doc, err := buildDoc(&Results{Config: Config{Out: filepath.Dir(file)}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	md := doc.Markdown()
	if !strings.Contains(md, "## Warnings") || !strings.Contains(md, "loader: skipping b.mp4") || !strings.Contains(md, "class Orbit has 3 videos") {
		t.Errorf("the report lists no warnings:\n%s", md)
	}
}
