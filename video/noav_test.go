//go:build noav

package video

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNoAVOpenFails(t *testing.T) {
	dir := t.TempDir()
	mp4, empty := filepath.Join(dir, "any.mp4"), filepath.Join(dir, "empty.y4m")
	os.WriteFile(mp4, []byte("\x00\x00\x00\x18ftypmp42"), 0o644)
	os.WriteFile(empty, nil, 0o644)
	if _, err := NewOpener().Open(""); err != ErrNoDecoder {
		t.Fatalf(`Open("") in a noav build: got %v, want ErrNoDecoder itself`, err)
	}
	cases := []struct {
		path, want string
		noDecoder  bool
	}{
		{mp4, "built without video decoding", true},
		{empty, "the file is empty", false},
		{filepath.Join(dir, "missing.y4m"), "no such file", false},
	}
	for _, c := range cases {
		for _, open := range []func(string) error{
			func(p string) error { _, err := NewOpener().Open(p); return err },
			func(p string) error { _, err := Probe(p); return err },
		} {
			err := open(c.path)
			if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrNoDecoder) != c.noDecoder {
				t.Errorf("%s: got %v, want an error naming it and saying %q (ErrNoDecoder: %v)", c.path, err, c.want, c.noDecoder)
			}
		}
	}
}

func TestNoAVReadsY4M(t *testing.T) {
	path := writeY4M(t, "W4 H2 F25:1 C420jpeg", flatFrames(3, 4, 2))
	v, err := NewOpener().Open(path)
	if err != nil {
		t.Fatalf("Open of a .y4m file in a noav build: %v", err)
	}
	defer v.Close()
	if n := v.Info().Frames; n != 3 {
		t.Errorf("Frames = %d, want 3", n)
	}
}

func TestNoAVDecodesNoH264(t *testing.T) {
	if DecodesH264(NewOpener()) {
		t.Error("DecodesH264 of the noav opener = true, want false: the loader would send it to the H.264 cache")
	}
}
