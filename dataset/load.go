package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
)

// Format names accepted by Load (and by --format).
const (
	FormatAuto      = "auto"
	FormatUCF101    = "ucf101"
	FormatHMDB51    = "hmdb51"
	FormatKinetics  = "kinetics"
	FormatSSv2      = "ssv2"
	FormatFolder    = "folder"
	FormatUnlabeled = "unlabeled"
)

// Formats lists the format names Load accepts, "auto" first.
var Formats = []string{FormatAuto, FormatUCF101, FormatHMDB51, FormatKinetics, FormatSSv2, FormatFolder, FormatUnlabeled}

// UnlabeledList is the optional file at a dataset root that lists the videos
// for self-supervised pretraining, one path a line, relative to the root or
// absolute. It is read for every layout.
const UnlabeledList = "unlabeled.txt"

// loaders maps a concrete format to its parser. Each fills Classes, Splits
// and (for the unlabeled layout) Unlabeled of a Dataset whose Root is set.
var loaders = map[string]func(d *Dataset, c *confiner) error{
	FormatUCF101:    loadUCF101,
	FormatHMDB51:    loadHMDB51,
	FormatKinetics:  loadKinetics,
	FormatSSv2:      loadSSv2,
	FormatFolder:    loadFolder,
	FormatUnlabeled: loadUnlabeled,
}

// Load parses the dataset at root in the given format ("auto" detects it).
// root is a directory, or for the unlabeled format also a list file. An
// unknown format is a usage error; a path in a split file that escapes root
// is refused with an error naming the file and line. Missing videos, unknown
// classes and leakage are not errors here: Check reports them.
func Load(root, format string) (*Dataset, error) {
	if format == "" {
		format = FormatAuto
	}
	if _, ok := loaders[format]; !ok && format != FormatAuto {
		return nil, cli.Usagef("unknown dataset format %q; use one of %s", format, strings.Join(Formats, ", "))
	}
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("dataset %s does not exist; pass the directory that holds the videos and split files", root)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if !fi.IsDir() {
		return loadListFile(root, format)
	}
	if format == FormatAuto {
		if format, err = DetectFormat(root); err != nil {
			return nil, err
		}
	}
	c, err := newConfiner(root)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Root: filepath.Clean(root), Format: format}
	if err := loaders[format](d, c); err != nil {
		return nil, err
	}
	if format != FormatUnlabeled {
		if err := readUnlabeledList(d, c, filepath.Join(root, UnlabeledList)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadListFile loads a user's own list of unlabeled videos given as a file:
// the root becomes the list's directory.
func loadListFile(file, format string) (*Dataset, error) {
	if format != FormatAuto && format != FormatUnlabeled {
		return nil, cli.Usagef("%s is a file; format %q needs the dataset directory (a file is read only as an unlabeled list)", file, format)
	}
	if err := checkListFileName(file); err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	c, err := newConfiner(dir)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Root: dir, Format: FormatUnlabeled}
	if err := readUnlabeledList(d, c, file); err != nil {
		return nil, err
	}
	return d, nil
}

// checkListFileName refuses files that --data may name by mistake for a
// list of unlabeled videos: a video, or a split file of a labeled layout
// (read as a list, its lines would be taken for paths).
func checkListFileName(file string) error {
	base := filepath.Base(file)
	lower := strings.ToLower(base)
	switch {
	case IsVideoName(base):
		return cli.Usagef("%s is a video; --data takes a dataset directory or a text file listing videos, one path a line", file)
	case lower == "classind.txt" || strings.HasPrefix(lower, "trainlist") || strings.HasPrefix(lower, "testlist"):
		return cli.Usagef("%s is a split file of a UCF101-style dataset; give its directory, %s, as --data", file, filepath.Dir(file))
	}
	return nil
}

// DetectFormat names the layout of the dataset at root by the files that
// mark each one: classInd.txt (UCF101), testTrainMulti_7030_splits/
// (HMDB51), labels.json with train.json or validation.json (SSv2), a CSV
// with a youtube_id column (Kinetics), class folders of videos (folder), any
// other tree of videos or unlabeled.txt (unlabeled). A file is an unlabeled
// list.
func DetectFormat(root string) (string, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return "", fmt.Errorf("dataset %s: %w", root, err)
	}
	if !fi.IsDir() {
		return FormatUnlabeled, nil
	}
	switch {
	case ucfListDir(root) != "":
		return FormatUCF101, nil
	case isDir(filepath.Join(root, hmdbSplitDir)):
		return FormatHMDB51, nil
	case ssv2LabelDir(root) != "":
		return FormatSSv2, nil
	case len(kineticsCSVs(root)) > 0:
		return FormatKinetics, nil
	case looksLikeFolder(root):
		return FormatFolder, nil
	case isFile(filepath.Join(root, UnlabeledList)) || hasVideo(root):
		return FormatUnlabeled, nil
	}
	return "", fmt.Errorf("no dataset layout recognised in %s: expected classInd.txt (UCF101), %s/ (HMDB51), "+
		"labels.json (SSv2), a Kinetics CSV, class folders of videos, or video files; pass --format to choose one", root, hmdbSplitDir)
}

