package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// appendFile appends text to a file under root.
func appendFile(t *testing.T, root, name, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestCheckReportsEachProblem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, root string)
		kinds  []string
		ok     bool
		msg    string
	}{
		{"missing files", func(t *testing.T, root string) {
			for g := 1; g <= 7; g++ {
				os.Remove(filepath.Join(root, ucfName("YoYo", g, 1)))
			}
		}, []string{KindMissing}, true,
			"7 of 150 listed files are missing under ROOT (first: YoYo/v_YoYo_g01_c01.avi, YoYo/v_YoYo_g02_c01.avi, YoYo/v_YoYo_g03_c01.avi, YoYo/v_YoYo_g04_c01.avi, YoYo/v_YoYo_g05_c01.avi); restore them or expect them to be skipped"},
		{"class not in classInd", func(t *testing.T, root string) {
			appendFile(t, root, "testlist02.txt", "Juggling/v_Juggling_g01_c01.avi\r\n")
		}, []string{KindUnknownClass}, true,
			`testlist02.txt:43: class "Juggling" is not in classInd.txt; Juggling/v_Juggling_g01_c01.avi left out`},
		{"label disagrees with folder", func(t *testing.T, root string) {
			appendFile(t, root, "trainlist01.txt", ucfName("YoYo", 25, 3)+" 1\r\n")
			writeTree(t, root, map[string]string{ucfName("YoYo", 25, 3): "v"})
		}, []string{KindLabelMismatch}, true,
			"trainlist01.txt:109: YoYo/v_YoYo_g25_c03.avi is in folder YoYo but labelled 1 (ApplyEyeMakeup); the label is used"},
		{"video on both sides", func(t *testing.T, root string) {
			appendFile(t, root, "testlist03.txt", ucfName("Basketball", 1, 1)+"\r\n")
		}, []string{KindOverlap}, false,
			"split 3: 1 videos are in both train and test (first: Basketball/v_Basketball_g01_c01.avi), so the test would score videos the model trained on; remove each from trainlist03.txt or testlist03.txt"},
		{"group on both sides", func(t *testing.T, root string) {
			appendFile(t, root, "testlist01.txt", ucfName("Basketball", 9, 3)+"\r\n"+ucfName("YoYo", 20, 3)+"\r\n")
			writeTree(t, root, map[string]string{ucfName("Basketball", 9, 3): "v", ucfName("YoYo", 20, 3): "v"})
		}, []string{KindGroupLeak}, false,
			"split 1: 2 groups have videos in both train and test, so one person's clips leak into the test (first: Basketball/g09, YoYo/g20); keep each gXX on one side of trainlist01.txt and testlist01.txt"},
		{"empty class", func(t *testing.T, root string) {
			appendFile(t, root, "classInd.txt", "4 Surfing\r\n")
		}, []string{KindEmptyClass, KindEmptyClass, KindEmptyClass}, true,
			"split 2: 1 of 4 classes have no videos (first: Surfing); the class is kept but never seen: add videos or remove the class"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			makeUCF101(t, root, "", "")
			tc.break_(t, root)
			d, err := Load(root, FormatUCF101)
			if err != nil {
				t.Fatal(err)
			}
			r := d.Check()
			if fmt.Sprint(kinds(r)) != fmt.Sprint(tc.kinds) || r.OK() != tc.ok || (r.Err() == nil) != tc.ok {
				t.Fatalf("kinds %v ok %v, want %v %v:\n%s", kinds(r), r.OK(), tc.kinds, tc.ok, r)
			}
			want := strings.ReplaceAll(tc.msg, "ROOT", root)
			if !strings.Contains(r.String(), want) {
				t.Fatalf("report lacks %q:\n%s", want, r)
			}
		})
	}
}

func TestReportRendering(t *testing.T) {
	r := Report{}
	if r.String() != "dataset OK\n" || !r.OK() || r.Err() != nil {
		t.Fatalf("empty report: %q", r.String())
	}
	r.Problems = []Problem{{KindMissing, Warning, "w"}, {KindOverlap, Error, "e1"}, {KindGroupLeak, Error, "e2"}}
	if r.String() != "warning: w\nerror: e1\nerror: e2\n" || r.OK() || r.Err().Error() != "e1; e2" {
		t.Fatalf("got %q, %v", r.String(), r.Err())
	}
}

