package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidrep/vidrep/internal/cli"
)

// TestListFileMistakes: --data naming a file reads it as a list of unlabeled
// videos, so a video or a UCF101 split file given by mistake must be refused
// with a line naming the fix, and a binary file must not echo its bytes.
func TestListFileMistakes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	binary := append([]byte("\x00\x00\x00 ftypisom"), make([]byte, 900)...)
	cases := []struct {
		name, file string
		want       string
	}{
		{"a video", write("clip.mp4", binary), "is a video"},
		{"classInd.txt", write("classInd.txt", []byte("1 TranslateRight\n")), "split file"},
		{"a train list", write("trainlist01.txt", []byte("A/v_A_g01_c01.mp4 1\n")), "split file"},
		{"binary bytes", write("list.bin", binary), "not a text list"},
	}
	for _, c := range cases {
		_, err := Load(c.file, FormatAuto)
		var u *cli.UsageError
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if err != nil && c.want != "not a text list" && !errors.As(err, &u) {
			t.Errorf("%s: %v is not a usage error", c.name, err)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%s: error of %d bytes: %.100q...", c.name, len(err.Error()), err.Error())
		}
	}
	good := write("mine.txt", []byte("# my clips\nclip.mp4\n"))
	if d, err := Load(good, FormatAuto); err != nil || len(d.Unlabeled) != 1 {
		t.Errorf("a real list: %v", err)
	}
}
