package pretext

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vidrep/vidrep/flow"
	"github.com/vidrep/vidrep/loader"
)

// fieldsOf builds n affine fields whose pair k has translation at(k) and the
// given divergence and curl.
func fieldsOf(n int, at func(k int) (u, v float64), div, curl float64) []flow.Affine {
	out := make([]flow.Affine, n)
	for k := range out {
		u, v := at(k)
		out[k] = flow.Affine{u, div / 2, -curl / 2, v, curl / 2, div / 2}
	}
	return out
}

func TestMotionTargets(t *testing.T) {
	steady := func(u, v float64) func(int) (float64, float64) {
		return func(int) (float64, float64) { return u, v }
	}
	circle := func(sign float64) func(int) (float64, float64) { // y down: sign 1 turns clockwise on the image
		return func(k int) (float64, float64) { a := sign * 0.9 * float64(k); return math.Cos(a), math.Sin(a) }
	}
	swing := func(k int) (float64, float64) { return math.Cos(2 * math.Pi * float64(k) / 9), 0 }
	// want: direction, grows, turns clockwise, reverses, veers clockwise;
	// -1 where the motion leaves a target arbitrary (a zero mean translation
	// has no direction)
	tests := []struct {
		name   string
		fields []flow.Affine
		want   []int32
	}{
		{"right", fieldsOf(9, steady(1, 0), 0, 0), []int32{0, 0, 0, 0, 0}},
		{"down", fieldsOf(9, steady(0, 1), 0, 0), []int32{2, 0, 0, 0, 0}},
		{"down-left", fieldsOf(9, steady(-1, 1), 0, 0), []int32{3, 0, 0, 0, 0}},
		{"left", fieldsOf(9, steady(-1, 0.1), 0, 0), []int32{4, 0, 0, 0, 0}},
		{"up, just right of it", fieldsOf(9, steady(0.1, -1), 0, 0), []int32{6, 0, 0, 0, 0}},
		{"up-right", fieldsOf(9, steady(0.7, -0.7), 0, 0), []int32{7, 0, 0, 0, 0}},
		{"growing in place", fieldsOf(9, steady(0, 0), 0.3, 0), []int32{0, 1, 0, 0, 0}},
		{"shrinking in place", fieldsOf(9, steady(0, 0), -0.3, 0), []int32{0, 0, 0, 0, 0}},
		{"turning clockwise", fieldsOf(9, steady(0, 0), 0, 0.2), []int32{0, 0, 1, 0, 0}},
		{"swinging left and right", fieldsOf(9, swing, 0, 0), []int32{-1, 0, 0, 1, 0}},
		{"circling clockwise", fieldsOf(9, circle(1), 0, 0), []int32{-1, 0, 0, 1, 1}},
		{"circling counterclockwise", fieldsOf(9, circle(-1), 0, 0), []int32{-1, 0, 0, 1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MotionTargets(tc.fields)
			if len(got) != len(FlowTargets) {
				t.Fatalf("%d targets, want %d", len(got), len(FlowTargets))
			}
			for k, g := range got {
				if g < 0 || int(g) >= FlowTargetClasses[k] {
					t.Errorf("target %s = %d, outside [0,%d)", FlowTargets[k], g, FlowTargetClasses[k])
				}
			}
			for k, w := range tc.want {
				if w >= 0 && got[k] != w {
					t.Errorf("target %s = %d, want %d (all: %v)", FlowTargets[k], got[k], w, got)
				}
			}
		})
	}
}

// driftReader shows a smooth texture drifting by (vx, vy) pixels per frame
// on w x h frames; frames past n loop back to the start, as the loader's
// Loop policy fills a short video.
type driftReader struct {
	n, w, h int
	vx, vy  float64
	reads   []readCall
}

func (d *driftReader) NumFrames() int { return d.n }

