package synth

import "fmt"

// Kinds of random paths, so that scenes, labeled clips and unlabeled clips
// draw from unrelated streams.
const (
	kindScene = iota + 1
	kindLabeled
	kindUnlabeledScene
	kindUnlabeledClip
	kindUnlabeledClass
)

// UnlabeledDir is the folder of the unlabeled pool, and UnlabeledListFile the
// list of its files (relative paths, one a line) at the benchmark root.
const (
	UnlabeledDir      = "unlabeled"
	UnlabeledListFile = "unlabeled.txt"
)

// item is one clip to write.
type item struct {
	rel   string // path relative to the root, forward slashes
	class int    // motion class (the unlabeled pool has classes too, unlisted)
	group int    // 1-based group, 0 for the unlabeled pool
	clip  int    // 1-based clip number in its group and class
	path  []uint64
	scene []uint64
}

// layout says how the labeled clips of each class spread over groups.
type layout struct {
	sizes []int    // clips per class in group g+1
	test  [3][]int // the 1-based groups that split k+1 tests on
}

// newLayout splits each class's TrainPerClass+TestPerClass clips into groups
// of ClipsPerGroup: three blocks of groups holding TestPerClass clips each
// (split k tests on block k), then the groups that every split trains on.
func newLayout(c Config) layout {
	var l layout
	addGroups := func(n int) []int {
		var ids []int
		for n > 0 {
			k := min(n, c.ClipsPerGroup)
			l.sizes = append(l.sizes, k)
			ids = append(ids, len(l.sizes))
			n -= k
		}
		return ids
	}
	for k := range l.test {
		l.test[k] = addGroups(c.TestPerClass)
	}
	addGroups(c.TrainPerClass - 2*c.TestPerClass)
	return l
}

// isTest reports whether split k (0-based) tests on group g.
func (l layout) isTest(k, g int) bool {
	for _, t := range l.test[k] {
		if t == g {
			return true
		}
	}
	return false
}

// labeledItems lists the labeled clips, class by class, group by group.
func labeledItems(c Config, l layout) []item {
	var out []item
	ext := c.Ext()
	for class := 0; class < c.Classes; class++ {
		name := ClassNames[class]
		for g, n := range l.sizes {
			for k := 1; k <= n; k++ {
				rel := fmt.Sprintf("%s/v_%s_g%02d_c%02d%s", name, name, g+1, k, ext)
				out = append(out, item{rel: rel, class: class, group: g + 1, clip: k,
					path:  []uint64{kindLabeled, uint64(class), uint64(g + 1), uint64(k)},
					scene: []uint64{kindScene, uint64(g + 1)}})
			}
		}
	}
	return out
}

// unlabeledItems lists the unlabeled pool: each clip has its own scene and a
// class drawn uniformly, so the pool covers the motions without labels.
func unlabeledItems(c Config) []item {
	out := make([]item, c.Unlabeled)
	for i := range out {
		class := newRNG(c.Seed, kindUnlabeledClass, uint64(i)).intn(c.Classes)
		out[i] = item{rel: fmt.Sprintf("%s/u_%05d%s", UnlabeledDir, i+1, c.Ext()), class: class,
			path:  []uint64{kindUnlabeledClip, uint64(i)},
			scene: []uint64{kindUnlabeledScene, uint64(i)}}
	}
	return out
}

// render draws the item's frames as [T][H][W][3] bytes.
func (it item) render(c Config) []uint8 {
	sc := newScene(newRNG(c.Seed, it.scene...), c.Nuisance)
	return newClip(c, sc, it.class, it.path...).render()
}
