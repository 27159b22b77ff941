package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vidrep/vidrep/video"
)

// BaselineReport holds the test top-1 accuracy of the two reference
// classifiers on one split: a single-frame one that sees appearance only,
// and a motion-aware one that sees frame-to-frame change.
type BaselineReport struct {
	Source      string  `json:"source"`       // "rendered" (frames in memory, before encoding) or "decoded" (from the video files)
	Split       int     `json:"split"`        // 1-based split
	Classes     int     `json:"classes"`      // number of classes
	Train       int     `json:"train"`        // training clips
	Test        int     `json:"test"`         // test clips
	Chance      float64 `json:"chance"`       // 1 / Classes
	SingleFrame float64 `json:"single_frame"` // logistic regression on per-frame appearance, scores averaged over frames
	Motion      float64 `json:"motion"`       // logistic regression on affine-flow statistics of frame pairs
}

// String formats the report on one line.
func (r BaselineReport) String() string {
	return fmt.Sprintf("split %d (%s frames, %d classes, %d train / %d test clips): chance %.1f%%, single-frame %.1f%% (%.2fx chance), motion %.1f%% (%.2fx chance)",
		r.Split, r.Source, r.Classes, r.Train, r.Test, 100*r.Chance, 100*r.SingleFrame, r.SingleFrame/r.Chance, 100*r.Motion, r.Motion/r.Chance)
}

// labeledClip is a clip's frames and class, for the baselines.
type labeledClip struct {
	pix   []uint8
	label int
}

// Baseline classifier settings.
const (
	framesPerClip = 6    // frames the single-frame baseline looks at per clip
	l2Penalty     = 1e-2 // weight decay of both logistic regressions
	gdIterations  = 200  // full-batch gradient steps
)

// RenderedBaselines renders split 1 of the benchmark cfg describes in memory
// (the frames Generate would encode, without writing files) and runs both
// baselines on them.
func RenderedBaselines(ctx context.Context, cfg Config) (BaselineReport, error) {
	if cfg.Out == "" {
		cfg.Out = "(memory)"
	}
	if err := cfg.Validate(); err != nil {
		return BaselineReport{}, err
	}
	l := newLayout(cfg)
	items := labeledItems(cfg, l)
	clips := make([]labeledClip, len(items))
	err := parallel(ctx, len(items), cfg.workers(), func(i int) error {
		clips[i] = labeledClip{pix: items[i].render(cfg), label: items[i].class}
		return nil
	})
	if err != nil {
		return BaselineReport{}, err
	}
	var train, test []labeledClip
	for i, it := range items {
		if l.isTest(0, it.group) {
			test = append(test, clips[i])
		} else {
			train = append(train, clips[i])
		}
	}
	return runBaselines("rendered", 1, cfg.Classes, cfg.Frames, cfg.Size, train, test), nil
}

// DecodedBaselines decodes split (1-based) of the benchmark Generate wrote
// in dir and runs both baselines on the decoded frames. It decodes with the
// video package (the decoder training uses), or through the ffmpeg CLI in a
// binary built without it.
func DecodedBaselines(ctx context.Context, dir string, split, workers int) (BaselineReport, error) {
	cfg, err := readManifestConfig(dir)
	if err != nil {
		return BaselineReport{}, err
	}
	var sets [2][]labeledClip
	for s, name := range []string{"trainlist", "testlist"} {
		file := filepath.Join(dir, fmt.Sprintf("%s%02d.txt", name, split))
		rels, err := readList(file)
		if err != nil {
			return BaselineReport{}, err
		}
		clips := make([]labeledClip, len(rels))
		files := make([]string, len(rels))
		for i, rel := range rels {
			if clips[i].label = classOf(rel); clips[i].label < 0 {
				return BaselineReport{}, fmt.Errorf("synth: %s: %s is not in a synth class folder", file, rel)
			}
			files[i] = filepath.Join(dir, filepath.FromSlash(rel))
		}
		pix, err := decodeAll(ctx, cfg, files, workers)
		if err != nil {
			return BaselineReport{}, err
		}
		for i := range clips {
			clips[i].pix = pix[i]
		}
		sets[s] = clips
	}
	return runBaselines("decoded", split, cfg.Classes, cfg.Frames, cfg.Size, sets[0], sets[1]), nil
}

// decodeAll decodes every frame of each file at the benchmark's size, with
// the video package when it has a decoder, else through the ffmpeg CLI.
func decodeAll(ctx context.Context, cfg Config, files []string, workers int) ([][]uint8, error) {
	out := make([][]uint8, len(files))
	opener := video.NewOpener()
	if len(files) == 0 {
		return out, nil
	}
	probe, err := opener.Open(files[0])
	if errors.Is(err, video.ErrNoDecoder) {
		return decodeAllCLI(ctx, cfg, files, workers)
	}
	if err == nil {
		probe.Close()
	}
	err = parallel(ctx, len(files), workers, func(i int) error {
		v, err := opener.Open(files[i])
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		defer v.Close()
		c, err := v.ReadClip(video.ClipRequest{Frames: cfg.Frames, Stride: 1})
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		if c.T == 0 || c.H != cfg.Size || c.W != cfg.Size {
			return fmt.Errorf("synth: %s decoded to %d frames of %dx%d, want %dx%d frames", files[i], c.T, c.W, c.H, cfg.Size, cfg.Size)
		}
		out[i] = c.Pix
		return nil
	})
	return out, err
}

