package prepare

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidrep/vidrep/internal/testvideo"
)

// Each file runs under a time and a memory limit: a decoder that hangs or a
// limit it cannot live within quarantines that file, and the run succeeds.
func TestPerFileLimits(t *testing.T) {
	testvideo.FFmpeg(t)
	root := t.TempDir()
	testvideo.Make(t, filepath.Join(root, "a", "v.mp4"), testvideo.Options{Frames: 4})
	hang := filepath.Join(t.TempDir(), "ffmpeg-hang")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		opt    Options
		reason string
	}{
		{"hanging decoder", Options{FFmpeg: hang, Timeout: 300 * time.Millisecond}, "timed out after 300ms"},
		{"memory limit", Options{MemoryLimit: 32 << 20}, "memory limit of 32 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := c.opt
			opt.Root, opt.Paths, opt.Progress, opt.Retry = root, []string{"a/v.mp4"}, io.Discard, true
			start := time.Now()
			sum, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Quarantined != 1 || time.Since(start) > 20*time.Second {
				t.Fatalf("summary %+v after %s, want the file quarantined quickly", sum, time.Since(start))
			}
			q, err := LoadQuarantine(root)
			if err != nil || len(q.Files) != 1 || !strings.Contains(q.Files[0].Reason, c.reason) {
				t.Fatalf("quarantine %+v (%v), want a reason with %q", q, err, c.reason)
			}
		})
	}
}
