package dataset

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Severity says whether a Problem makes a dataset unfit (Error) or only
// smaller than listed (Warning).
type Severity string

// Severities of a Problem.
const (
	Error   Severity = "error"   // results would be wrong: leakage, a video on both sides
	Warning Severity = "warning" // some videos or classes are left out
)

// Kinds of Problem that Check reports.
const (
	KindMissing       = "missing"        // files listed but not on disk
	KindUnknownClass  = "unknown-class"  // a class or id not in the class list
	KindLabelMismatch = "label-mismatch" // a label that disagrees with the class folder
	KindOverlap       = "split-overlap"  // a video on both sides of a split
	KindGroupLeak     = "group-leakage"  // a UCF101 group gXX on both sides of a split
	KindEmptyClass    = "empty-class"    // a class without videos on one side of a split
)

// Problem is one finding of Check, as one line a person can act on.
type Problem struct {
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Report is the result of Check.
type Report struct {
	Problems []Problem `json:"problems"`
}

// firstFew is how many examples a message names.
const firstFew = 5

// OK reports whether no Problem has Error severity.
func (r Report) OK() bool { return len(r.Errors()) == 0 }

// Errors returns the problems of Error severity.
func (r Report) Errors() []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Severity == Error {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when the report is OK, else one error holding every
// Error-severity message.
func (r Report) Err() error {
	errs := r.Errors()
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, p := range errs {
		msgs[i] = p.Message
	}
	return errors.New(strings.Join(msgs, "; "))
}

// String renders the report, one "severity: message" line per problem.
func (r Report) String() string {
	if len(r.Problems) == 0 {
		return "dataset OK\n"
	}
	var b strings.Builder
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "%s: %s\n", p.Severity, p.Message)
	}
	return b.String()
}

// Check validates d: what the parser left out (classes not in the class
// list, labels that disagree with folders), files listed but missing, videos
// on both sides of a split, UCF101 groups on both sides of a split, and
// classes without videos on a side of a split.
func (d *Dataset) Check() Report {
	var r Report
	r.Problems = append(r.Problems, d.problems...)
	r.Problems = append(r.Problems, d.checkMissing()...)
	for i, sp := range d.Splits {
		r.Problems = append(r.Problems, d.checkOverlap(i+1, sp)...)
		r.Problems = append(r.Problems, d.checkGroups(i+1, sp)...)
		r.Problems = append(r.Problems, d.checkEmpty(i+1, sp)...)
	}
	return r
}

// checkMissing stats every distinct file of d once.
func (d *Dataset) checkMissing() []Problem {
	seen := map[string]bool{}
	var missing []string
	visit := func(ss []Sample) {
		for _, s := range ss {
			if seen[s.Path] {
				continue
			}
			seen[s.Path] = true
			if fi, err := os.Stat(d.AbsPath(s)); err != nil || fi.IsDir() {
				missing = append(missing, s.Path)
			}
		}
	}
	for _, sp := range d.Splits {
		visit(sp.Train)
		visit(sp.Test)
	}
	visit(d.Unlabeled)
	if len(missing) == 0 {
		return nil
	}
	return []Problem{{KindMissing, Warning, fmt.Sprintf("%d of %d listed files are missing under %s (first: %s); restore them or expect them to be skipped",
		len(missing), len(seen), d.Root, strings.Join(head(missing), ", "))}}
}

// checkOverlap finds videos listed on both sides of split n.
func (d *Dataset) checkOverlap(n int, sp Split) []Problem {
	train := map[string]bool{}
	for _, s := range sp.Train {
		train[s.Path] = true
	}
	var both []string
	seen := map[string]bool{}
	for _, s := range sp.Test {
		if train[s.Path] && !seen[s.Path] {
			seen[s.Path] = true
			both = append(both, s.Path)
		}
	}
	if len(both) == 0 {
		return nil
	}
	return []Problem{{KindOverlap, Error, fmt.Sprintf("split %d: %d videos are in both train and test (first: %s); fix the split files",
		n, len(both), strings.Join(head(both), ", "))}}
}

// checkGroups finds (class, group) pairs on both sides of split n.
func (d *Dataset) checkGroups(n int, sp Split) []Problem {
	type key struct {
		label int
		group string
	}
	train := map[key]bool{}
	for _, s := range sp.Train {
		if s.Group != "" {
			train[key{s.Label, s.Group}] = true
		}
	}
	seen := map[key]bool{}
	var leaks []string
	for _, s := range sp.Test {
		k := key{s.Label, s.Group}
		if s.Group != "" && train[k] && !seen[k] {
			seen[k] = true
			leaks = append(leaks, d.className(s.Label)+"/"+s.Group)
		}
	}
	if len(leaks) == 0 {
		return nil
	}
	sort.Strings(leaks)
	return []Problem{{KindGroupLeak, Error, fmt.Sprintf("split %d: %d groups have videos in both train and test, so one person's clips leak into the test (first: %s); keep each gXX on one side",
		n, len(leaks), strings.Join(head(leaks), ", "))}}
}

// checkEmpty finds classes with no videos on a side of split n.
func (d *Dataset) checkEmpty(n int, sp Split) []Problem {
	var out []Problem
	for _, side := range []struct {
		name    string
		samples []Sample
	}{{"train", sp.Train}, {"test", sp.Test}} {
		count := make([]int, len(d.Classes))
		for _, s := range side.samples {
			if s.Label >= 0 && s.Label < len(count) {
				count[s.Label]++
			}
		}
		var empty []string
		for c, k := range count {
			if k == 0 {
				empty = append(empty, d.Classes[c])
			}
		}
		if len(empty) > 0 {
			out = append(out, Problem{KindEmptyClass, Warning, fmt.Sprintf("split %d: %d of %d classes have no %s videos (first: %s)",
				n, len(empty), len(d.Classes), side.name, strings.Join(head(empty), ", "))})
		}
	}
	return out
}

// className names label l, or gives its number when out of range.
func (d *Dataset) className(l int) string {
	if l >= 0 && l < len(d.Classes) {
		return d.Classes[l]
	}
	return fmt.Sprintf("#%d", l)
}

// head returns the first few items of s.
func head(s []string) []string {
	if len(s) > firstFew {
		return s[:firstFew]
	}
	return s
}
