package evaluate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidrep/vidrep/dataset"
	"github.com/vidrep/vidrep/train"
)

// dataCheck says how loadChecked judges what it finds.
type dataCheck struct {
	// strict is set when the caller trains on the split or scores its test
	// side (finetune, eval, knn, retrieve): a video or a UCF101 group on
	// both sides of the split is then an error. Otherwise (features, which
	// scores nothing) it is a warning.
	strict bool
	// run is a run directory whose labeled training videos must not be
	// among the split's test videos: the checkpoint scored, or the init a
	// fine-tuning starts from. "", "scratch" or a weights file: none.
	run string
}

// loadChecked loads split n of the dataset at root and checks it before
// any video is read: dataset.CheckSplit's findings (a leak between train
// and test fails when dc.strict; the rest are warnings), and test videos
// that dc.run, or a run it was fine-tuned from, trained on (a warning). Each
// warning is one line through warn, and comes back for the caller's results.
// Missing files are not looked for here: the loader skips and reports them
// as it meets them.
func loadChecked(root, format string, n int, rt Runtime, dc dataCheck) (*dataset.Dataset, dataset.Split, []string, error) {
	d, split, err := loadSplit(root, format, n)
	if err != nil {
		return nil, dataset.Split{}, nil, err
	}
	rep := d.CheckSplit(n)
	if dc.strict {
		if err := rep.Err(); err != nil {
			return nil, dataset.Split{}, nil, fmt.Errorf("dataset %s: %w", d.Root, err)
		}
	}
	var warns []string
	for _, p := range rep.Problems {
		warns = append(warns, fmt.Sprintf("dataset %s: %s", d.Root, p.Message))
	}
	if w := trainedOnTest(dc.run, d, n, split.Test); w != "" {
		warns = append(warns, w)
	}
	for _, w := range warns {
		warn(rt, w)
	}
	return d, split, warns, nil
}

// warn reports one finding a person should act on: through rt.Logf when
// set, else as a "vidrep: warning:" line on stderr.
func warn(rt Runtime, msg string) {
	if rt.Logf != nil {
		rt.Logf("warning: %s", msg)
		return
	}
	fmt.Fprintf(os.Stderr, "vidrep: warning: %s\n", msg)
}

// maxInitChain bounds how many runs trainedOnTest follows back through
// model.json's init.
const maxInitChain = 16

// trainedOnTest returns a warning when run, or a run it was fine-tuned from
// (model.json's init, followed back), trained on labeled videos of the same
// dataset directory that are among tests, the test videos of split n: its
// scores on them would be inflated. It reads the run's train_videos.txt
// when there is one; an older run without it is judged by the split it
// records. It returns "" when there is nothing to say or nothing to read.
func trainedOnTest(run string, d *dataset.Dataset, n int, tests []dataset.Sample) string {
	seen := map[string]bool{}
	for dir := run; dir != "" && dir != "scratch" && !seen[filepath.Clean(dir)] && len(seen) < maxInitChain; {
		seen[filepath.Clean(dir)] = true
		if w := runLeak(dir, run, d, n, tests); w != "" {
			return w
		}
		spec, err := ReadModelSpec(dir)
		if err != nil {
			return ""
		}
		dir = spec.Init
	}
	return ""
}

// labeledRun returns the dataset root and the split the run in dir trained
// on, from its record (readRecord: info.data, info.split); ok is false when
// dir holds no run that trained on a labeled split (pretrain and import
// record no split).
func labeledRun(dir string) (data string, split int, ok bool) {
	rec, err := readRecord(dir)
	if err != nil {
		return "", 0, false
	}
	d, _ := rec.Lookup("info.data")
	s, _ := rec.Lookup("info.split")
	data, _ = d.(string)
	n, err := jsonInt(s)
	if data == "" || err != nil || n < 1 {
		return "", 0, false
	}
	return data, n, true
}

// readRecord reads the record of the fine-tuning or linear-probe run in dir:
// its config.json, or LinearFile for a probe (which has no config.json).
func readRecord(dir string) (train.RunRecord, error) {
	return train.FindRecord(dir, train.ConfigFile, LinearFile)
}

