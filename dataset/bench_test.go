package dataset

import (
	"fmt"
	"strings"
	"testing"
)

// ucfSizedListing writes a UCF101-sized listing: 101 classes x 25 groups x
// 5 clips (12,625 empty files), 3 splits.
func ucfSizedListing(b *testing.B) string {
	root := b.TempDir()
	files := map[string]string{}
	var ind strings.Builder
	lists := make([]strings.Builder, 6)
	for c := range 101 {
		class := fmt.Sprintf("Class%03d", c)
		fmt.Fprintf(&ind, "%d %s\r\n", c+1, class)
		for g := 1; g <= 25; g++ {
			for clip := 1; clip <= 5; clip++ {
				name := ucfName(class, g, clip)
				files[name] = ""
				for k := 1; k <= 3; k++ {
					if lo, hi := ucfTestGroups(k); g >= lo && g <= hi {
						fmt.Fprintf(&lists[2*k-1], "%s\r\n", name)
					} else {
						fmt.Fprintf(&lists[2*k-2], "%s %d\r\n", name, c+1)
					}
				}
			}
		}
	}
	files["classInd.txt"] = ind.String()
	for k := 1; k <= 3; k++ {
		files[fmt.Sprintf("trainlist%02d.txt", k)] = lists[2*k-2].String()
		files[fmt.Sprintf("testlist%02d.txt", k)] = lists[2*k-1].String()
	}
	writeTree(b, root, files)
	return root
}

// BenchmarkLoadCheckUCF101 loads and fully checks (every file stat'ed) a
// UCF101-sized listing.
func BenchmarkLoadCheckUCF101(b *testing.B) {
	root := ucfSizedListing(b)
	b.ResetTimer()
	for b.Loop() {
		d, err := Load(root, FormatAuto)
		if err != nil {
			b.Fatal(err)
		}
		if r := d.Check(); len(r.Problems) != 0 {
			b.Fatal(r)
		}
	}
}

// BenchmarkCheckSplitUCF101 measures the check that finetune, eval, knn,
// retrieve and features run on every load: one split of a UCF101-sized
// listing, no file stat'ed.
func BenchmarkCheckSplitUCF101(b *testing.B) {
	d, err := Load(ucfSizedListing(b), FormatAuto)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r := d.CheckSplit(1); len(r.Problems) != 0 {
			b.Fatal(r)
		}
	}
}