// PretrainSamples returns the videos for self-supervised pretraining with
// split n (1-based): the Unlabeled samples when the dataset has any, else
// the train side of split n with labels hidden (Label = Unlabeled), so a
// pretrained network never sees that split's test videos. It returns nil
// when neither exists.
func (d *Dataset) PretrainSamples(n int) []Sample {
	if len(d.Unlabeled) > 0 {
		return append([]Sample(nil), d.Unlabeled...)
	}
	return d.hiddenTrain(nil, n)
}

// PretrainSamplesWithTrain returns the Unlabeled samples followed by the
// train side of split n with labels hidden: the usual protocol of
// self-supervised papers on UCF101 (pretrain on the split's training videos,
// never on its test videos), with any unlabeled pool added. A bad n gives
// the unlabeled samples alone.
func (d *Dataset) PretrainSamplesWithTrain(n int) []Sample {
	return d.hiddenTrain(append([]Sample(nil), d.Unlabeled...), n)
}

// hiddenTrain appends the train side of split n (1-based), labels hidden,
// to out; a bad n appends nothing.
func (d *Dataset) hiddenTrain(out []Sample, n int) []Sample {
	if n < 1 || n > len(d.Splits) {
		return out
	}
	for _, s := range d.Splits[n-1].Train {
		s.Label = Unlabeled
		out = append(out, s)
	}
	return out
}

// Split returns split n (1-based), or a usage error naming the splits the
// dataset has.
func (d *Dataset) Split(n int) (Split, error) {
	if n < 1 || n > len(d.Splits) {
		if len(d.Splits) == 0 {
			return Split{}, cli.Usagef("split %d: dataset %s (%s) has no labeled splits", n, d.Root, d.Format)
		}
		return Split{}, cli.Usagef("split %d: dataset %s has splits 1 to %d", n, d.Root, len(d.Splits))
	}
	return d.Splits[n-1], nil
}

// AbsPath returns the file system path of a sample of d.
func (d *Dataset) AbsPath(s Sample) string {
	if filepath.IsAbs(s.Path) {
		return s.Path
	}
	return filepath.Join(d.Root, filepath.FromSlash(s.Path))
}

// readUnlabeledList reads a list of unlabeled videos into d.Unlabeled when
// the file exists. Relative paths must stay inside the root; absolute paths
// are the user's choice and kept as they are. Blank lines and lines starting
// with # are skipped.
func readUnlabeledList(d *Dataset, c *confiner, file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unlabeled list %s: %w", file, err)
	}
	paths, err := parseList(data, file)
	if err != nil {
		return err
	}
	for _, e := range paths {
		if !filepath.IsAbs(e.path) {
			if err := c.check(e.path); err != nil {
				return lineErr(file, e.line, err)
			}
		}
		d.Unlabeled = append(d.Unlabeled, Sample{Path: e.path, Label: Unlabeled})
	}
	return nil
}

// listEntry is one path read from a list file, with its line number.
type listEntry struct {
	path string
	line int
}

// parseList parses a list of video paths: one per line, relative (cleaned,
// forward slashes, inside the root) or absolute (cleaned).
func parseList(data []byte, file string) ([]listEntry, error) {
	var out []listEntry
	for i, ln := range lines(data) {
		ln = strings.TrimSpace(ln)
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		if strings.ContainsRune(ln, 0) {
			return nil, lineErr(file, i+1, fmt.Errorf("a NUL byte: this is not a text list of video paths"))
		}
		if filepath.IsAbs(ln) {
			out = append(out, listEntry{filepath.Clean(ln), i + 1})
			continue
		}
		p, err := cleanRel(ln)
		if err != nil {
			return nil, lineErr(file, i+1, err)
		}
		out = append(out, listEntry{p, i + 1})
	}
	return out, nil
}

// isDir reports whether p is a directory (following links).
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// isFile reports whether p is a regular file (following links).
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// subdirs lists the names of the directories directly under dir, sorted.
func subdirs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// hasVideo reports whether any video file lies under dir, outside hidden
// folders such as prepare's .vidrep cache.
func hasVideo(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || found {
			return fs.SkipDir
		}
		if e.IsDir() && p != dir && strings.HasPrefix(e.Name(), ".") {
			return fs.SkipDir
		}
		if !e.IsDir() && IsVideoName(e.Name()) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}
