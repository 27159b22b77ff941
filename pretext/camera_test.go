package pretext

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vidrep/vidrep/loader"
)

func TestCameraPathKeepsViewsInsideAndFollowsTheMotion(t *testing.T) {
	cases := []struct{ w, h, frames int }{
		{32, 32, 4},  // the demo's clips
		{32, 24, 8},  // landscape, a long clip: zooms slow down to fit
		{24, 24, 7},  // odd frame count: a roll reaches its widest angle
		{24, 24, 24}, // a zoom slowed down to just fit, within rounding
		{9, 8, 3},    // tiny: the view shrinks to leave room for a roll
		{128, 112, 16},
	}
	for _, c := range cases {
		side := CameraSide(c.w, c.h, c.frames)
		if side < 1 || float64(side) > PanWindow*float64(min(c.w, c.h))+0.5 {
			t.Fatalf("%dx%d T=%d: camera side %d", c.w, c.h, c.frames, side)
		}
		for motion := range CameraMotions {
			for seed := range uint64(5) {
				views, err := CameraPath(c.w, c.h, side, c.frames, motion, rand.New(rand.NewPCG(seed, 1)))
				if err != nil {
					t.Fatal(err)
				}
				for f, v := range views {
					for _, corner := range viewCorners(v) {
						if real(corner) < -0.5-1e-9 || imag(corner) < -0.5-1e-9 ||
							real(corner) > float64(c.w)-0.5+1e-9 || imag(corner) > float64(c.h)-0.5+1e-9 {
							t.Fatalf("%dx%d motion %d frame %d: view %+v reaches %v, outside the frame", c.w, c.h, motion, f, v, corner)
						}
					}
				}
				checkCameraMotion(t, c.w, c.h, side, motion, seed, views)
			}
		}
	}
	if _, err := CameraPath(32, 32, 22, 4, CameraMotions, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("an unknown motion was accepted")
	}
	if _, err := CameraPath(32, 16, 22, 4, 0, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a view larger than the frame was accepted")
	}
	if _, err := CameraPath(32, 32, 32, 4, CameraZoomIn, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a view as large as the frame was accepted: its zoom in and out would not move")
	}
	if _, err := CameraPath(32, 32, 28, 4, CameraRollClockwise, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a roll whose turned view cannot fit the frame was accepted")
	}
}

// checkCameraMotion checks that consecutive views differ as motion says: a
// pan follows PanPath from the same random stream, a zoom changes the side by
// a constant factor in the right sense, a roll turns by CameraRollRate.
func checkCameraMotion(t *testing.T, w, h, side, motion int, seed uint64, views []View) {
	t.Helper()
	if motion < PanDirections {
		// PanPath's corners, all shifted by one offset of at most half a pixel
		half := float64(side-1) / 2
		corners := PanPath(w, h, side, len(views), motion, rand.New(rand.NewPCG(seed, 1)))
		dx, dy := views[0].X-float64(corners[0][0])-half, views[0].Y-float64(corners[0][1])-half
		if math.Abs(dx) > 0.5 || math.Abs(dy) > 0.5 {
			t.Fatalf("pan %d: shifted by (%g,%g), more than half a pixel", motion, dx, dy)
		}
		for f, corner := range corners {
			want := View{X: float64(corner[0]) + half + dx, Y: float64(corner[1]) + half + dy, Side: float64(side)}
			if math.Abs(views[f].X-want.X) > 1e-9 || math.Abs(views[f].Y-want.Y) > 1e-9 || views[f].Side != want.Side || views[f].Angle != 0 {
				t.Fatalf("pan %d frame %d: view %+v, want PanPath's corner shifted, %+v", motion, f, views[f], want)
			}
		}
		return
	}
	for f := 1; f < len(views); f++ {
		prev, cur := views[f-1], views[f]
		if prev.X != cur.X || prev.Y != cur.Y {
			t.Fatalf("motion %d: the centre moved from (%g,%g) to (%g,%g)", motion, prev.X, prev.Y, cur.X, cur.Y)
		}
		ratio, turn := cur.Side/prev.Side, cur.Angle-prev.Angle
		switch motion {
		case CameraZoomIn:
			if ratio >= 1 || ratio < math.Exp(-CameraZoomRate)-1e-9 || turn != 0 {
				t.Fatalf("zoom in: side x%g and turn %g per frame", ratio, turn)
			}
		case CameraZoomOut:
			if ratio <= 1 || ratio > math.Exp(CameraZoomRate)+1e-9 || turn != 0 {
				t.Fatalf("zoom out: side x%g and turn %g per frame", ratio, turn)
			}
		case CameraRollClockwise, CameraRollCounterclockwise:
			want := CameraRollRate
			if motion == CameraRollCounterclockwise {
				want = -want
			}
			if math.Abs(turn-want) > 1e-12 || math.Abs(ratio-1) > 1e-12 {
				t.Fatalf("roll %d: turn %g (want %g) and side x%g per frame", motion, turn, want, ratio)
			}
		}
	}
	if mid := views[len(views)/2]; len(views)%2 == 1 && math.Abs(mid.Side-float64(side)) > 1e-9 {
		t.Fatalf("motion %d: middle view side %g, want %d", motion, mid.Side, side)
	}
}

