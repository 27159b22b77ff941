// Package progress reports the advance of a long job: a one-line bar with
// items, rate and ETA on a terminal, and plain log lines otherwise.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar tracks done/total items of one job. It is safe for concurrent use.
type Bar struct {
	mu       sync.Mutex
	out      io.Writer
	label    string
	total    int
	done     int
	extra    string
	start    time.Time
	last     time.Time
	terminal bool
	every    time.Duration
}

// New starts a bar for total items (0 if unknown) writing to stderr.
func New(label string, total int) *Bar {
	return NewTo(os.Stderr, label, total, IsTerminal(os.Stderr))
}

// NewTo starts a bar on out; terminal selects the redrawn one-line form,
// otherwise a plain line is logged at most every 10 seconds.
func NewTo(out io.Writer, label string, total int, terminal bool) *Bar {
	now := time.Now()
	every := 10 * time.Second
	if terminal {
		every = 200 * time.Millisecond
	}
	return &Bar{out: out, label: label, total: total, start: now, terminal: terminal, every: every}
}

// Add records n more finished items.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.maybeDraw(false)
}

// SetExtra sets a short status shown after the counts (a loss, say).
func (b *Bar) SetExtra(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.extra = fmt.Sprintf(format, args...)
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.maybeDraw(true)
	if b.terminal {
		fmt.Fprintln(b.out)
	}
}

func (b *Bar) maybeDraw(force bool) {
	now := time.Now()
	if !force && now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	line := b.line(now)
	if b.terminal {
		fmt.Fprintf(b.out, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(b.out, line)
	}
}

// line renders "label  12/100  3.4/s  ETA 25s  extra".
func (b *Bar) line(now time.Time) string {
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(b.done) / elapsed
	}
	var sb strings.Builder
	sb.WriteString(b.label)
	if b.total > 0 {
		fmt.Fprintf(&sb, "  %d/%d (%3.0f%%)", b.done, b.total, 100*float64(b.done)/float64(b.total))
	} else {
		fmt.Fprintf(&sb, "  %d", b.done)
	}
	fmt.Fprintf(&sb, "  %.1f/s", rate)
	if b.total > 0 && rate > 0 && b.done < b.total {
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, "  ETA %s", eta.Round(time.Second))
	} else {
		fmt.Fprintf(&sb, "  %s", time.Duration(elapsed*float64(time.Second)).Round(time.Second))
	}
	if b.extra != "" {
		sb.WriteString("  ")
		sb.WriteString(b.extra)
	}
	return sb.String()
}

// IsTerminal says whether f is a character device, where a bar redraws in
// place.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
