package dataset

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// UCF101 layout. The split files (classInd.txt, trainlist0{1,2,3}.txt,
// testlist0{1,2,3}.txt) sit at the root or in ucfTrainTestlist/ (as the
// official zip unpacks). Videos sit at <root>/<Class>/v_<Class>_gXX_cYY.avi,
// or under <root>/UCF-101/ (as the official rar unpacks) when that folder
// exists. Splits are read from 1 up to the first missing trainlist.

const ucfClassInd = "classInd.txt"

// ucfVideoDir is the folder the official UCF101 archive unpacks into.
const ucfVideoDir = "UCF-101"

// ucfGroup finds the group and clip numbers in a UCF101 file name.
var ucfGroup = regexp.MustCompile(`_(g\d+)_c\d+$`)

// ucfListDir returns the directory that holds classInd.txt, or "".
func ucfListDir(root string) string {
	for _, dir := range []string{root, filepath.Join(root, "ucfTrainTestlist")} {
		if isFile(filepath.Join(dir, ucfClassInd)) {
			return dir
		}
	}
	return ""
}

// loadUCF101 reads classInd.txt and the train/test lists of every split.
func loadUCF101(d *Dataset, c *confiner) error {
	dir := ucfListDir(d.Root)
	if dir == "" {
		return fmt.Errorf("%s: no %s at the root or in ucfTrainTestlist/; is this a UCF101 dataset?", d.Root, ucfClassInd)
	}
	file := filepath.Join(dir, ucfClassInd)
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if d.Classes, err = parseClassInd(data, file); err != nil {
		return err
	}
	base := ""
	if isDir(filepath.Join(d.Root, ucfVideoDir)) {
		base = ucfVideoDir
	}
	for k := 1; ; k++ {
		train := filepath.Join(dir, fmt.Sprintf("trainlist%02d.txt", k))
		test := filepath.Join(dir, fmt.Sprintf("testlist%02d.txt", k))
		if !isFile(train) {
			if k == 1 {
				return fmt.Errorf("%s: no trainlist01.txt beside %s; UCF101 needs at least split 1", dir, ucfClassInd)
			}
			return nil
		}
		if !isFile(test) {
			return fmt.Errorf("%s exists but %s is missing; each UCF101 split needs both lists", train, test)
		}
		var sp Split
		if sp.Train, err = d.readUCFList(c, train, base); err != nil {
			return err
		}
		if sp.Test, err = d.readUCFList(c, test, base); err != nil {
			return err
		}
		d.Splits = append(d.Splits, sp)
	}
}

// readUCFList reads one train or test list and confines its paths.
func (d *Dataset) readUCFList(c *confiner, file, base string) ([]Sample, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	listed, probs, err := parseUCFList(data, file, d.Classes)
	if err != nil {
		return nil, err
	}
	d.problems = append(d.problems, probs...)
	samples := make([]Sample, len(listed))
	for i, e := range listed {
		if base != "" {
			e.Path = base + "/" + e.Path
		}
		if err := c.check(e.Path); err != nil {
			return nil, lineErr(file, e.line, err)
		}
		samples[i] = e.Sample
	}
	return samples, nil
}

// listed is a sample with the line of the file that named it.
type listed struct {
	Sample
	line int
}

// parseClassInd parses classInd.txt: lines "<id> <Class>" with ids 1..N,
// each once (a class name may hold spaces). It returns the class names, index id-1.
func parseClassInd(data []byte, file string) ([]string, error) {
	byID := map[int]string{}
	seen := map[string]int{}
	maxID := 0
	for i, ln := range lines(data) {
		f := strings.Fields(ln)
		if len(f) == 0 {
			continue
		}
		id, err := strconv.Atoi(f[0])
		if len(f) < 2 || err != nil {
			return nil, lineErr(file, i+1, fmt.Errorf("want \"<id> <ClassName>\", got %q", ln))
		}
		// a class folder may hold spaces: the name is the rest of the line
		f[1] = strings.TrimSpace(strings.TrimSpace(ln)[len(f[0]):])
		if id < 1 || id > 100000 {
			return nil, lineErr(file, i+1, fmt.Errorf("class id %d out of range; ids count from 1", id))
		}
		if _, dup := byID[id]; dup {
			return nil, lineErr(file, i+1, fmt.Errorf("class id %d given twice", id))
		}
		if prev, dup := seen[f[1]]; dup {
			return nil, lineErr(file, i+1, fmt.Errorf("class %q already has id %d", f[1], prev))
		}
		if strings.ContainsAny(f[1], `/\`) || f[1] == "." || f[1] == ".." {
			return nil, lineErr(file, i+1, fmt.Errorf("class name %q is not a folder name", f[1]))
		}
		byID[id], seen[f[1]] = f[1], id
		maxID = max(maxID, id)
	}
	if len(byID) == 0 {
		return nil, fmt.Errorf("%s: no classes; want lines \"<id> <ClassName>\"", file)
	}
	classes := make([]string, maxID)
	for id := 1; id <= maxID; id++ {
		name, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%s: class id %d is missing; ids must run 1..%d without gaps", file, id, maxID)
		}
		classes[id-1] = name
	}
	return classes, nil
}

// parseUCFList parses a trainlist or testlist: lines "<Class>/<file> <id>"
// or "<Class>/<file>". The label is the 1-based id when given, else the
// class of the folder. Lines whose class is not in classes are left out and
// reported; a path that escapes the root is an error naming file and line.
func parseUCFList(data []byte, file string, classes []string) ([]listed, []Problem, error) {
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	var out []listed
	var probs []Problem
	for i, ln := range lines(data) {
		ln = strings.TrimSpace(ln)
		if ln == "" {
			continue
		}
		p, id, hasID := splitTrailingInt(ln)
		rel, err := cleanRel(p)
		if err != nil {
			return nil, nil, lineErr(file, i+1, err)
		}
		dir, _, _ := strings.Cut(rel, "/")
		label, known := index[dir]
		where := fmt.Sprintf("%s:%d", file, i+1)
		switch {
		case hasID && (id < 1 || id > len(classes)):
			probs = append(probs, Problem{KindUnknownClass, Warning, fmt.Sprintf("%s: class id %d is not in classInd.txt (1..%d); %s left out", where, id, len(classes), rel)})
			continue
		case hasID && known && id-1 != label:
			probs = append(probs, Problem{KindLabelMismatch, Warning, fmt.Sprintf("%s: %s is in folder %s but labelled %d (%s); the label is used", where, rel, dir, id, classes[id-1])})
			label = id - 1
		case hasID:
			label = id - 1
		case !known:
			probs = append(probs, Problem{KindUnknownClass, Warning, fmt.Sprintf("%s: class %q is not in classInd.txt; %s left out", where, dir, rel)})
			continue
		}
		out = append(out, listed{Sample{Path: rel, Label: label, Group: ucfGroupOf(rel)}, i + 1})
	}
	return out, probs, nil
}

// splitTrailingInt splits "path 12" into ("path", 12, true); a line with no
// trailing integer field is all path.
func splitTrailingInt(ln string) (string, int, bool) {
	k := strings.LastIndexAny(ln, " \t")
	if k < 0 {
		return ln, 0, false
	}
	n, err := strconv.Atoi(ln[k+1:])
	if err != nil {
		return ln, 0, false
	}
	return strings.TrimSpace(ln[:k]), n, true
}

// ucfGroupOf returns "gXX" of v_Class_gXX_cYY.avi, or "" for other names.
func ucfGroupOf(rel string) string {
	name := path.Base(rel)
	name = strings.TrimSuffix(name, path.Ext(name))
	m := ucfGroup.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	return m[1]
}
