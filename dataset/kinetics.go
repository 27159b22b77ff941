package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Kinetics layout (the official annotation CSVs as released):
//
//	<root>/train.csv, validate.csv, test.csv   (or under <root>/annotations/;
//	                                            any *.csv with a youtube_id column)
//	header: label,youtube_id,time_start,time_end,split   (extra columns ignored)
//	videos: <root>/<split dir>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4
//
// The split column (or, without one, the CSV's file name) puts a row in
// train ("train") or in the test side of split 1 ("val", "validate",
// "validation"); "test" rows are left out, since Kinetics reports on the
// validation set and its test labels were long withheld. The split dir is
// the first of train/training (or val/validate/validation/valid) that
// exists, else the root itself. A label folder may use the label as written
// or with spaces as underscores. A missing .mp4 is looked for as .mkv and
// .webm. Classes are the labels, sorted.

// kineticsRow is one parsed CSV row.
type kineticsRow struct {
	label, id  string
	start, end int
	side       string // "train", "val" or "test"
	line       int
}

// kineticsSides maps split names to the side they feed.
var kineticsSides = map[string]string{
	"train": "train", "training": "train",
	"val": "val", "validate": "val", "validation": "val", "valid": "val",
	"test": "test", "testing": "test",
}

// kineticsDirs lists the folders a side's videos may sit in.
var kineticsDirs = map[string][]string{
	"train": {"train", "training"},
	"val":   {"val", "validate", "validation", "valid"},
}

// kineticsCSVs lists the CSV files at root (or in annotations/) whose header
// names a youtube_id column, sorted.
func kineticsCSVs(root string) []string {
	var out []string
	for _, dir := range []string{root, filepath.Join(root, "annotations")} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
		for _, m := range matches {
			if csvHasColumn(m, "youtube_id") {
				out = append(out, m)
			}
		}
	}
	sort.Strings(out)
	return out
}

// csvHasColumn reports whether the first line of a CSV names col.
func csvHasColumn(file, col string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(f, buf)
	first, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	for _, h := range strings.Split(string(first), ",") {
		if normHeader(h) == col {
			return true
		}
	}
	return false
}

// normHeader normalises a CSV header cell.
func normHeader(h string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), `"`))
}

// loadKinetics reads every Kinetics CSV into one split.
func loadKinetics(d *Dataset, c *confiner) error {
	files := kineticsCSVs(d.Root)
	if len(files) == 0 {
		return fmt.Errorf("%s: no CSV with a youtube_id column at the root or in annotations/; is this a Kinetics dataset?", d.Root)
	}
	var rows []kineticsRow
	var rowFile []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		rs, err := parseKineticsCSV(data, f)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
		for range rs {
			rowFile = append(rowFile, f)
		}
	}
	return d.kineticsSamples(c, rows, rowFile)
}

// kineticsSamples turns rows into classes and split 1.
func (d *Dataset) kineticsSamples(c *confiner, rows []kineticsRow, rowFile []string) error {
	index := map[string]int{}
	for _, r := range rows {
		if r.side != "test" && r.label != "" {
			index[r.label] = 0
		}
	}
	for l := range index {
		d.Classes = append(d.Classes, l)
	}
	sort.Strings(d.Classes)
	for i, l := range d.Classes {
		index[l] = i
	}
	var sp Split
	loc := kineticsLocator{root: d.Root, labelDirs: map[string]string{}}
	for i, r := range rows {
		if r.side == "test" {
			continue
		}
		if r.label == "" {
			d.problems = append(d.problems, Problem{KindUnknownClass, Warning, fmt.Sprintf("%s:%d: %s row without a label; left out", rowFile[i], r.line, r.side)})
			continue
		}
		p, err := loc.path(r)
		if err == nil {
			err = c.check(p)
		}
		if err != nil {
			return lineErr(rowFile[i], r.line, err)
		}
		s := Sample{Path: p, Label: index[r.label]}
		if r.side == "train" {
			sp.Train = append(sp.Train, s)
		} else {
			sp.Test = append(sp.Test, s)
		}
	}
	d.Splits = []Split{sp}
	return nil
}

