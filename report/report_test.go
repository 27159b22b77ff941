package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleTable() *Table {
	t := NewTable("Top-1 by init", "init", "labels", "top1", "runs")
	t.AddRow("scratch", "5/class", MeanStd{Mean: 30, Std: 2.5, N: 3}, 3)
	t.AddRow("a|b", "all", MeanStd{Mean: math.NaN(), Std: math.NaN()}, 0)
	t.AddRow("vcop", "10%", 61.256, 3)
	return t
}

func TestSummarize(t *testing.T) {
	m := Summarize([]float64{1, 2, 3, 4, math.NaN()})
	if m.N != 4 || m.Mean != 2.5 || math.Abs(m.Std-math.Sqrt(5.0/3)) > 1e-12 {
		t.Errorf("Summarize = %+v, want n 4 mean 2.5 std %v", m, math.Sqrt(5.0/3))
	}
	if m := Summarize([]float64{7}); m.Std != 0 || m.Mean != 7 {
		t.Errorf("single value: %+v", m)
	}
	if m := Summarize(nil); !math.IsNaN(m.Mean) {
		t.Errorf("empty: %+v", m)
	}
}

func TestOneValueShowsNoSpread(t *testing.T) {
	tb := NewTable("one seed", "top1")
	for _, c := range []struct {
		cell MeanStd
		want string
	}{
		{MeanStd{Mean: 16.7, Std: 0, N: 1}, "16.70 (n = 1)"},
		{MeanStd{Mean: 16.7, Std: 1.2, N: 3}, "16.70 ± 1.20"},
	} {
		if got := tb.Text(c.cell); got != c.want {
			t.Errorf("Text(%+v) = %q, want %q", c.cell, got, c.want)
		}
	}
}

func TestTableFormats(t *testing.T) {
	tb := sampleTable()
	md := tb.Markdown()
	for _, want := range []string{"| init | labels | top1 | runs |", "| scratch | 5/class | 30.00 ± 2.50 | 3 |", `a\|b`, "| – |", "61.26"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	var buf bytes.Buffer
	if err := tb.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"init", "labels", "top1", "top1_std", "runs"},
		{"scratch", "5/class", "30", "2.5", "3"},
		{"a|b", "all", "", "", "0"},
		{"vcop", "10%", "61.256", "", "3"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("CSV = %v, want %v", recs, want)
	}
	js, err := json.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Rows[0]["top1"].(map[string]any)["std"]; got != 2.5 {
		t.Errorf("JSON top1 std = %v, want 2.5 (%s)", got, js)
	}
	if got := back.Rows[1]["top1"].(map[string]any)["mean"]; got != nil {
		t.Errorf("NaN mean should be null in JSON, got %v", got)
	}
	plain := tb.Plain()
	lines := strings.Split(strings.TrimSpace(plain), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "scratch  5/class  30.00 ± 2.50") {
		t.Errorf("plain table has %d lines, want 5 with aligned columns:\n%s", len(lines), plain)
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("plain line %q ends with a space", l)
		}
	}
	if err := tb.AddRow("too few"); err == nil {
		t.Error("a short row gave no error")
	}
}

func TestWriteTable(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTable(dir, "results", sampleTable()); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".md", ".csv", ".json"} {
		b, err := os.ReadFile(filepath.Join(dir, "results"+ext))
		if err != nil || len(b) == 0 {
			t.Errorf("results%s: %v (len %d)", ext, err, len(b))
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if !json.Valid(b) {
		t.Errorf("results.json is not valid JSON")
	}
}

// decodeChecked decodes a PNG and returns it with the number of distinct
// colours and the share of pixels that are not (near) white.
func decodeChecked(t *testing.T, b []byte) (image.Image, int, float64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	colours := map[[3]uint32]bool{}
	ink, total := 0, 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
			if r < 0xf000 || g < 0xf000 || b < 0xf000 {
				ink++
			}
			total++
		}
	}
	return img, len(colours), float64(ink) / float64(total)
}

func TestLinePlotPNG(t *testing.T) {
	p := LinePlot{
		Title: "label efficiency", XLabel: "labels per class", YLabel: "top-1 (%)",
		LogX: true, XTicksAtData: true, YMin: 0, YMax: 100,
		Series: []Series{
			{Name: "scratch", X: []float64{5, 10, 50}, Y: []float64{20, 30, 55}, Err: []float64{3, 2, 1}},
			{Name: "vcop", X: []float64{5, 10, 50}, Y: []float64{45, 55, 70}, Err: []float64{2, 2, 1}},
		},
	}
	b, err := p.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, colours, ink := decodeChecked(t, b)
	if img.Bounds().Dx() != 720 || img.Bounds().Dy() != 432 {
		t.Errorf("size %v, want 720x432", img.Bounds())
	}
	if colours < 5 || ink < 0.01 || ink > 0.5 {
		t.Errorf("plot looks blank or flooded: %d colours, %.3f ink", colours, ink)
	}
	bad := []LinePlot{
		{Title: "no series"},
		{Series: []Series{{X: []float64{1, 2}, Y: []float64{1}}}},
		{LogX: true, Series: []Series{{X: []float64{0}, Y: []float64{1}}}},
		{Series: []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}},
	}
	for i, p := range bad {
		if _, err := p.PNG(); err == nil {
			t.Errorf("bad plot %d drew without error", i)
		}
	}
}

