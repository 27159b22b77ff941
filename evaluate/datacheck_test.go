package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/train"
)

// ucfListing writes a UCF101 listing without videos (no check here opens
// one): classes A and B, groups g01-g06 of one clip, and 3 splits, split k
// testing groups 2k-1 and 2k. extra is appended to the named list files.
func ucfListing(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{"classInd.txt": "1 A\n2 B\n"}
	for k := 1; k <= 3; k++ {
		var train, test strings.Builder
		for c, class := range []string{"A", "B"} {
			for g := 1; g <= 6; g++ {
				name := fmt.Sprintf("%s/v_%s_g%02d_c01.avi", class, class, g)
				if g == 2*k-1 || g == 2*k {
					fmt.Fprintln(&test, name)
				} else {
					fmt.Fprintf(&train, "%s %d\n", name, c+1)
				}
			}
		}
		files[fmt.Sprintf("trainlist%02d.txt", k)] = train.String()
		files[fmt.Sprintf("testlist%02d.txt", k)] = test.String()
	}
	for name, text := range extra {
		files[name] += text
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fakeRun writes the record of a run as Finetune writes it (its info in
// config.json, or in linear.json for a linear probe, model.json and, unless
// videos is nil, train_videos.txt) without training anything.
func fakeRun(t *testing.T, dir, data string, split int, init string, linear bool, videos []string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := FinetuneConfig{DataRoot: data, Split: split, Init: init, Labels: "all", Linear: linear}
	n := &network{spec: ModelSpec{Arch: "r3d-small", Widths: []int{8, 8, 8, 8}, Frames: 4, Stride: 2, Size: 16, Classes: []string{"A", "B"}, Init: init}}
	file, record := train.ConfigFile, any(map[string]any{"info": n.info(cfg, len(videos))})
	if linear {
		file = "linear.json"
		record = map[string]any{"probe": map[string]any{}, "info": n.info(cfg, len(videos))}
	}
	data2, _ := json.Marshal(record)
	for name, text := range map[string]string{file: string(data2), train.CheckpointFile: "not weights"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteModelSpec(dir, n.spec); err != nil {
		t.Fatal(err)
	}
	if videos != nil {
		if err := os.WriteFile(filepath.Join(dir, SubsetFile), []byte(strings.Join(videos, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakePretrain writes the record of a pretraining run on data, whose info
// holds the given JSON members besides data.
func fakePretrain(t *testing.T, data, info string) string {
	t.Helper()
	dir := t.TempDir()
	record := `{"info": {"data": "` + data + `", ` + info + `}}`
	if err := os.WriteFile(filepath.Join(dir, train.ConfigFile), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// trainSide lists the train videos of split k of a ucfListing.
func trainSide(k int) []string {
	var out []string
	for _, class := range []string{"A", "B"} {
		for g := 1; g <= 6; g++ {
			if g != 2*k-1 && g != 2*k {
				out = append(out, fmt.Sprintf("%s/v_%s_g%02d_c01.avi", class, class, g))
			}
		}
	}
	return out
}

// logged collects what a Runtime's Logf is given, one string a call.
type logged []string

func (l *logged) runtime() Runtime {
	return Runtime{Backend: "go", Workers: 1, Quiet: true, Logf: func(f string, a ...any) { *l = append(*l, fmt.Sprintf(f, a...)) }}
}

// TestLoadChecked checks what finetune, eval, knn, retrieve and features
// run on the split they load: a leak between train and test stops the
// scoring commands with one line naming a video and the list to fix; a class
// without videos and test videos a run trained on are one warning line each.
func TestLoadChecked(t *testing.T) {
	leak := map[string]string{"trainlist01.txt": "A/v_A_g01_c01.avi 1\nB/v_B_g02_c01.avi 2\n"}
	for _, tc := range []struct {
		name   string
		extra  map[string]string
		split  int
		strict bool
		run    func(t *testing.T, data string) string // the run checked against ("" for none)
		err    string                                 // "" when loading succeeds
		warns  []string                               // a part of each warning line, in order
	}{
		{"clean", nil, 1, true, nil, "", nil},
		{"a test video in the train list", leak, 1, true, nil,
			"split 1: 2 videos are in both train and test (first: A/v_A_g01_c01.avi, B/v_B_g02_c01.avi), so the test would score videos the model trained on; remove each from trainlist01.txt or testlist01.txt", nil},
		{"the leak when nothing is scored", leak, 1, false, nil, "",
			[]string{"split 1: 2 videos are in both train and test"}},
		{"the leak seen from another split", leak, 2, true, nil, "", nil},
		{"a group on both sides", map[string]string{"testlist01.txt": "A/v_A_g03_c02.avi\n"}, 1, true, nil,
			"split 1: 1 groups have videos in both train and test", nil},
		{"a class without videos", map[string]string{"classInd.txt": "3 C\n"}, 1, true, nil, "",
			[]string{"split 1: 1 of 3 classes have no videos (first: C)"}},
		{"a run fine-tuned on split 1, scored on split 2", nil, 2, true, func(t *testing.T, data string) string {
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), data, 1, "scratch", false, trainSide(1))
		}, "", []string{"split 2: 4 of 4 test videos were training videos of RUN (split 1 of this dataset; first: A/v_A_g03_c01.avi), so scores here are inflated; use split 1, or a run that never trained on split 2's test videos"}},
		{"the same run on its own split", nil, 1, true, func(t *testing.T, data string) string {
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), data, 1, "scratch", false, trainSide(1))
		}, "", nil},
		{"a 10% budget that missed split 2's test videos", nil, 2, true, func(t *testing.T, data string) string {
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), data, 1, "scratch", false, []string{"A/v_A_g05_c01.avi"})
		}, "", nil},
		{"a run of another data directory", nil, 2, true, func(t *testing.T, data string) string {
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), ucfListing(t, nil), 1, "scratch", false, trainSide(1))
		}, "", nil},
		{"the data directory through a link", nil, 2, true, func(t *testing.T, data string) string {
			link := filepath.Join(t.TempDir(), "ucf")
			if err := os.Symlink(data, link); err != nil {
				t.Fatal(err)
			}
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), link, 1, "scratch", false, trainSide(1))
		}, "", []string{"split 2: 4 of 4 test videos were training videos of RUN"}},
		{"an older run without its video list", nil, 3, true, func(t *testing.T, data string) string {
			return fakeRun(t, filepath.Join(t.TempDir(), "ft1"), data, 1, "scratch", false, nil)
		}, "", []string{"split 3: RUN was trained on split 1 of this dataset, whose training videos may include this split's test videos"}},
		{"a linear probe on split 2 of a run fine-tuned on split 1", nil, 2, true, func(t *testing.T, data string) string {
			ft1 := fakeRun(t, filepath.Join(t.TempDir(), "ft1"), data, 1, "scratch", false, trainSide(1))
			return fakeRun(t, filepath.Join(t.TempDir(), "lp2"), data, 2, ft1, true, trainSide(2))
		}, "", []string{"(which RUN was fine-tuned from)"}},
		{"an older pretraining run records no split", nil, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain"`)
		}, "", nil},
		{"a pretraining on split 1's training videos, scored on split 2", nil, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 1`)
		}, "", []string{"split 2: 4 of 4 test videos were pretraining videos of RUN (the training videos of split 1, labels hidden; first: A/v_A_g03_c01.avi), so its features have seen them and scores here may be inflated; use split 1, or pretrain on unlabeled videos only"}},
		{"a pretraining on split 2's training videos, scored on split 2", nil, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 2`)
		}, "", nil},
		{"a pretraining on unlabeled videos only", map[string]string{"unlabeled.txt": "U/u1.avi\n"}, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 1, "with_train": false`)
		}, "", nil},
		{"a pretraining on unlabeled videos with split 1's", map[string]string{"unlabeled.txt": "U/u1.avi\n"}, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 1, "with_train": true`)
		}, "", []string{"split 2: 4 of 4 test videos were pretraining videos of RUN"}},
		{"unlabeled videos that are split 2's test videos", map[string]string{"unlabeled.txt": "U/u1.avi\nA/v_A_g03_c01.avi\n"}, 2, true, func(t *testing.T, data string) string {
			return fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 2, "with_train": false`)
		}, "", []string{"split 2: 1 of 4 test videos are also listed as unlabeled videos, which RUN pretrained on (first: A/v_A_g03_c01.avi), so its features have seen them and scores here may be inflated; remove them from unlabeled.txt"}},
		{"a fine-tuning on split 2 from a pretraining on split 1", nil, 2, true, func(t *testing.T, data string) string {
			pre := fakePretrain(t, data, `"command": "pretrain", "pretrain_split": 1`)
			return fakeRun(t, filepath.Join(t.TempDir(), "ft2"), data, 2, pre, false, trainSide(2))
		}, "", []string{"(which RUN was fine-tuned from)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := ucfListing(t, tc.extra)
			run := ""
			if tc.run != nil {
				run = tc.run(t, data)
			}
			var log logged
			_, _, warns, err := loadChecked(data, "auto", tc.split, log.runtime(), dataCheck{strict: tc.strict, run: run})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "dataset "+data+": ") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != len(tc.warns) || len(warns) != len(tc.warns) {
				t.Fatalf("warnings %q (logged %q), want %d", warns, log, len(tc.warns))
			}
			for i, w := range tc.warns {
				w = strings.ReplaceAll(w, "RUN", run)
				if !strings.Contains(warns[i], w) || log[i] != "warning: "+warns[i] || strings.Contains(warns[i], "\n") {
					t.Errorf("warning %d: %q (logged %q), want one line with %q", i, warns[i], log[i], w)
				}
			}
		})
	}
}

// TestFinetuneRunsTheDataChecks checks that Finetune checks the split it
// trains on before any work, and warns when its init trained on the test
// videos of that split.
func TestFinetuneRunsTheDataChecks(t *testing.T) {
	ctx := context.Background()
	var log logged
	cfg := FinetuneConfig{DataRoot: ucfListing(t, map[string]string{"trainlist01.txt": "A/v_A_g01_c01.avi 1\n"}),
		Out: filepath.Join(t.TempDir(), "out"), Arch: "r3d-small", Widths: []int{8, 8, 8, 8}, Frames: 4, Size: 16, Runtime: log.runtime()}
	_, err := Finetune(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "(first: A/v_A_g01_c01.avi)") || !strings.Contains(err.Error(), "trainlist01.txt or testlist01.txt") {
		t.Fatalf("fine-tuning on a split with a test video in its train list: %v", err)
	}
	if _, err := os.Stat(cfg.Out); !os.IsNotExist(err) {
		t.Errorf("the refused run wrote %s", cfg.Out)
	}

	cfg.DataRoot = ucfListing(t, nil)
	cfg.Split, cfg.Arch, cfg.Widths = 2, "", nil
	cfg.Init = fakeRun(t, filepath.Join(t.TempDir(), "ft1"), cfg.DataRoot, 1, "scratch", false, trainSide(1))
	Finetune(ctx, cfg) // fails later on the fake weights
	if want := "split 2: 4 of 4 test videos were training videos of " + cfg.Init; len(log) != 1 || !strings.Contains(log[0], want) {
		t.Fatalf("fine-tuning split 2 from a run fine-tuned on split 1 logged %q, want %q", log, want)
	}
}
