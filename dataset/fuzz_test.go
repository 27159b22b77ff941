package dataset

import (
	"path"
	"strings"
	"testing"
)

// Fuzz targets for every parser of split, list, CSV and JSON files: none may
// panic, and every relative path they return must be clean and stay inside
// the root. Run one with: go test ./dataset/ -run '^$' -fuzz FuzzParseUCFList -fuzztime 20s

// assertInside fails when p could name a file outside the root.
func assertInside(t *testing.T, p string) {
	t.Helper()
	if p == "" || p == "." || p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) || hasDriveLetter(p) ||
		strings.ContainsAny(p, "\\\x00") || path.Clean(p) != p {
		t.Fatalf("returned path %q is not a clean path inside the root", p)
	}
}

func FuzzParseClassInd(f *testing.F) {
	f.Add([]byte("1 ApplyEyeMakeup\r\n2 ApplyLipstick\r\n"))
	f.Add([]byte("2 B\n1 A\n"))
	f.Add([]byte("99999 A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		classes, err := parseClassInd(data, "classInd.txt")
		if err != nil {
			return
		}
		for _, c := range classes {
			if c == "" || strings.ContainsAny(c, "/\\") {
				t.Fatalf("class %q", c)
			}
		}
	})
}

func FuzzParseUCFList(f *testing.F) {
	f.Add([]byte("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"))
	f.Add([]byte("YoYo/v_YoYo_g01_c01.avi\n"))
	f.Add([]byte("../../etc/passwd 1\n"))
	f.Add([]byte("A\\..\\..\\x.avi 2\n/abs.avi\nC:\\x.avi\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := parseUCFList(data, "trainlist01.txt", []string{"ApplyEyeMakeup", "YoYo"})
		if err != nil {
			return
		}
		for _, s := range got {
			assertInside(t, s.Path)
			if s.Label < 0 || s.Label > 1 || s.line < 1 {
				t.Fatalf("sample %+v", s)
			}
		}
	})
}

func FuzzParseHMDBSplit(f *testing.F) {
	f.Add([]byte("April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \n"))
	f.Add([]byte("x.avi 2\r\ny.avi 0\n"))
	f.Add([]byte("../../x.avi 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseHMDBSplit(data, "brush_hair_test_split1.txt", "brush_hair")
		if err != nil {
			return
		}
		for _, e := range got {
			assertInside(t, e.path)
			if e.tag < 0 || e.tag > 2 {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}

func FuzzParseKineticsCSV(f *testing.F) {
	const h = "label,youtube_id,time_start,time_end,split\n"
	f.Add([]byte(h+"air drumming,--abc_DEF-1,0,10,train\n"), "train.csv")
	f.Add([]byte(h+"..,id,0,10,validate\n\"a\nb\",x,1,2,test\n"), "validate.csv")
	f.Add([]byte("youtube_id,time_start,time_end\nx,1.0,2\n"), "val.csv")
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		rows, err := parseKineticsCSV(data, name)
		if err != nil {
			return
		}
		loc := kineticsLocator{root: root, labelDirs: map[string]string{}}
		for _, r := range rows {
			if r.side != "train" && r.side != "val" && r.side != "test" {
				t.Fatalf("row %+v", r)
			}
			if r.side == "test" {
				continue
			}
			if p, err := loc.path(r); err == nil {
				assertInside(t, p)
			}
		}
	})
}

func FuzzParseSSv2(f *testing.F) {
	f.Add([]byte(`{"Holding something next to something": "0", "B": 1}`),
		[]byte(`[{"id":"78687","template":"Holding [something] next to [something]"}]`))
	f.Add([]byte(`{"A": "0"}`), []byte(`[{"id": "..", "template": "A"}, {"id": 5.5, "template": "A"}]`))
	f.Fuzz(func(t *testing.T, labels, list []byte) {
		classes, err := parseSSv2Labels(labels, "labels.json")
		if err != nil {
			return
		}
		for _, dir := range []string{".", "videos"} {
			got, _, err := parseSSv2List(list, "train.json", classes, dir)
			if err != nil {
				continue
			}
			for _, s := range got {
				assertInside(t, s.Path)
				if s.Label < 0 || s.Label >= len(classes) {
					t.Fatalf("sample %+v of %d classes", s, len(classes))
				}
			}
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte("# mine\nclips/a.mp4\r\n/abs/b.mp4\n"))
	f.Add([]byte("../x.mp4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseList(data, UnlabeledList)
		if err != nil {
			return
		}
		for _, e := range got {
			if strings.HasPrefix(e.path, "/") { // a user's own list may name absolute paths
				if path.Clean(e.path) != e.path {
					t.Fatalf("absolute path %q not clean", e.path)
				}
				continue
			}
			assertInside(t, e.path)
		}
	})
}

func FuzzParseBudget(f *testing.F) {
	for _, s := range []string{"10%", "1%", "5/class", "all", "0.5%", "1e2%"} {
		f.Add(s)
	}
	samples := budgetSamples(7, 3, 1)
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := Subset(samples, spec, 3)
		if err != nil {
			return
		}
		counts := perClass(got)
		for c := range 3 {
			if counts[c] < 1 {
				t.Fatalf("%q left class %d empty: %v", spec, c, counts)
			}
		}
	})
}
