// Package report writes what a person reads after a run or an experiment:
// tables (markdown, CSV, JSON), plots (PNG, drawn with gonum.org/v1/plot:
// line plots with error bars, training curves, confusion-matrix heatmaps),
// and documents rendered both as markdown (images as files) and as one
// self-contained HTML file (images embedded as base64 data URIs, no
// external resources, no JavaScript).
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MeanStd is a table cell summarising repeated runs (seeds): shown as
// "mean ± std" in markdown and HTML, as two columns (name, name_std) in CSV
// and as an object {"mean","std","n"} in JSON.
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

// Summarize returns the mean and the sample standard deviation (n-1
// denominator; 0 for a single value) of xs. NaN values are skipped.
func Summarize(xs []float64) MeanStd {
	var m MeanStd
	sum := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			m.N++
		}
	}
	if m.N == 0 {
		return MeanStd{Mean: math.NaN(), Std: math.NaN()}
	}
	m.Mean = sum / float64(m.N)
	if m.N > 1 {
		ss := 0.0
		for _, x := range xs {
			if !math.IsNaN(x) {
				ss += (x - m.Mean) * (x - m.Mean)
			}
		}
		m.Std = math.Sqrt(ss / float64(m.N-1))
	}
	return m
}

// Table is a titled grid. Cells may be strings, integers, floats (printed
// with Decimals digits; NaN prints as "–" and is null in JSON) or MeanStd.
type Table struct {
	Title    string
	Columns  []string
	Rows     [][]any
	Decimals int
}

// NewTable starts a table with the given columns and 2 decimals.
func NewTable(title string, columns ...string) *Table {
	return &Table{Title: title, Columns: columns, Decimals: 2}
}

// AddRow appends a row; it must have one cell per column.
func (t *Table) AddRow(cells ...any) error {
	if len(cells) != len(t.Columns) {
		return fmt.Errorf("report: table %q row has %d cells, want %d", t.Title, len(cells), len(t.Columns))
	}
	t.Rows = append(t.Rows, cells)
	return nil
}

// Text formats one cell for markdown, HTML and the terminal.
func (t *Table) Text(cell any) string {
	switch v := cell.(type) {
	case MeanStd:
		if math.IsNaN(v.Mean) {
			return "–"
		}
		if v.N == 1 { // one value has no spread to show
			return t.float(v.Mean) + " (n = 1)"
		}
		return t.float(v.Mean) + " ± " + t.float(v.Std)
	case float64:
		return t.float(v)
	case float32:
		return t.float(float64(v))
	case nil:
		return ""
	}
	return fmt.Sprint(cell)
}

func (t *Table) float(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', t.Decimals, 64)
}

// Markdown renders the table as a GitHub-flavoured markdown table (the title
// is left to the caller's heading).
func (t *Table) Markdown() string {
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + esc(c) + " |")
	}
	b.WriteString("\n|")
	for range t.Columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + esc(t.Text(c)) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Plain renders the table with aligned columns for a terminal.
func (t *Table) Plain() string {
	width := make([]int, len(t.Columns))
	cells := make([][]string, len(t.Rows))
	for j, c := range t.Columns {
		width[j] = len([]rune(c))
	}
	for i, r := range t.Rows {
		cells[i] = make([]string, len(r))
		for j, c := range r {
			cells[i][j] = t.Text(c)
			width[j] = max(width[j], len([]rune(cells[i][j])))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		var l strings.Builder
		for j, s := range row {
			if j > 0 {
				l.WriteString("  ")
			}
			l.WriteString(s + strings.Repeat(" ", width[j]-len([]rune(s))))
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(t.Columns)
	sep := make([]string, len(width))
	for j, w := range width {
		sep[j] = strings.Repeat("-", w)
	}
	line(sep)
	for _, r := range cells {
		line(r)
	}
	return b.String()
}

// meanStdColumns reports which columns hold at least one MeanStd cell.
func (t *Table) meanStdColumns() []bool {
	out := make([]bool, len(t.Columns))
	for _, r := range t.Rows {
		for j, c := range r {
			if _, ok := c.(MeanStd); ok {
				out[j] = true
			}
		}
	}
	return out
}

// WriteCSV writes the table as CSV with a header row; a column of MeanStd
// cells becomes two columns, name and name_std. Floats keep full precision.
func (t *Table) WriteCSV(w io.Writer) error {
	ms := t.meanStdColumns()
	cw := csv.NewWriter(w)
	var head []string
	for j, c := range t.Columns {
		head = append(head, c)
		if ms[j] {
			head = append(head, c+"_std")
		}
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		var rec []string
		for j, c := range r {
			rec = append(rec, csvCell(c))
			if ms[j] {
				std := ""
				if v, ok := c.(MeanStd); ok {
					std = csvFloat(v.Std)
				}
				rec = append(rec, std)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(c any) string {
	switch v := c.(type) {
	case MeanStd:
		return csvFloat(v.Mean)
	case float64:
		return csvFloat(v)
	case float32:
		return csvFloat(float64(v))
	case nil:
		return ""
	}
	return fmt.Sprint(c)
}

func csvFloat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// tableJSON is the JSON form of a table: rows as objects keyed by column.
type tableJSON struct {
	Title   string           `json:"title"`
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// MarshalJSON encodes the table as {"title","columns","rows":[{column: value}]};
// NaN floats become null.
func (t *Table) MarshalJSON() ([]byte, error) {
	out := tableJSON{Title: t.Title, Columns: t.Columns, Rows: make([]map[string]any, len(t.Rows))}
	for i, r := range t.Rows {
		out.Rows[i] = map[string]any{}
		for j, c := range r {
			out.Rows[i][t.Columns[j]] = jsonCell(c)
		}
	}
	return json.Marshal(out)
}

func jsonCell(c any) any {
	switch v := c.(type) {
	case float64:
		return jsonFloat(v)
	case float32:
		return jsonFloat(float64(v))
	case MeanStd:
		return map[string]any{"mean": jsonFloat(v.Mean), "std": jsonFloat(v.Std), "n": v.N}
	}
	return c
}

func jsonFloat(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// WriteTable writes the table to dir as base.md, base.csv and base.json.
func WriteTable(dir, base string, t *Table) error {
	md := t.Markdown()
	if t.Title != "" {
		md = "## " + t.Title + "\n\n" + md
	}
	if err := WriteFile(filepath.Join(dir, base+".md"), []byte(md)); err != nil {
		return err
	}
	var csvBuf strings.Builder
	if err := t.WriteCSV(&csvBuf); err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(dir, base+".csv"), []byte(csvBuf.String())); err != nil {
		return err
	}
	return WriteJSON(filepath.Join(dir, base+".json"), t)
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encoding %s: %w", path, err)
	}
	return WriteFile(path, append(b, '\n'))
}

// WriteFile writes data to path through a temporary file and a rename, so a
// reader never sees half a file; it creates the parent directory.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
