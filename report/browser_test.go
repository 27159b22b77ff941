package report

import (
	"testing"

	"github.com/vidrep/vidrep/internal/browsercheck"
)

// TestHTMLInBrowser writes a small report (a table, a label-efficiency plot
// and a confusion matrix) and opens report.html in headless Chromium: no
// console error, no request outside the file, both plots decoded at their
// drawn size and non-blank on screen, and a non-blank page screenshot.
// Without chromium it skips, unless CI is set (then it fails).
func TestHTMLInBrowser(t *testing.T) {
	curve, err := LinePlot{
		Title: "label efficiency", XLabel: "labels per class", YLabel: "top-1 (%)",
		LogX: true, XTicksAtData: true, YMin: 0, YMax: 100, LegendLeft: true,
		Series: []Series{
			{Name: "scratch", X: []float64{5, 10, 50}, Y: []float64{20, 30, 55}, Err: []float64{3, 2, 1}},
			{Name: "arrow", X: []float64{5, 10, 50}, Y: []float64{45, 55, 70}, Err: []float64{2, 2, 1}},
		},
	}.PNG()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := ConfusionPNG([][]int{{8, 1, 1}, {0, 10, 0}, {5, 0, 5}}, []string{"left", "right", "up"}, "confusion")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDoc("Browser check")
	d.Paragraph("A small report rendered by the report package.")
	d.Table(sampleTable())
	d.Image("label_efficiency.png", "label efficiency", curve)
	d.Image("confusion.png", "confusion matrix", conf)
	d.Pre("backend: go")
	_, htmlPath, err := d.Write(t.TempDir(), "report")
	if err != nil {
		t.Fatal(err)
	}
	p := browsercheck.Check(t, htmlPath)
	if p.Title != "Browser check" {
		t.Errorf("page title %q, want %q", p.Title, "Browser check")
	}
	if len(p.Images) != 2 {
		t.Fatalf("page shows %d images, want 2", len(p.Images))
	}
	if err := p.RequireImages(1, 720, 432); err != nil {
		t.Errorf("label-efficiency plot: %v", err)
	}
	if err := p.RequireImages(2, 0, 0); err != nil {
		t.Error(err)
	}
}
