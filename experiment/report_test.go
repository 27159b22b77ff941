package experiment

import (
	"strings"
	"testing"
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
	v := verdict(res)
	for _, want := range []string{"(2/class), over 3 seeds", "with finetune, the best self-supervised initialisation, speed, reaches 18.0%",
		"(+3.0 points)", "with linear, the best self-supervised initialisation, pan, reaches 26.0%", "(+15.0 points)"} {
		if !strings.Contains(v, want) {
			t.Errorf("verdict lacks %q:\n%s", want, v)
		}
	}
	h := Headline(res)
	if !strings.Contains(h, "init \\ finetune") || !strings.Contains(h, "init \\ linear") || strings.Contains(h, "retrieval") {
		t.Errorf("headline should have a finetune and a linear block and no retrieval block:\n%s", h)
	}
}
