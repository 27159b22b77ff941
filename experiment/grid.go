// Package experiment runs vidrep's comparison grid: initialisations (scratch,
// each self-supervised method, supervised transfer, imported weights) x label
// budgets x seeds x protocols (fine-tune, linear probe, retrieval), and writes
// the report that answers "does pretraining help, with how many labels?".
//
// Each pretraining is done once (or once per pretraining seed) and shared by
// every cell that uses it; every finished cell leaves a result file, so an
// interrupted experiment run again recomputes nothing that finished.
package experiment

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Protocol names a transfer protocol.
type Protocol string

// The protocols a cell can run.
const (
	Finetune  Protocol = "finetune"  // all weights trained on the labeled budget
	Linear    Protocol = "linear"    // frozen backbone, linear head on pooled features
	Retrieval Protocol = "retrieval" // VCOP retrieval R@k on frozen features
)

// Init kinds besides a self-supervised method name.
const (
	InitScratch    = "scratch"    // random initialisation
	InitSupervised = "supervised" // supervised training on a labeled source set
	InitImported   = "imported"   // weights from a user's safetensors file
)

// Cell is one point of the grid: one initialisation, label budget, seed and
// protocol. Retrieval does not train on labels, so its cells use the budget
// "all" only, and a pretrained init gets one retrieval seed per pretraining
// (its features are the same whatever the label seed), scratch every seed
// (its random weights depend on it), imported weights one.
type Cell struct {
	Init     string   `json:"init"`
	Labels   string   `json:"labels"`
	Seed     int      `json:"seed"`
	Protocol Protocol `json:"protocol"`
}

// Key is a stable, path-safe identifier of the cell.
func (c Cell) Key() string {
	return fmt.Sprintf("%s/%s/%s/seed%d", c.Init, budgetDir(c.Labels), c.Protocol, c.Seed)
}

// Dir is where the cell's run lives under the experiment's output directory.
func (c Cell) Dir(out string) string {
	return filepath.Join(out, "cells", filepath.FromSlash(c.Key()))
}

// budgetDir turns a budget spec ("10%", "5/class") into a directory name.
func budgetDir(spec string) string {
	r := strings.NewReplacer("%", "pct", "/", "per")
	return r.Replace(spec)
}

// Cells enumerates the grid in a fixed order: inits, then budgets, then
// protocols, then seeds, so that partial results fill whole rows first.
// pretrainings is how many pretrainings each self-supervised or supervised
// init has (Config.PretrainSeeds, at least 1).
func Cells(inits, budgets []string, protocols []Protocol, seeds, pretrainings int) []Cell {
	var cells []Cell
	for _, init := range inits {
		for _, proto := range protocols {
			bs := budgets
			if proto == Retrieval {
				bs = []string{"all"}
			}
			n := seeds
			if proto == Retrieval && init != InitScratch {
				n = max(pretrainings, 1)
				if init == InitImported {
					n = 1
				}
			}
			for _, b := range bs {
				for s := 0; s < n; s++ {
					cells = append(cells, Cell{Init: init, Labels: b, Seed: s, Protocol: proto})
				}
			}
		}
	}
	return cells
}
