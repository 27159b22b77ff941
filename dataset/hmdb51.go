package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// HMDB51 layout: testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt at
// the root, lines "<file>.avi <tag>" with tag 0 (unused), 1 (train) or 2
// (test); videos at <root>/<class>/<file>.avi. Classes are the split files'
// class names, sorted. Every class needs a file for every split.

const hmdbSplitDir = "testTrainMulti_7030_splits"

// hmdbSplitName matches a split file name: class and split number.
var hmdbSplitName = regexp.MustCompile(`^(.+)_test_split([0-9]+)\.txt$`)

// HMDB51 split tags.
const (
	hmdbUnused = 0
	hmdbTrain  = 1
	hmdbTest   = 2
)

// hmdbEntry is one line of an HMDB51 split file.
type hmdbEntry struct {
	path string // relative to the root: <class>/<file>
	tag  int
	line int
}

// loadHMDB51 reads every class's split files.
func loadHMDB51(d *Dataset, c *confiner) error {
	dir := filepath.Join(d.Root, hmdbSplitDir)
	files, classes, nSplits, err := hmdbFiles(dir)
	if err != nil {
		return err
	}
	d.Classes = classes
	d.Splits = make([]Split, nSplits)
	for label, class := range classes {
		for k := 1; k <= nSplits; k++ {
			file, ok := files[hmdbKey{class, k}]
			if !ok {
				return fmt.Errorf("%s: no %s_test_split%d.txt; every class needs all %d split files", dir, class, k, nSplits)
			}
			if err := d.readHMDBSplit(c, file, class, label, &d.Splits[k-1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// hmdbKey names one split file: a class and a split number.
type hmdbKey struct {
	class string
	split int
}

// hmdbFiles lists the split files of dir by class and split, the sorted
// classes and the number of splits.
func hmdbFiles(dir string) (map[hmdbKey]string, []string, int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("HMDB51 split folder: %w", err)
	}
	files := map[hmdbKey]string{}
	seen := map[string]bool{}
	var classes []string
	nSplits := 0
	for _, e := range ents {
		m := hmdbSplitName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		k, err := strconv.Atoi(m[2])
		if err != nil || k < 1 || k > 9 {
			return nil, nil, 0, fmt.Errorf("%s: split number %s out of range 1..9", filepath.Join(dir, e.Name()), m[2])
		}
		if _, err := cleanRel(m[1]); err != nil || strings.Contains(m[1], "/") {
			return nil, nil, 0, fmt.Errorf("%s: class name %q is not a folder name", filepath.Join(dir, e.Name()), m[1])
		}
		files[hmdbKey{m[1], k}] = filepath.Join(dir, e.Name())
		if !seen[m[1]] {
			seen[m[1]] = true
			classes = append(classes, m[1])
		}
		nSplits = max(nSplits, k)
	}
	if len(classes) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: no <class>_test_split<N>.txt files; is this an HMDB51 dataset?", dir)
	}
	sort.Strings(classes)
	return files, classes, nSplits, nil
}

// readHMDBSplit adds one class's lines of one split file to sp.
func (d *Dataset) readHMDBSplit(c *confiner, file, class string, label int, sp *Split) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	entries, err := parseHMDBSplit(data, file, class)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := c.check(e.path); err != nil {
			return lineErr(file, e.line, err)
		}
		s := Sample{Path: e.path, Label: label}
		switch e.tag {
		case hmdbTrain:
			sp.Train = append(sp.Train, s)
		case hmdbTest:
			sp.Test = append(sp.Test, s)
		}
	}
	return nil
}

// parseHMDBSplit parses one HMDB51 split file of class: lines "<file> <tag>"
// with tag 0, 1 or 2. Paths come back as <class>/<file>, inside the root.
func parseHMDBSplit(data []byte, file, class string) ([]hmdbEntry, error) {
	var out []hmdbEntry
	for i, ln := range lines(data) {
		ln = strings.TrimSpace(ln)
		if ln == "" {
			continue
		}
		name, tag, ok := splitTrailingInt(ln)
		if !ok || tag < hmdbUnused || tag > hmdbTest {
			return nil, lineErr(file, i+1, fmt.Errorf("want \"<video file> <0|1|2>\" (0 unused, 1 train, 2 test), got %q", ln))
		}
		if _, err := cleanRel(name); err != nil {
			return nil, lineErr(file, i+1, err)
		}
		p, err := joinRel(class, strings.ReplaceAll(name, `\`, "/"))
		if err != nil {
			return nil, lineErr(file, i+1, err)
		}
		out = append(out, hmdbEntry{p, tag, i + 1})
	}
	return out, nil
}
