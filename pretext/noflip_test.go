package pretext

import (
	"math/rand/v2"
	"testing"

	"github.com/vidrep/vidrep/loader"
)

// TestNoFlipKeepsDirection checks that NoFlip removes mirroring from the
// default augmentation: on a clip whose brightness rises left to right, every
// augmented view still rises left to right, while with flips some view falls.
func TestNoFlipKeepsDirection(t *testing.T) {
	const size = 16
	raw := &loader.RawClip{T: 2, H: size, W: size, Pix: make([]uint8, 2*size*size*3)}
	for i := range raw.Pix {
		x := (i / 3) % size
		raw.Pix[i] = uint8(40 + 10*x)
	}
	rises := func(c loader.ClipTensor) bool {
		row := c.Data[:c.W*3] // first row of the first frame
		return row[(c.W-1)*3] > row[0]
	}
	for _, tc := range []struct {
		noFlip   bool
		wantFall bool
	}{{noFlip: true, wantFall: false}, {noFlip: false, wantFall: true}} {
		aug := Options{Size: size, NoFlip: tc.noFlip}.augment(false)
		rng := rand.New(rand.NewPCG(1, 2))
		fell := false
		for i := 0; i < 40; i++ {
			if !rises(aug(raw, rng)) {
				fell = true
			}
		}
		if fell != tc.wantFall {
			t.Errorf("NoFlip=%v: some view mirrored = %v, want %v", tc.noFlip, fell, tc.wantFall)
		}
	}
}