func TestConfusionPNG(t *testing.T) {
	conf := [][]int{{8, 1, 1}, {0, 10, 0}, {5, 0, 5}}
	b, err := ConfusionPNG(conf, []string{"left", "right", "up"}, "confusion")
	if err != nil {
		t.Fatal(err)
	}
	_, colours, ink := decodeChecked(t, b)
	if colours < 5 || ink < 0.1 {
		t.Errorf("heatmap looks blank: %d colours, %.3f ink", colours, ink)
	}
	// Many classes: axis names thinned, no per-cell labels, still draws.
	big := make([][]int, 60)
	for i := range big {
		big[i] = make([]int, 60)
		big[i][i] = 3
		big[i][(i+1)%60] = 1
	}
	if b, err = ConfusionPNG(big, nil, "60 classes"); err != nil {
		t.Fatal(err)
	}
	decodeChecked(t, b)
	if _, err := ConfusionPNG([][]int{{1, 2}}, nil, "ragged"); err == nil {
		t.Error("non-square matrix gave no error")
	}
	if _, err := ConfusionPNG([][]int{{1}}, []string{"a", "b"}, "names"); err == nil {
		t.Error("wrong name count gave no error")
	}
}

func TestReadMetricsAndCurves(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.jsonl")
	data := `{"step":10,"loss":2.1,"lr":0.001,"phase":"train"}
{"step":20,"loss":1.7,"lr":0.001,"phase":"train"}

{"epoch":1,"step":20,"val_acc":0.4}
{"step":30,"loss":1.2,"lr":0.0`
	os.WriteFile(path, []byte(data), 0o644)
	recs, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Tags["phase"] != "train" {
		t.Fatalf("records %+v, want 3 with the truncated last line dropped", recs)
	}
	if got := NumericKeys(recs); !reflect.DeepEqual(got, []string{"epoch", "loss", "lr", "step", "val_acc"}) {
		t.Errorf("NumericKeys = %v", got)
	}
	s, err := Curves(recs, "step", "loss", "val_acc", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || !reflect.DeepEqual(s[0].Y, []float64{2.1, 1.7}) || !reflect.DeepEqual(s[1].X, []float64{20}) {
		t.Errorf("Curves = %+v", s)
	}
	if _, err := Curves(recs, "step", "nothing"); err == nil {
		t.Error("no matching key gave no error")
	}
	if got := Filter(recs, "phase", "train"); len(got) != 2 {
		t.Errorf("Filter kept %d records, want 2", len(got))
	}
	b, err := TrainingCurvesPNG(path, "loss", "step", "loss")
	if err != nil {
		t.Fatal(err)
	}
	decodeChecked(t, b)
	os.WriteFile(path, []byte("{\"step\":1}\nnot json\n{\"step\":2}\n"), 0o644)
	if _, err := ReadMetrics(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed middle line: err = %v, want one naming line 2", err)
	}
	if _, err := ReadMetrics(filepath.Join(dir, "absent.jsonl")); err == nil {
		t.Error("missing file gave no error")
	}
}

func TestDocWrite(t *testing.T) {
	p, err := LinePlot{Title: "t", Series: []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{1, 4, 9}}}}.PNG()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDoc("Experiment <1>")
	d.Heading(2, "Results & plots")
	d.Paragraph("gain over scratch: %d points", 17)
	d.Table(sampleTable())
	d.Image("curve.png", "a curve", p)
	d.Pre("backend: go\ncommit: abc")
	d.List("one", "two")
	dir := t.TempDir()
	mdPath, htmlPath, err := d.Write(dir, "report")
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(mdPath)
	for _, want := range []string{"# Experiment <1>", "## Results & plots", "![a curve](plots/curve.png)", "| scratch |", "- two"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if onDisk, err := os.ReadFile(filepath.Join(dir, "plots", "curve.png")); err != nil || !bytes.Equal(onDisk, p) {
		t.Errorf("plots/curve.png not written as given (%v)", err)
	}
	h, _ := os.ReadFile(htmlPath)
	page := string(h)
	if !strings.Contains(page, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(p)) {
		t.Error("report.html does not embed the PNG")
	}
	for _, want := range []string{"<title>Experiment &lt;1&gt;</title>", "Results &amp; plots", "<td>30.00 ± 2.50</td>", "<li>two</li>"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "http://", "https://", "<link", "@import"} {
		if strings.Contains(page, banned) {
			t.Errorf("report.html contains %q: it must be self-contained", banned)
		}
	}
	if strings.Count(page, "src=") != strings.Count(page, "src=\"data:") {
		t.Error("an image source is not a data URI")
	}
}
