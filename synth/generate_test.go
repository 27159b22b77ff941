package synth

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/internal/cli"
	"github.com/vidrep/vidrep/prepare"
)

// tinyConfig is a benchmark small enough to generate in a test: 3 classes,
// 4 train and 2 test clips per class in groups of 2, 3 unlabeled clips of
// 8 frames at 16x16.
func tinyConfig(out string, seed int64) Config {
	c := DefaultConfig()
	c.Out, c.Seed = out, seed
	c.Classes, c.TrainPerClass, c.TestPerClass, c.ClipsPerGroup, c.Unlabeled = 3, 4, 2, 2, 3
	c.Frames, c.Size = 8, 16
	return c
}

func needFFmpeg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not on PATH")
	}
	return p
}

// generate runs Generate and fails the test on error.
func generate(t *testing.T, c Config) Summary {
	t.Helper()
	s, err := Generate(context.Background(), c)
	if err != nil {
		t.Fatalf("Generate(%s): %v", c.Out, err)
	}
	return s
}

// videos returns the relative paths of every video of a benchmark, sorted.
func videos(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".mp4") || strings.HasSuffix(p, ".avi")) {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	ffmpeg := needFFmpeg(t)
	dir := t.TempDir()
	a, b, c := tinyConfig(filepath.Join(dir, "a"), 5), tinyConfig(filepath.Join(dir, "b"), 5), tinyConfig(filepath.Join(dir, "c"), 6)
	a.Workers, b.Workers = 1, 3
	sum := generate(t, a)
	sumB := generate(t, b)
	sumC := generate(t, c)
	if sum.Labeled != 18 || sum.Unlabeled != 3 || sum.Written != 21 || sum.Skipped != 0 || sum.Bytes == 0 {
		t.Errorf("summary %+v: want 18 labeled + 3 unlabeled clips written", sum)
	}
	if len(sum.SHA256) != 64 || sum.SHA256 != sumB.SHA256 || sum.SHA256 == sumC.SHA256 {
		t.Errorf("digests: seed 5 %q and %q (want equal, 64 hex digits), seed 6 %q (want another)", sum.SHA256, sumB.SHA256, sumC.SHA256)
	}
	for _, f := range ListFiles {
		da, _ := os.ReadFile(filepath.Join(a.Out, f))
		db, _ := os.ReadFile(filepath.Join(b.Out, f))
		if len(da) == 0 || !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs of seed 5 (or is empty)", f)
		}
	}
	files := videos(t, a.Out)
	if len(files) != 21 {
		t.Fatalf("%d videos on disk, want 21", len(files))
	}
	abs := func(root string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			out[i] = filepath.Join(root, f)
		}
		return out
	}
	fa, err := decodeFrames(context.Background(), ffmpeg, abs(a.Out), a.Size)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := decodeFrames(context.Background(), ffmpeg, abs(b.Out), b.Size)
	fc, _ := decodeFrames(context.Background(), ffmpeg, abs(c.Out), c.Size)
	same := 0
	for i, f := range files {
		ba, _ := os.ReadFile(filepath.Join(a.Out, f))
		bb, _ := os.ReadFile(filepath.Join(b.Out, f))
		if !bytes.Equal(ba, bb) || !bytes.Equal(fa[i], fb[i]) {
			t.Errorf("%s: bytes or decoded frames differ between two runs of seed 5", f)
		}
		if len(fa[i]) != a.Frames*a.Size*a.Size*3 {
			t.Errorf("%s decoded to %d bytes, want %d frames of %dx%d", f, len(fa[i]), a.Frames, a.Size, a.Size)
		}
		if bytes.Equal(fa[i], fc[i]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of %d videos decode to the same frames with seeds 5 and 6", same, len(files))
	}
}

