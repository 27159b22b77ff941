package pretrain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/dataset"
)

// TestSplitLeaks checks that pretraining warns, one line per finding, when
// the train side it reads holds test videos of its split, and only then.
func TestSplitLeaks(t *testing.T) {
	lists := map[string]string{
		"classInd.txt":    "1 A\n2 B\n",
		"trainlist01.txt": "A/v_A_g01_c01.avi 1\nB/v_B_g01_c01.avi 2\n",
		"testlist01.txt":  "A/v_A_g02_c01.avi\nB/v_B_g02_c01.avi\n",
		"trainlist02.txt": "A/v_A_g02_c01.avi 1\nB/v_B_g02_c01.avi 2\n",
		"testlist02.txt":  "A/v_A_g01_c01.avi\nB/v_B_g01_c01.avi\n",
	}
	for _, tc := range []struct {
		name      string
		extra     map[string]string // appended to lists
		split     int
		withTrain bool
		want      string // a part of the one warning, "" for none
	}{
		{"clean", nil, 1, false, ""},
		{"a test video on the train side", map[string]string{"trainlist01.txt": "A/v_A_g02_c01.avi 1\n"}, 1, false,
			"split 1: 1 videos are in both train and test (first: A/v_A_g02_c01.avi)"},
		{"the leak is in another split", map[string]string{"trainlist02.txt": "A/v_A_g01_c01.avi 1\n"}, 1, false, ""},
		{"unlabeled videos only", map[string]string{"trainlist01.txt": "A/v_A_g02_c01.avi 1\n", "unlabeled.txt": "u/1.mp4\n"}, 1, false, ""},
		{"unlabeled videos with the train side", map[string]string{"trainlist01.txt": "A/v_A_g02_c01.avi 1\n", "unlabeled.txt": "u/1.mp4\n"}, 1, true,
			"(pretraining reads that train side; finetune and eval refuse the split until it is fixed)"},
		{"a class without videos: labels are hidden", map[string]string{"classInd.txt": "3 C\n"}, 1, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range lists {
				os.WriteFile(filepath.Join(root, name), []byte(text+tc.extra[name]), 0o644)
			}
			if u, ok := tc.extra["unlabeled.txt"]; ok {
				os.WriteFile(filepath.Join(root, "unlabeled.txt"), []byte(u), 0o644)
			}
			ds, err := dataset.Load(root, dataset.FormatUCF101)
			if err != nil {
				t.Fatal(err)
			}
			got := splitLeaks(ds, tc.split, tc.withTrain)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("warnings %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.HasPrefix(got[0], "pretrain: dataset "+root+": ") {
				t.Fatalf("warnings %q, want one with %q", got, tc.want)
			}
		})
	}
}
