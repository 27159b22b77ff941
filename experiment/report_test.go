package experiment

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestVerdictAndHeadlineCoverEveryAccuracyProtocol checks that the answer
// names the best self-supervised init of each protocol at the smallest
// budget, with its gain, and that the terminal table has a block for each.
func TestVerdictAndHeadlineCoverEveryAccuracyProtocol(t *testing.T) {
	row := func(init string, p Protocol, mean float64) Row {
		return Row{Init: init, Labels: "2/class", Protocol: p, Seeds: 3, Mean: mean, HasGain: true}
	}
	res := &Results{
		Config: Config{Methods: []string{"pan", "speed"}, Labels: []string{"2/class"}, Seeds: 3,
			Protocols: []Protocol{Finetune, Linear, Retrieval}},
		Rows: []Row{
			row(InitScratch, Finetune, 0.15), row("pan", Finetune, 0.16), row("speed", Finetune, 0.18),
			row(InitScratch, Linear, 0.11), row("pan", Linear, 0.26), row("speed", Linear, 0.14),
		},
	}
	for i, r := range res.Rows { // each protocol's scratch row comes first
		res.Rows[i].GainMean = r.Mean - res.Rows[i/3*3].Mean
	}
	res.Rows[4].GainSE, res.Rows[4].GainPairs = 0.021, 3
	v := verdict(res)
	for _, want := range []string{"(2/class), over 3 seeds", "with finetune, the best self-supervised initialisation, speed, reaches 18.0%",
		"(+3.0 points)", "with linear, the best self-supervised initialisation, pan, reaches 26.0%", "(+15.0 points, standard error 2.1 over 3 paired seeds)"} {
		if !strings.Contains(v, want) {
			t.Errorf("verdict lacks %q:\n%s", want, v)
		}
	}
	h := Headline(res)
	if !strings.Contains(h, "init \\ finetune") || !strings.Contains(h, "init \\ linear") || strings.Contains(h, "retrieval") {
		t.Errorf("headline should have a finetune and a linear block and no retrieval block:\n%s", h)
	}
}

