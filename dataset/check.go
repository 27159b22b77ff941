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
// classes without videos on a side of a split. It stats every listed file
// once; CheckSplit is the cheap check for code that is about to read a split.
func (d *Dataset) Check() Report {
	var r Report
	r.Problems = append(r.Problems, d.problems...)
	r.Problems = append(r.Problems, d.checkMissing()...)
	for i, sp := range d.Splits {
		r.Problems = append(r.Problems, d.checkSplit(i+1, sp)...)
	}
	return r
}

// CheckSplit validates what training or testing on split n (1-based) relies
// on, one Problem per finding: videos on both sides of the split and UCF101
// groups on both sides (Error), classes without videos on a side (Warning),
// and what the parser left out, one Problem per kind that counts the lines
// and quotes the first (Warning). It reads no file: missing files are left
// to the code that opens them (the loader skips and reports each), so a
// 13,000-video dataset is not stat'ed twice. A bad n gives the parser's
// findings alone.
func (d *Dataset) CheckSplit(n int) Report {
	var r Report
	r.Problems = summarize(d.problems)
	if n >= 1 && n <= len(d.Splits) {
		r.Problems = append(r.Problems, d.checkSplit(n, d.Splits[n-1])...)
	}
	return r
}

// checkSplit runs the checks of one split that need no file system.
func (d *Dataset) checkSplit(n int, sp Split) []Problem {
	var out []Problem
	out = append(out, d.checkOverlap(n, sp)...)
	out = append(out, d.checkGroups(n, sp)...)
	return append(out, d.checkEmpty(n, sp)...)
}

// summarize keeps the first Problem of each kind, in order, and says how
// many more of that kind there were.
func summarize(ps []Problem) []Problem {
	count := map[string]int{}
	for _, p := range ps {
		count[p.Kind]++
	}
	var out []Problem
	for _, p := range ps {
		k := count[p.Kind]
		if k == 0 {
			continue // reported with the first of its kind
		}
		if k > 1 {
			p.Message += fmt.Sprintf(" (and %d more like it)", k-1)
		}
		count[p.Kind] = 0
		out = append(out, p)
	}
	return out
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
	return []Problem{{KindOverlap, Error, fmt.Sprintf("split %d: %d videos are in both train and test (first: %s), so the test would score videos the model trained on; remove each from %s",
		n, len(both), strings.Join(head(both), ", "), d.splitFiles(n))}}
}

// splitFiles names where split n of d is written, for a message that says
// which file to fix.
func (d *Dataset) splitFiles(n int) string {
	switch d.Format {
	case FormatUCF101:
		return fmt.Sprintf("trainlist%02d.txt or testlist%02d.txt", n, n)
	case FormatHMDB51:
		return fmt.Sprintf("the train or the test side of its <class>_test_split%d.txt", n)
	case FormatKinetics:
		return "the train or the validation CSV"
	case FormatSSv2:
		return "train.json or validation.json"
	case FormatFolder:
		return "the train or the test folder"
	}
	return "the train or the test list"
}

// checkGroups finds (class, group) pairs on both sides of split n. A test
// video that is itself on the train side is checkOverlap's finding and does
// not count here too.
func (d *Dataset) checkGroups(n int, sp Split) []Problem {
	type key struct {
		label int
		group string
	}
	train := map[key]bool{}
	trainPath := map[string]bool{}
	for _, s := range sp.Train {
		if s.Group != "" {
			train[key{s.Label, s.Group}] = true
			trainPath[s.Path] = true
		}
	}
	seen := map[key]bool{}
	var leaks []string
	for _, s := range sp.Test {
		k := key{s.Label, s.Group}
		if s.Group != "" && train[k] && !seen[k] && !trainPath[s.Path] {
			seen[k] = true
			leaks = append(leaks, d.className(s.Label)+"/"+s.Group)
		}
	}
	if len(leaks) == 0 {
		return nil
	}
	sort.Strings(leaks)
	return []Problem{{KindGroupLeak, Error, fmt.Sprintf("split %d: %d groups have videos in both train and test, so one person's clips leak into the test (first: %s); keep each gXX on one side of %s",
		n, len(leaks), strings.Join(head(leaks), ", "), strings.Replace(d.splitFiles(n), " or ", " and ", 1))}}
}

// checkEmpty finds classes with no videos on a side of split n: one
// Problem for the classes with none at all (an empty class folder), one for
// those with no train videos, one for those with no test videos.
func (d *Dataset) checkEmpty(n int, sp Split) []Problem {
	count := func(ss []Sample) []int {
		c := make([]int, len(d.Classes))
		for _, s := range ss {
			if s.Label >= 0 && s.Label < len(c) {
				c[s.Label]++
			}
		}
		return c
	}
	train, test := count(sp.Train), count(sp.Test)
	var none, noTrain, noTest []string
	for c, name := range d.Classes {
		switch {
		case train[c] == 0 && test[c] == 0:
			none = append(none, name)
		case train[c] == 0:
			noTrain = append(noTrain, name)
		case test[c] == 0:
			noTest = append(noTest, name)
		}
	}
	var out []Problem
	for _, e := range []struct {
		classes      []string
		side, advice string
	}{
		{none, "", "the class is kept but never seen: add videos or remove the class"},
		{noTrain, "train ", "the model cannot learn them and gets their test videos wrong"},
		{noTest, "test ", "the test metrics leave them out"},
	} {
		if len(e.classes) > 0 {
			out = append(out, Problem{KindEmptyClass, Warning, fmt.Sprintf("split %d: %d of %d classes have no %svideos (first: %s); %s",
				n, len(e.classes), len(d.Classes), e.side, strings.Join(head(e.classes), ", "), e.advice)})
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
