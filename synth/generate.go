package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vidrep/vidrep/internal/progress"
)

// ManifestFile is written at the benchmark root: the settings it was made
// with, and whether generation finished.
const ManifestFile = "synth.json"

// Summary reports what Generate wrote.
type Summary struct {
	Out            string   `json:"out"`
	Classes        []string `json:"classes"`
	Groups         int      `json:"groups"`           // groups (scenes) per class
	TestGroups     [3][]int `json:"test_groups"`      // the groups split k+1 tests on
	Labeled        int      `json:"labeled"`          // labeled clips (all classes)
	Unlabeled      int      `json:"unlabeled"`        // clips of the unlabeled pool
	Written        int      `json:"written"`          // clips encoded by this call
	Skipped        int      `json:"skipped"`          // clips already present from an interrupted run
	Bytes          int64    `json:"bytes"`            // total size of the video files
	SHA256         string   `json:"sha256"`           // every list and video file's path, size and bytes, in order: equal on two machines means the same benchmark
	Seconds        float64  `json:"seconds"`          // wall time of this call
	ClipsPerSecond float64  `json:"clips_per_second"` // Written / Seconds
}

// manifest is the content of synth.json.
type manifest struct {
	Format   int      `json:"format"`
	Config   Config   `json:"config"`
	Complete bool     `json:"complete"`
	Summary  *Summary `json:"summary,omitempty"`
}

// Generate writes the benchmark described by cfg into cfg.Out: the videos,
// classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt, the unlabeled
// pool with unlabeled.txt, and synth.json. Run again on the same directory
// with the same settings it resumes, keeping the clips already written; a
// directory made with other settings, or holding other files, is refused.
func Generate(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	ffmpeg, err := ffmpegPath()
	if err != nil {
		return Summary{}, err
	}
	if err := prepareOut(cfg); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	l := newLayout(cfg)
	labeled := labeledItems(cfg, l)
	items := append(append([]item(nil), labeled...), unlabeledItems(cfg)...)
	if err := writeManifest(cfg, false, nil); err != nil {
		return Summary{}, err
	}
	written, skipped, err := runItems(ctx, ffmpeg, cfg, items)
	if err != nil {
		return Summary{}, err
	}
	if err := writeLists(cfg, l, labeled, items[len(labeled):]); err != nil {
		return Summary{}, err
	}
	sum := Summary{Out: cfg.Out, Classes: ClassNames[:cfg.Classes], Groups: len(l.sizes), TestGroups: l.test,
		Labeled: len(labeled), Unlabeled: cfg.Unlabeled, Written: written, Skipped: skipped}
	if sum.Bytes, sum.SHA256, err = digest(cfg.Out, items); err != nil {
		return Summary{}, err
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.ClipsPerSecond = float64(written) / sum.Seconds
	}
	return sum, writeManifest(cfg, true, &sum)
}

// prepareOut creates the output directory, or checks that an existing one
// is an earlier run of the same settings (or empty).
func prepareOut(cfg Config) error {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return fmt.Errorf("synth: cannot create %s: %w", cfg.Out, err)
	}
	data, err := os.ReadFile(filepath.Join(cfg.Out, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(cfg.Out)
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("synth: %s is not empty and holds no %s; choose a new --out directory", cfg.Out, ManifestFile)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("synth: %s: %v; delete the directory and run again", filepath.Join(cfg.Out, ManifestFile), err)
	}
	if !sameSettings(m.Config, cfg) {
		return fmt.Errorf("synth: %s holds a benchmark made with other settings (see its %s); choose another --out or delete it", cfg.Out, ManifestFile)
	}
	return nil
}

