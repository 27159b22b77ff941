package prepare

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vidrep/vidrep/internal/testvideo"
)

// helperEnv makes the test binary act as a prepare run (see TestMain): the
// kill test starts it as a child process and SIGKILLs it halfway.
const helperEnv = "VIDREP_PREPARE_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(helperMain(spec))
	}
	os.Exit(m.Run())
}

// helperMain runs prepare as described by spec, "root|ffmpeg|path1,path2,...".
func helperMain(spec string) int {
	parts := strings.SplitN(spec, "|", 3)
	opt := Options{Root: parts[0], FFmpeg: parts[1], Paths: strings.Split(parts[2], ","), Workers: 1, Progress: io.Discard}
	if _, err := Run(context.Background(), opt); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// slowFFmpeg writes a wrapper that logs its arguments to logPath, waits, and
// runs the real ffmpeg, so a run is slow enough to kill halfway and every
// decode is counted.
func slowFFmpeg(t *testing.T, logPath string) string {
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg CLI not found")
	}
	p := filepath.Join(t.TempDir(), "ffmpeg-slow")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nsleep 0.2\nexec %q \"$@\"\n", logPath, real)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodes returns, for each source, how many times the wrapper logged it.
func decodes(t *testing.T, logPath, root string, srcs []string) map[string]int {
	data, _ := os.ReadFile(logPath)
	n := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, s := range srcs {
			if strings.Contains(line, " "+filepath.Join(root, s)+" ") {
				n[s]++
			}
		}
	}
	return n
}

func TestKillAndResume(t *testing.T) {
	testvideo.FFmpeg(t)
	root := t.TempDir()
	var srcs []string
	for i := range 6 {
		rel := filepath.Join(fmt.Sprintf("Class%d", i%2), fmt.Sprintf("v_Class%d_g%02d_c01.avi", i%2, i))
		testvideo.Make(t, filepath.Join(root, rel), testvideo.Options{Frames: 20, Width: 96, Height: 72, Codec: "mpeg4", Seed: i})
		srcs = append(srcs, rel)
	}
	logPath := filepath.Join(t.TempDir(), "decodes.log")
	ff := slowFFmpeg(t, logPath)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+root+"|"+ff+"|"+strings.Join(srcs, ","))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForEntries(t, root, 2)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// After the kill: only complete entries pass as done, and they decode.
	doneAtKill := readsBack(t, root)
	if len(doneAtKill) < 2 || len(doneAtKill) == len(srcs) {
		t.Fatalf("%d entries done when killed; the test wants a run killed halfway", len(doneAtKill))
	}
	before := decodes(t, logPath, root, srcs)

	sum, err := Run(context.Background(), Options{Root: root, Paths: srcs, FFmpeg: ff, Workers: 2, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != len(doneAtKill) || sum.OK != len(srcs)-len(doneAtKill) || sum.Quarantined != 0 {
		t.Fatalf("resumed run %+v, want %d skipped and %d cached", sum, len(doneAtKill), len(srcs)-len(doneAtKill))
	}
	if idx := readsBack(t, root); len(idx) != len(srcs) {
		t.Fatalf("%d entries after the resumed run, want %d", len(idx), len(srcs))
	}
	after := decodes(t, logPath, root, srcs)
	for _, s := range srcs {
		_, wasDone := doneAtKill[s]
		if wasDone && after[s] != before[s] {
			t.Errorf("%s was finished before the kill but decoded again", s)
		}
		if !wasDone && after[s] != before[s]+1 {
			t.Errorf("%s decoded %d times by the resumed run, want once", s, after[s]-before[s])
		}
	}
	left, _ := filepath.Glob(filepath.Join(CacheDir(root), "*", "*"+tmpMark+"*"))
	if len(left) != 0 {
		t.Errorf("temporary files left after the resumed run: %v", left)
	}
}

// waitForEntries waits until n sidecars exist under root's cache.
func waitForEntries(t *testing.T, root string, n int) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(CacheDir(root), "*", "*.json"))
		if len(m) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the helper run did not finish %d entries in 60 s", n)
}