func (d *driftReader) Read(start, frames, stride int) (*loader.RawClip, error) {
	d.reads = append(d.reads, readCall{start, frames, stride})
	raw := &loader.RawClip{T: frames, H: d.h, W: d.w, Pix: make([]uint8, frames*d.h*d.w*3)}
	for t := range frames {
		f := float64((start + t*stride) % d.n)
		for y := range d.h {
			for x := range d.w {
				px, py := float64(x)-d.vx*f, float64(y)-d.vy*f
				g := 128 + 60*math.Sin(2*math.Pi*px/11)*math.Cos(2*math.Pi*py/9)
				o := ((t*d.h+y)*d.w + x) * 3
				raw.Pix[o], raw.Pix[o+1], raw.Pix[o+2] = uint8(g), uint8(g), uint8(255-g)
			}
		}
	}
	return raw, nil
}

func TestFlowStatsSamplerReadsTheSpanAndKeepsEveryStrideFrame(t *testing.T) {
	const frames, stride, w, h = 4, 3, 28, 20 // not square: width and height must not be swapped
	m, err := New("flowstats", Options{Frames: frames, Stride: stride, Size: h, Augment: plainAugment})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		vx, vy    float64
		direction int32
	}{{"right", 0.6, 0, 0}, {"up", 0, -0.6, 6}, {"down-left", -0.5, 0.5, 3}} {
		r := &driftReader{n: 40, w: w, h: h, vx: c.vx, vy: c.vy}
		ex, err := m.Sampler().Sample(r, 7, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.reads) != 1 || r.reads[0].frames != span(frames, stride) || r.reads[0].stride != 1 {
			t.Fatalf("%s: reads %+v, want one read of the %d-frame span at stride 1", c.name, r.reads, span(frames, stride))
		}
		if got := ex.Targets[0]; got != c.direction {
			t.Errorf("%s: direction sector %d, want %d", c.name, got, c.direction)
		}
		if len(ex.Views) != 1 || ex.Views[0].T != frames {
			t.Fatalf("%s: %d views, want 1 of %d frames", c.name, len(ex.Views), frames)
		}
		first := r.reads[0].start
		atStride, _ := (&driftReader{n: 40, w: w, h: h, vx: c.vx, vy: c.vy}).Read(first, frames, stride)
		if !slices.Equal(ex.Views[0].Data, plainAugment(atStride, nil).Data) {
			t.Errorf("%s: the view is not frames %d, %d, %d, ... of the video", c.name, first, first+stride, first+2*stride)
		}
		// the label argument changes nothing
		unlabeled, err := m.Sampler().Sample(r, -1, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(unlabeled.Targets, ex.Targets) || !slices.Equal(unlabeled.Views[0].Data, ex.Views[0].Data) {
			t.Errorf("%s: another label gave other views or targets", c.name)
		}
	}
}

// A video shorter than the span loops back to its first frame; that jump is
// not a motion, so the targets count only the pairs of real frames.
func TestFlowStatsIgnoresTheLoopOfAShortVideo(t *testing.T) {
	const frames, stride, n = 4, 3, 6
	m, err := New("flowstats", Options{Frames: frames, Stride: stride, Size: 20, Augment: plainAugment})
	if err != nil {
		t.Fatal(err)
	}
	r := &driftReader{n: n, w: 20, h: 20, vx: 0.8, vy: 0.3}
	ex, err := m.Sampler().Sample(r, 0, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := r.Read(0, span(frames, stride), 1) // frames 0-5, then 0-3 again
	fields := flow.Clip(whole.Pix, whole.T, whole.W, whole.H)
	want, withLoop := MotionTargets(fields[:n-1]), MotionTargets(fields)
	if slices.Equal(want, withLoop) {
		t.Fatalf("set-up: the loop's jump does not change the targets (%v), so this test cannot tell", want)
	}
	if !slices.Equal(ex.Targets, want) {
		t.Errorf("targets %v, want %v from the %d real pairs (%v counts the loop back)", ex.Targets, want, n-1, withLoop)
	}
}
