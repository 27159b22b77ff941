package experiment

import (
	"math"
	"testing"
)

func TestCellsGrid(t *testing.T) {
	cells := Cells([]string{"scratch", "vcop"}, []string{"5/class", "all"}, []Protocol{Finetune, Retrieval}, 3, 1)
	// finetune: 2 inits x 2 budgets x 3 seeds = 12; retrieval: scratch x 3 seeds + vcop x 1 seed = 4.
	if len(cells) != 16 {
		t.Fatalf("got %d cells, want 16", len(cells))
	}
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c.Key()] {
			t.Errorf("duplicate cell key %q", c.Key())
		}
		seen[c.Key()] = true
		if c.Protocol == Retrieval && c.Labels != "all" {
			t.Errorf("retrieval cell with budget %q", c.Labels)
		}
	}
	if got, want := (Cell{Init: "vcop", Labels: "10%", Seed: 2, Protocol: Linear}).Key(), "vcop/10pct/linear/seed2"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got, want := (Cell{Init: "scratch", Labels: "5/class", Protocol: Finetune}).Key(), "scratch/5perclass/finetune/seed0"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}

func TestAggregate(t *testing.T) {
	res := []CellResult{
		{Cell: Cell{Init: "scratch", Labels: "5/class", Protocol: Finetune, Seed: 0}, Top1: 0.20, WallSeconds: 1},
		{Cell: Cell{Init: "scratch", Labels: "5/class", Protocol: Finetune, Seed: 1}, Top1: 0.30, WallSeconds: 2},
		{Cell: Cell{Init: "vcop", Labels: "5/class", Protocol: Finetune, Seed: 0}, Top1: 0.50},
		{Cell: Cell{Init: "vcop", Labels: "5/class", Protocol: Finetune, Seed: 1}, Top1: 0.70},
		{Cell: Cell{Init: "speed", Labels: "5/class", Protocol: Finetune, Seed: 0}, Top1: 0.40},
		{Cell: Cell{Init: "vcop", Labels: "all", Protocol: Finetune, Seed: 0}, Top1: 0.9},
	}
	rows := Aggregate(res)
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4", len(rows))
	}
	sc := rows[0]
	if sc.Init != "scratch" || math.Abs(sc.Mean-0.25) > 1e-12 || math.Abs(sc.Std-math.Sqrt(0.005)) > 1e-12 || sc.WallTotal != 3 {
		t.Errorf("scratch row = %+v, want mean 0.25, std sqrt(0.005), wall 3", sc)
	}
	vc := rows[1]
	if !vc.HasGain || math.Abs(vc.GainMean-0.35) > 1e-12 {
		t.Errorf("vcop gain = %v (has %v), want 0.35", vc.GainMean, vc.HasGain)
	}
	if math.Abs(vc.GainSE-0.05) > 1e-12 || vc.GainPairs != 2 {
		t.Errorf("vcop gain s.e. = %v over %d pairs, want 0.05 over 2 (differences 0.30 and 0.40)", vc.GainSE, vc.GainPairs)
	}
	if sp := rows[2]; sp.GainPairs != 0 || sp.GainSE != 0 {
		t.Errorf("speed has one seed of scratch's two, got s.e. %v over %d pairs, want none", sp.GainSE, sp.GainPairs)
	}
	if sc.GainPairs != 0 {
		t.Errorf("scratch is paired with itself: %d pairs", sc.GainPairs)
	}
	retrieval := Aggregate([]CellResult{
		{Cell: Cell{Init: "scratch", Labels: "all", Protocol: Retrieval, Seed: 0}, Top1: 0.2},
		{Cell: Cell{Init: "scratch", Labels: "all", Protocol: Retrieval, Seed: 1}, Top1: 0.3},
		{Cell: Cell{Init: "vcop", Labels: "all", Protocol: Retrieval, Seed: 0}, Top1: 0.5},
		{Cell: Cell{Init: "vcop", Labels: "all", Protocol: Retrieval, Seed: 1}, Top1: 0.4},
	})
	if r := retrieval[1]; !r.HasGain || r.GainPairs != 0 {
		t.Errorf("retrieval's seeds draw no labels to pair, got %d pairs (gain %v)", r.GainPairs, r.HasGain)
	}
	if rows[3].HasGain {
		t.Errorf("vcop/all has no scratch row to compare with, HasGain should be false")
	}
	best, ok := Best(rows, Finetune, "5/class")
	if !ok || best.Init != "vcop" {
		t.Errorf("Best = %+v, %v; want vcop", best, ok)
	}
	if _, ok := Best(rows, Linear, "5/class"); ok {
		t.Errorf("Best found a linear row where there is none")
	}
}

func TestPairedSE(t *testing.T) {
	cases := []struct {
		name  string
		a, b  map[int]float64
		se    float64
		pairs int
	}{
		// differences 0.1, 0.2, 0.6: mean 0.3, sample std sqrt(0.07), s.e. sqrt(0.07/3)
		{"three seeds", map[int]float64{0: 0.3, 1: 0.4, 2: 0.9}, map[int]float64{0: 0.2, 1: 0.2, 2: 0.3}, math.Sqrt(0.07 / 3), 3},
		{"equal differences", map[int]float64{0: 0.5, 1: 0.6}, map[int]float64{0: 0.4, 1: 0.5}, 0, 2},
		{"one seed", map[int]float64{0: 0.5}, map[int]float64{0: 0.4}, 0, 0},
		{"other seeds", map[int]float64{0: 0.5, 1: 0.6}, map[int]float64{0: 0.4, 2: 0.5}, 0, 0},
		{"fewer seeds than scratch", map[int]float64{0: 0.5, 1: 0.6}, map[int]float64{0: 0.4, 1: 0.5, 2: 0.1}, 0, 0},
		{"a NaN top-1", map[int]float64{0: 0.5, 1: math.NaN(), 2: 0.7}, map[int]float64{0: 0.4, 1: 0.5, 2: 0.1}, 0, 0},
	}
	// cells turns seed -> top-1 into one init's cells, in seed order.
	cells := func(top1 map[int]float64) []CellResult {
		var out []CellResult
		for seed := range 3 {
			if v, ok := top1[seed]; ok {
				out = append(out, CellResult{Cell: Cell{Seed: seed}, Top1: v})
			}
		}
		return out
	}
	for _, c := range cases {
		se, pairs := pairedSE(cells(c.a), cells(c.b))
		if math.Abs(se-c.se) > 1e-12 || pairs != c.pairs {
			t.Errorf("%s: pairedSE = %v over %d pairs, want %v over %d", c.name, se, pairs, c.se, c.pairs)
		}
	}
}
