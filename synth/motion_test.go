package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// TestTrajectories checks that each class moves the object the way its name
// says, from the same start, for a few random draws.
func TestTrajectories(t *testing.T) {
	const frames = 12
	delta := func(a, b float64) float64 { return wrapHalf(b - a) }
	cases := []struct {
		class string
		ok    func(s []objState) bool
	}{
		{"TranslateRight", func(s []objState) bool {
			return delta(s[0].x, s[1].x) > 0 && math.Abs(delta(s[0].y, s[1].y)) < delta(s[0].x, s[1].x)
		}},
		{"TranslateLeft", func(s []objState) bool {
			return delta(s[0].x, s[1].x) < 0 && math.Abs(delta(s[0].y, s[1].y)) < -delta(s[0].x, s[1].x)
		}},
		{"TranslateUp", func(s []objState) bool {
			return delta(s[0].y, s[1].y) < 0 && math.Abs(delta(s[0].x, s[1].x)) < -delta(s[0].y, s[1].y)
		}},
		{"TranslateDown", func(s []objState) bool {
			return delta(s[0].y, s[1].y) > 0 && math.Abs(delta(s[0].x, s[1].x)) < delta(s[0].y, s[1].y)
		}},
		{"RotateClockwise", func(s []objState) bool { return s[1].theta > s[0].theta && s[1].x == s[0].x && s[1].size == s[0].size }},
		{"RotateCounterclockwise", func(s []objState) bool { return s[1].theta < s[0].theta && s[1].y == s[0].y }},
		{"Grow", func(s []objState) bool {
			return countIncreases(s, func(o objState) float64 { return o.size }) >= frames-2
		}},
		{"Shrink", func(s []objState) bool { return countIncreases(s, func(o objState) float64 { return o.size }) <= 1 }},
		{"Oscillate", func(s []objState) bool { return reversesAlongLine(s) }},
		{"Orbit", func(s []objState) bool { return s[0].theta == s[frames-1].theta && turnsOneWay(s) }},
		{"StartStop", func(s []objState) bool { return stillFrames(s) >= 2 && moves(s) }},
		{"Wander", func(s []objState) bool { return stillFrames(s) == 0 && moves(s) }},
	}
	if len(cases) != len(ClassNames) {
		t.Fatalf("%d classes but %d cases", len(ClassNames), len(cases))
	}
	for class, c := range cases {
		if ClassNames[class] != c.class {
			t.Fatalf("class %d is %s, case says %s", class, ClassNames[class], c.class)
		}
		for draw := uint64(0); draw < 10; draw++ {
			r := newRNG(7, draw)
			friction := []float64{0, 0.07}[draw%2] // a slowing motion is still its class's
			s := trajectory(class, initialState(r), 1, frames, friction, newRNG(7, draw, 99))
			if !c.ok(s) {
				t.Errorf("%s draw %d, friction %g: trajectory does not match the class: %+v", c.class, draw, friction, s[:3])
			}
			for _, o := range s {
				if o.x < 0 || o.x >= 1 || o.y < 0 || o.y >= 1 || o.size < sizeMin*0.999 || o.size > sizeMax*1.001 {
					t.Fatalf("%s: state %+v leaves the torus or the size range", c.class, o)
				}
			}
		}
	}
}

func countIncreases(s []objState, f func(objState) float64) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if f(s[i]) > f(s[i-1]) {
			n++
		}
	}
	return n
}

// reversesAlongLine reports whether the velocity flips to (nearly) its opposite.
func reversesAlongLine(s []objState) bool {
	vx, vy := wrapHalf(s[1].x-s[0].x), wrapHalf(s[1].y-s[0].y)
	for i := 2; i < len(s); i++ {
		wx, wy := wrapHalf(s[i].x-s[i-1].x), wrapHalf(s[i].y-s[i-1].y)
		if cos := (vx*wx + vy*wy) / (math.Hypot(vx, vy)*math.Hypot(wx, wy) + 1e-12); cos < -0.99 {
			return true
		}
	}
	return false
}

// turnsOneWay reports whether the velocity keeps turning the same way round.
func turnsOneWay(s []objState) bool {
	sign := 0.0
	for i := 2; i < len(s); i++ {
		vx, vy := wrapHalf(s[i-1].x-s[i-2].x), wrapHalf(s[i-1].y-s[i-2].y)
		wx, wy := wrapHalf(s[i].x-s[i-1].x), wrapHalf(s[i].y-s[i-1].y)
		c := vx*wy - vy*wx
		if c*sign < 0 || c == 0 {
			return false
		}
		sign = c
	}
	return true
}

func moves(s []objState) bool { return s[len(s)-1].x != s[0].x || s[len(s)-1].y != s[0].y }

func stillFrames(s []objState) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if s[i].x == s[i-1].x && s[i].y == s[i-1].y {
			n++
		}
	}
	return n
}