// viewCorners returns the four corners of view v's square as points x+iy.
func viewCorners(v View) []complex128 {
	centre, turn := complex(v.X, v.Y), cmplx.Rect(v.Side/2, v.Angle)
	return []complex128{centre + turn*(-1-1i), centre + turn*(1-1i), centre + turn*(1+1i), centre + turn*(-1+1i)}
}

func TestWarpClipCopiesUnturnedViewsExactly(t *testing.T) {
	const w, h, side = 10, 8, 4
	raw := &loader.RawClip{T: 2, H: h, W: w, Pix: make([]uint8, 2*h*w*3)}
	for i := range raw.Pix {
		raw.Pix[i] = uint8(i % 251)
	}
	corners := [][2]int{{0, 0}, {6, 4}}
	views := []View{{X: 1.5, Y: 1.5, Side: side}, {X: 7.5, Y: 5.5, Side: side}}
	got, err := WarpClip(raw, side, views)
	if err != nil {
		t.Fatal(err)
	}
	want, err := PanClip(raw, side, corners)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Pix {
		if got.Pix[i] != want.Pix[i] {
			t.Fatalf("byte %d = %d, PanClip has %d", i, got.Pix[i], want.Pix[i])
		}
	}
	if _, err := WarpClip(raw, side, views[:1]); err == nil {
		t.Error("a path shorter than the clip was accepted")
	}
	if _, err := WarpClip(raw, side, []View{views[0], {X: 3, Y: 3, Side: math.NaN()}}); err == nil {
		t.Error("a view of side NaN was accepted")
	}
}

// TestWarpClipSamplesTheTurnedScaledView warps an image whose channels are
// linear in x and y (so bilinear interpolation is exact) through a turned,
// scaled view and checks every output pixel against the image's value at
// the point the view puts it, computed with complex numbers.
func TestWarpClipSamplesTheTurnedScaledView(t *testing.T) {
	const w, h, side = 40, 40, 12
	raw := &loader.RawClip{T: 1, H: h, W: w, Pix: make([]uint8, h*w*3)}
	value := func(p complex128) [3]float64 {
		x, y := real(p), imag(p)
		return [3]float64{5 * x, 5 * y, 2*x + 3*y}
	}
	for y := range h {
		for x := range w {
			v := value(complex(float64(x), float64(y)))
			for c := range 3 {
				raw.Pix[(y*w+x)*3+c] = uint8(v[c])
			}
		}
	}
	view := View{X: 20.3, Y: 18.7, Side: 15, Angle: 0.4}
	out, err := WarpClip(raw, side, []View{view})
	if err != nil {
		t.Fatal(err)
	}
	step := cmplx.Rect(view.Side/side, view.Angle) // one output pixel, as a move in the frame
	half := float64(side-1) / 2
	for j := range side {
		for i := range side {
			p := complex(view.X, view.Y) + step*complex(float64(i)-half, float64(j)-half)
			want := value(p)
			for c := range 3 {
				if got := float64(out.Pix[(j*side+i)*3+c]); math.Abs(got-want[c]) > 0.5+1e-9 {
					t.Fatalf("pixel (%d,%d) channel %d = %g, want %.2f at (%.2f,%.2f)", i, j, c, got, want[c], real(p), imag(p))
				}
			}
		}
	}
}

