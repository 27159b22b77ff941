package prepare

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFailureChanged(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) os.FileInfo { return writeBackdated(t, filepath.Join(root, rel), body) }
	at := func(st os.FileInfo, rel string) Failure {
		return Failure{Source: rel, Reason: "bad", SourceSize: st.Size(), SourceMTime: st.ModTime().UnixNano()}
	}
	same := at(write("same.mp4", "broken"), "same.mp4")
	replaced := at(write("replaced.mp4", "broken"), "replaced.mp4")
	write("replaced.mp4", "a longer, good file")
	cases := []struct {
		name string
		f    Failure
		want bool
	}{
		{"unchanged", same, false},
		{"replaced by another file", replaced, true},
		{"missing then, there now", Failure{Source: "same.mp4", Reason: "missing"}, true},
		{"missing then and now", Failure{Source: "gone.mp4", Reason: "missing"}, false},
	}
	for _, c := range cases {
		if got := c.f.Changed(root); got != c.want {
			t.Errorf("%s: Changed = %v, want %v", c.name, got, c.want)
		}
	}
}