// TestSawtoothStaysLogUniform checks that the size wrap keeps sizes in range
// and that growing then shrinking by the same amount returns the size.
func TestSawtoothStaysLogUniform(t *testing.T) {
	for _, size := range []float64{sizeMin, 0.3, 0.5, sizeMax * 0.999} {
		for _, g := range []float64{0.01, -0.01, 0.5, -0.5} {
			s := sawtooth(size, g)
			if s < sizeMin*0.999999 || s >= sizeMax*1.000001 {
				t.Errorf("sawtooth(%g, %g) = %g, outside [%g, %g)", size, g, s, sizeMin, sizeMax)
			}
			if back := sawtooth(s, -g); math.Abs(back-size) > 1e-9 && math.Abs(back-size) < sizeMax-sizeMin-1e-6 {
				t.Errorf("sawtooth(sawtooth(%g, %g), %g) = %g", size, g, -g, back)
			}
		}
	}
}

// TestFirstFrameIsClassIndependent renders the same clip under every class:
// frame 0 must be byte-identical (appearance and start state never depend on
// the class), and the last frames must differ (the motion does).
func TestFirstFrameIsClassIndependent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Frames, cfg.Classes = 6, len(ClassNames)
	n := cfg.Size * cfg.Size * 3
	var first, last [][]uint8
	for class := range ClassNames {
		it := item{class: class, path: []uint64{kindLabeled, 0, 3, 2}, scene: []uint64{kindScene, 3}}
		pix := it.render(cfg)
		if len(pix) != cfg.Frames*n {
			t.Fatalf("rendered %d bytes, want %d", len(pix), cfg.Frames*n)
		}
		first, last = append(first, pix[:n]), append(last, pix[len(pix)-n:])
	}
	for class := 1; class < len(ClassNames); class++ {
		if !bytes.Equal(first[0], first[class]) {
			t.Errorf("frame 0 of %s differs from %s's: a single frame could tell the class", ClassNames[class], ClassNames[0])
		}
	}
	distinct := map[string]bool{}
	for _, l := range last {
		distinct[string(l)] = true
	}
	if len(distinct) < len(ClassNames)-1 {
		t.Errorf("only %d distinct last frames for %d classes: motions do not show", len(distinct), len(ClassNames))
	}
}

// TestFrictionSlowsTheMotion checks that with friction k each frame's step
// is e^-k times the one before, at the nominal size mid-clip, for the
// classes whose step can be read from the state (translation, spin, growth).
func TestFrictionSlowsTheMotion(t *testing.T) {
	const frames, friction = 12, 0.07
	steps := map[string]func(a, b objState) float64{
		"TranslateRight":  func(a, b objState) float64 { return math.Hypot(wrapHalf(b.x-a.x), wrapHalf(b.y-a.y)) },
		"RotateClockwise": func(a, b objState) float64 { return b.theta - a.theta },
		"Grow":            func(a, b objState) float64 { return math.Log(b.size / a.size) },
	}
	nominal := map[string]float64{"TranslateRight": translateSpeed, "RotateClockwise": spinSpeed, "Grow": growthRate}
	for class, name := range ClassNames {
		step, ok := steps[name]
		if !ok {
			continue
		}
		s := trajectory(class, initialState(newRNG(3, 1)), 1, frames, friction, newRNG(3, 1, 99))
		for f := 2; f < frames; f++ {
			prev, cur := step(s[f-2], s[f-1]), step(s[f-1], s[f])
			if name == "Grow" && (prev < 0 || cur < 0) {
				continue // the sawtooth restarted
			}
			if ratio := cur / prev; math.Abs(ratio-math.Exp(-friction)) > 1e-9 {
				t.Fatalf("%s: step %d is %.4g times step %d, want e^-%g", name, f, ratio, f-1, friction)
			}
		}
		// frames 5->6 straddle the middle (5.5): their step is e^-(0.5k) times nominal
		if got, want := step(s[5], s[6]), nominal[name]*math.Exp(-0.5*friction); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: the step across mid-clip is %.5g, want %.5g", name, got, want)
		}
	}
}

// steadyDigest is the SHA-256 of every class's trajectories (4 draws, 24
// frames, speed 1.1, the state's float64 bits in order), as the code wrote
// them before friction existed (commit 2760348).
const steadyDigest = "8c508173f1c1885e9e6177f3d36b4e00757a6870ad5c76c4972c2a43990bc6ff"

// TestNoFrictionKeepsTheSteadyTrajectories guards the promise that
// --friction 0 writes the same videos as before the option existed.
func TestNoFrictionKeepsTheSteadyTrajectories(t *testing.T) {
	h := sha256.New()
	for class := range ClassNames {
		for draw := uint64(0); draw < 4; draw++ {
			r := newRNG(11, draw)
			for _, o := range trajectory(class, initialState(r), 1.1, 24, 0, newRNG(11, draw, 5)) {
				for _, v := range []float64{o.x, o.y, o.theta, o.size} {
					if err := binary.Write(h, binary.LittleEndian, math.Float64bits(v)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != steadyDigest {
		t.Errorf("trajectories without friction changed: digest %s, want %s", got, steadyDigest)
	}
}