// TestCameraTargetsMatchMotion reads each frame's scale and turn back from
// the fake video's left-right gradient (green = 8x): along a row of the view
// green climbs by 8*s*cos(a) per pixel and down a column by -8*s*sin(a).
func TestCameraTargetsMatchMotion(t *testing.T) {
	m := newMethod(t, "camera", testOptions())
	seen := make([]bool, CameraMotions)
	for seed := range uint64(96) {
		ex, err := m.Sampler().Sample(newFakeReader(seed, 200, 32), -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		c, k := ex.Views[0], int(ex.Targets[0])
		seen[k] = true
		if k < PanDirections {
			continue // TestPanTargetsMatchMotion covers pans, and CameraPath shares PanPath
		}
		s0, a0 := greenScaleAngle(c, 0)
		s1, a1 := greenScaleAngle(c, c.T-1)
		span := float64(c.T - 1)
		switch k {
		case CameraZoomIn, CameraZoomOut:
			rate := math.Log(s1/s0) / span
			want := map[int]float64{CameraZoomIn: -CameraZoomRate, CameraZoomOut: CameraZoomRate}[k]
			if math.Abs(rate-want) > 0.03 || math.Abs(a1-a0) > 0.05 {
				t.Fatalf("target %d: scale x%.3f and turn %.3f per frame, want zoom %g", k, math.Exp(rate), (a1-a0)/span, want)
			}
		default:
			turn := (a1 - a0) / span
			want := map[int]float64{CameraRollClockwise: CameraRollRate, CameraRollCounterclockwise: -CameraRollRate}[k]
			if math.Abs(turn-want) > 0.03 || math.Abs(s1/s0-1) > 0.05 {
				t.Fatalf("target %d: turn %.3f and scale x%.3f per frame, want roll %g", k, turn, s1/s0, want)
			}
		}
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("motion %d never drawn in 96 samples", k)
		}
	}
}

// greenScaleAngle estimates frame t's view scale and angle from the green
// channel of a plainAugment'ed fake-video clip, away from its borders.
func greenScaleAngle(c loader.ClipTensor, t int) (scale, angle float64) {
	green := func(i, j int) float64 {
		return (float64(c.Data[((t*c.H+j)*c.W+i)*3+1]) + 1) * 127.5
	}
	lo, hi := 3, c.W-4
	mid := c.W / 2
	alongRow := (green(hi, mid) - green(lo, mid)) / float64(hi-lo) / 8   // s*cos(a)
	downColumn := (green(mid, hi) - green(mid, lo)) / float64(hi-lo) / 8 // -s*sin(a)
	return math.Hypot(alongRow, downColumn), math.Atan2(-downColumn, alongRow)
}

// stillRaw is a still scene: frames copies of one size x size frame of
// random pixels, so that whatever changes in a view of it is the camera's doing.
func stillRaw(frames, size int, seed uint64) *loader.RawClip {
	rng := rand.New(rand.NewPCG(seed, 3))
	frame := make([]uint8, size*size*3)
	for i := range frame {
		frame[i] = uint8(rng.IntN(256))
	}
	raw := &loader.RawClip{T: frames, H: size, W: size}
	for range frames {
		raw.Pix = append(raw.Pix, frame...)
	}
	return raw
}

