package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/synth"
)

// parseArgs parses a vidrep command line (without the program name) into a
// new CLI, with kong's exit turned off.
func parseArgs(t *testing.T, args ...string) (*CLI, *kong.Context, error) {
	t.Helper()
	root := &CLI{}
	p, err := newParser(root, kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := p.Parse(args)
	return root, kctx, err
}

// parseSynth parses a vidrep command line and returns the synth command.
func parseSynth(t *testing.T, args ...string) (*SynthCmd, *kong.Context, error) {
	t.Helper()
	root, kctx, err := parseArgs(t, args...)
	return &root.Synth, kctx, err
}

// TestSynthFlagDefaults keeps the flag defaults equal to synth.DefaultConfig.
func TestSynthFlagDefaults(t *testing.T) {
	c, _, err := parseSynth(t, "synth", "--out", "d")
	if err != nil {
		t.Fatal(err)
	}
	want := synth.DefaultConfig()
	want.Out, want.Progress = "d", true
	if got := c.config(); !reflect.DeepEqual(got, want) {
		t.Errorf("flags give\n%+v\nDefaultConfig gives\n%+v", got, want)
	}
	if c, _, err := parseSynth(t, "synth", "--out", "d", "--quiet"); err != nil || c.config().Progress {
		t.Errorf("synth --quiet: err %v, progress bar %v; want no bar", err, err == nil && c.config().Progress)
	}
}

func TestSynthCommand(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not on PATH")
	}
	out := filepath.Join(t.TempDir(), "bench")
	_, kctx, err := parseSynth(t, "synth", "--out", out, "--classes", "2", "--train-per-class", "2", "--test-per-class", "1",
		"--clips-per-group", "1", "--unlabeled", "1", "--frames", "4", "--size", "16", "--codec", "mpeg4", "--noise", "0", "--baselines")
	if err != nil {
		t.Fatal(err)
	}
	if err := kctx.Run(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"classInd.txt", "trainlist03.txt", "testlist03.txt", "unlabeled.txt", "synth.json", "baselines.json",
		"unlabeled/u_00001.avi", "TranslateLeft/v_TranslateLeft_g03_c01.avi"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	_, kctx, err = parseSynth(t, "synth", "--out", out, "--classes", "2", "--test-per-class", "20")
	if err != nil {
		t.Fatal(err)
	}
	if err := kctx.Run(); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("--test-per-class above half of --train-per-class: err = %v, want a usage error", err)
	}
	if _, _, err := parseSynth(t, "synth", "--out", out, "--codec", "vp9"); err == nil {
		t.Error("--codec vp9 parsed; want an error")
	}
}
