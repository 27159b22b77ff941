package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Something-Something v2 layout (as released):
//
//	<root>/labels.json, train.json, validation.json   (or under <root>/labels/)
//	labels.json: {"<class>": "<index>", ...}
//	train.json, validation.json: [{"id": "78687", "template": "Holding [something] next to [something]", ...}]
//	videos: <root>/20bn-something-something-v2/<id>.webm, else <root>/videos/<id>.webm, else <root>/<id>.webm
//
// A row's class is its template with the brackets removed, as labels.json
// writes it. train.json is the train side and validation.json the test side
// of split 1; test.json has no labels and is not read.

// ssv2VideoDirs are the folders SSv2 videos may sit in, in order.
var ssv2VideoDirs = []string{"20bn-something-something-v2", "videos"}

// ssv2LabelDir returns the folder holding labels.json beside train.json or
// validation.json, or "".
func ssv2LabelDir(root string) string {
	for _, dir := range []string{root, filepath.Join(root, "labels")} {
		if isFile(filepath.Join(dir, "labels.json")) &&
			(isFile(filepath.Join(dir, "train.json")) || isFile(filepath.Join(dir, "validation.json"))) {
			return dir
		}
	}
	return ""
}

// loadSSv2 reads labels.json and the train and validation lists.
func loadSSv2(d *Dataset, c *confiner) error {
	dir := ssv2LabelDir(d.Root)
	if dir == "" {
		return fmt.Errorf("%s: no labels.json with train.json or validation.json at the root or in labels/; is this a Something-Something v2 dataset?", d.Root)
	}
	file := filepath.Join(dir, "labels.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if d.Classes, err = parseSSv2Labels(data, file); err != nil {
		return err
	}
	videoDir := "."
	for _, v := range ssv2VideoDirs {
		if isDir(filepath.Join(d.Root, v)) {
			videoDir = v
			break
		}
	}
	var sp Split
	for _, side := range []struct {
		name string
		dst  *[]Sample
	}{{"train.json", &sp.Train}, {"validation.json", &sp.Test}} {
		if *side.dst, err = d.readSSv2List(c, filepath.Join(dir, side.name), videoDir); err != nil {
			return err
		}
	}
	d.Splits = []Split{sp}
	return nil
}

// readSSv2List reads one list; a missing file gives no samples.
func (d *Dataset) readSSv2List(c *confiner, file, videoDir string) ([]Sample, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	samples, probs, err := parseSSv2List(data, file, d.Classes, videoDir)
	if err != nil {
		return nil, err
	}
	d.problems = append(d.problems, probs...)
	for _, s := range samples {
		if err := c.check(s.Path); err != nil {
			return nil, fmt.Errorf("%s: id %s: %w", file, strings.TrimSuffix(path.Base(s.Path), ".webm"), err)
		}
	}
	return samples, nil
}

// parseSSv2Labels parses labels.json, an object from class name to index
// (a string or a number); indices must run 0..N-1, each once.
func parseSSv2Labels(data []byte, file string) ([]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w; want {\"<class>\": \"<index>\", ...}", file, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no classes", file)
	}
	classes := make([]string, len(raw))
	for name, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || i < 0 || i >= len(raw) {
			return nil, fmt.Errorf("%s: class %q has index %s; indices must run 0..%d", file, name, v, len(raw)-1)
		}
		if classes[i] != "" {
			return nil, fmt.Errorf("%s: index %d is given to both %q and %q", file, i, classes[i], name)
		}
		if name == "" {
			return nil, fmt.Errorf("%s: a class with an empty name", file)
		}
		classes[i] = name
	}
	return classes, nil
}

// ssv2Item is one entry of train.json or validation.json.
type ssv2Item struct {
	ID       json.RawMessage `json:"id"`
	Template string          `json:"template"`
}

// parseSSv2List parses train.json or validation.json into samples at
// <videoDir>/<id>.webm. Entries whose class is not in labels.json are left
// out and reported; an id that makes a path escape the root is an error.
func parseSSv2List(data []byte, file string, classes []string, videoDir string) ([]Sample, []Problem, error) {
	var items []ssv2Item
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, nil, fmt.Errorf("%s: %w; want [{\"id\": ..., \"template\": ...}, ...]", file, err)
	}
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
		index[strings.ToLower(c)] = i
	}
	var out []Sample
	var probs []Problem
	unknown := map[string]int{}
	for n, it := range items {
		id := jsonScalar(it.ID)
		if id == "" || strings.ContainsAny(id, `/\`) {
			return nil, nil, fmt.Errorf("%s: entry %d: id %s is not a video number", file, n+1, it.ID)
		}
		p, err := joinRel(videoDir, id+".webm")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: entry %d: %w", file, n+1, err)
		}
		class := ssv2Class(it.Template)
		label, ok := index[class]
		if !ok {
			label, ok = index[strings.ToLower(class)]
		}
		if !ok {
			unknown[class]++
			continue
		}
		out = append(out, Sample{Path: p, Label: label})
	}
	names := make([]string, 0, len(unknown))
	for class := range unknown {
		names = append(names, class)
	}
	sort.Strings(names)
	for _, class := range names {
		probs = append(probs, Problem{KindUnknownClass, Warning, fmt.Sprintf("%s: %d entries of class %q, which labels.json lacks, are left out", file, unknown[class], class)})
	}
	return out, probs, nil
}

// ssv2Class turns a template into its class: the brackets removed.
func ssv2Class(template string) string {
	return strings.TrimSpace(strings.NewReplacer("[", "", "]", "").Replace(template))
}

// jsonScalar returns a JSON string's text or a number's digits, "" for
// anything else.
func jsonScalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}