// decodeAllCLI decodes the files in batches through the ffmpeg CLI.
func decodeAllCLI(ctx context.Context, cfg Config, files []string, workers int) ([][]uint8, error) {
	ffmpeg, err := ffmpegPath()
	if err != nil {
		return nil, err
	}
	out := make([][]uint8, len(files))
	b := batchSize(cfg)
	err = parallel(ctx, (len(files)+b-1)/b, workers, func(k int) error {
		lo, hi := k*b, min((k+1)*b, len(files))
		pix, err := decodeFrames(ctx, ffmpeg, files[lo:hi], cfg.Size)
		copy(out[lo:hi], pix)
		return err
	})
	return out, err
}

// readManifestConfig reads the settings from dir's synth.json.
func readManifestConfig(dir string) (Config, error) {
	file := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return Config{}, fmt.Errorf("synth: %w; is %s a benchmark written by vidrep synth?", err, dir)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Config{}, fmt.Errorf("synth: %s: %v", file, err)
	}
	if !m.Complete {
		return Config{}, fmt.Errorf("synth: %s says generation did not finish; run vidrep synth again to complete it", file)
	}
	return m.Config, nil
}

// readList reads the relative paths of a UCF101 train or test list.
func readList(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	defer f.Close()
	var rels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			rels = append(rels, fields[0])
		}
	}
	return rels, sc.Err()
}

// classOf returns the class index of a path's folder, or -1.
func classOf(rel string) int {
	folder, _, _ := strings.Cut(rel, "/")
	for i, n := range ClassNames {
		if n == folder {
			return i
		}
	}
	return -1
}

// runBaselines trains both classifiers on train and scores them on test.
func runBaselines(source string, split, classes, frames, size int, train, test []labeledClip) BaselineReport {
	r := BaselineReport{Source: source, Split: split, Classes: classes, Train: len(train), Test: len(test), Chance: 1 / float64(classes)}
	r.SingleFrame = singleFrameAccuracy(classes, size, train, test)
	r.Motion = motionAccuracy(classes, size, train, test)
	return r
}

// frameIndices returns n frame indices spread evenly over a clip of t frames.
func frameIndices(t, n int) []int {
	n = min(n, t)
	out := make([]int, n)
	for k := range out {
		if n > 1 {
			out[k] = k * (t - 1) / (n - 1)
		}
	}
	return out
}

// clipFrames returns the number of frames of a clip.
func clipFrames(c labeledClip, size int) int { return len(c.pix) / (size * size * 3) }

// singleFrameAccuracy trains on single frames (each frame labeled with its
// clip's class) and classifies a test clip by averaging its frames' class
// probabilities, as a two-stream network's spatial stream does.
func singleFrameAccuracy(classes, size int, train, test []labeledClip) float64 {
	var x [][]float64
	var y []int
	n := size * size * 3
	for _, c := range train {
		for _, t := range frameIndices(clipFrames(c, size), framesPerClip) {
			x = append(x, frameFeatures(c.pix[t*n:(t+1)*n], size))
			y = append(y, c.label)
		}
	}
	m := trainLogReg(x, y, classes, l2Penalty, gdIterations)
	right := 0
	for _, c := range test {
		avg := make([]float64, classes)
		for _, t := range frameIndices(clipFrames(c, size), framesPerClip) {
			for k, p := range m.probs(frameFeatures(c.pix[t*n:(t+1)*n], size)) {
				avg[k] += p
			}
		}
		if argmax(avg) == c.label {
			right++
		}
	}
	return float64(right) / float64(max(len(test), 1))
}

// motionAccuracy trains and tests on per-clip motion features.
func motionAccuracy(classes, size int, train, test []labeledClip) float64 {
	feats := func(cs []labeledClip) ([][]float64, []int) {
		x, y := make([][]float64, len(cs)), make([]int, len(cs))
		for i, c := range cs {
			x[i], y[i] = motionFeatures(c.pix, clipFrames(c, size), size), c.label
		}
		return x, y
	}
	x, y := feats(train)
	m := trainLogReg(x, y, classes, l2Penalty, gdIterations)
	tx, ty := feats(test)
	right := 0
	for i := range tx {
		if argmax(m.probs(tx[i])) == ty[i] {
			right++
		}
	}
	return float64(right) / float64(max(len(tx), 1))
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	if workers <= 0 {
		workers = 1
	}
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
loop:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break loop
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(next)
	go func() { wg.Wait(); close(errs) }()
	for e := range errs {
		if err == nil {
			err = e
		}
	}
	return err
}
