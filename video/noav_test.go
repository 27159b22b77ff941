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
