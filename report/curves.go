package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Record is one line of a metrics.jsonl file: its numeric fields in Values
// and its string fields (a phase, a split name) in Tags.
type Record struct {
	Values map[string]float64
	Tags   map[string]string
}

// ReadMetrics reads a metrics.jsonl file (one JSON object per line). Blank
// lines are skipped; a malformed last line (a run killed mid-write) is
// dropped, a malformed line elsewhere is an error naming the line.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out []Record
	var bad error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if bad != nil {
			return nil, bad
		}
		rec, err := parseRecord(line)
		if err != nil {
			bad = fmt.Errorf("report: %s line %d is not a JSON object (%v); fix or delete that line", path, n, err)
			continue
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: reading %s: %w", path, err)
	}
	return out, nil
}

func parseRecord(line string) (Record, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		return Record{}, err
	}
	r := Record{Values: map[string]float64{}, Tags: map[string]string{}}
	for k, v := range raw {
		switch x := v.(type) {
		case float64:
			r.Values[k] = x
		case string:
			r.Tags[k] = x
		case bool:
			if x {
				r.Values[k] = 1
			} else {
				r.Values[k] = 0
			}
		}
	}
	return r, nil
}

// NumericKeys lists, sorted, the numeric fields that appear in any record.
func NumericKeys(recs []Record) []string {
	seen := map[string]bool{}
	for _, r := range recs {
		for k := range r.Values {
			seen[k] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Curves makes one series per y key from the records that hold both x and
// that key (keys absent from every record are skipped). It returns an error
// when no series has a point.
func Curves(recs []Record, x string, ys ...string) ([]Series, error) {
	var out []Series
	for _, y := range ys {
		s := Series{Name: y}
		for _, r := range recs {
			xv, okx := r.Values[x]
			yv, oky := r.Values[y]
			if okx && oky {
				s.X = append(s.X, xv)
				s.Y = append(s.Y, yv)
			}
		}
		if len(s.X) > 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("report: no record holds %q together with any of %v", x, ys)
	}
	return out, nil
}

// Filter keeps the records whose string field key equals value.
func Filter(recs []Record, key, value string) []Record {
	var out []Record
	for _, r := range recs {
		if r.Tags[key] == value {
			out = append(out, r)
		}
	}
	return out
}

// TrainingCurvesPNG plots the y keys of a metrics.jsonl file against x
// ("step" or "epoch", say) in one PNG. When the file has per-step lines
// (kind "step", as train writes them beside its per-epoch lines) only those
// are plotted, so that the two kinds do not interleave.
func TrainingCurvesPNG(path, title, x string, ys ...string) ([]byte, error) {
	recs, err := ReadMetrics(path)
	if err != nil {
		return nil, err
	}
	if steps := Filter(recs, "kind", "step"); len(steps) > 0 {
		recs = steps
	}
	series, err := Curves(recs, x, ys...)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return LinePlot{Title: title, XLabel: x, YLabel: strings.Join(ys, ", "), Series: series}.PNG()
}
