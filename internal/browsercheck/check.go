package browsercheck

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ink measures how much a picture shows: the share of pixels whose colour
// differs from its most common (background) colour, and the number of
// distinct colours (at 4 bits per channel).
type Ink struct {
	Width, Height int
	Inked         float64
	Colours       int
}

// Blank is true when a picture shows (almost) nothing: under 0.5% of its
// pixels differ from the background, or it has a single colour.
func (k Ink) Blank() bool { return k.Inked < 0.005 || k.Colours < 2 }

// Measure decodes a PNG and measures its ink.
func Measure(pngData []byte) (Ink, error) {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return Ink{}, fmt.Errorf("screenshot is not a PNG: %w", err)
	}
	bd := img.Bounds()
	counts := map[uint16]int{}
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			counts[uint16(r>>12)<<8|uint16(g>>12)<<4|uint16(b>>12)]++
		}
	}
	total, top := bd.Dx()*bd.Dy(), 0
	for _, n := range counts {
		top = max(top, n)
	}
	k := Ink{Width: bd.Dx(), Height: bd.Dy(), Colours: len(counts)}
	if total > 0 {
		k.Inked = float64(total-top) / float64(total)
	}
	return k, nil
}

// Problems lists what is wrong with a loaded page: console errors and
// exceptions, requests that leave the file, images that did not decode or
// show blank, and a blank page screenshot. Empty means the page is fine.
func (p *Page) Problems() []string {
	var out []string
	for _, m := range p.Messages {
		if m.Level == "error" {
			out = append(out, fmt.Sprintf("%s error: %s", m.Source, m.Text))
		}
	}
	for _, u := range p.External {
		out = append(out, "requests an external resource (the report must be self-contained): "+truncate(u, 120))
	}
	for i, im := range p.Images {
		if s := im.problem(); s != "" {
			out = append(out, fmt.Sprintf("image %d (%q, %s): %s", i+1, im.Alt, im.Src, s))
		}
	}
	if k, err := Measure(p.Screenshot); err != nil {
		out = append(out, "page screenshot: "+err.Error())
	} else if k.Blank() {
		out = append(out, fmt.Sprintf("page screenshot is blank (%.2f%% inked, %d colours)", 100*k.Inked, k.Colours))
	}
	return out
}

// problem says what is wrong with one image, or "".
func (im Image) problem() string {
	switch {
	case im.DecodeError != "":
		return "does not decode: " + im.DecodeError
	case im.NaturalWidth == 0 || im.NaturalHeight == 0:
		return "has no pixels"
	case im.Width < 1 || im.Height < 1:
		return "is laid out with no area"
	}
	k, err := Measure(im.Shot)
	if err != nil {
		return err.Error()
	}
	if k.Blank() {
		return fmt.Sprintf("shows blank on screen (%.2f%% inked, %d colours)", 100*k.Inked, k.Colours)
	}
	return ""
}

// Available reports whether a browser can be found; in tests prefer Check,
// which turns a missing browser into a skip or, under CI, a failure.
func Available() bool {
	_, err := Find()
	return err == nil
}

// KeepEnv names the environment variable that, when set to a folder, makes
// Check write its screenshots there (named after the test) instead of beside
// the HTML file, to keep the ones that tests write in temporary folders.
const KeepEnv = "VIDREP_KEEP_SCREENSHOTS"

// writeFile writes data to path, creating its folder.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Check loads htmlPath in headless Chromium and fails t on every problem
// that Problems finds. It writes the page screenshot beside the HTML file as
// NAME.screenshot.png (or under $VIDREP_KEEP_SCREENSHOTS), for a person to
// look at. Without a browser it skips t, except when the environment sets
// CI: then it fails, so that CI cannot pass without looking at the page.
func Check(t testing.TB, htmlPath string) *Page {
	t.Helper()
	if _, err := Find(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %v", err)
		}
		t.Skipf("skipping the browser check of %s: %v", htmlPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	p, err := Load(ctx, htmlPath, Options{})
	if err != nil {
		t.Fatalf("headless browser: %v", err)
	}
	shot := strings.TrimSuffix(htmlPath, filepath.Ext(htmlPath)) + ".screenshot.png"
	if keep := os.Getenv(KeepEnv); keep != "" {
		shot = filepath.Join(keep, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	}
	if err := writeFile(shot, p.Screenshot); err != nil {
		t.Errorf("writing the screenshot: %v", err)
	}
	t.Logf("%s: %d images, %d console messages, %dx%d page, screenshot %s (%.1fs)",
		htmlPath, len(p.Images), len(p.Messages), p.Width, p.Height, shot, time.Since(start).Seconds())
	for _, s := range p.Problems() {
		t.Errorf("%s in headless Chromium: %s", htmlPath, s)
	}
	return p
}

// RequireImages returns an error unless the page has at least n images that
// decoded to exactly width x height pixels each (0 for any size).
func (p *Page) RequireImages(n, width, height int) error {
	good := 0
	for _, im := range p.Images {
		if im.problem() == "" && (width == 0 || im.NaturalWidth == width) && (height == 0 || im.NaturalHeight == height) {
			good++
		}
	}
	if good < n {
		return fmt.Errorf("the page has %d good images of %dx%d, want at least %d", good, width, height, n)
	}
	return nil
}
