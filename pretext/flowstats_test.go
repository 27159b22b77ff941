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

// driftReader shows a smooth texture drifting by (vx, vy) pixels per frame.
type driftReader struct {
	n, size int
	vx, vy  float64
	reads   []readCall
}

func (d *driftReader) NumFrames() int { return d.n }

func (d *driftReader) Read(start, frames, stride int) (*loader.RawClip, error) {
	d.reads = append(d.reads, readCall{start, frames, stride})
	s := d.size
	raw := &loader.RawClip{T: frames, H: s, W: s, Pix: make([]uint8, frames*s*s*3)}
	for t := range frames {
		f := float64(start + t*stride)
		for y := range s {
			for x := range s {
				px, py := float64(x)-d.vx*f, float64(y)-d.vy*f
				g := 128 + 60*math.Sin(2*math.Pi*px/11)*math.Cos(2*math.Pi*py/9)
				o := ((t*s+y)*s + x) * 3
				raw.Pix[o], raw.Pix[o+1], raw.Pix[o+2] = uint8(g), uint8(g), uint8(255-g)
			}
		}
	}
	return raw, nil
}

func TestFlowStatsSamplerReadsTheSpanAndKeepsEveryStrideFrame(t *testing.T) {
	const frames, stride, size = 4, 3, 24
	m, err := New("flowstats", Options{Frames: frames, Stride: stride, Size: size, Augment: plainAugment})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		vx, vy    float64
		direction int32
	}{{"right", 0.6, 0, 0}, {"up", 0, -0.6, 6}, {"down-left", -0.5, 0.5, 3}} {
		r := &driftReader{n: 40, size: size, vx: c.vx, vy: c.vy}
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
			t.Fatalf("%s: %d views of %d frames, want 1 of %d", c.name, len(ex.Views), ex.Views[0].T, frames)
		}
		span := r.reads[0]
		whole, _ := (&driftReader{n: 40, size: size, vx: c.vx, vy: c.vy}).Read(span.start, span.frames, 1)
		want := plainAugment(everyNth(whole, stride), nil)
		if !slices.Equal(ex.Views[0].Data, want.Data) {
			t.Errorf("%s: the view is not frames 0, %d, %d, ... of the span", c.name, stride, 2*stride)
		}
	}
}