// runLeak checks one run of the chain that starts at run (see trainedOnTest).
func runLeak(dir, run string, d *dataset.Dataset, n int, tests []dataset.Sample) string {
	who := dir
	if filepath.Clean(dir) != filepath.Clean(run) {
		who = fmt.Sprintf("%s (which %s was fine-tuned from)", dir, run)
	}
	data, split, ok := labeledRun(dir)
	if !ok {
		return pretrainLeak(dir, who, d, n, tests)
	}
	if !train.SamePath(data, d.Root) {
		return ""
	}
	list, err := os.ReadFile(filepath.Join(dir, SubsetFile))
	if err != nil {
		if split == n {
			return ""
		}
		return fmt.Sprintf("split %d: %s was trained on split %d of this dataset, whose training videos may include this split's test videos, so scores here may be inflated; use split %d",
			n, who, split, split)
	}
	trained := map[string]bool{}
	for _, ln := range strings.Split(string(list), "\n") {
		trained[strings.TrimSuffix(ln, "\r")] = true
	}
	count, first := countIn(tests, trained)
	if count == 0 {
		return ""
	}
	if split == n {
		return fmt.Sprintf("split %d: %d of %d test videos were training videos of %s (split %d of this dataset, before its split files changed; first: %s), so scores here are inflated; fine-tune a new run on the current split",
			n, count, len(tests), who, n, first)
	}
	return fmt.Sprintf("split %d: %d of %d test videos were training videos of %s (split %d of this dataset; first: %s), so scores here are inflated; use split %d, or a run that never trained on split %d's test videos",
		n, count, len(tests), who, split, first, split, n)
}

// pretrainLeak checks a pretraining run of the chain. The videos it read,
// labels hidden, were the dataset's unlabeled ones, plus the training side
// of its split (info.pretrain_split) when it ran with --with-train or the
// dataset has no unlabeled videos. Test videos of split n among them were
// not seen with their labels, but their pixels shaped the features, which
// the field's protocols avoid. It judges by today's lists, and returns ""
// for any other run, another data directory, or a record without the split.
func pretrainLeak(dir, who string, d *dataset.Dataset, n int, tests []dataset.Sample) string {
	rec, err := train.FindRecord(dir, train.ConfigFile)
	if err != nil {
		return ""
	}
	cmd, _ := rec.Lookup("info.command")
	data, _ := rec.Lookup("info.data")
	num, _ := rec.Lookup("info.pretrain_split")
	withTrain, _ := rec.Lookup("info.with_train")
	root, _ := data.(string)
	k, err := jsonInt(num)
	if cmd != "pretrain" || root == "" || err != nil || !train.SamePath(root, d.Root) {
		return ""
	}
	if count, first := countIn(tests, pathSet(d.Unlabeled)); count > 0 {
		return fmt.Sprintf("split %d: %d of %d test videos are also listed as unlabeled videos, which %s pretrained on (first: %s), so its features have seen them and scores here may be inflated; remove them from %s",
			n, count, len(tests), who, first, dataset.UnlabeledList)
	}
	w, _ := withTrain.(bool)
	if k == n || (len(d.Unlabeled) > 0 && !w) {
		return "" // the split's own training side never holds its test videos
	}
	sp, err := d.Split(k)
	if err != nil {
		return "" // the split the record names is gone from the lists
	}
	if count, first := countIn(tests, pathSet(sp.Train)); count > 0 {
		return fmt.Sprintf("split %d: %d of %d test videos were pretraining videos of %s (the training videos of split %d, labels hidden; first: %s), so its features have seen them and scores here may be inflated; use split %d, or pretrain on unlabeled videos only",
			n, count, len(tests), who, k, first, k)
	}
	return ""
}

// pathSet returns the set of the samples' paths.
func pathSet(samples []dataset.Sample) map[string]bool {
	set := make(map[string]bool, len(samples))
	for _, s := range samples {
		set[s.Path] = true
	}
	return set
}

// jsonInt reads a record's number as an int.
func jsonInt(v any) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	n, err := num.Int64()
	return int(n), err
}

// countIn counts the samples whose path is in paths, and returns the first.
func countIn(samples []dataset.Sample, paths map[string]bool) (count int, first string) {
	for _, s := range samples {
		if paths[s.Path] {
			if count == 0 {
				first = s.Path
			}
			count++
		}
	}
	return count, first
}