func TestLocalCameraClipMovesOnlyInsideTheWindow(t *testing.T) {
	const frames, size = 4, 32
	side := CameraSide(size, size, frames)
	raw := stillRaw(frames, size, 1)
	win := Window{X0: 5, Y0: 3, X1: 14, Y1: 12}
	for motion := range CameraMotions {
		views, err := CameraPath(size, size, side, frames, motion, rand.New(rand.NewPCG(uint64(motion), 2)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := LocalCameraClip(raw, side, views, win)
		if err != nil {
			t.Fatal(err)
		}
		moving, err := WarpClip(raw, side, views)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for f := range frames {
			for y := range side {
				for x := range side {
					px := ((f*side+y)*side + x) * 3
					first := ((0*side+y)*side + x) * 3
					now, then := [3]uint8(got.Pix[px:px+3]), [3]uint8(got.Pix[first:first+3])
					inside := x >= win.X0 && x < win.X1 && y >= win.Y0 && y < win.Y1
					if !inside && now != then {
						t.Fatalf("motion %d: pixel (%d,%d) outside the window changes at frame %d on a still-framed view", motion, x, y, f)
					}
					if inside && now != then {
						changed++
					}
					if inside && motion < PanDirections && now != [3]uint8(moving.Pix[px:px+3]) {
						t.Fatalf("pan %d: pixel (%d,%d) of frame %d is not the panning view's", motion, x, y, f)
					}
				}
			}
		}
		if changed == 0 {
			t.Errorf("motion %d: nothing moves inside the window", motion)
		}
	}
}

// In a still scene the centre of the window is the pivot of zooms and rolls
// and must keep its value in every frame; a pan moves it.
func TestLocalCameraZoomsAndRollsTurnAboutTheWindowCentre(t *testing.T) {
	const frames, size = 4, 32
	side := CameraSide(size, size, frames)
	raw := stillRaw(frames, size, 2)
	win := Window{X0: 1, Y0: 8, X1: 10, Y1: 17} // centre pixel (5, 12), off the view's centre
	cx, cy := 5, 12
	for motion := range CameraMotions {
		views, err := CameraPath(size, size, side, frames, motion, rand.New(rand.NewPCG(uint64(motion), 4)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := LocalCameraClip(raw, side, views, win)
		if err != nil {
			t.Fatal(err)
		}
		centre := func(f int) [3]uint8 {
			px := ((f*side+cy)*side + cx) * 3
			return [3]uint8(got.Pix[px : px+3])
		}
		same := true
		for f := 1; f < frames; f++ {
			same = same && centre(f) == centre(0)
		}
		if pan := motion < PanDirections; same == pan {
			t.Errorf("motion %d (pan %v): the window's centre keeps its value in every frame: %v", motion, pan, same)
		}
	}
}

func TestLocalCameraClipRejectsBadWindows(t *testing.T) {
	raw := stillRaw(4, 32, 3)
	side := CameraSide(32, 32, 4)
	views, err := CameraPath(32, 32, side, 4, CameraZoomIn, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, win := range []Window{{X0: -1, Y0: 0, X1: 5, Y1: 5}, {X0: 0, Y0: 0, X1: side + 1, Y1: 5}, {X0: 3, Y0: 3, X1: 3, Y1: 9}} {
		if _, err := LocalCameraClip(raw, side, views, win); err == nil {
			t.Errorf("window %+v of a view of side %d was accepted", win, side)
		}
	}
}

func TestRandomWindowSizesAndPlaces(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, side := range []int{2, 7, 22, 77} {
		lo, hi := max(1, int(math.Ceil(LocalWindowMin*float64(side)))), max(1, int(LocalWindowMax*float64(side)))
		for range 200 {
			w := RandomWindow(side, rng)
			if w.X0 < 0 || w.Y0 < 0 || w.X1 > side || w.Y1 > side {
				t.Fatalf("side %d: window %+v leaves the view", side, w)
			}
			for _, n := range []int{w.X1 - w.X0, w.Y1 - w.Y0} {
				if n < min(lo, hi) || n > max(lo, hi) {
					t.Fatalf("side %d: window %+v has a side of %d outside [%d, %d]", side, w, n, lo, hi)
				}
			}
		}
	}
}

// TestCameraLocalMotionOption checks that the option changes the clips (same
// reader, same seed: other pixels, the same target) and refuses what it
// should.
func TestCameraLocalMotionOption(t *testing.T) {
	o := testOptions()
	plain := newMethod(t, "camera", o)
	o.LocalMotion = 1
	local := newMethod(t, "camera", o)
	differ := 0
	for seed := range uint64(24) {
		a, err := plain.Sampler().Sample(newFakeReader(seed, 200, 32), -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := local.Sampler().Sample(newFakeReader(seed, 200, 32), -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		if a.Targets[0] != b.Targets[0] || len(b.Views) != 1 {
			t.Fatalf("seed %d: target %v with local motion, %v without; %d views", seed, b.Targets[0], a.Targets[0], len(b.Views))
		}
		if !slices.Equal(a.Views[0].Data, b.Views[0].Data) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("no clip changed with every clip's motion local")
	}
	if _, err := New("rotation", o); err == nil {
		t.Error("a local-motion share was accepted by a method without a camera term")
	}
	if _, err := New("camera+rotation", o); err != nil {
		t.Errorf("camera+rotation with a local-motion share: %v", err)
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		o.LocalMotion = bad
		if _, err := New("camera", o); err == nil {
			t.Errorf("local-motion share %g was accepted", bad)
		}
	}
}

// middleFrameReader shows, for every clip read, the clip's middle frame in
// every position: it reads that frame alone from the wrapped reader.
type middleFrameReader struct{ *fakeReader }

func (m middleFrameReader) Read(start, frames, stride int) (*loader.RawClip, error) {
	one, err := m.fakeReader.Read(start+frames/2*stride, 1, 1)
	if err != nil {
		return nil, err
	}
	out := &loader.RawClip{T: frames, H: one.H, W: one.W}
	for range frames {
		out.Pix = append(out.Pix, one.Pix...)
	}
	return out, nil
}

// TestStillClip checks that every frame of a still clip is the input's
// middle frame, for odd and even lengths, and that the input is unchanged.
func TestStillClip(t *testing.T) {
	for _, frames := range []int{1, 4, 5} {
		raw, err := newFakeReader(3, 40, 8).Read(2, frames, 3)
		if err != nil {
			t.Fatal(err)
		}
		before := slices.Clone(raw.Pix)
		want, err := middleFrameReader{newFakeReader(3, 40, 8)}.Read(2, frames, 3)
		if err != nil {
			t.Fatal(err)
		}
		got := StillClip(raw)
		if got.T != frames || got.H != raw.H || got.W != raw.W || !slices.Equal(got.Pix, want.Pix) {
			t.Errorf("%d frames: the still clip is not the middle frame repeated", frames)
		}
		if !slices.Equal(raw.Pix, before) {
			t.Errorf("%d frames: StillClip changed its input", frames)
		}
	}
}

// TestCameraStillOption checks that camera with Still moves the middle frame
// alone: its samples are plain camera's on a video whose clips are that
// frame repeated, and differ from plain camera's on the moving video.
func TestCameraStillOption(t *testing.T) {
	o := testOptions()
	plain := newMethod(t, "camera", o)
	o.Still = true
	still := newMethod(t, "camera", o)
	differ := 0
	for seed := range uint64(24) {
		got, err := still.Sampler().Sample(newFakeReader(seed, 200, 32), -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Sampler().Sample(middleFrameReader{newFakeReader(seed, 200, 32)}, -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		moving, err := plain.Sampler().Sample(newFakeReader(seed, 200, 32), -1, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Targets[0] != want.Targets[0] || !slices.Equal(got.Views[0].Data, want.Views[0].Data) {
			t.Fatalf("seed %d: camera on still frames differs from camera on the repeated middle frame", seed)
		}
		if !slices.Equal(got.Views[0].Data, moving.Views[0].Data) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("freezing the clips changed no sample")
	}
	if _, err := New("rotation", o); err == nil {
		t.Error("still frames were accepted by a method without a camera term")
	}
}

// TestPanSpeedJitter checks that a jitter J spreads the pans' speeds over
// [1-J, 1+J] of the fixed step (capped where the path would leave the frame),
// that J = 0 keeps every pan at the fixed step, and that only camera takes it.
func TestPanSpeedJitter(t *testing.T) {
	raw := &loader.RawClip{T: 4, H: 40, W: 40, Pix: make([]uint8, 4*40*40*3)}
	base := PanStep * 40
	cap := float64(40-CameraSide(40, 40, 4)) / 3 // the longest step whose path fits
	for _, c := range []struct {
		jitter, lo, hi float64 // the speeds seen must reach below lo and above hi
	}{
		{0, 1, 1},
		{0.4, 0.7, 1.2},
	} {
		rng := rand.New(rand.NewPCG(7, 1))
		minSpeed, maxSpeed := math.Inf(1), math.Inf(-1)
		for range 400 {
			_, motion, views, err := drawCameraMotion(raw, c.jitter, rng)
			if err != nil {
				t.Fatal(err)
			}
			if motion >= PanDirections {
				continue // zooms and rolls draw no speed
			}
			// corners are whole pixels, so the measured step is within 1/3 px of the drawn one
			step := math.Hypot(views[3].X-views[0].X, views[3].Y-views[0].Y) / 3
			speed := step / base
			minSpeed, maxSpeed = min(minSpeed, speed), max(maxSpeed, speed)
			if step > cap+0.5 || speed < 1-c.jitter-0.2 {
				t.Errorf("jitter %g: a pan stepped %.2f px, outside [%.2f, %.2f]", c.jitter, step, (1-c.jitter)*base, cap)
			}
		}
		if c.jitter == 0 && (minSpeed < 0.85 || maxSpeed > 1.15) {
			t.Errorf("no jitter: pan speeds %.2f-%.2f of the step, want all about 1", minSpeed, maxSpeed)
		}
		if c.jitter > 0 && (minSpeed > c.lo || maxSpeed < c.hi) {
			t.Errorf("jitter %g: pan speeds %.2f-%.2f of the step, want below %.2f and above %.2f", c.jitter, minSpeed, maxSpeed, c.lo, c.hi)
		}
	}
	if _, err := New("speed", Options{PanSpeedJitter: 0.4}); err == nil {
		t.Error("a pan speed jitter was accepted by a method without a camera term")
	}
	if _, err := New("camera", Options{PanSpeedJitter: 1}); err == nil {
		t.Error("a pan speed jitter of 1 was accepted")
	}
}
