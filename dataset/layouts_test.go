package dataset

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// hmdbClasses are the HMDB51 fixture's classes, sorted as Load sorts them.
var hmdbClasses = []string{"brush_hair", "cartwheel", "ride_bike"}

// hmdbTag is the fixture's tag of video i in split k: 0, 1 or 2 in turn.
func hmdbTag(i, k int) int { return (i + k) % 3 }

// hmdbName is an HMDB51-style file name.
func hmdbName(class string, i int) string {
	return fmt.Sprintf("April_09_%s_u_nm_np1_ba_goo_%d.avi", class, i)
}

// makeHMDB51 writes 6 videos per class and 3 split files per class, with
// the trailing space the official files have.
func makeHMDB51(t testing.TB, root string) {
	files := map[string]string{}
	for _, c := range []string{"ride_bike", "brush_hair", "cartwheel"} {
		for k := 1; k <= 3; k++ {
			var b strings.Builder
			for i := range 6 {
				fmt.Fprintf(&b, "%s %d \n", hmdbName(c, i), hmdbTag(i, k))
			}
			files[fmt.Sprintf("%s/%s_test_split%d.txt", hmdbSplitDir, c, k)] = b.String()
		}
		for i := range 6 {
			files[c+"/"+hmdbName(c, i)] = realVideo(t, ".avi")
		}
	}
	writeTree(t, root, files)
}

