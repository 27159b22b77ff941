package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	b := NewTo(&buf, "decode", 4, false)
	b.Add(1) // first Add always draws: last is the zero time
	b.SetExtra("loss %.2f", 1.5)
	b.Add(3)
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines (first add, finish), got %d: %q", len(lines), buf.String())
	}
	for _, want := range []string{"decode", "4/4", "100%", "loss 1.50"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("final line %q lacks %q", lines[1], want)
		}
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("plain output must not redraw with \\r")
	}
}

func TestTerminalRedraws(t *testing.T) {
	var buf bytes.Buffer
	b := NewTo(&buf, "x", 0, true)
	b.Add(2)
	b.Finish()
	if !strings.HasPrefix(buf.String(), "\r") || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("terminal output should redraw with \\r and end with a newline: %q", buf.String())
	}
}