// TestEncodingIsFaithful compares decoded frames with the rendered ones.
func TestEncodingIsFaithful(t *testing.T) {
	ffmpeg := needFFmpeg(t)
	for _, codec := range Codecs {
		cfg := tinyConfig(filepath.Join(t.TempDir(), codec), 1)
		cfg.Codec, cfg.Classes, cfg.Unlabeled = codec, 2, 0
		generate(t, cfg)
		it := labeledItems(cfg, newLayout(cfg))[0]
		got, err := decodeFrames(context.Background(), ffmpeg, []string{filepath.Join(cfg.Out, it.rel)}, cfg.Size)
		if err != nil {
			t.Fatal(err)
		}
		want := it.render(cfg)
		if len(got[0]) != len(want) {
			t.Fatalf("%s: decoded %d bytes, rendered %d", codec, len(got[0]), len(want))
		}
		diff := 0.0
		for i := range want {
			diff += abs(float64(got[0][i]) - float64(want[i]))
		}
		if mae := diff / float64(len(want)); mae > 8 {
			t.Errorf("%s: mean absolute error %.1f between decoded and rendered frames, want <= 8", codec, mae)
		}
		if !strings.HasSuffix(it.rel, cfg.Ext()) {
			t.Errorf("%s: file %s does not end in %s", codec, it.rel, cfg.Ext())
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestOutputParsesAsUCF101 loads the benchmark with the UCF101 reader,
// checks it, and prepares it without quarantines.
func TestOutputParsesAsUCF101(t *testing.T) {
	needFFmpeg(t)
	cfg := tinyConfig(filepath.Join(t.TempDir(), "b"), 2)
	cfg.TrainPerClass, cfg.TestPerClass, cfg.ClipsPerGroup, cfg.Unlabeled = 2, 1, 1, 2 // few files: prepare runs one ffmpeg per file
	generate(t, cfg)
	d, err := dataset.Load(cfg.Out, "ucf101")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Classes, ",") != strings.Join(ClassNames[:3], ",") {
		t.Errorf("classes %v, want %v", d.Classes, ClassNames[:3])
	}
	if rep := d.Check(); len(rep.Problems) > 0 {
		t.Errorf("dataset check found problems: %v", rep)
	}
	if len(d.Splits) != 3 || len(d.Unlabeled) != cfg.Unlabeled {
		t.Fatalf("%d splits and %d unlabeled videos, want 3 and %d", len(d.Splits), len(d.Unlabeled), cfg.Unlabeled)
	}
	testGroups := map[string]int{}
	for k, sp := range d.Splits {
		if len(sp.Train) != cfg.Classes*cfg.TrainPerClass || len(sp.Test) != cfg.Classes*cfg.TestPerClass {
			t.Errorf("split %d: %d train / %d test, want %d / %d", k+1, len(sp.Train), len(sp.Test), cfg.Classes*cfg.TrainPerClass, cfg.Classes*cfg.TestPerClass)
		}
		train := map[string]bool{}
		for _, s := range sp.Train {
			train[s.Group] = true
		}
		for _, s := range sp.Test {
			if train[s.Group] {
				t.Errorf("split %d: group %s on both sides", k+1, s.Group)
			}
			if prev, ok := testGroups[s.Group]; ok && prev != k {
				t.Errorf("group %s is tested by splits %d and %d", s.Group, prev+1, k+1)
			}
			testGroups[s.Group] = k
		}
	}
	var paths []string
	for _, s := range append(d.Splits[0].Train, append(d.Splits[0].Test, d.Unlabeled...)...) {
		if strings.HasPrefix(s.Path, UnlabeledDir+"/") == (s.Label != dataset.Unlabeled) {
			t.Errorf("%s has label %d: the unlabeled pool and the labeled videos must not mix", s.Path, s.Label)
		}
		paths = append(paths, s.Path)
	}
	sum, err := prepare.Run(context.Background(), prepare.Options{Root: cfg.Out, Paths: paths, Workers: 2, Progress: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Quarantined != 0 || sum.Damaged != 0 || sum.OK != len(paths) {
		t.Errorf("prepare: %v; want every video cached", sum)
	}
}

// TestGenerateResumesAndRefuses checks the resume and the refusals.
func TestGenerateResumesAndRefuses(t *testing.T) {
	needFFmpeg(t)
	cfg := tinyConfig(filepath.Join(t.TempDir(), "b"), 3)
	first := generate(t, cfg)
	victim := filepath.Join(cfg.Out, ClassNames[1], "v_"+ClassNames[1]+"_g02_c01.mp4")
	before, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(victim)
	sum := generate(t, cfg)
	if sum.Written != 1 || sum.Skipped != 20 {
		t.Errorf("resume wrote %d and skipped %d, want 1 and 20", sum.Written, sum.Skipped)
	}
	if after, _ := os.ReadFile(victim); !bytes.Equal(before, after) {
		t.Errorf("the re-written %s differs from the first one", victim)
	}
	if sum.SHA256 != first.SHA256 || sum.Bytes != first.Bytes {
		t.Errorf("after the resume the digest is %s (%d bytes), want the first run's %s (%d bytes)", sum.SHA256, sum.Bytes, first.SHA256, first.Bytes)
	}
	// one byte changed in place, the size kept: the digest must see it
	before[len(before)/2] ^= 1
	if err := os.WriteFile(victim, before, 0o644); err != nil {
		t.Fatal(err)
	}
	if changed := generate(t, cfg); changed.SHA256 == first.SHA256 {
		t.Errorf("a byte changed in %s left the digest at %s", victim, changed.SHA256)
	}
	other := cfg
	other.Seed = 4
	if _, err := Generate(context.Background(), other); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("another seed into the same directory: err = %v, want a refusal naming other settings", err)
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("x"), 0o644)
	other.Out = foreign
	if _, err := Generate(context.Background(), other); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty foreign directory: err = %v, want a refusal", err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		flag string
	}{
		{"no out", func(c *Config) { c.Out = "" }, "--out"},
		{"one class", func(c *Config) { c.Classes = 1 }, "--classes"},
		{"too many classes", func(c *Config) { c.Classes = len(ClassNames) + 1 }, "--classes"},
		{"test too large", func(c *Config) { c.TestPerClass = c.TrainPerClass/2 + 1 }, "--test-per-class"},
		{"odd size", func(c *Config) { c.Size = 33 }, "--size"},
		{"one frame", func(c *Config) { c.Frames = 1 }, "--frames"},
		{"codec", func(c *Config) { c.Codec = "vp9" }, "--codec"},
		{"speed range", func(c *Config) { c.Nuisance.SpeedMax = c.Nuisance.SpeedMin / 2 }, "--speed-min"},
		{"occlusion", func(c *Config) { c.Nuisance.Occlusion = 2 }, "--occlusion"},
		{"negative unlabeled", func(c *Config) { c.Unlabeled = -1 }, "--unlabeled"},
		{"negative friction", func(c *Config) { c.Nuisance.Friction = -0.01 }, "--friction"},
		{"NaN friction", func(c *Config) { c.Nuisance.Friction = math.NaN() }, "--friction"},
		{"NaN noise", func(c *Config) { c.Nuisance.Noise = math.NaN() }, "--noise"},
		{"NaN speed", func(c *Config) { c.Nuisance.SpeedMax = math.NaN() }, "--speed-min"},
		{"friction too strong", func(c *Config) { c.Nuisance.Friction = 0.14 }, "--friction"}, // first step 4.3x
		{"friction too strong for long clips", func(c *Config) { c.Nuisance.Friction = 0.07; c.Frames = 48 }, "--friction"},
	}
	good := DefaultConfig()
	good.Out = "x"
	if err := good.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	withFriction := good
	withFriction.Nuisance.Friction = 0.07 // the value docs/results.md measured
	if err := withFriction.Validate(); err != nil {
		t.Fatalf("friction 0.07 at 24 frames: %v", err)
	}
	for _, c := range cases {
		cfg := good
		c.edit(&cfg)
		err := cfg.Validate()
		var u *cli.UsageError
		if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s: err = %v, want a usage error naming %s", c.name, err, c.flag)
		}
	}
}

func TestLayout(t *testing.T) {
	cases := []struct {
		train, test, per int
		groups           int
	}{
		{24, 12, 4, 9},
		{25, 10, 4, 11}, // 3 blocks of 3 groups (4+4+2), then 5 clips in 2 groups
		{2, 1, 1, 3},
		{30, 5, 7, 6},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.TrainPerClass, cfg.TestPerClass, cfg.ClipsPerGroup = c.train, c.test, c.per
		l := newLayout(cfg)
		if len(l.sizes) != c.groups {
			t.Errorf("%+v: %d groups, want %d", c, len(l.sizes), c.groups)
		}
		seen := map[int]bool{}
		for k := 0; k < 3; k++ {
			n, total := 0, 0
			for g, size := range l.sizes {
				total += size
				if size > c.per {
					t.Errorf("%+v: group %d has %d clips, more than %d", c, g+1, size, c.per)
				}
				if l.isTest(k, g+1) {
					n += size
					if seen[g+1] {
						t.Errorf("%+v: group %d tested by two splits", c, g+1)
					}
					seen[g+1] = true
				}
			}
			if n != c.test || total-n != c.train {
				t.Errorf("%+v: split %d has %d test / %d train clips per class", c, k+1, n, total-n)
			}
		}
	}
}
