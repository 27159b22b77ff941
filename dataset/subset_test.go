package dataset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
)

// budgetSamples makes classes with the given sizes.
func budgetSamples(sizes ...int) []Sample {
	var out []Sample
	for c, n := range sizes {
		for i := range n {
			out = append(out, Sample{Path: fmt.Sprintf("c%d/v%03d.avi", c, i), Label: c})
		}
	}
	return out
}

// perClass counts samples per label.
func perClass(ss []Sample) map[int]int {
	m := map[int]int{}
	for _, s := range ss {
		m[s.Label]++
	}
	return m
}

func TestSubsetCounts(t *testing.T) {
	samples := budgetSamples(100, 40, 3, 1)
	for _, tc := range []struct {
		spec string
		want map[int]int
	}{
		{"all", map[int]int{0: 100, 1: 40, 2: 3, 3: 1}},
		{"100%", map[int]int{0: 100, 1: 40, 2: 3, 3: 1}},
		{"10%", map[int]int{0: 10, 1: 4, 2: 1, 3: 1}},
		{"1%", map[int]int{0: 1, 1: 1, 2: 1, 3: 1}},
		{"50%", map[int]int{0: 50, 1: 20, 2: 2, 3: 1}},
		{"0.5%", map[int]int{0: 1, 1: 1, 2: 1, 3: 1}},
		{"5/class", map[int]int{0: 5, 1: 5, 2: 3, 3: 1}},
		{" 2/CLASS ", map[int]int{0: 2, 1: 2, 2: 2, 3: 1}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := Subset(samples, tc.spec, 7)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(perClass(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("per class %v, want %v", perClass(got), tc.want)
			}
		})
	}
}

func TestSubsetDeterministicAndNested(t *testing.T) {
	samples := budgetSamples(60, 30, 9)
	shuffled := append([]Sample(nil), samples...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	set := func(ss []Sample, spec string, seed uint64) map[string]bool {
		got, err := Subset(ss, spec, seed)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, s := range got {
			m[s.Path] = true
		}
		return m
	}
	specs := []string{"1%", "2/class", "10%", "5/class", "50%", "all"}
	for _, seed := range []uint64{0, 1, 42} {
		prev := map[string]bool{}
		for _, spec := range specs {
			a, b := set(samples, spec, seed), set(shuffled, spec, seed)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("seed %d %s: subset depends on input order", seed, spec)
			}
			if spec != "5/class" && spec != "10%" { // these two are not ordered against each other
				for p := range prev {
					if !a[p] {
						t.Fatalf("seed %d: %s is in a smaller budget but not in %s", seed, p, spec)
					}
				}
				prev = a
			}
		}
	}
	if fmt.Sprint(set(samples, "10%", 1)) == fmt.Sprint(set(samples, "10%", 2)) {
		t.Fatal("seeds 1 and 2 chose the same 10% subset")
	}
}

func TestParseBudgetErrors(t *testing.T) {
	for _, spec := range []string{"", "10", "0%", "-5%", "101%", "NaN%", "x%", "0/class", "-1/class", "1.5/class", "half"} {
		_, err := Subset(budgetSamples(3), spec, 1)
		var u *cli.UsageError
		if !errors.As(err, &u) {
			t.Errorf("%q: got %v, want a usage error", spec, err)
		}
	}
}

func TestShortClasses(t *testing.T) {
	var samples []Sample
	for label, n := range []int{5, 2, 3} {
		for i := range n {
			samples = append(samples, Sample{Path: fmt.Sprintf("c%d/v%d.mp4", label, i), Label: label})
		}
	}
	cases := []struct {
		spec          string
		short, fewest int
	}{
		{"2/class", 0, 0},
		{"3/class", 1, 2},
		{"10/class", 3, 2},
		{"50%", 0, 0},
		{"all", 0, 0},
	}
	for _, c := range cases {
		if short, fewest := ShortClasses(samples, c.spec); short != c.short || fewest != c.fewest {
			t.Errorf("%s: %d short classes, fewest %d; want %d and %d", c.spec, short, fewest, c.short, c.fewest)
		}
	}
}
