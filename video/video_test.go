package video

import "testing"

func TestScaledSize(t *testing.T) {
	cases := []struct{ w, h, short, ww, wh int }{
		{320, 240, 128, 171, 128},
		{240, 320, 128, 128, 171},
		{64, 48, 0, 64, 48},
		{100, 100, 50, 50, 50},
		{1000, 1, 2, 2000, 2},
	}
	for _, c := range cases {
		if w, h := ScaledSize(c.w, c.h, c.short); w != c.ww || h != c.wh {
			t.Errorf("ScaledSize(%d,%d,%d) = %dx%d, want %dx%d", c.w, c.h, c.short, w, h, c.ww, c.wh)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []ClipRequest{{Frames: 0, Stride: 1}, {Frames: 1, Stride: 0}, {Start: -1, Frames: 1, Stride: 1}, {Frames: 1, Stride: 1, ShortSide: -1}}
	for _, r := range bad {
		if r.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", r)
		}
	}
	if err := (ClipRequest{Frames: 16, Stride: 2, ShortSide: 128}).Validate(); err != nil {
		t.Errorf("valid request refused: %v", err)
	}
}

func TestDecodesH264DefaultsToTrue(t *testing.T) {
	type plain struct{ Opener }
	if !DecodesH264(plain{}) {
		t.Error("DecodesH264 of an Opener that says nothing = false, want true")
	}
}

// readVia opens path with op and reads req.
func readVia(t *testing.T, op Opener, path string, req ClipRequest) *Clip {
	t.Helper()
	v, err := op.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	c, err := v.ReadClip(req)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openerFunc adapts an open function to Opener.
type openerFunc func(path string) (Video, error)

// Open calls f.
func (f openerFunc) Open(path string) (Video, error) { return f(path) }
