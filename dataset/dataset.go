// Package dataset reads the layouts users keep their videos in (UCF101,
// HMDB51, Kinetics CSV, Something-Something v2 JSON, folder-per-class and
// unlabeled trees or lists) into samples, and checks them.
//
// Load(root, format) parses a layout ("auto" asks DetectFormat); Check
// reports what is wrong with it; CheckSplit does the same for one split
// without reading a file, as every command does before it trains or scores
// on a split; PretrainSamples gives the videos for self-supervised
// pretraining; Subset keeps a label budget. Where each layout expects its
// files:
//
//   - ucf101: classInd.txt, trainlist0{1,2,3}.txt ("Class/v_Class_gXX_cYY.avi N"
//     or without N) and testlist0{1,2,3}.txt at the root or in
//     ucfTrainTestlist/; videos at <root>/<Class>/... or <root>/UCF-101/<Class>/...
//     Labels are classInd's ids minus one; Group is "gXX".
//   - hmdb51: testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
//     ("<file> <tag>", 0 unused, 1 train, 2 test); videos at <root>/<class>/<file>.
//   - kinetics: train.csv, validate.csv, test.csv (its rows left out) or any CSV
//     with a youtube_id column, at the root or in annotations/; videos at
//     <root>/[train|val|validate|...]/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4.
//     One split: train rows against validation rows.
//   - ssv2: labels.json, train.json, validation.json at the root or in labels/;
//     videos <id>.webm in 20bn-something-something-v2/, videos/ or the root.
//     One split: train.json against validation.json.
//   - folder: <root>/<class>/<videos>, with train/ and test/ (or val/) folders
//     as split 1 when present, else a deterministic stratified split
//     (FolderTestPercent of each class tested).
//   - unlabeled: every video under the root, or the list unlabeled.txt, or a
//     list file given as the root.
//
// An unlabeled.txt at the root of any layout (one path a line, relative to
// the root or absolute) fills Dataset.Unlabeled. Paths from split files must
// stay inside the root, symbolic links followed; Load refuses any that does
// not, naming the file and line. Folders whose names start with "." (such as
// prepare's .vidrep cache) are not searched for videos.
package dataset

// Unlabeled is the Label of a sample that carries no class.
const Unlabeled = -1

// Sample is one video file of a dataset.
type Sample struct {
	Path  string `json:"path"`  // path relative to Dataset.Root, or absolute for a user's own unlabeled list
	Label int    `json:"label"` // index into Dataset.Classes, or Unlabeled
	Group string `json:"group"` // the group a split keeps on one side (UCF101's gXX), "" when none
}

// Split is one train/test partition of the labeled samples.
type Split struct {
	Train []Sample `json:"train"`
	Test  []Sample `json:"test"`
}

// Dataset is a parsed dataset.
type Dataset struct {
	Root      string   `json:"root"`
	Format    string   `json:"format"`
	Classes   []string `json:"classes"`
	Splits    []Split  `json:"splits"`    // Splits[0] is split 1
	Unlabeled []Sample `json:"unlabeled"` // videos for self-supervised pretraining

	problems []Problem // noticed while parsing, reported by Check and CheckSplit
}

// Paths lists every video of the dataset once, in a stable order: each
// split's train then test side, then the unlabeled pool.
func (d *Dataset) Paths() []string {
	var out []string
	seen := map[string]bool{}
	add := func(ss []Sample) {
		for _, s := range ss {
			if !seen[s.Path] {
				seen[s.Path] = true
				out = append(out, s.Path)
			}
		}
	}
	for _, sp := range d.Splits {
		add(sp.Train)
		add(sp.Test)
	}
	add(d.Unlabeled)
	return out
}