func TestLoadHMDB51Splits(t *testing.T) {
	root := t.TempDir()
	makeHMDB51(t, root)
	d, err := Load(root, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatHMDB51 || strings.Join(d.Classes, ",") != strings.Join(hmdbClasses, ",") || len(d.Splits) != 3 {
		t.Fatalf("format %s classes %v splits %d", d.Format, d.Classes, len(d.Splits))
	}
	for k, sp := range d.Splits {
		var wantTrain, wantTest []string
		for _, c := range hmdbClasses {
			for i := range 6 {
				switch hmdbTag(i, k+1) {
				case 1:
					wantTrain = append(wantTrain, c+"/"+hmdbName(c, i))
				case 2:
					wantTest = append(wantTest, c+"/"+hmdbName(c, i))
				}
			}
		}
		if fmt.Sprint(paths(sp.Train)) != fmt.Sprint(wantTrain) || fmt.Sprint(paths(sp.Test)) != fmt.Sprint(wantTest) {
			t.Fatalf("split %d: train %v test %v", k+1, paths(sp.Train), paths(sp.Test))
		}
		for _, s := range append(sp.Train, sp.Test...) {
			if !strings.HasPrefix(s.Path, hmdbClasses[s.Label]+"/") || s.Group != "" {
				t.Fatalf("split %d: %+v", k+1, s)
			}
		}
	}
	if r := d.Check(); len(r.Problems) != 0 {
		t.Fatalf("clean fixture reported:\n%s", r)
	}
}

func TestParseHMDBSplit(t *testing.T) {
	for _, tc := range []struct {
		name, text, want, err string
	}{
		{"tags", "a.avi 1 \nb.avi 2\nc.avi 0\r\n", "[{c/a.avi 1 1} {c/b.avi 2 2} {c/c.avi 0 3}]", ""},
		{"no tag", "a.avi\n", "", "f:1: want"},
		{"bad tag", "a.avi 1\nb.avi 3\n", "", "f:2: want"},
		{"escape", "../../x.avi 1\n", "", "f:1: path \"../../x.avi\" escapes"},
		{"absolute", "/etc/passwd 1\n", "", "f:1: path \"/etc/passwd\" is absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHMDBSplit([]byte(tc.text), "f", "c")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestLoadHMDB51MissingSplitFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		hmdbSplitDir + "/a_test_split1.txt": "x.avi 1\n", hmdbSplitDir + "/a_test_split2.txt": "x.avi 2\n",
		hmdbSplitDir + "/b_test_split1.txt": "y.avi 1\n",
	})
	_, err := Load(root, FormatHMDB51)
	if err == nil || !strings.Contains(err.Error(), "no b_test_split2.txt") {
		t.Fatalf("error %v", err)
	}
}

// kineticsName is a Kinetics file name.
func kineticsName(id string, start, end int) string {
	return fmt.Sprintf("%s_%06d_%06d.mp4", id, start, end)
}

func TestLoadKinetics(t *testing.T) {
	mp4 := realVideo(t, ".mp4")
	for _, tc := range []struct {
		name  string
		files map[string]string
		train []string
		test  []string
	}{
		{"official csvs, split dirs, spaced labels",
			map[string]string{
				"train.csv":    "label,youtube_id,time_start,time_end,split\nair drumming,--abc_DEF-1,0,10,train\n\"passing American football (in game)\",x_y-z123456,14,24,train\n",
				"validate.csv": "label,youtube_id,time_start,time_end,split\nair drumming,v1,30,40,validate\n",
				"test.csv":     "label,youtube_id,time_start,time_end,split\n,t1,0,10,test\n",
				"train/air drumming/" + kineticsName("--abc_DEF-1", 0, 10):                         mp4,
				"train/passing American football (in game)/" + kineticsName("x_y-z123456", 14, 24): mp4,
				"val/air drumming/" + kineticsName("v1", 30, 40):                                   mp4,
			},
			[]string{"train/air drumming/--abc_DEF-1_000000_000010.mp4", "train/passing American football (in game)/x_y-z123456_000014_000024.mp4"},
			[]string{"val/air drumming/v1_000030_000040.mp4"}},
		{"one csv in annotations/, underscore folders, no split dirs, extra columns",
			map[string]string{
				"annotations/kinetics.csv":                  "label,youtube_id,time_start,time_end,split,is_cc\r\nair drumming,a1,5.0,15,train,0\r\nair drumming,a2,0,10,val,1\r\n",
				"air_drumming/" + kineticsName("a1", 5, 15): mp4,
				"air_drumming/a2_000000_000010.mkv":         mp4,
			},
			[]string{"air_drumming/a1_000005_000015.mp4"}, []string{"air_drumming/a2_000000_000010.mkv"}},
		{"split from file name",
			map[string]string{
				"train.csv": "youtube_id,label,time_start,time_end\nb1,skiing,1,11\n",
				"val.csv":   "youtube_id,label,time_start,time_end\nb2,skiing,2,12\n",
			},
			[]string{"skiing/b1_000001_000011.mp4"}, []string{"skiing/b2_000002_000012.mp4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			d, err := Load(root, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != FormatKinetics || len(d.Splits) != 1 {
				t.Fatalf("format %s, %d splits", d.Format, len(d.Splits))
			}
			sp := d.Splits[0]
			if fmt.Sprint(paths(sp.Train)) != fmt.Sprint(tc.train) || fmt.Sprint(paths(sp.Test)) != fmt.Sprint(tc.test) {
				t.Fatalf("train %v\ntest %v", paths(sp.Train), paths(sp.Test))
			}
			for _, s := range append(sp.Train, sp.Test...) {
				label := d.Classes[s.Label]
				if !strings.Contains(s.Path, label+"/") && !strings.Contains(s.Path, strings.ReplaceAll(label, " ", "_")+"/") {
					t.Fatalf("%s labelled %q", s.Path, label)
				}
			}
		})
	}
}

