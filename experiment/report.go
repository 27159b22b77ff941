package experiment

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vidrep/vidrep/evaluate"
	"github.com/vidrep/vidrep/internal/engine"
	"github.com/vidrep/vidrep/report"
	"github.com/vidrep/vidrep/train"
)

// Files an experiment writes at the top of its output directory.
const (
	ReportBase  = "report"  // report.md (+ plots/) and report.html
	ResultsBase = "results" // results.csv and results.json: one row per (init, budget, protocol)
	CellsBase   = "cells"   // cells.csv and cells.json: one row per cell (every seed)
)

// WriteReport writes the report (markdown and self-contained HTML), the
// aggregated results and the per-cell results to out.
func WriteReport(out string, res *Results) error {
	classes := classCount(res)
	results := resultsTable(res.Rows, classes)
	if err := report.WriteTable(out, ResultsBase, results); err != nil {
		return err
	}
	if err := report.WriteJSON(filepath.Join(out, ResultsBase+".json"), res); err != nil {
		return err
	}
	if err := report.WriteTable(out, CellsBase, cellsTable(res.Cells, out)); err != nil {
		return err
	}
	doc, err := buildDoc(res, classes)
	if err != nil {
		return err
	}
	_, _, err = doc.Write(out, ReportBase)
	return err
}

// headlineLegend says what the headline's cells hold.
const headlineLegend = "top-1 %: mean ± std over seeds (gain over scratch in points ± its standard error, seeds paired)"

// Headline returns the terminal summary: one line per init with top-1 at
// each budget for the first protocol that trains on labels.
func Headline(res *Results) string {
	var sb strings.Builder
	sb.WriteString(headlineLegend + "\n\n")
	for i, proto := range accuracyProtocols(res) {
		if i > 0 {
			sb.WriteString("\n")
		}
		headlineTable(&sb, res, proto)
	}
	return sb.String()
}

// overSeeds says what a plot's points are: a mean ± std over seeds, or one
// seed's value.
func overSeeds(seeds int) string {
	if seeds == 1 {
		return "one seed"
	}
	return fmt.Sprintf("mean ± std over %d seeds", seeds)
}

// meanStd shows a row's top-1 in percent as "mean ± std" over its seeds, or
// "mean (n = 1)" where one seed has no spread to show, as the report's
// tables say it; unit follows the mean.
func meanStd(r Row, unit string) string {
	if r.Seeds < 2 {
		return fmt.Sprintf("%.1f%s (n = 1)", 100*r.Mean, unit)
	}
	return fmt.Sprintf("%.1f%s ± %.1f", 100*r.Mean, unit, 100*r.Std)
}

// gainText shows a row's gain over scratch in points, with its standard
// error from the paired seeds where there is one: "+13.9 ± 3.1", or "+13.9"
// where the seeds do not pair.
func gainText(r Row) string {
	if !r.hasGainSE() {
		return fmt.Sprintf("%+.1f", 100*r.GainMean)
	}
	return fmt.Sprintf("%+.1f ± %.1f", 100*r.GainMean, 100*r.GainSE)
}

