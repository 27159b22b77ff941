package loader

import (
	"slices"
	"strings"
	"testing"
)

// frameIDs reads the frame index stored in the green channel of each frame.
func frameIDs(c *RawClip) []int {
	ids := make([]int, c.T)
	for i := range ids {
		ids[i] = int(c.Frame(i)[1])
	}
	return ids
}

// countingClip is t frames of 2x2 pixels whose green value is the frame index.
func countingClip(t int) *RawClip {
	c := &RawClip{T: t, H: 2, W: 2, Pix: make([]uint8, t*12)}
	for f := 0; f < t; f++ {
		for p := 0; p < 4; p++ {
			c.Pix[f*12+p*3+1] = uint8(f)
		}
	}
	return c
}

func TestShortVideoPolicies(t *testing.T) {
	cases := []struct {
		name                   string
		policy                 ShortPolicy
		n, start, frames, step int
		want                   []int
	}{
		{"fits", Loop, 10, 2, 4, 2, []int{2, 4, 6, 8}},
		{"loop", Loop, 3, 0, 5, 2, []int{0, 2, 1, 0, 2}},
		{"pad", Pad, 3, 0, 5, 2, []int{0, 2, 2, 2, 2}},
		{"one frame loop", Loop, 1, 0, 4, 3, []int{0, 0, 0, 0}},
		{"start past end pads", Pad, 4, 9, 2, 1, []int{3, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := &MemoryReader{Clip: countingClip(tc.n), Policy: tc.policy}
			c, err := mem.Read(tc.start, tc.frames, tc.step)
			if err != nil {
				t.Fatal(err)
			}
			if got := frameIDs(c); !slices.Equal(got, tc.want) {
				t.Errorf("memory reader: frames %v want %v", got, tc.want)
			}
			op := &fakeOpener{files: map[string]fakeFile{"v": {frames: tc.n, h: 2, w: 2}}}
			r, err := OpenReader(op, "v", 0, 0, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			c, err = r.Read(tc.start, tc.frames, tc.step)
			if err != nil {
				t.Fatal(err)
			}
			if got := frameIDs(c); !slices.Equal(got, tc.want) {
				t.Errorf("file reader: frames %v want %v", got, tc.want)
			}
		})
	}
}

func TestShortPolicyParse(t *testing.T) {
	for in, want := range map[string]ShortPolicy{"": Loop, "loop": Loop, "PAD": Pad} {
		got, err := ParseShortPolicy(in)
		if err != nil || got != want {
			t.Errorf("ParseShortPolicy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseShortPolicy("wrap"); err == nil || !strings.Contains(err.Error(), "loop or pad") {
		t.Errorf("bad policy error %v", err)
	}
}

func TestFileReaderLearnsTrueLength(t *testing.T) {
	cases := []struct {
		name             string
		frames, estimate int
		policy           ShortPolicy
		start            int
		want             []int
		wantN            int
	}{
		// The clip starts inside the video but runs past its real end.
		{"ends early loop", 10, 40, Loop, 6, []int{6, 8, 1, 3}, 9},
		{"ends early pad", 10, 40, Pad, 6, []int{6, 8, 8, 8}, 9},
		// The clip starts past the real end: the count is halved until frames come back.
		{"start past end loop", 10, 100, Loop, 50, []int{0, 2, 4, 6}, 25},
		{"start past end pad", 10, 100, Pad, 50, []int{4, 4, 4, 4}, 5},
		{"unknown count", 5, -1, Loop, 0, []int{0, 2, 4, 1}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := &fakeOpener{files: map[string]fakeFile{"v": {frames: tc.frames, estimate: tc.estimate, h: 2, w: 2}}}
			r, err := OpenReader(op, "v", 0, 0, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Read(tc.start, 4, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := frameIDs(c); !slices.Equal(got, tc.want) {
				t.Errorf("frames %v want %v", got, tc.want)
			}
			if r.NumFrames() != tc.wantN {
				t.Errorf("NumFrames %d want %d", r.NumFrames(), tc.wantN)
			}
		})
	}
}

func TestFileReaderErrors(t *testing.T) {
	op := &fakeOpener{files: map[string]fakeFile{
		"empty":  {frames: 0, estimate: 5, h: 2, w: 2},
		"broken": {frames: 5, h: 2, w: 2, readErr: errCorrupt},
	}}
	for _, name := range []string{"empty", "broken"} {
		r, err := OpenReader(op, name, 0, 0, Loop)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(0, 4, 1); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v should name the file", name, err)
		}
	}
	mem := &MemoryReader{Clip: countingClip(3)}
	if _, err := mem.Read(-1, 2, 1); err == nil {
		t.Error("negative start accepted")
	}
	if _, err := mem.Read(0, 2, 0); err == nil {
		t.Error("zero stride accepted")
	}
}