// TestHeadlineColumnsLineUp checks that every line of a headline block is
// as wide, in characters, as its header (cells are right-aligned, so equal
// widths mean the last column lines up) and that the cells hold the values,
// with a gain suffix, a missing cell and a long init name.
func TestHeadlineColumnsLineUp(t *testing.T) {
	res := &Results{
		Config: Config{Methods: []string{"camera", "vcop:1+rotation:0.5"}, Labels: []string{"2/class", "all"}, Seeds: 3,
			Protocols: []Protocol{Linear}},
		Rows: []Row{
			{Init: InitScratch, Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.114, Std: 0.034},
			{Init: InitScratch, Labels: "all", Protocol: Linear, Seeds: 3, Mean: 0.5, Std: 0.1},
			{Init: "camera", Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.228, Std: 0.063, HasGain: true, GainMean: 0.114, GainSE: 0.031, GainPairs: 3},
			{Init: "vcop:1+rotation:0.5", Labels: "all", Protocol: Linear, Seeds: 3, Mean: 0.61, Std: 0.02, HasGain: true, GainMean: -0.01},
		},
	}
	lines := strings.Split(strings.TrimRight(Headline(res), "\n"), "\n")
	if len(lines) != 6 || lines[0] != headlineLegend || lines[1] != "" {
		t.Fatalf("want the legend, a blank line, a header and 3 init lines, got:\n%s", strings.Join(lines, "\n"))
	}
	lines = lines[2:]
	width := utf8.RuneCountInString(lines[0])
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n != width {
			t.Errorf("line %q is %d characters wide, the header %d", l, n, width)
		}
	}
	for _, want := range []string{"22.8 ± 6.3 (+11.4 ± 3.1)", "61.0 ± 2.0 (-1.0)", "–"} {
		if !strings.Contains(Headline(res), want) {
			t.Errorf("headline lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestMeanStdShowsNoSpreadForOneSeed(t *testing.T) {
	cases := []struct {
		row  Row
		unit string
		want string
	}{
		{Row{Seeds: 3, Mean: 0.2283, Std: 0.0634}, "", "22.8 ± 6.3"},
		{Row{Seeds: 3, Mean: 0.2283, Std: 0.0634}, "%", "22.8% ± 6.3"},
		{Row{Seeds: 1, Mean: 0.5}, "", "50.0 (n = 1)"},
	}
	for _, c := range cases {
		if got := meanStd(c.row, c.unit); got != c.want {
			t.Errorf("meanStd(%+v, %q) = %q, want %q", c.row, c.unit, got, c.want)
		}
	}
}

// TestVerdictSaysHowEachPretrainingWasChosen checks the verdict's account of
// the pretrainings for every mix of pretraining seeds and candidates.
func TestVerdictSaysHowEachPretrainingWasChosen(t *testing.T) {
	cases := []struct {
		labelSeeds, seeds, candidates int
		want                          string
	}{
		{3, 1, 1, "over 3 seeds, with each method pretrained once and shared by every seed:"},
		{3, 1, 3, "over 3 seeds, with each method pretrained once, as the best of 3 runs, chosen by pretext accuracy without labels, and shared by every seed:"},
		{3, 3, 1, "over 3 seeds, with each method pretrained 3 times and the seeds spread over the pretrainings:"},
		{3, 3, 2, "over 3 seeds, with each method pretrained 3 times, each the best of 2 runs, chosen by pretext accuracy without labels, and the seeds spread over the pretrainings:"},
		{1, 1, 1, "over 1 seed, with each method pretrained once and used by that seed:"},
	}
	for _, c := range cases {
		res := &Results{
			Config: Config{Methods: []string{"camera"}, Labels: []string{"2/class"}, Seeds: c.labelSeeds, Protocols: []Protocol{Linear},
				PretrainSeeds: c.seeds, PretrainCandidates: c.candidates},
			Rows: []Row{
				{Init: InitScratch, Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.15, HasGain: true},
				{Init: "camera", Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.30, HasGain: true},
			},
		}
		if v := verdict(res); !strings.Contains(v, c.want) {
			t.Errorf("%d pretraining seeds, %d candidates: verdict lacks %q:\n%s", c.seeds, c.candidates, c.want, v)
		}
	}
}

// TestResultsTableGainColumns checks results.csv's gain columns: the gain,
// then its paired standard error where the seeds pair and "–" where not,
// with every row kept (AddRow drops a row whose cells miscount).
func TestResultsTableGainColumns(t *testing.T) {
	rows := []Row{
		{Init: InitScratch, Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.15, HasGain: true},
		{Init: "camera", Labels: "2/class", Protocol: Linear, Seeds: 3, Mean: 0.31, HasGain: true, GainMean: 0.16, GainSE: 0.025, GainPairs: 3},
		{Init: "speed", Labels: "2/class", Protocol: Linear, Seeds: 1, Mean: 0.14, HasGain: true, GainMean: -0.01},
	}
	tab := resultsTable(rows, 10)
	gainCol, seCol := slices.Index(tab.Columns, "gain over scratch"), slices.Index(tab.Columns, "gain s.e. (paired seeds)")
	if gainCol < 0 || seCol != gainCol+1 {
		t.Fatalf("columns %q: want the gain, then its standard error", tab.Columns)
	}
	if len(tab.Rows) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(tab.Rows), len(rows))
	}
	for i, want := range [][2]string{{"0.0", "–"}, {"16.0", "2.5"}, {"-1.0", "–"}} {
		gain, se := tab.Text(tab.Rows[i][gainCol]), tab.Text(tab.Rows[i][seCol])
		if gain != want[0] || se != want[1] {
			t.Errorf("row %s: gain %q, s.e. %q; want %q, %q", rows[i].Init, gain, se, want[0], want[1])
		}
	}
}
