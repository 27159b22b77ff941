package dataset

import (
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vidrep/vidrep/internal/cli"
)

// Budget is a parsed label budget: a fraction of each class, a count per
// class, or everything.
type Budget struct {
	All      bool    // keep every sample
	Percent  float64 // keep this percentage of each class (0 < Percent <= 100), at least one
	PerClass int     // keep this many samples of each class (or all a class has)
}

// ParseBudget parses "all", "10%", "0.5%" or "5/class". A malformed budget
// is a usage error.
func ParseBudget(spec string) (Budget, error) {
	s := strings.TrimSpace(strings.ToLower(spec))
	switch {
	case s == "all":
		return Budget{All: true}, nil
	case strings.HasSuffix(s, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			return Budget{}, cli.Usagef("label budget %q: a percentage must be above 0 and at most 100, e.g. 10%%", spec)
		}
		if p == 100 {
			return Budget{All: true}, nil
		}
		return Budget{Percent: p}, nil
	case strings.HasSuffix(s, "/class"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "/class"))
		if err != nil || n < 1 {
			return Budget{}, cli.Usagef("label budget %q: a count per class must be a whole number of at least 1, e.g. 5/class", spec)
		}
		return Budget{PerClass: n}, nil
	}
	return Budget{}, cli.Usagef("label budget %q not understood; use all, a percentage (10%%) or a count per class (5/class)", spec)
}

// keep returns how many of n samples of a class the budget keeps.
func (b Budget) keep(n int) int {
	switch {
	case b.All:
		return n
	case b.PerClass > 0:
		return min(b.PerClass, n)
	}
	k := int(math.Round(float64(n) * b.Percent / 100))
	return max(1, min(k, n))
}

// Subset keeps a labeled subset of samples under a label budget (see
// ParseBudget), stratified by class. Within each class the samples are
// ranked by a hash of the seed and their path, and the budget keeps a prefix
// of that ranking. So the subset depends only on the samples, the spec and
// the seed (not on their order or on who asks), and a smaller budget is
// always contained in a larger one for the same seed. Samples keep their
// input order. Percent budgets keep at least one sample of every class.
func Subset(samples []Sample, spec string, seed uint64) ([]Sample, error) {
	b, err := ParseBudget(spec)
	if err != nil {
		return nil, err
	}
	if b.All {
		return append([]Sample(nil), samples...), nil
	}
	byClass := map[int][]int{}
	for i, s := range samples {
		byClass[s.Label] = append(byClass[s.Label], i)
	}
	chosen := make([]bool, len(samples))
	for _, idx := range byClass {
		rank := make([]uint64, len(idx))
		for j, i := range idx {
			rank[j] = pathHash(seed, samples[i].Path)
		}
		order := make([]int, len(idx))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, c int) bool { return rank[order[a]] < rank[order[c]] })
		for _, j := range order[:b.keep(len(idx))] {
			chosen[idx[j]] = true
		}
	}
	var out []Sample
	for i, s := range samples {
		if chosen[i] {
			out = append(out, s)
		}
	}
	return out, nil
}

// ShortClasses counts the classes of samples that hold fewer videos than a
// per-class budget asks (Subset then keeps all they have), and the fewest any
// class holds; it returns 0, 0 for other budgets.
func ShortClasses(samples []Sample, spec string) (short, fewest int) {
	b, err := ParseBudget(spec)
	if err != nil || b.PerClass == 0 {
		return 0, 0
	}
	counts := map[int]int{}
	for _, s := range samples {
		counts[s.Label]++
	}
	fewest = b.PerClass
	for _, n := range counts {
		if n < b.PerClass {
			short++
			fewest = min(fewest, n)
		}
	}
	if short == 0 {
		return 0, 0
	}
	return short, fewest
}

// pathHash is a seeded 64-bit hash of a path.
func pathHash(seed uint64, p string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(p))
	return mix64(h.Sum64())
}

// mix64 is the splitmix64 finaliser; it spreads FNV's weak low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}