// outsideFile writes a file outside any dataset root and returns its path.
func outsideFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret.avi")
	if err := os.WriteFile(p, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSymlinksOutOfTheRootAreRefused(t *testing.T) {
	ucf := map[string]string{"classInd.txt": "1 A\n", "trainlist01.txt": "A/v_A_g01_c01.avi 1\nA/link.avi 1\n", "testlist01.txt": "A/v_A_g02_c01.avi\n", "A/v_A_g01_c01.avi": "v", "A/v_A_g02_c01.avi": "v"}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		link   string // made under the root
		target func(t *testing.T, root string) string
		format string
		err    string // "" when the link is fine
	}{
		{"file link out", ucf, "A/link.avi", func(t *testing.T, _ string) string { return outsideFile(t) }, FormatUCF101,
			"trainlist01.txt:2: A/link.avi is a symbolic link to "},
		{"relative file link out", ucf, "A/link.avi", func(t *testing.T, root string) string {
			out := outsideFile(t)
			rel, _ := filepath.Rel(filepath.Join(root, "A"), out)
			return rel
		}, FormatUCF101, "trainlist01.txt:2: A/link.avi is a symbolic link to "},
		{"dangling link out", ucf, "A/link.avi", func(t *testing.T, _ string) string { return "/nonexistent/x.avi" }, FormatUCF101,
			"A/link.avi is a symbolic link to /nonexistent/x.avi, which escapes the dataset root"},
		{"class folder link out", map[string]string{"classInd.txt": "1 A\n", "trainlist01.txt": "A/v.avi 1\n", "testlist01.txt": "A/w.avi\n"}, "A",
			func(t *testing.T, _ string) string { return filepath.Dir(outsideFile(t)) }, FormatUCF101, "trainlist01.txt:1: A is a symbolic link to "},
		{"link inside the root", ucf, "A/link.avi", func(t *testing.T, root string) string { return filepath.Join(root, "A/v_A_g01_c01.avi") }, FormatUCF101, ""},
		{"hmdb file link out", map[string]string{hmdbSplitDir + "/a_test_split1.txt": "ok.avi 1\nx.avi 2\n"}, "a/x.avi",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatHMDB51, "a_test_split1.txt:2: a/x.avi is a symbolic link"},
		{"kinetics link out", map[string]string{"train.csv": "label,youtube_id,time_start,time_end,split\na,id,0,10,train\n"}, "a/id_000000_000010.mp4",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatKinetics, "train.csv:2: a/id_000000_000010.mp4 is a symbolic link"},
		{"ssv2 link out", map[string]string{"labels.json": `{"A": "0"}`, "train.json": `[{"id": "1", "template": "A"}]`}, "1.webm",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatSSv2, "train.json: id 1: 1.webm is a symbolic link"},
		{"folder link out", map[string]string{"a/x.mp4": "v", "b/y.mp4": "v"}, "b/z.mp4",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatFolder, "b/z.mp4 is a symbolic link"},
		{"unlabeled tree link out", map[string]string{"x.mp4": "v"}, "y.mp4",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatUnlabeled, "y.mp4 is a symbolic link"},
		{"unlabeled list link out", map[string]string{UnlabeledList: "x.mp4\n"}, "x.mp4",
			func(t *testing.T, _ string) string { return outsideFile(t) }, FormatUnlabeled, UnlabeledList + ":1: x.mp4 is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			full := filepath.Join(root, tc.link)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.Symlink(tc.target(t, root), full); err != nil {
				t.Fatal(err)
			}
			_, err := Load(root, tc.format)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "escapes the dataset root") {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestRootBehindASymlink(t *testing.T) {
	real := t.TempDir()
	makeUCF101(t, real, "", "")
	writeTree(t, real, map[string]string{"u/x.mp4": "v"})
	link := filepath.Join(t.TempDir(), "ucf")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	d, err := Load(link, FormatAuto)
	if err != nil || len(d.Splits) != 3 || len(d.Check().Problems) != 0 {
		t.Fatalf("UCF101 behind a link: %v", err)
	}
	u, err := Load(filepath.Join(link, "u"), FormatUnlabeled)
	if err != nil || fmt.Sprint(paths(u.Unlabeled)) != "[x.mp4]" {
		t.Fatalf("unlabeled tree behind a link: %v %v", err, u)
	}
}

// ucfLists writes a UCF101 listing without video files: classInd.txt and
// the 3 official splits of ucfClasses, 25 groups of 2 clips each.
func ucfLists(t testing.TB, root string) {
	t.Helper()
	files := map[string]string{}
	var ind strings.Builder
	for i, c := range ucfClasses {
		fmt.Fprintf(&ind, "%d %s\r\n", i+1, c)
	}
	files["classInd.txt"] = ind.String()
	for k := 1; k <= 3; k++ {
		lo, hi := ucfTestGroups(k)
		var train, test strings.Builder
		for i, c := range ucfClasses {
			for g := 1; g <= 25; g++ {
				for clip := 1; clip <= 2; clip++ {
					if g >= lo && g <= hi {
						fmt.Fprintf(&test, "%s\r\n", ucfName(c, g, clip))
					} else {
						fmt.Fprintf(&train, "%s %d\r\n", ucfName(c, g, clip), i+1)
					}
				}
			}
		}
		files[fmt.Sprintf("trainlist%02d.txt", k)] = train.String()
		files[fmt.Sprintf("testlist%02d.txt", k)] = test.String()
	}
	writeTree(t, root, files)
}

// TestCheckSplit checks the check that training and evaluation run on the
// split they read: one line per finding, errors only for a leak between
// train and test, nothing about files it does not read.
func TestCheckSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		make   func(t *testing.T, root string)
		split  int
		kinds  []string
		ok     bool
		msg    string // a line of the report ("" when it has none)
	}{
		{"clean lists, no video on disk", FormatUCF101, func(t *testing.T, root string) { ucfLists(t, root) }, 1, nil, true, ""},
		{"a test video in the train list", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "trainlist01.txt", ucfName("YoYo", 3, 1)+" 3\r\n"+ucfName("YoYo", 3, 2)+" 3\r\n")
		}, 1, []string{KindOverlap}, false,
			"error: split 1: 2 videos are in both train and test (first: YoYo/v_YoYo_g03_c01.avi, YoYo/v_YoYo_g03_c02.avi), so the test would score videos the model trained on; remove each from trainlist01.txt or testlist01.txt\n"},
		{"the same leak seen from split 2", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "trainlist01.txt", ucfName("YoYo", 3, 1)+" 3\r\n")
		}, 2, nil, true, ""},
		{"a group on both sides", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "testlist02.txt", ucfName("Basketball", 1, 3)+"\r\n")
		}, 2, []string{KindGroupLeak}, false, "first: Basketball/g01"},
		{"a class with no videos", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "classInd.txt", "4 Surfing\r\n")
		}, 1, []string{KindEmptyClass}, true,
			"warning: split 1: 1 of 4 classes have no videos (first: Surfing); the class is kept but never seen: add videos or remove the class\n"},
		{"a class only on the train side", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "classInd.txt", "4 Surfing\r\n")
			appendFile(t, root, "trainlist01.txt", "Surfing/v_Surfing_g09_c01.avi 4\r\n")
		}, 1, []string{KindEmptyClass}, true, "1 of 4 classes have no test videos (first: Surfing); the test metrics leave them out"},
		{"unknown classes, one line for all", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "testlist01.txt", "Juggling/a.avi\r\nJuggling/b.avi\r\nJuggling/c.avi\r\n")
		}, 1, []string{KindUnknownClass}, true, `testlist01.txt:43: class "Juggling" is not in classInd.txt; Juggling/a.avi left out (and 2 more like it)`},
		{"a split the dataset lacks", FormatUCF101, func(t *testing.T, root string) {
			ucfLists(t, root)
			appendFile(t, root, "testlist01.txt", "Juggling/a.avi\r\n")
		}, 4, []string{KindUnknownClass}, true, "Juggling/a.avi left out\n"},
		{"an empty class folder", FormatFolder, func(t *testing.T, root string) {
			writeTree(t, root, map[string]string{"a/1.mp4": "v", "a/2.mp4": "v", "b/1.mp4": "v", "b/2.mp4": "v"})
			os.Mkdir(filepath.Join(root, "c"), 0o755)
		}, 1, []string{KindEmptyClass}, true, "warning: split 1: 1 of 3 classes have no videos (first: c)"},
		{"an empty class folder on the test side", FormatFolder, func(t *testing.T, root string) {
			writeTree(t, root, map[string]string{"train/a/1.mp4": "v", "train/b/1.mp4": "v", "test/a/2.mp4": "v", "test/b/2.mp4": "v"})
			os.MkdirAll(filepath.Join(root, "test", "c"), 0o755)
		}, 1, []string{KindEmptyClass}, true, "1 of 3 classes have no videos (first: c)"},
		{"a video in both SSv2 lists", FormatSSv2, func(t *testing.T, root string) {
			writeTree(t, root, map[string]string{"labels.json": `{"A": "0", "B": "1"}`,
				"train.json":      `[{"id": "1", "template": "A"}, {"id": "2", "template": "B"}]`,
				"validation.json": `[{"id": "1", "template": "A"}, {"id": "3", "template": "B"}]`})
		}, 1, []string{KindOverlap}, false, "(first: 1.webm), so the test would score videos the model trained on; remove each from train.json or validation.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.make(t, root)
			d, err := Load(root, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			r := d.CheckSplit(tc.split)
			if fmt.Sprint(kinds(r)) != fmt.Sprint(tc.kinds) || r.OK() != tc.ok || (r.Err() == nil) != tc.ok {
				t.Fatalf("kinds %v ok %v, want %v %v:\n%s", kinds(r), r.OK(), tc.kinds, tc.ok, r)
			}
			if !strings.Contains(r.String(), tc.msg) {
				t.Fatalf("report lacks %q:\n%s", tc.msg, r)
			}
			if n := strings.Count(r.String(), "\n"); n != max(1, len(tc.kinds)) {
				t.Fatalf("%d lines for %d findings:\n%s", n, len(tc.kinds), r)
			}
		})
	}
}