func TestParseKineticsCSV(t *testing.T) {
	const h = "label,youtube_id,time_start,time_end,split\n"
	for _, tc := range []struct {
		name, text, want, err string
	}{
		{"rows", h + "a b,id1,0,10,train\nc,id2,3,13,validate\n,id3,0,10,test\n",
			"[{a b id1 0 10 train 2} {c id2 3 13 val 3} { id3 0 10 test 4}]", ""},
		{"missing column", "label,youtube_id,time_start,split\n", "", "lacks a time_end column"},
		{"bad split", h + "a,id,0,10,holdout\n", "", "f.csv:2: split \"holdout\""},
		{"bad time", h + "a,id,0,ten,train\n", "", "f.csv:2: time_end: \"ten\""},
		{"negative time", h + "a,id,-1,10,train\n", "", "f.csv:2: time_start"},
		{"empty id", h + "a,,0,10,train\n", "", "f.csv:2: empty youtube_id"},
		{"bad quoting", h + "\"a,id,0,10,train\n", "", "f.csv"},
		{"empty", "", "", "reading the CSV header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKineticsCSV([]byte(tc.text), "f.csv")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestLoadKineticsRefusesEscapes(t *testing.T) {
	for _, tc := range []struct{ name, row, err string }{
		{"label climbs", "..,id,0,10,train", "train.csv:2: path \"../id_000000_000010.mp4\" escapes"},
		{"label with slash", "../../etc,id,0,10,train", "train.csv:2: label \"../../etc\" or youtube_id \"id\" holds a path separator"},
		{"id with slash", "a,../../x,0,10,train", "train.csv:2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"train.csv": "label,youtube_id,time_start,time_end,split\n" + tc.row + "\n"})
			_, err := Load(root, FormatKinetics)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// ssv2Labels is the SSv2 fixture's labels.json.
const ssv2Labels = `{"Holding something next to something": "1", "Approaching something with your camera": "0", "Putting something on a surface": "2"}`

func TestLoadSSv2(t *testing.T) {
	webm := realVideo(t, ".webm")
	for _, tc := range []struct {
		name, labelDir, videoDir string
	}{
		{"flat", "", ""},
		{"official folders", "labels", "20bn-something-something-v2"},
		{"videos folder", "", "videos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			vid := func(id string) string { return filepath.ToSlash(filepath.Join(tc.videoDir, id+".webm")) }
			writeTree(t, root, map[string]string{
				filepath.Join(tc.labelDir, "labels.json"): ssv2Labels,
				filepath.Join(tc.labelDir, "train.json"): `[{"id":"78687","label":"holding potato next to vicks vaporub bottle","template":"Holding [something] next to [something]","placeholders":["potato","vicks vaporub bottle"]},
					{"id":42326,"label":"putting a cup on a table","template":"Putting [something] on a surface","placeholders":["a cup"]},
					{"id":"7","template":"Spinning [something] that quickly stops spinning"}]`,
				filepath.Join(tc.labelDir, "validation.json"): `[{"id":"74225","template":"Approaching [something] with your camera"}]`,
				filepath.Join(tc.labelDir, "test.json"):       `[{"id":"1420"}]`,
				vid("78687"):                                  webm, vid("42326"): webm, vid("74225"): webm,
			})
			d, err := Load(root, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			want := "Approaching something with your camera,Holding something next to something,Putting something on a surface"
			if d.Format != FormatSSv2 || strings.Join(d.Classes, ",") != want {
				t.Fatalf("format %s classes %v", d.Format, d.Classes)
			}
			sp := d.Splits[0]
			got := fmt.Sprint(sp.Train, sp.Test)
			if exp := fmt.Sprint([]Sample{{vid("78687"), 1, ""}, {vid("42326"), 2, ""}}, []Sample{{vid("74225"), 0, ""}}); got != exp {
				t.Fatalf("got %s\nwant %s", got, exp)
			}
			r := d.Check()
			if fmt.Sprint(kinds(r)) != fmt.Sprint([]string{KindEmptyClass, KindEmptyClass, KindUnknownClass}) ||
				!strings.Contains(r.String(), `1 entries of class "Spinning something that quickly stops spinning"`) {
				t.Fatalf("report:\n%s", r)
			}
		})
	}
}

func TestParseSSv2(t *testing.T) {
	classes := []string{"A something", "B"}
	for _, tc := range []struct {
		name, labels, list, want, err string
	}{
		{"numeric indices", `{"A something": 0, "B": 1}`, `[{"id": 5, "template": "a [something]"}]`, "[{v/5.webm 0 }]", ""},
		{"gap in indices", `{"A": "0", "B": "2"}`, "", "", "indices must run 0..1"},
		{"shared index", `{"A": "0", "B": "0"}`, "", "", "index 0 is given to both"},
		{"not an object", `["A"]`, "", "", "labels.json: json"},
		{"list not an array", `{"A something": "0", "B": "1"}`, `{"id": 1}`, "", "want [{"},
		{"id with backslash", `{"A something": "0", "B": "1"}`, `[{"id": "..\\x", "template": "B"}]`, "", `entry 1: id "..\\x" is not`},
		{"id with slash", `{"A something": "0", "B": "1"}`, `[{"id": "../../etc/passwd", "template": "B"}]`, "", "entry 1: id \"../../etc/passwd\" is not a video number"},
		{"id missing", `{"A something": "0", "B": "1"}`, `[{"template": "B"}]`, "", "entry 1: id  is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSSv2Labels([]byte(tc.labels), "labels.json")
			if err == nil && tc.list != "" {
				var ss []Sample
				ss, _, err = parseSSv2List([]byte(tc.list), "train.json", classes, "v")
				got = []string{fmt.Sprint(ss)}
			}
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

func TestLoadFolder(t *testing.T) {
	avi, mp4 := realVideo(t, ".avi"), realVideo(t, ".mp4")
	t.Run("train and test folders", func(t *testing.T) {
		root := t.TempDir()
		writeTree(t, root, map[string]string{
			"train/jump/a.mp4": mp4, "train/jump/sub/b.avi": avi, "train/run/c.mp4": mp4, "train/run/notes.txt": "x",
			"val/jump/d.mp4": mp4, "val/run/e.avi": avi, "val/swim/.hidden.mp4": mp4, "train/.cache/f.mp4": mp4,
		})
		d, err := Load(root, FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(d.Format, d.Classes, d.Splits)
		want := "folder[jump run swim] [{[{train/jump/a.mp4 0 } {train/jump/sub/b.avi 0 } {train/run/c.mp4 1 }] [{val/jump/d.mp4 0 } {val/run/e.avi 1 }]}]"
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if r := d.Check(); fmt.Sprint(kinds(r)) != "[empty-class]" || !strings.Contains(r.String(), "have no videos (first: swim)") {
			t.Fatalf("report:\n%s", r)
		}
	})
	t.Run("stratified split", func(t *testing.T) {
		root := t.TempDir()
		files := map[string]string{"lonely/only.mp4": mp4}
		for i := range 10 {
			files[fmt.Sprintf("walk/w%02d.mp4", i)] = mp4
			files[fmt.Sprintf("sit/s%02d.avi", i)] = avi
		}
		writeTree(t, root, files)
		d, err := Load(root, FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Load(root, FormatFolder)
		if d.Format != FormatFolder || fmt.Sprint(d.Splits) != fmt.Sprint(again.Splits) {
			t.Fatal("stratified split not deterministic")
		}
		test := perClass(d.Splits[0].Test)
		train := perClass(d.Splits[0].Train)
		// classes sorted: lonely 0, sit 1, walk 2
		if fmt.Sprint(test, train) != "map[1:2 2:2] map[0:1 1:8 2:8]" {
			t.Fatalf("test %v train %v", test, train)
		}
	})
}

func TestLoadUnlabeled(t *testing.T) {
	mp4 := realVideo(t, ".mp4")
	abs := filepath.Join(t.TempDir(), "elsewhere.mp4")
	writeTree(t, filepath.Dir(abs), map[string]string{"elsewhere.mp4": mp4})
	for _, tc := range []struct {
		name  string
		files map[string]string
		arg   string // what Load gets, relative to the root ("" for the root)
		want  string
		err   string
	}{
		{"tree", map[string]string{"b/x.mp4": mp4, "a.webm": "w", "c.txt": "t", ".cache/y.mp4": mp4}, "", "[a.webm b/x.mp4]", ""},
		{"list at root", map[string]string{UnlabeledList: "# comment\nb/x.mp4\r\n\n" + abs + "\n./c//d.mp4\n", "z.mp4": mp4}, "", "[b/x.mp4 " + abs + " c/d.mp4]", ""},
		{"list file as root", map[string]string{"mine.txt": "x.mp4\n" + abs + "\n"}, "mine.txt", "[x.mp4 " + abs + "]", ""},
		{"list escapes", map[string]string{UnlabeledList: "ok.mp4\n../x.mp4\n"}, "", "", UnlabeledList + ":2: path \"../x.mp4\" escapes"},
		{"empty tree", map[string]string{"readme.md": "x"}, "", "", "no video files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			d, err := Load(filepath.Join(root, tc.arg), FormatUnlabeled)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range d.Unlabeled {
				if s.Label != Unlabeled {
					t.Fatalf("%+v has a label", s)
				}
				got = append(got, s.Path)
			}
			if fmt.Sprint(got) != tc.want || len(d.Splits) != 0 {
				t.Fatalf("got %v splits %d; want %s", got, len(d.Splits), tc.want)
			}
		})
	}
}

func TestPretrainSamples(t *testing.T) {
	root := t.TempDir()
	makeUCF101(t, root, "", "")
	d, err := Load(root, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 3; k++ {
		got := d.PretrainSamples(k)
		if fmt.Sprint(paths(got)) != fmt.Sprint(paths(d.Splits[k-1].Train)) {
			t.Fatalf("split %d: pretraining set is not the train side", k)
		}
		for _, s := range got {
			if s.Label != Unlabeled {
				t.Fatalf("split %d: %+v keeps its label", k, s)
			}
		}
	}
	if d.Splits[0].Train[0].Label == Unlabeled {
		t.Fatal("PretrainSamples changed the dataset's labels")
	}
	if d.PretrainSamples(4) != nil {
		t.Fatal("split 4 of 3 gave samples")
	}
	if _, err := d.Split(4); err == nil || !strings.Contains(err.Error(), "splits 1 to 3") {
		t.Fatalf("Split(4): %v", err)
	}
	writeTree(t, root, map[string]string{UnlabeledList: "extra/u1.mp4\nextra/u2.mp4\n"})
	if d, err = Load(root, FormatUCF101); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(paths(d.PretrainSamples(2))); got != "[extra/u1.mp4 extra/u2.mp4]" {
		t.Fatalf("with %s: %s", UnlabeledList, got)
	}
	// With the train side: the unlabeled videos, then split 2's training
	// videos with labels hidden, and none of its test videos.
	got := d.PretrainSamplesWithTrain(2)
	want := paths(append(append([]Sample(nil), d.Unlabeled...), d.Splits[1].Train...))
	if fmt.Sprint(paths(got)) != fmt.Sprint(want) || got[0].Path != "extra/u1.mp4" {
		t.Fatalf("with train: %v, want the unlabeled videos then %v", paths(got), want)
	}
	test := map[string]bool{}
	for _, s := range d.Splits[1].Test {
		test[s.Path] = true
	}
	for _, s := range got {
		if s.Label != Unlabeled || test[s.Path] {
			t.Fatalf("with train: %+v keeps its label or is a test video", s)
		}
	}
	if d.Splits[1].Train[0].Label == Unlabeled {
		t.Fatal("PretrainSamplesWithTrain changed the dataset's labels")
	}
	if got := fmt.Sprint(paths(d.PretrainSamplesWithTrain(9))); got != "[extra/u1.mp4 extra/u2.mp4]" {
		t.Fatalf("split 9 with train: %s, want the unlabeled videos alone", got)
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"ucf101", map[string]string{"classInd.txt": "1 A\n"}, FormatUCF101},
		{"ucf101 official lists", map[string]string{"ucfTrainTestlist/classInd.txt": "1 A\n"}, FormatUCF101},
		{"hmdb51", map[string]string{hmdbSplitDir + "/a_test_split1.txt": ""}, FormatHMDB51},
		{"ssv2", map[string]string{"labels/labels.json": "{}", "labels/train.json": "[]"}, FormatSSv2},
		{"kinetics", map[string]string{"k400_train.csv": "label,youtube_id,time_start,time_end,split\n"}, FormatKinetics},
		{"csv of something else", map[string]string{"notes.csv": "a,b\n", "v.mp4": ""}, FormatUnlabeled},
		{"folder split", map[string]string{"train/a/x.mp4": "", "test/a/y.mp4": ""}, FormatFolder},
		{"folder classes", map[string]string{"a/x.mp4": "", "b/y.avi": ""}, FormatFolder},
		{"one folder is not classes", map[string]string{"a/x.mp4": ""}, FormatUnlabeled},
		{"unlabeled list", map[string]string{UnlabeledList: "x.mp4\n"}, FormatUnlabeled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			if got, err := DetectFormat(root); err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	empty := t.TempDir()
	writeTree(t, empty, map[string]string{".vidrep/cache/x.mp4": "v"}) // prepare's cache is not a dataset
	if _, err := DetectFormat(empty); err == nil || !strings.Contains(err.Error(), "pass --format") {
		t.Fatalf("empty dir: %v", err)
	}
	if _, err := Load(filepath.Join(empty, "nope"), "auto"); err == nil || !strings.Contains(err.Error(), "nope does not exist; pass the directory") {
		t.Fatalf("missing root: %v", err)
	}
	if _, err := Load(empty, "avi"); err == nil || !strings.Contains(err.Error(), `unknown dataset format "avi"`) {
		t.Fatalf("bad format: %v", err)
	}
}