// headlineTable writes one protocol's mean ± std table, inits by budgets,
// its columns aligned by characters (not bytes: "±" and "–" take two and
// three).
func headlineTable(sb *strings.Builder, res *Results, proto Protocol) {
	rows := [][]string{append([]string{"init \\ " + string(proto)}, res.Config.Labels...)}
	for _, init := range res.Config.Inits() {
		row := []string{init}
		for _, b := range res.Config.Labels {
			r, ok := findRow(res.Rows, init, b, proto)
			cell := "–"
			if ok {
				cell = meanStd(r, "")
				if r.HasGain && init != InitScratch {
					cell += " (" + gainText(r) + ")"
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for c, cell := range row {
			widths[c] = max(widths[c], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		for c, cell := range row {
			pad := strings.Repeat(" ", widths[c]-utf8.RuneCountInString(cell))
			if c == 0 {
				sb.WriteString(cell + pad)
			} else {
				sb.WriteString("   " + pad + cell)
			}
		}
		sb.WriteString("\n")
	}
}

// accuracyProtocols are the run's protocols that report top-1 (all but
// retrieval), in the configured order.
func accuracyProtocols(res *Results) []Protocol {
	var out []Protocol
	for _, p := range res.Config.Protocols {
		if p != Retrieval {
			out = append(out, p)
		}
	}
	return out
}

// headlineProtocol is the first accuracy protocol, whose confusion
// matrices the report shows (retrieval when there is none).
func headlineProtocol(res *Results) Protocol {
	if ps := accuracyProtocols(res); len(ps) > 0 {
		return ps[0]
	}
	return Retrieval
}

func findRow(rows []Row, init, labels string, proto Protocol) (Row, bool) {
	for _, r := range rows {
		if r.Init == init && r.Labels == labels && r.Protocol == proto {
			return r, true
		}
	}
	return Row{}, false
}

// classCount reads the number of classes from any finished fine-tuning cell.
func classCount(res *Results) int {
	for _, c := range res.Cells {
		if c.Protocol == Retrieval {
			continue
		}
		var ft evaluate.Result
		if readJSON(filepath.Join(c.RunDir, "result.json"), &ft) == nil && len(ft.Classes) > 0 {
			return len(ft.Classes)
		}
	}
	return 0
}

func resultsTable(rows []Row, classes int) *report.Table {
	t := report.NewTable("Top-1 accuracy (%) over seeds; retrieval rows give R@1", "init", "labels", "protocol",
		"labeled videos", "labels per class", "top1", "gain over scratch", "gain s.e. (paired seeds)", "seeds", "wall s")
	t.Decimals = 1
	for _, r := range rows {
		perClass := 0.0
		if classes > 0 {
			perClass = r.TrainVideos / float64(classes)
		}
		gain, se := any("–"), any("–")
		if r.HasGain {
			gain = 100 * r.GainMean
		}
		if r.hasGainSE() {
			se = 100 * r.GainSE
		}
		_ = t.AddRow(r.Init, r.Labels, string(r.Protocol), r.TrainVideos, perClass,
			report.MeanStd{Mean: 100 * r.Mean, Std: 100 * r.Std, N: r.Seeds}, gain, se, r.Seeds, r.WallTotal)
	}
	return t
}

// cellsTable lists every cell; run directories are shown relative to out.
func cellsTable(cells []CellResult, out string) *report.Table {
	t := report.NewTable("Every cell", "init", "labels", "protocol", "seed", "top1 %", "top5 %", "wall s", "clips/s", "run")
	t.Decimals = 1
	for _, c := range cells {
		run := c.RunDir
		if rel, err := filepath.Rel(out, run); err == nil {
			run = filepath.ToSlash(rel)
		}
		_ = t.AddRow(c.Init, c.Labels, string(c.Protocol), c.Seed, 100*c.Top1, 100*c.Top5, c.WallSeconds, c.ClipsPerSec, run)
	}
	return t
}

// buildDoc assembles the human report.
func buildDoc(res *Results, classes int) (*report.Doc, error) {
	cfg := res.Config
	doc := report.NewDoc("vidrep experiment: does pretraining help, with how many labels?")
	doc.Paragraph("%s", verdict(res))
	if classes > 0 {
		doc.Paragraph("%d classes: chance is %.1f%% top-1.", classes, 100/float64(classes))
	}
	doc.Pre(Headline(res))
	for _, proto := range cfg.Protocols {
		if proto == Retrieval {
			continue
		}
		doc.Heading(2, fmt.Sprintf("%s: top-1 (%%) by label budget", proto))
		doc.Table(budgetTable(res, proto))
		png, err := labelEfficiencyPNG(res, proto, classes)
		if err != nil {
			return nil, err
		}
		doc.Image(fmt.Sprintf("label_efficiency_%s.png", proto), fmt.Sprintf("Label efficiency (%s): video top-1 against labeled videos per class, %s", proto, overSeeds(cfg.Seeds)), png)
	}
	if hasProtocol(cfg.Protocols, Retrieval) {
		doc.Heading(2, "Retrieval (test videos query train videos, cosine, any-hit R@k, %)")
		doc.Table(retrievalTable(res))
	}
	doc.Heading(2, "Pretraining runs")
	doc.Table(pretrainTable(res.Pretrains))
	for _, p := range res.Pretrains {
		name := filepath.Base(p.RunDir) // init, then .seedN for a further pretraining and .candN for a further candidate
		png, err := report.TrainingCurvesPNG(filepath.Join(p.RunDir, train.MetricsFile), "Training curve: "+name, "step", "loss")
		if err == nil {
			caption := "Training loss of " + name
			if p.Kept != nil && *p.Kept {
				caption += " (the candidate kept)"
			}
			doc.Image("curve_"+name+".png", caption, png)
		}
	}
	if err := addConfusions(doc, res); err != nil {
		return nil, err
	}
	doc.Heading(2, "Every run")
	doc.Table(cellsTable(res.Cells, cfg.Out))
	if warnings := readWarnings(filepath.Join(cfg.Out, WarningsFile)); len(warnings) > 0 {
		doc.Heading(2, "Warnings")
		doc.Paragraph("What the runs reported about the data, once each (%s holds them too):", WarningsFile)
		doc.List(warnings...)
	}
	doc.Heading(2, "Environment")
	doc.Pre(environment(res))
	return doc, nil
}

// verdict states the answer in one paragraph: for each accuracy protocol,
// the best self-supervised init against scratch at the smallest budget.
func verdict(res *Results) string {
	if len(res.Config.Labels) == 0 {
		return "No label budgets were run."
	}
	smallest := res.Config.Labels[0]
	var parts []string
	for _, proto := range accuracyProtocols(res) {
		best, ok := Best(res.Rows, proto, smallest)
		scratch, okS := findRow(res.Rows, InitScratch, smallest, proto)
		if !ok || !okS {
			continue
		}
		gain := fmt.Sprintf("%+.1f points", 100*best.GainMean)
		if best.hasGainSE() {
			gain += fmt.Sprintf(", standard error %.1f over %d paired seeds", 100*best.GainSE, best.GainPairs)
		}
		parts = append(parts, fmt.Sprintf("with %s, the best self-supervised initialisation, %s, reaches %s top-1 against %s from scratch (%s)",
			proto, best.Init, meanStd(best, "%"), meanStd(scratch, "%"), gain))
	}
	if len(parts) == 0 {
		return "No self-supervised method was compared with scratch."
	}
	// how each pretraining was chosen, when it is the best of candidates
	chosen, eachChosen := "", ""
	if n := res.Config.PretrainCandidates; n > 1 {
		how := fmt.Sprintf("the best of %d runs, chosen by pretext accuracy without labels,", n)
		chosen, eachChosen = ", as "+how, ", each "+how
	}
	seeds, shared := fmt.Sprintf("%d seeds", res.Config.Seeds), "shared by every seed"
	if res.Config.Seeds == 1 {
		seeds, shared = "1 seed", "used by that seed"
	}
	pretrained := "each method pretrained once" + chosen + " and " + shared
	if n := res.Config.pretrainings(); n > 1 {
		pretrained = fmt.Sprintf("each method pretrained %d times%s and the seeds spread over the pretrainings", n, eachChosen)
	}
	return fmt.Sprintf("At the smallest label budget (%s), over %s, with %s: %s. Every method's number is below, whether it helps or not.",
		smallest, seeds, pretrained, strings.Join(parts, "; "))
}

func hasProtocol(ps []Protocol, p Protocol) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func budgetTable(res *Results, proto Protocol) *report.Table {
	cols := append([]string{"init"}, res.Config.Labels...)
	cols = append(cols, "gain over scratch at "+res.Config.Labels[0]+" ± s.e.")
	t := report.NewTable("", cols...)
	t.Decimals = 1
	for _, init := range res.Config.Inits() {
		row := []any{init}
		var gain any = "–"
		for i, b := range res.Config.Labels {
			r, ok := findRow(res.Rows, init, b, proto)
			if !ok {
				row = append(row, "–")
				continue
			}
			row = append(row, report.MeanStd{Mean: 100 * r.Mean, Std: 100 * r.Std, N: r.Seeds})
			if i == 0 && r.HasGain {
				gain = gainText(r)
			}
		}
		_ = t.AddRow(append(row, gain)...)
	}
	return t
}

func retrievalTable(res *Results) *report.Table {
	ks := []string{"1", "5", "10", "20", "50"}
	cols := []string{"init"}
	for _, k := range ks {
		cols = append(cols, "R@"+k)
	}
	t := report.NewTable("", cols...)
	t.Decimals = 1
	for _, init := range res.Config.Inits() {
		row := []any{init}
		for _, k := range ks {
			var vals []float64
			for _, c := range res.Cells {
				if c.Init == init && c.Protocol == Retrieval {
					if v, ok := c.RecallAtK[k]; ok {
						vals = append(vals, 100*v)
					}
				}
			}
			if len(vals) == 0 {
				row = append(row, "–")
			} else {
				row = append(row, report.Summarize(vals))
			}
		}
		_ = t.AddRow(row...)
	}
	return t
}

func pretrainTable(ps []PretrainInfo) *report.Table {
	cols := []string{"init", "seed", "steps", "final loss", "pretext accuracy %", "wall s", "clips/s"}
	candidates := slices.ContainsFunc(ps, func(p PretrainInfo) bool { return p.Candidate > 0 })
	if candidates {
		cols = append(cols, "candidate", "run seed", "selection score: pretext accuracy % of the final epochs holding 90 steps (or minus their loss)", "kept")
	}
	t := report.NewTable("", cols...)
	t.Decimals = 2
	for _, p := range ps {
		var acc any = "–"
		if p.Accuracy >= 0 {
			acc = 100 * p.Accuracy
		}
		row := []any{p.Init, p.Seed, p.Steps, p.FinalLoss, acc, p.WallSeconds, p.ClipsPerSec}
		if candidates {
			row = append(row, candidateCells(p)...)
		}
		_ = t.AddRow(row...)
	}
	return t
}

// candidateCells are the candidate columns of p's row in the pretraining
// table: dashes for a run that had no rivals (the supervised source).
func candidateCells(p PretrainInfo) []any {
	if p.Candidate == 0 || p.Score == nil || p.Kept == nil {
		return []any{"–", p.RunSeed, "–", "–"}
	}
	kept := "no"
	if *p.Kept {
		kept = "yes"
	}
	score := *p.Score
	if p.Accuracy >= 0 {
		score *= 100 // an accuracy, shown as the table's other accuracies
	}
	return []any{p.Candidate, p.RunSeed, score, kept}
}

// labelEfficiencyPNG plots top-1 against labeled videos per class, one line
// per init, with standard deviations as error bars.
func labelEfficiencyPNG(res *Results, proto Protocol, classes int) ([]byte, error) {
	var series []report.Series
	for _, init := range res.Config.Inits() {
		s := report.Series{Name: init}
		for _, b := range res.Config.Labels {
			r, ok := findRow(res.Rows, init, b, proto)
			if !ok {
				continue
			}
			x := r.TrainVideos
			if classes > 0 {
				x /= float64(classes)
			}
			s.X, s.Y, s.Err = append(s.X, x), append(s.Y, 100*r.Mean), append(s.Err, 100*r.Std)
		}
		if len(s.X) > 0 {
			sort.Sort(byX(s))
			series = append(series, s)
		}
	}
	return report.LinePlot{Title: "Label efficiency (" + string(proto) + ")", XLabel: "labeled videos per class",
		YLabel: "video top-1 (%)", Series: series, XTicksAtData: true, YMin: 0, YMax: 100, Points: true, LegendLeft: true}.PNG()
}

// byX sorts a series' points by X, keeping Y and Err aligned.
type byX report.Series

// Len, Less and Swap sort a series' points by x (sort.Interface).
func (s byX) Len() int           { return len(s.X) }
func (s byX) Less(i, j int) bool { return s.X[i] < s.X[j] }
func (s byX) Swap(i, j int) {
	s.X[i], s.X[j] = s.X[j], s.X[i]
	s.Y[i], s.Y[j] = s.Y[j], s.Y[i]
	s.Err[i], s.Err[j] = s.Err[j], s.Err[i]
}

// addConfusions adds the confusion matrices, at the smallest budget, of
// scratch and of the best self-supervised init (seed 0 of the headline protocol).
func addConfusions(doc *report.Doc, res *Results) error {
	proto := headlineProtocol(res)
	if proto == Retrieval || len(res.Config.Labels) == 0 {
		return nil
	}
	smallest := res.Config.Labels[0]
	inits := []string{InitScratch}
	if best, ok := Best(res.Rows, proto, smallest); ok {
		inits = append(inits, best.Init)
	}
	doc.Heading(2, fmt.Sprintf("Confusion matrices (%s, %s, seed 0)", proto, smallest))
	for _, init := range inits {
		cell := Cell{Init: init, Labels: smallest, Seed: 0, Protocol: proto}
		var ft evaluate.Result
		if err := readJSON(filepath.Join(cell.Dir(res.Config.Out), "result.json"), &ft); err != nil || ft.Test == nil {
			continue
		}
		png, err := report.ConfusionPNG(ft.Test.Video.Confusion, ft.Classes, "Confusion: "+init+" ("+smallest+")")
		if err != nil {
			return err
		}
		doc.Image("confusion_"+init+".png", "Confusion matrix of "+init+" at "+smallest+" (rows: true class)", png)
	}
	return nil
}

// environment describes where the experiment ran.
func environment(res *Results) string {
	var sb strings.Builder
	backend := res.Config.Backend
	if backend == "" {
		backend = os.Getenv("GOMLX_BACKEND")
	}
	if backend == "" {
		backend = "go"
	}
	fmt.Fprintf(&sb, "vidrep version: %s\n", res.Config.Version)
	if commit := vcsRevision(); commit != "" {
		fmt.Fprintf(&sb, "commit: %s\n", commit)
	}
	fmt.Fprintf(&sb, "backend: %s\n", engine.Describe(backend))
	fmt.Fprintf(&sb, "cpu: %s (%d logical CPUs), %s/%s, %s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&sb, "date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&sb, "wall time of this invocation: %.0f s\n", res.WallS)
	c := res.Config
	if c.Jobs > 1 {
		fmt.Fprintf(&sb, "runs at once: %d (each run's wall time and clips/s are those of a shared machine)\n", c.Jobs)
	}
	fmt.Fprintf(&sb, "data: %s (split %d); arch %s, %d frames x %dpx (stride %d)\n", c.Data, c.Split, c.Arch, c.Frames, c.Size, c.Stride)
	local := ""
	if c.PretrainLocalMotion > 0 {
		local = fmt.Sprintf(", camera motion local in %g of clips", c.PretrainLocalMotion)
	}
	if c.PretrainPanSpeedJitter > 0 {
		local += fmt.Sprintf(", camera pans at %g-%g of their speed", 1-c.PretrainPanSpeedJitter, 1+c.PretrainPanSpeedJitter)
	}
	if c.PretrainCandidates > 1 {
		local += fmt.Sprintf(", best of %d candidates", c.PretrainCandidates)
	}
	fmt.Fprintf(&sb, "pretraining: %d epochs, batch %d, lr %g, warm-up %d steps%s, %d per method; fine-tuning: %d epochs, batch %d; test: %d clips x %d crops\n",
		c.PretrainEpochs, c.PretrainBatch, c.PretrainLR, c.PretrainWarmup, local, c.pretrainings(), c.FinetuneEpochs, c.FinetuneBatch, c.EvalClips, c.EvalCrops)
	return sb.String()
}

func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
