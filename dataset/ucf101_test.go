package dataset

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadUCF101Splits(t *testing.T) {
	for _, tc := range []struct {
		name, listDir, videoDir, prefix string
	}{
		{"flat", "", "", ""},
		{"official archives", "ucfTrainTestlist", "UCF-101", "UCF-101/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			makeUCF101(t, root, tc.listDir, tc.videoDir)
			for _, format := range []string{"auto", "ucf101"} {
				d, err := Load(root, format)
				if err != nil {
					t.Fatal(err)
				}
				if d.Format != FormatUCF101 || strings.Join(d.Classes, ",") != strings.Join(ucfClasses, ",") {
					t.Fatalf("format %q classes %v", d.Format, d.Classes)
				}
				if len(d.Splits) != 3 {
					t.Fatalf("got %d splits, want 3", len(d.Splits))
				}
				for k, sp := range d.Splits {
					checkUCFSplit(t, k+1, sp, tc.prefix)
				}
				if r := d.Check(); len(r.Problems) != 0 {
					t.Fatalf("clean fixture reported:\n%s", r)
				}
			}
		})
	}
}

// checkUCFSplit checks sizes, labels, groups and the side of every sample.
func checkUCFSplit(t *testing.T, k int, sp Split, prefix string) {
	t.Helper()
	lo, hi := ucfTestGroups(k)
	if len(sp.Train) != 3*18*2 || len(sp.Test) != 3*7*2 {
		t.Fatalf("split %d: %d train, %d test; want 108, 42", k, len(sp.Train), len(sp.Test))
	}
	for side, ss := range map[string][]Sample{"train": sp.Train, "test": sp.Test} {
		for _, s := range ss {
			var g, c int
			class := ucfClasses[s.Label]
			want := prefix + class + "/v_" + class + "_"
			if !strings.HasPrefix(s.Path, want) {
				t.Fatalf("split %d %s: %s labelled %s", k, side, s.Path, class)
			}
			if _, err := fmt.Sscanf(strings.TrimPrefix(s.Path, want), "g%02d_c%02d.avi", &g, &c); err != nil {
				t.Fatalf("%s: %v", s.Path, err)
			}
			if s.Group != fmt.Sprintf("g%02d", g) {
				t.Fatalf("%s: group %q", s.Path, s.Group)
			}
			if inTest := g >= lo && g <= hi; inTest != (side == "test") {
				t.Fatalf("split %d: %s on the %s side", k, s.Path, side)
			}
		}
	}
}

func TestParseUCFList(t *testing.T) {
	classes := []string{"A", "B"}
	for _, tc := range []struct {
		name, text string
		want       []Sample
		kinds      []string
		err        string
	}{
		{"labelled", "A/v_A_g01_c01.avi 1\nB/v_B_g02_c03.avi 2\n",
			[]Sample{{"A/v_A_g01_c01.avi", 0, "g01"}, {"B/v_B_g02_c03.avi", 1, "g02"}}, nil, ""},
		{"unlabelled, CRLF, BOM, blank lines", "\ufeffB/v_B_g10_c01.avi\r\n\r\n A/x.avi \r\n",
			[]Sample{{"B/v_B_g10_c01.avi", 1, "g10"}, {"A/x.avi", 0, ""}}, nil, ""},
		{"windows separators", `A\v_A_g03_c01.avi 1`, []Sample{{"A/v_A_g03_c01.avi", 0, "g03"}}, nil, ""},
		{"spaces in name", "A/my clip.avi 1\n", []Sample{{"A/my clip.avi", 0, ""}}, nil, ""},
		{"unknown class folder", "C/v_C_g01_c01.avi\nA/a.avi\n", []Sample{{"A/a.avi", 0, ""}}, []string{KindUnknownClass}, ""},
		{"id out of range", "A/a.avi 3\n", nil, []string{KindUnknownClass}, ""},
		{"label disagrees with folder", "A/a.avi 2\n", []Sample{{"A/a.avi", 1, ""}}, []string{KindLabelMismatch}, ""},
		{"dot-dot escape", "A/a.avi 1\n../../etc/passwd 1\n", nil, nil, "list.txt:2: path \"../../etc/passwd\" escapes"},
		{"hidden escape", "A/../../x.avi\n", nil, nil, "list.txt:1:"},
		{"absolute", "/etc/passwd 1\n", nil, nil, "list.txt:1: path \"/etc/passwd\" is absolute"},
		{"windows absolute", `C:\data\a.avi 1`, nil, nil, "is absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, probs, err := parseUCFList([]byte(tc.text), "list.txt", classes)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(samplesOf(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if fmt.Sprint(kinds(Report{probs})) != fmt.Sprint(tc.kinds) && !(len(probs) == 0 && tc.kinds == nil) {
				t.Fatalf("problems %v, want %v", probs, tc.kinds)
			}
		})
	}
}

func TestParseClassInd(t *testing.T) {
	for _, tc := range []struct {
		name, text, want, err string
	}{
		{"ordered", "1 A\n2 B\n", "A,B", ""},
		{"spaces in a name", "1 Apply Eye Makeup \n2 B\n", "Apply Eye Makeup,B", ""},
		{"unordered with CRLF", "2 B\r\n1 A\r\n", "A,B", ""},
		{"gap", "1 A\n3 C\n", "", "class id 2 is missing"},
		{"duplicate id", "1 A\n1 B\n", "", "f:2: class id 1 given twice"},
		{"duplicate name", "1 A\n2 A\n", "", "f:2: class \"A\" already has id 1"},
		{"zero id", "0 A\n", "", "f:1: class id 0 out of range"},
		{"malformed", "A 1\n", "", "f:1: want"},
		{"slash in name", "1 ../A\n", "", "not a folder name"},
		{"empty", "\n\n", "", "no classes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseClassInd([]byte(tc.text), "f")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestLoadUCF101Refusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		err   string
	}{
		{"no trainlist", map[string]string{"classInd.txt": "1 A\n"}, "no trainlist01.txt"},
		{"train without test", map[string]string{"classInd.txt": "1 A\n", "trainlist01.txt": "A/a.avi 1\n"}, "testlist01.txt is missing"},
		{"escape in test list", map[string]string{"classInd.txt": "1 A\n", "trainlist01.txt": "A/a.avi 1\n", "testlist01.txt": "A/b.avi\n../x.avi\n"},
			filepath.Join("testlist01.txt") + ":2: path \"../x.avi\" escapes the dataset root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			_, err := Load(root, FormatUCF101)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// samplesOf drops the line numbers of listed samples.
func samplesOf(ls []listed) []Sample {
	var out []Sample
	for _, l := range ls {
		out = append(out, l.Sample)
	}
	return out
}