// sameSettings compares the settings that decide the output.
func sameSettings(a, b Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// writeManifest writes synth.json.
func writeManifest(cfg Config, complete bool, sum *Summary) error {
	data, err := json.MarshalIndent(manifest{Format: 1, Config: cfg, Complete: complete, Summary: sum}, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(cfg.Out, ManifestFile), append(data, '\n'))
}

// runItems renders and encodes the items that have no file yet, in batches
// spread over cfg.Workers workers. The first error stops the others.
func runItems(ctx context.Context, ffmpeg string, cfg Config, items []item) (written, skipped int, err error) {
	var todo []item
	for _, it := range items {
		if _, err := os.Stat(itemFile(cfg, it)); err == nil {
			skipped++
		} else {
			todo = append(todo, it)
		}
	}
	var batches [][]item
	for b := batchSize(cfg); len(todo) > 0; todo = todo[min(b, len(todo)):] {
		batches = append(batches, todo[:min(b, len(todo))])
	}
	var bar *progress.Bar
	if cfg.Progress {
		bar = progress.New("synth", len(items))
		bar.Add(skipped)
		defer bar.Finish()
	}
	var nWritten atomic.Int64
	err = parallel(ctx, len(batches), cfg.workers(), func(i int) error {
		if err := writeBatch(ctx, ffmpeg, cfg, batches[i]); err != nil {
			return err
		}
		nWritten.Add(int64(len(batches[i])))
		if bar != nil {
			bar.Add(len(batches[i]))
		}
		return nil
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("synth: interrupted; run the same command again to resume: %w", err)
	}
	return int(nWritten.Load()), skipped, err
}

// itemFile returns the file system path of an item.
func itemFile(cfg Config, it item) string { return filepath.Join(cfg.Out, filepath.FromSlash(it.rel)) }

// writeBatch renders a batch of clips and encodes them with one ffmpeg process.
func writeBatch(ctx context.Context, ffmpeg string, cfg Config, batch []item) error {
	clips, files := make([][]uint8, len(batch)), make([]string, len(batch))
	for i, it := range batch {
		clips[i], files[i] = it.render(cfg), itemFile(cfg, it)
	}
	return encode(ctx, ffmpeg, cfg, clips, files)
}

// writeLists writes classInd.txt, the split lists and unlabeled.txt in the
// UCF101 formats: "<id> <Class>", "<Class>/<file> <id>" (train) and
// "<Class>/<file>" (test).
func writeLists(cfg Config, l layout, labeled, unlabeled []item) error {
	var classInd strings.Builder
	for i, name := range ClassNames[:cfg.Classes] {
		fmt.Fprintf(&classInd, "%d %s\n", i+1, name)
	}
	files := map[string]string{"classInd.txt": classInd.String()}
	for k := 0; k < 3; k++ {
		var train, test strings.Builder
		for _, it := range labeled {
			if l.isTest(k, it.group) {
				fmt.Fprintf(&test, "%s\n", it.rel)
			} else {
				fmt.Fprintf(&train, "%s %d\n", it.rel, it.class+1)
			}
		}
		files[fmt.Sprintf("trainlist%02d.txt", k+1)] = train.String()
		files[fmt.Sprintf("testlist%02d.txt", k+1)] = test.String()
	}
	var ul strings.Builder
	for _, it := range unlabeled {
		fmt.Fprintf(&ul, "%s\n", it.rel)
	}
	files[UnlabeledListFile] = ul.String()
	for name, text := range files {
		if err := writeFile(filepath.Join(cfg.Out, name), []byte(text)); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes data to a temporary file and renames it into place.
func writeFile(file string, data []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// ListFiles are the split and list files Generate writes, in the order the
// digest reads them.
var ListFiles = []string{"classInd.txt", "trainlist01.txt", "trainlist02.txt", "trainlist03.txt",
	"testlist01.txt", "testlist02.txt", "testlist03.txt", UnlabeledListFile}

// digest returns the total size of the items' video files and a SHA-256 over
// the list files and then the videos, in order: each file's path, its size
// and its bytes.
func digest(root string, items []item) (videoBytes int64, sha string, err error) {
	h := sha256.New()
	add := func(rel string) (int64, error) {
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return 0, fmt.Errorf("synth: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("synth: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", rel, fi.Size())
		if n, err := io.Copy(h, f); err != nil || n != fi.Size() {
			return 0, fmt.Errorf("synth: %s: read %d of %d bytes: %v", rel, n, fi.Size(), err)
		}
		return fi.Size(), nil
	}
	for _, rel := range ListFiles {
		if _, err := add(rel); err != nil {
			return 0, "", err
		}
	}
	for _, it := range items {
		n, err := add(it.rel)
		if err != nil {
			return 0, "", err
		}
		videoBytes += n
	}
	return videoBytes, hex.EncodeToString(h.Sum(nil)), nil
}
