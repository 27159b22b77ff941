//go:build noav

package video

import (
	"errors"
	"testing"
)

func TestNoAVOpenFails(t *testing.T) {
	if _, err := NewOpener().Open("any.mp4"); !errors.Is(err, ErrNoDecoder) {
		t.Fatalf("Open in a noav build: got %v, want ErrNoDecoder", err)
	}
	if _, err := Probe("any.mp4"); !errors.Is(err, ErrNoDecoder) {
		t.Fatalf("Probe in a noav build: got %v, want ErrNoDecoder", err)
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
