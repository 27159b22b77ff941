package browsercheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Options sets the viewport and the limits of a Load.
type Options struct {
	// Width and Height of the viewport in CSS pixels (defaults 1200 x 900).
	Width, Height int
	// MaxShotHeight caps the full-page screenshot's height (default 8000).
	MaxShotHeight int
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = 1200
	}
	if o.Height <= 0 {
		o.Height = 900
	}
	if o.MaxShotHeight <= 0 {
		o.MaxShotHeight = 8000
	}
	return o
}

// Message is one console message, uncaught exception or browser log entry.
type Message struct {
	Source string // console, exception or log
	Level  string // error, warning, info...
	Text   string
}

// Image is one <img> of the page as the browser decoded and laid it out.
type Image struct {
	Alt                         string
	Src                         string // the first characters of its URL
	NaturalWidth, NaturalHeight int
	X, Y, Width, Height         float64 // its box in page coordinates
	DecodeError                 string  // why img.decode() failed; empty when it decoded
	Shot                        []byte  // PNG screenshot of its box
}

// Page is what Load saw.
type Page struct {
	URL        string
	Title      string
	Messages   []Message
	Images     []Image
	External   []string // requested URLs that are neither file: nor data:
	Width      int      // document width and height in CSS pixels
	Height     int
	Screenshot []byte // PNG of the page from the top, at most MaxShotHeight high
}

// Load opens the HTML file at path in a fresh headless Chromium, waits for
// the load event and for every image to decode, and returns the console
// messages, the images with a screenshot of each, and a page screenshot.
func Load(ctx context.Context, path string, opt Options) (*Page, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	b, err := launch(bin)
	if err != nil {
		return nil, err
	}
	defer b.close()
	p, err := visit(ctx, b.conn, (&url.URL{Scheme: "file", Path: abs}).String(), opt.withDefaults())
	if err != nil {
		return nil, b.fail(fmt.Errorf("loading %s in %s: %w", path, bin, err))
	}
	return p, nil
}

// visit opens a tab, loads the URL and inspects the page.
func visit(ctx context.Context, c *conn, u string, opt Options) (*Page, error) {
	sess, err := openTab(ctx, c, opt)
	if err != nil {
		return nil, err
	}
	mark := c.eventCount()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.call(ctx, sess, "Page.navigate", map[string]any{"url": u}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("navigation failed: %s", nav.ErrorText)
	}
	if err := c.waitEvent(ctx, mark, sess, "Page.loadEventFired"); err != nil {
		return nil, err
	}
	p := &Page{URL: u}
	if err := inspect(ctx, c, sess, opt, p); err != nil {
		return nil, err
	}
	p.Messages, p.External = collect(c.eventsSince(mark), sess)
	return p, nil
}

// openTab creates a page target, attaches to it and enables the domains
// whose events Load records.
func openTab(ctx context.Context, c *conn, opt Options) (string, error) {
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		return "", err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		return "", err
	}
	s := att.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := c.call(ctx, s, m, nil, nil); err != nil {
			return "", err
		}
	}
	metrics := map[string]any{"width": opt.Width, "height": opt.Height, "deviceScaleFactor": 1, "mobile": false}
	return s, c.call(ctx, s, "Emulation.setDeviceMetricsOverride", metrics, nil)
}

// imagesJS decodes every image and returns its state and page box.
const imagesJS = `Promise.all(Array.from(document.images, async (img) => {
  let err = "";
  try { await img.decode(); } catch (e) { err = String(e); }
  const r = img.getBoundingClientRect();
  return {Alt: img.alt, Src: (img.currentSrc || img.src).slice(0, 48),
    NaturalWidth: img.naturalWidth, NaturalHeight: img.naturalHeight,
    X: r.left + window.scrollX, Y: r.top + window.scrollY, Width: r.width, Height: r.height, DecodeError: err};
}))`

// sizeJS returns the document's title and size.
const sizeJS = `({Title: document.title, Width: document.documentElement.scrollWidth, Height: document.documentElement.scrollHeight})`

// inspect fills the page's title, size, images and screenshots.
func inspect(ctx context.Context, c *conn, sess string, opt Options, p *Page) error {
	if err := evaluate(ctx, c, sess, imagesJS, &p.Images); err != nil {
		return err
	}
	if err := evaluate(ctx, c, sess, sizeJS, p); err != nil {
		return err
	}
	for i := range p.Images {
		im := &p.Images[i]
		if im.Width < 1 || im.Height < 1 {
			continue
		}
		shot, err := screenshot(ctx, c, sess, im.X, im.Y, im.Width, im.Height)
		if err != nil {
			return err
		}
		im.Shot = shot
	}
	shot, err := screenshot(ctx, c, sess, 0, 0, float64(max(p.Width, 1)), float64(min(max(p.Height, 1), opt.MaxShotHeight)))
	p.Screenshot = shot
	return err
}

// evaluate runs a JavaScript expression (awaiting a promise) and decodes its
// value into out.
func evaluate(ctx context.Context, c *conn, sess, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	params := map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}
	if err := c.call(ctx, sess, "Runtime.evaluate", params, &res); err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("evaluating the page: %s", res.ExceptionDetails.Text)
	}
	return json.Unmarshal(res.Result.Value, out)
}

// screenshot captures a PNG of a box in page coordinates, scrolling as needed.
func screenshot(ctx context.Context, c *conn, sess string, x, y, w, h float64) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	clip := map[string]any{"x": x, "y": y, "width": w, "height": h, "scale": 1}
	params := map[string]any{"format": "png", "clip": clip, "captureBeyondViewport": true}
	if err := c.call(ctx, sess, "Page.captureScreenshot", params, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

// collect turns the session's events into messages and external requests.
func collect(events []message, sess string) ([]Message, []string) {
	var msgs []Message
	var external []string
	for _, e := range events {
		if e.SessionID != sess {
			continue
		}
		if m, ok := toMessage(e); ok {
			msgs = append(msgs, m)
		}
		if u, ok := requestURL(e); ok && !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
			external = append(external, u)
		}
	}
	return msgs, external
}

// toMessage converts a console, exception or log event.
func toMessage(e message) (Message, bool) {
	switch e.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(e.Params, &p)
		var parts []string
		for _, a := range p.Args {
			parts = append(parts, fmt.Sprint(firstNonNil(a.Value, a.Description)))
		}
		return Message{Source: "console", Level: consoleLevel(p.Type), Text: strings.Join(parts, " ")}, true
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(e.Params, &p)
		d := p.ExceptionDetails
		return Message{Source: "exception", Level: "error", Text: strings.TrimSpace(d.Text + " " + d.Exception.Description)}, true
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level string `json:"level"`
				Text  string `json:"text"`
				URL   string `json:"url"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(e.Params, &p)
		return Message{Source: "log", Level: p.Entry.Level, Text: strings.TrimSpace(p.Entry.Text + " " + truncate(p.Entry.URL, 80))}, true
	}
	return Message{}, false
}

// consoleLevel maps a console call's type to a level (error for
// console.error and failed console.assert).
func consoleLevel(typ string) string {
	switch typ {
	case "error", "assert":
		return "error"
	case "warning":
		return "warning"
	}
	return "info"
}

// requestURL returns the URL of a Network.requestWillBeSent event.
func requestURL(e message) (string, bool) {
	if e.Method != "Network.requestWillBeSent" {
		return "", false
	}
	var p struct {
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
	}
	_ = json.Unmarshal(e.Params, &p)
	return p.Request.URL, true
}

func firstNonNil(a any, b string) any {
	if a != nil {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
