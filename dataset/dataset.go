// Package dataset reads the layouts users keep their videos in (UCF101,
// HMDB51, Kinetics CSV, Something-Something v2 JSON, folder-per-class and
// unlabeled trees or lists) into samples, and checks them.
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

	problems []Problem // noticed while parsing, reported by Check
}
