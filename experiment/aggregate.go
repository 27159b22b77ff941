package experiment

import (
	"math"
	"sort"

	"github.com/vidrep/vidrep/report"
)

// CellResult is what a finished cell measured.
type CellResult struct {
	Cell
	Top1        float64            `json:"top1"`                   // video-level top-1 accuracy in [0,1] (R@1 for retrieval)
	Top5        float64            `json:"top5,omitempty"`         // video-level top-5 accuracy
	RecallAtK   map[string]float64 `json:"recall_at_k,omitempty"`  // retrieval only: "1","5",... -> recall
	TrainVideos int                `json:"train_videos,omitempty"` // labeled videos the budget gave (fine-tune, linear)
	WallSeconds float64            `json:"wall_s"`
	ClipsPerSec float64            `json:"clips_per_s"`
	RunDir      string             `json:"run_dir"`
}

// Row summarises one (init, budget, protocol) over its seeds.
type Row struct {
	Init     string   `json:"init"`
	Labels   string   `json:"labels"`
	Protocol Protocol `json:"protocol"`
	Seeds    int      `json:"seeds"`
	Mean     float64  `json:"mean_top1"`
	Std      float64  `json:"std_top1"`          // sample standard deviation (n-1); 0 for one seed
	GainMean float64  `json:"gain_over_scratch"` // Mean minus scratch's Mean for the same budget and protocol
	HasGain  bool     `json:"has_gain"`          // false when scratch has no row to compare with
	// GainSE is the standard error of GainMean from the seeds' paired
	// differences (each seed draws the same labeled videos for every init):
	// their sample standard deviation over sqrt(GainPairs). It is set only
	// for fine-tuning and linear rows whose seeds are scratch's, two or
	// more, each with a top-1 (retrieval seeds pair no label draw).
	GainSE    float64 `json:"gain_se_paired"`
	GainPairs int     `json:"gain_pairs"` // seeds paired with scratch for GainSE; 0 when unpaired
	WallTotal float64 `json:"wall_s_total"`
	// TrainVideos is the mean number of labeled videos the budget gave (0 for retrieval).
	TrainVideos float64 `json:"train_videos"`
}

// Aggregate groups results by (init, budget, protocol) and computes mean,
// standard deviation and the gain over scratch. Rows come back in the order
// of first appearance in results.
func Aggregate(results []CellResult) []Row {
	type key struct {
		init, labels string
		proto        Protocol
	}
	var order []key
	groups := map[key][]CellResult{}
	for _, r := range results {
		k := key{r.Init, r.Labels, r.Protocol}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	rows := make([]Row, 0, len(order))
	means := map[key]float64{}
	for _, k := range order {
		g := groups[k]
		vals := make([]float64, len(g))
		wall, videos := 0.0, 0
		for i, r := range g {
			vals[i] = r.Top1
			wall += r.WallSeconds
			videos += r.TrainVideos
		}
		ms := report.Summarize(vals)
		means[k] = ms.Mean
		rows = append(rows, Row{Init: k.init, Labels: k.labels, Protocol: k.proto, Seeds: len(g),
			Mean: ms.Mean, Std: ms.Std, WallTotal: wall, TrainVideos: float64(videos) / float64(len(g))})
	}
	for i := range rows {
		baseKey := key{InitScratch, rows[i].Labels, rows[i].Protocol}
		base, ok := means[baseKey]
		if ok {
			rows[i].GainMean = rows[i].Mean - base
			rows[i].HasGain = true
			if rows[i].Init != InitScratch && rows[i].Protocol != Retrieval {
				own := groups[key{rows[i].Init, rows[i].Labels, rows[i].Protocol}]
				rows[i].GainSE, rows[i].GainPairs = pairedSE(own, groups[baseKey])
			}
		}
	}
	return rows
}

// pairedSE is the standard error of the mean top-1 difference a-b over
// their seeds, and how many seeds pair; it gives 0, 0 unless both hold the
// same seeds, two or more, none with a NaN top-1 (the mean difference is
// then GainMean).
func pairedSE(a, b []CellResult) (float64, int) {
	if len(a) < 2 || len(a) != len(b) {
		return 0, 0
	}
	base := make(map[int]float64, len(b))
	for _, r := range b {
		base[r.Seed] = r.Top1
	}
	diffs := make([]float64, 0, len(a))
	for _, r := range a {
		y, ok := base[r.Seed]
		if !ok || math.IsNaN(r.Top1) || math.IsNaN(y) {
			return 0, 0
		}
		diffs = append(diffs, r.Top1-y)
	}
	sort.Float64s(diffs) // a fixed order, so the sums do not depend on map order
	return report.Summarize(diffs).Std / math.Sqrt(float64(len(diffs))), len(diffs)
}

// hasGainSE says whether the row's gain has a standard error (pairedSE
// found its seeds paired with scratch's).
func (r Row) hasGainSE() bool { return r.GainPairs > 0 }

// Best returns, for a protocol and budget, the self-supervised init (not
// scratch, supervised or imported) with the highest mean, and whether one exists.
func Best(rows []Row, proto Protocol, labels string) (Row, bool) {
	var cands []Row
	for _, r := range rows {
		if r.Protocol == proto && r.Labels == labels && r.Init != InitScratch && r.Init != InitSupervised && r.Init != InitImported {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return Row{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Mean > cands[j].Mean })
	return cands[0], true
}