// kineticsLocator finds where a row's video sits, caching folder choices.
type kineticsLocator struct {
	root      string
	sideDirs  map[string]string
	labelDirs map[string]string // side dir + "\x00" + label -> folder
}

// path returns the clean relative path of a row's video.
func (l *kineticsLocator) path(r kineticsRow) (string, error) {
	if l.sideDirs == nil {
		l.sideDirs = map[string]string{}
		for side, dirs := range kineticsDirs {
			l.sideDirs[side] = "."
			for _, dir := range dirs {
				if isDir(filepath.Join(l.root, dir)) {
					l.sideDirs[side] = dir
					break
				}
			}
		}
	}
	if strings.ContainsAny(r.label, `/\`) || strings.ContainsAny(r.id, `/\`) {
		return "", fmt.Errorf("label %q or youtube_id %q holds a path separator", r.label, r.id)
	}
	base := l.sideDirs[r.side]
	key := base + "\x00" + r.label
	labelDir, ok := l.labelDirs[key]
	if !ok {
		labelDir = r.label
		alt := strings.ReplaceAll(r.label, " ", "_")
		if !isDir(filepath.Join(l.root, base, r.label)) && isDir(filepath.Join(l.root, base, alt)) {
			labelDir = alt
		}
		l.labelDirs[key] = labelDir
	}
	stem := fmt.Sprintf("%s_%06d_%06d", r.id, r.start, r.end)
	p, err := joinRel(base, labelDir, stem+".mp4")
	if err != nil {
		return "", err
	}
	if isFile(filepath.Join(l.root, p)) {
		return p, nil
	}
	for _, ext := range []string{".mkv", ".webm"} {
		if alt := strings.TrimSuffix(p, ".mp4") + ext; isFile(filepath.Join(l.root, alt)) {
			return alt, nil
		}
	}
	return p, nil
}

// parseKineticsCSV parses one Kinetics annotation CSV. The header must name
// youtube_id, time_start and time_end; label and split are optional (a
// missing split column takes the side from the file name: train.csv,
// validate.csv, test.csv).
func parseKineticsCSV(data []byte, file string) ([]kineticsRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the CSV header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[normHeader(h)] = i
	}
	for _, need := range []string{"youtube_id", "time_start", "time_end"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: header %q lacks a %s column; want label,youtube_id,time_start,time_end,split", file, strings.Join(header, ","), need)
		}
	}
	fileSide := kineticsSides[strings.TrimSuffix(strings.ToLower(path.Base(filepath.ToSlash(file))), ".csv")]
	var out []kineticsRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		row, err := kineticsRecord(rec, col, fileSide)
		if err != nil {
			return nil, lineErr(file, line, err)
		}
		row.line = line
		out = append(out, row)
	}
}

// kineticsRecord reads one CSV record by the header's columns.
func kineticsRecord(rec []string, col map[string]int, fileSide string) (kineticsRow, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var row kineticsRow
	row.label, row.id = get("label"), get("youtube_id")
	if row.id == "" {
		return row, errors.New("empty youtube_id")
	}
	var err error
	if row.start, err = csvSeconds(get("time_start")); err != nil {
		return row, fmt.Errorf("time_start: %w", err)
	}
	if row.end, err = csvSeconds(get("time_end")); err != nil {
		return row, fmt.Errorf("time_end: %w", err)
	}
	split := strings.ToLower(get("split"))
	row.side = kineticsSides[split]
	if split == "" {
		row.side = fileSide
	}
	if row.side == "" {
		return row, fmt.Errorf("split %q is none of train, val, validate, test (and the file name names no split)", get("split"))
	}
	return row, nil
}

// csvSeconds parses a whole number of seconds ("14" or "14.0").
func csvSeconds(s string) (int, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e8 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	return int(f), nil
}
