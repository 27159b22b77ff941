package models

import (
	"math"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// TestInflatedResNet18MatchesImage loads torchvision resnet18 weights
// (formula fixture) into i3d_r18 with centre inflation and checks that a
// clip of one repeated frame gives torchvision's pooled features and logits
// on that frame; then exports the 3D network and imports it back.
func TestInflatedResNet18MatchesImage(t *testing.T) {
	fx := readFixture(t, "resnet18")
	file := writeFixtureWeights(t, fx, nil, nil, false)
	store, info, err := ImportTorchvision(testBackend(), "i3d_r18", Options{}, file, ImportOptions{Inflate: InflateCentre})
	if err != nil {
		t.Fatal(err)
	}
	if info.Classes != 1000 || info.Source != "inflated resnet18 (centre)" {
		t.Errorf("imported %+v, want 1000 classes from inflated resnet18", info)
	}
	clip := fixtureInput(fx.InputShape, 4)
	feats, logits := runImported(t, "i3d_r18", store, info.Classes, clip)
	if d := relMaxDiff(feats, fx.Features); d > 1e-3 {
		t.Errorf("pooled features differ from resnet18's on the frame: relative max difference %.2g", d)
	}
	if d := relMaxDiff(logits, fx.Logits); d > 1e-3 {
		t.Errorf("logits differ from resnet18's on the frame: relative max difference %.2g", d)
	}

	out := filepath.Join(t.TempDir(), "i3d.safetensors")
	if _, err := ExportTorchvision(store, "", "", out); err != nil {
		t.Fatal(err)
	}
	again, info2, err := ImportTorchvision(testBackend(), "i3d_r18", Options{}, out, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info2.Source != "torchvision" || info2.Tensors != info.Tensors {
		t.Errorf("re-import of the exported 3D network: %+v, want %d tensors with its own keys", info2, info.Tensors)
	}
	for _, path := range []string{"/backbone/stem/0/weight", "/backbone/layer3/0/downsample/1/running_var", "/head/weight"} {
		a, b := store.GetVariable(path).MustValue(), again.GetVariable(path).MustValue()
		if !a.Equal(b) {
			t.Errorf("%s changed in the export/import round trip", path)
		}
	}
}

// TestInflationModes checks both modes on one 3x3x3 conv over a clip of
// five repeated frames: centre inflation gives the 2D conv at every time
// step; mean inflation gives it in the interior and 2/3 of it at the two
// border steps, where one of the three slices meets the zero padding.
func TestInflationModes(t *testing.T) {
	const cin, cout, hw, frames = 2, 3, 5, 5
	k2 := make([]float32, cout*cin*3*3) // torch [Cout,Cin,kH,kW]
	for i := range k2 {
		k2[i] = float32(math.Sin(float64(i)))
	}
	frame := make([]float32, hw*hw*cin)
	for i := range frame {
		frame[i] = float32(math.Cos(0.3 * float64(i)))
	}
	clip := make([]float32, 0, frames*len(frame))
	for range frames {
		clip = append(clip, frame...)
	}
	dims := []int{3, 3, 3, cin, cout}
	conv := func(kernel []float32, kdims []int, x []float32, t int) []float32 {
		out := MustExecOnce(testBackend(), func(x, k *Node) *Node {
			return Conv3D(x, k, ConvSpec{Kernel: [3]int{kdims[0], 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [3]int{kdims[0] / 2, 1, 1}})
		}, tensors.FromFlatDataAndDimensions(x, 1, t, hw, hw, cin), tensors.FromFlatDataAndDimensions(kernel, kdims...))
		return tensors.MustCopyFlatData[float32](out)
	}
	// The 2D conv: a 1x3x3 kernel on the single frame.
	want := conv(InflateKernel(k2, []int{1, 3, 3, cin, cout}, InflateCentre), []int{1, 3, 3, cin, cout}, frame, 1)
	centre := conv(InflateKernel(k2, dims, InflateCentre), dims, clip, frames)
	mean := conv(InflateKernel(k2, dims, InflateMean), dims, clip, frames)
	step := len(want)
	for ti := 0; ti < frames; ti++ {
		scale := float32(1)
		if ti == 0 || ti == frames-1 {
			scale = 2.0 / 3
		}
		for i, w := range want {
			if d := math.Abs(float64(centre[ti*step+i] - w)); d > 1e-5 {
				t.Fatalf("centre: t=%d element %d is %g, the 2D conv gives %g", ti, i, centre[ti*step+i], w)
			}
			if d := math.Abs(float64(mean[ti*step+i] - scale*w)); d > 1e-5 {
				t.Fatalf("mean: t=%d element %d is %g, want %g x %g", ti, i, mean[ti*step+i], scale, w)
			}
		}
	}
}

func TestResNet2DKey(t *testing.T) {
	for in, want := range map[string]string{
		"stem.0.weight":                      "conv1.weight",
		"stem.1.running_var":                 "bn1.running_var",
		"layer1.0.conv1.0.weight":            "layer1.0.conv1.weight",
		"layer1.1.conv2.1.bias":              "layer1.1.bn2.bias",
		"layer3.0.downsample.0.weight":       "layer3.0.downsample.0.weight",
		"layer4.0.downsample.1.running_mean": "layer4.0.downsample.1.running_mean",
	} {
		if got := resnet2DKey(in); got != want {
			t.Errorf("resnet2DKey(%s) = %s, want %s", in, got, want)
		}
	}
	if _, err := ParseInflation("sideways"); err == nil {
		t.Error("ParseInflation accepted an unknown mode")
	}
}

// TestI3DTrains checks that a narrow i3d_r18 (max pool included) trains on
// the Go backend: features have the right shape and AdamW lowers the loss.
func TestI3DTrains(t *testing.T) {
	bb, err := New("i3d_r18", Options{Widths: []int{8, 16, 32, 64}})
	if err != nil {
		t.Fatal(err)
	}
	if bb.FeatureDim() != 64 {
		t.Fatalf("feature dim %d, want 64", bb.FeatureDim())
	}
	losses := adamSteps(t, bb, 4, 32, 1e-3, 6)
	if last := losses[len(losses)-1]; !(last < losses[0]) {
		t.Errorf("losses %v: AdamW did not lower the loss", losses)
	}
}
