package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidrep/vidrep/train"
)

// writeMetrics writes a metrics.jsonl into a new directory: per (loss,
// accuracy) pair, a step record with other numbers (only epochs may count)
// and an epoch record with these, each epoch one step long; a negative
// accuracy leaves it out.
func writeMetrics(t *testing.T, epochs [][2]float64) string {
	t.Helper()
	ends := make([]int, len(epochs))
	for i := range ends {
		ends[i] = i + 1
	}
	return writeEpochs(t, epochs, ends)
}

// writeEpochs is writeMetrics with epoch i ending at step ends[i].
func writeEpochs(t *testing.T, epochs [][2]float64, ends []int) string {
	t.Helper()
	dir := t.TempDir()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i, e := range epochs {
		var acc, stepAcc *float64
		if e[1] >= 0 {
			acc, stepAcc = &e[1], new(float64)
		}
		step := train.Record{Kind: "step", Step: ends[i], Epoch: i + 1, Loss: e[0] + 10, Accuracy: stepAcc}
		epoch := train.Record{Kind: "epoch", Step: ends[i], Epoch: i + 1, Loss: e[0], Accuracy: acc}
		if err := enc.Encode(step); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(epoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, train.MetricsFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCandidateScore checks the number that picks a pretraining's
// candidate against hand-computed means: the accuracy of the final epochs
// that hold at least 90 steps, weighted by their steps, minus their loss for
// an objective without accuracy, every epoch when the run had fewer steps,
// and an error naming the file when it has no epoch.
func TestCandidateScore(t *testing.T) {
	every := func(n, steps int) []int {
		ends := make([]int, n)
		for i := range ends {
			ends[i] = (i + 1) * steps
		}
		return ends
	}
	cases := []struct {
		name   string
		epochs [][2]float64 // (loss, accuracy) per epoch
		ends   []int        // the step each epoch ends at
		want   float64
	}{
		{"18 steps an epoch: the last five", [][2]float64{{3, 0.9}, {3, 0.9}, {1, 0.1}, {1, 0.2}, {1, 0.3}, {1, 0.4}, {1, 0.5}}, every(7, 18), 0.3},
		{"75 steps an epoch: the last two", [][2]float64{{3, 0.9}, {3, 0.9}, {1, 0.1}, {1, 0.2}, {1, 0.3}, {1, 0.4}, {1, 0.5}}, every(7, 75), 0.45},
		{"a short last epoch weighs its steps", [][2]float64{{1, 0.9}, {1, 0.2}, {1, 0.8}}, []int{75, 150, 180}, (75*0.2 + 30*0.8) / 105},
		{"fewer steps than 90: every epoch", [][2]float64{{2, 0.5}, {1, 0.7}}, every(2, 18), 0.6},
		{"no accuracy: minus the mean loss", [][2]float64{{9, -1}, {2, -1}, {4, -1}, {3, -1}, {1, -1}, {5, -1}}, every(6, 18), -3},
	}
	for _, c := range cases {
		got, err := candidateScore(writeEpochs(t, c.epochs, c.ends))
		if err != nil || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, train.MetricsFile), []byte(`{"kind":"step","step":1,"loss":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := candidateScore(empty); err == nil || !strings.Contains(err.Error(), train.MetricsFile) {
		t.Errorf("a run with no finished epoch: error %v, want one naming %s", err, train.MetricsFile)
	}
}

// TestPickCandidate checks which candidate is kept: the best score, the
// first on a tie.
func TestPickCandidate(t *testing.T) {
	low := writeMetrics(t, [][2]float64{{1, 0.4}})
	high := writeMetrics(t, [][2]float64{{1, 0.7}})
	same := writeMetrics(t, [][2]float64{{1, 0.7}})
	for _, c := range []struct {
		dirs []string
		want int
	}{{[]string{low, high}, 1}, {[]string{high, low}, 0}, {[]string{high, same}, 0}, {[]string{low, high, same}, 1}} {
		got, scores, err := pickCandidate(c.dirs)
		if err != nil || got != c.want || len(scores) != len(c.dirs) {
			t.Errorf("got %d (scores %v, %v), want %d", got, scores, err, c.want)
		}
	}
}

// TestInitDirPicksTheBestCandidate: a cell waits for every candidate of
// its pretraining, whichever ends first, starts from the one with the
// higher pretext accuracy (the first, or the last), and fails when any
// candidate failed.
func TestInitDirPicksTheBestCandidate(t *testing.T) {
	c := Config{Methods: []string{"camera"}, PretrainCandidates: 3}
	low, high := writeMetrics(t, [][2]float64{{1, 0.46}}), writeMetrics(t, [][2]float64{{1, 0.72}})
	newReady := func(dirs ...string) map[pretrainJob]*initReady {
		ready := map[pretrainJob]*initReady{}
		for cand, dir := range dirs {
			ready[pretrainJob{"camera", 0, cand}] = &initReady{done: make(chan struct{}), dir: dir}
		}
		return ready
	}
	wait := func(ready map[pretrainJob]*initReady) chan string {
		got := make(chan string, 1)
		go func() {
			dir, err := c.initDir(context.Background(), Cell{Init: "camera"}, ready)
			if err != nil {
				dir = "error: " + err.Error()
			}
			got <- dir
		}()
		return got
	}
	for _, order := range [][]string{{high, low, low}, {low, low, high}} {
		ready := newReady(order...)
		got := wait(ready)
		for cand := range order[:2] { // two of the three end: the cell must wait on
			close(ready[pretrainJob{"camera", 0, cand}].done)
		}
		select {
		case dir := <-got:
			t.Fatalf("returned %q before the third candidate ended", dir)
		case <-time.After(50 * time.Millisecond):
		}
		close(ready[pretrainJob{"camera", 0, 2}].done)
		if dir := <-got; dir != high {
			t.Errorf("candidates %v: cell starts from %q, want the best, %q", order, dir, high)
		}
	}
	ready := newReady(high, low, low)
	ready[pretrainJob{"camera", 0, 2}].failed = true
	for _, r := range ready {
		close(r.done)
	}
	if dir := <-wait(ready); !strings.Contains(dir, "candidate 3") {
		t.Errorf("a failed third candidate: got %q, want an error naming candidate 3", dir)
	}
}

// TestPretrainCandidates runs a tiny grid with two candidates of one
// method and a supervised source: the method runs twice (pretrain/arrow
// with seed 1, pretrain/arrow.cand2 with seed 1001), the source once; the
// results mark the better-scoring candidate as kept, the linear cell probes
// it, the report says so, and a rerun asking for one candidate is refused.
func TestPretrainCandidates(t *testing.T) {
	data := tinyBenchmark(t)
	out := filepath.Join(t.TempDir(), "exp")
	cfg := tinyConfig(data, out)
	cfg.PretrainCandidates, cfg.Protocols, cfg.Supervised = 2, []Protocol{Linear}, data
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pre := filepath.Join(out, "pretrain")
	want := []PretrainInfo{
		{Init: "arrow", Seed: 1, Candidate: 1, RunSeed: 1, RunDir: filepath.Join(pre, "arrow")},
		{Init: "arrow", Seed: 1, Candidate: 2, RunSeed: 1001, RunDir: filepath.Join(pre, "arrow.cand2")},
		{Init: InitSupervised, Seed: 1, RunSeed: 1, RunDir: filepath.Join(pre, "supervised")},
	}
	if len(res.Pretrains) != len(want) {
		t.Fatalf("%d runs, want %d: %+v", len(res.Pretrains), len(want), res.Pretrains)
	}
	for i, w := range want {
		p := res.Pretrains[i]
		if p.Init != w.Init || p.Seed != w.Seed || p.Candidate != w.Candidate || p.RunSeed != w.RunSeed || p.RunDir != w.RunDir {
			t.Errorf("run %d: %+v, want %s seed %d candidate %d run seed %d in %s", i, p, w.Init, w.Seed, w.Candidate, w.RunSeed, w.RunDir)
		}
	}
	a, b := res.Pretrains[0], res.Pretrains[1]
	if a.Kept == nil || b.Kept == nil || *a.Kept == *b.Kept || res.Pretrains[2].Kept != nil {
		t.Fatalf("kept: candidate 1 %v, candidate 2 %v, supervised %v; want exactly one arrow candidate, none for the source", a.Kept, b.Kept, res.Pretrains[2].Kept)
	}
	kept, other := a, b
	if *b.Kept {
		kept, other = b, a
	}
	for _, p := range []PretrainInfo{kept, other} {
		if score, err := candidateScore(p.RunDir); err != nil || p.Score == nil || score != *p.Score {
			t.Errorf("candidate %d: score %v, recomputed %v (%v)", p.Candidate, p.Score, score, err)
		}
	}
	if *kept.Score < *other.Score {
		t.Errorf("kept candidate %d scores %v below the other's %v", kept.Candidate, *kept.Score, *other.Score)
	}
	ba, errA := os.ReadFile(filepath.Join(a.RunDir, "backbone.safetensors"))
	bb, errB := os.ReadFile(filepath.Join(b.RunDir, "backbone.safetensors"))
	if errA != nil || errB != nil || bytes.Equal(ba, bb) {
		t.Errorf("the two candidates saved the same backbone (or none: %v, %v)", errA, errB)
	}
	for _, c := range res.Cells {
		if c.Init != "arrow" {
			continue
		}
		var r struct {
			Init string `json:"init"`
		}
		if err := readJSON(filepath.Join(c.RunDir, "result.json"), &r); err != nil || r.Init != kept.RunDir {
			t.Errorf("cell %s probed %q (%v), want the kept candidate %s", c.Key(), r.Init, err, kept.RunDir)
		}
	}
	if v := verdict(res); !strings.Contains(v, "pretrained once, as the best of 2 runs, chosen by pretext accuracy without labels, and ") {
		t.Errorf("the verdict does not say each pretraining was the best of 2 runs: %s", v)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []PretrainInfo{kept, other} {
		want := map[bool]string{true: "| yes |", false: "| no |"}[p == kept]
		cells := fmt.Sprintf("| %d | %d |", p.Candidate, p.RunSeed) // candidate, run seed
		found := false
		for _, line := range strings.Split(string(md), "\n") {
			if strings.HasPrefix(line, "| arrow |") && strings.Contains(line, cells) {
				found = strings.HasSuffix(line, want)
			}
		}
		if !found {
			t.Errorf("report.md has no row for candidate %d (run seed %d) ending %q", p.Candidate, p.RunSeed, want)
		}
	}
	// The directory holds work made with two candidates: one is refused, for
	// that setting alone.
	one := cfg
	one.PretrainCandidates = 1
	one, err = one.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if err := one.checkSettings(); err == nil || !strings.Contains(err.Error(), "PretrainCandidates") {
		t.Errorf("rerun with one candidate: error %v, want a refusal naming PretrainCandidates", err)
	}
}
