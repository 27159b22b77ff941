package browsercheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pngOf encodes a w x h picture: white, with a dark diagonal band when drawn.
func pngOf(t *testing.T, w, h int, drawn bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if drawn && (x-y+h)%40 < 12 {
				c = color.RGBA{uint8(20 + x%200), 60, 160, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func dataURI(b []byte) string { return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b) }

func TestMeasure(t *testing.T) {
	cases := []struct {
		name  string
		png   []byte
		blank bool
	}{
		{"white", pngOf(t, 64, 48, false), true},
		{"drawn", pngOf(t, 64, 48, true), false},
	}
	for _, c := range cases {
		k, err := Measure(c.png)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if k.Width != 64 || k.Height != 48 || k.Blank() != c.blank {
			t.Errorf("%s: %+v, blank %v, want 64x48 blank %v", c.name, k, k.Blank(), c.blank)
		}
	}
	if _, err := Measure([]byte("not a png")); err == nil {
		t.Error("Measure accepted bytes that are no PNG")
	}
}

// load writes page to a file and loads it, skipping without a browser.
func load(t *testing.T, page string) *Page {
	t.Helper()
	if !Available() && os.Getenv("CI") == "" {
		t.Skip("no chromium; `make setup-browser` installs it")
	}
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := Load(ctx, path, Options{Width: 800, Height: 600})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadFindsProblems loads one clean page and one with every fault the
// check must catch, in one browser run each.
func TestLoadFindsProblems(t *testing.T) {
	good := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>fine</title></head><body><h1>ok</h1>
<img alt="plot" src="` + dataURI(pngOf(t, 320, 200, true)) + `"></body></html>`
	p := load(t, good)
	if probs := p.Problems(); len(probs) != 0 {
		t.Errorf("clean page has problems: %q", probs)
	}
	if p.Title != "fine" || len(p.Images) != 1 || p.Images[0].NaturalWidth != 320 || p.Images[0].NaturalHeight != 200 {
		t.Errorf("clean page read as title %q with images %+v", p.Title, p.Images)
	}
	if err := p.RequireImages(1, 320, 200); err != nil {
		t.Error(err)
	}
	if err := p.RequireImages(1, 720, 432); err == nil {
		t.Error("RequireImages accepted a 320x200 image as 720x432")
	}

	bad := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<img alt="truncated" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg">
<img alt="white" src="` + dataURI(pngOf(t, 120, 80, false)) + `">
<script>console.error("boom from the page"); undefinedFunction();</script></body></html>`
	probs := strings.Join(load(t, bad).Problems(), "\n")
	t.Logf("problems found on the broken page:\n%s", probs)
	for _, want := range []string{"boom from the page", "undefinedFunction", `"truncated"`, `"white"`, "blank"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems of the broken page lack %q:\n%s", want, probs)
		}
	}
}

// TestReportFile checks the page named by $VIDREP_REPORT_HTML, such as
// demo-out/report.html after `make demo`; scripts/check-report-html.sh runs
// it. Without the variable there is nothing to check and it skips.
func TestReportFile(t *testing.T) {
	path := os.Getenv("VIDREP_REPORT_HTML")
	if path == "" {
		t.Skip("set VIDREP_REPORT_HTML to a report.html to check it")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("VIDREP_REPORT_HTML: %v", err)
	}
	if p := Check(t, path); len(p.Images) == 0 {
		t.Errorf("%s shows no plot", path)
	}
}
