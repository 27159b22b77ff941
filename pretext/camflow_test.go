package pretext

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// camflow's view and first target are camera's, and its other targets are
// flowstats' for the same draw: the scene's motion, read before the camera
// moves, so a steady drift keeps its direction whatever the camera does.
func TestCamFlowIsCameraViewWithTheScenesMotionTargets(t *testing.T) {
	const frames, stride, w, h = 4, 3, 28, 20
	o := Options{Frames: frames, Stride: stride, Size: h, Augment: plainAugment}
	methods := map[string]Method{}
	for _, name := range []string{"camera", "flowstats", "camflow"} {
		m, err := New(name, o)
		if err != nil {
			t.Fatal(err)
		}
		methods[name] = m
	}
	for _, drift := range []struct {
		name      string
		vx, vy    float64
		direction int32
	}{{"right", 0.6, 0, 0}, {"up", 0, -0.6, 6}} {
		motions := map[int32]bool{}
		for seed := range uint64(40) {
			sample := func(name string) ([]float32, []int32) {
				r := &driftReader{n: 40, w: w, h: h, vx: drift.vx, vy: drift.vy}
				ex, err := methods[name].Sampler().Sample(r, -1, rand.New(rand.NewPCG(seed, 5)))
				if err != nil {
					t.Fatal(err)
				}
				if len(ex.Views) != 1 {
					t.Fatalf("%s: %d views, want 1", name, len(ex.Views))
				}
				return ex.Views[0].Data, ex.Targets
			}
			view, targets := sample("camflow")
			camView, camTargets := sample("camera")
			_, flowTargets := sample("flowstats")
			if len(targets) != 1+len(FlowTargets) {
				t.Fatalf("%d targets, want %d", len(targets), 1+len(FlowTargets))
			}
			if targets[0] != camTargets[0] || !slices.Equal(view, camView) {
				t.Fatalf("%s seed %d: camera motion %d and its view differ from camera's draw (motion %d)", drift.name, seed, targets[0], camTargets[0])
			}
			if !slices.Equal(targets[1:], flowTargets) {
				t.Fatalf("%s seed %d: motion targets %v, want flowstats' %v", drift.name, seed, targets[1:], flowTargets)
			}
			if targets[1] != drift.direction {
				t.Errorf("%s seed %d, camera motion %d: direction sector %d, want the scene's %d", drift.name, seed, targets[0], targets[1], drift.direction)
			}
			motions[targets[0]] = true
		}
		if len(motions) < CameraMotions/2 {
			t.Errorf("%s: only %d camera motions in 40 draws", drift.name, len(motions))
		}
	}
}
