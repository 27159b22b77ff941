package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/internal/testvideo"
	"github.com/vidrep/vidrep/prepare"
)

// A folder-per-class dataset with every hostile kind among its videos and a
// missing file in its unlabeled list: prepare succeeds (exit 0), caches the
// good files and quarantines the bad ones.
func TestPrepareCommandHostileDataset(t *testing.T) {
	testvideo.FFmpeg(t)
	data := t.TempDir()
	var good []string
	for i := range 4 {
		side := map[bool]string{true: "train", false: "test"}[i < 2]
		rel := filepath.Join(side, []string{"c0", "c1"}[i%2], "v"+string(rune('0'+i))+".mp4")
		testvideo.Make(t, filepath.Join(data, rel), testvideo.Options{Frames: 8, Width: 32, Height: 32, Seed: i})
		good = append(good, rel)
	}
	hostile := testvideo.Hostile(t, data, filepath.Join("train", "c0"))
	if err := os.WriteFile(filepath.Join(data, "unlabeled.txt"), []byte("train/c0/gone.mp4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCLI(t, "prepare", "--data", data, "--workers", "2", "--quiet"); err != nil {
		t.Fatalf("prepare failed on a dataset with bad files: %v (exit code %d)", err, cli.ExitCode(err))
	}
	for _, rel := range good {
		if _, ok := prepare.Lookup(data, rel); !ok {
			t.Errorf("%s not cached", rel)
		}
	}
	q, err := prepare.LoadQuarantine(data)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, f := range q.Files {
		reasons[f.Source] = f.Reason
	}
	for _, h := range hostile {
		if _, cached := prepare.Lookup(data, h.Rel); cached != h.Decodable || (reasons[h.Rel] == "") == !h.Decodable {
			t.Errorf("%s: cached=%v reason=%q", h.Kind, cached, reasons[h.Rel])
		}
	}
	if !strings.Contains(reasons["train/c0/gone.mp4"], "missing") {
		t.Errorf("missing file reason %q", reasons["train/c0/gone.mp4"])
	}
	if err := runCLI(t, "prepare", "--data", data, "--workers", "-1"); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("--workers -1: got %v, want a usage error", err)
	}
}
