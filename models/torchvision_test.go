package models

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vidrep/vidrep/safetensors"
)

// tvFixture is a reference written by scripts/torchvision_fixture.py.
type tvFixture struct {
	Arch       string `json:"arch"`
	InputShape []int  `json:"input_shape"`
	Keys       []struct {
		Key   string `json:"key"`
		Shape []int  `json:"shape"`
		DType string `json:"dtype"`
	} `json:"keys"`
	Features [][]float64 `json:"features"`
	Logits   [][]float64 `json:"logits"`
}

func readFixture(t testing.TB, arch string) *tvFixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "torchvision_"+arch+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx tvFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	return &fx
}

// formulaValues recomputes the fixture script's value of every element of
// the tensor key with torch shape shape (see its docstring).
func formulaValues(key string, shape []int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	phase := float64(h.Sum32()%1000) / 100
	fanIn := 1
	for _, d := range shape[min(1, len(shape)):] {
		fanIn *= d
	}
	leaf := key[strings.LastIndex(key, ".")+1:]
	out := make([]float32, n)
	for i := range out {
		base := math.Sin(0.7071*float64(i) + phase)
		var v float64
		switch {
		case leaf == "weight" && len(shape) >= 2:
			v = base * 2 / math.Sqrt(float64(fanIn))
		case leaf == "weight":
			v = 1 + 0.2*base
		case leaf == "bias" || leaf == "running_mean":
			v = 0.1 * base
		case leaf == "running_var":
			v = 1 + 0.25*(1+base)
		}
		out[i] = float32(v)
	}
	return out
}

// writeFixtureWeights writes the fixture's state dict, recomputed by the
// formula, as a safetensors file with torchvision's keys; drop leaves keys
// out and reshape overrides shapes; zeros writes zeros instead (faster, for
// tests of keys and shapes).
func writeFixtureWeights(t testing.TB, fx *tvFixture, drop map[string]bool, reshape map[string][]int, zeros bool) string {
	t.Helper()
	var list []safetensors.Tensor
	for _, k := range fx.Keys {
		if drop[k.Key] {
			continue
		}
		shape := k.Shape
		if s, ok := reshape[k.Key]; ok {
			shape = s
		}
		if k.DType == "int64" {
			list = append(list, safetensors.Tensor{Name: k.Key, DType: safetensors.I64, Shape: shape, Data: make([]byte, 8)})
			continue
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]byte, 4*n)
		if !zeros {
			data = safetensors.Float32Bytes(formulaValues(k.Key, shape))
		}
		list = append(list, safetensors.Tensor{Name: k.Key, DType: safetensors.F32, Shape: shape, Data: data})
	}
	path := filepath.Join(t.TempDir(), fx.Arch+".safetensors")
	if err := safetensors.WriteFile(path, nil, list); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixtureInput is the script's input formula, in torch layout
// (N,C,T,H,W or N,C,H,W), returned channels-last as [N,T,H,W,C] with T
// copies of the frame for a 2D input.
func fixtureInput(torchShape []int, frames int) *tensors.Tensor {
	n, c := torchShape[0], torchShape[1]
	t, hw := frames, torchShape[2:]
	if len(hw) == 3 {
		t, hw = hw[0], hw[1:]
	}
	h, w := hw[0], hw[1]
	out := make([]float32, n*t*h*w*c)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for ti := 0; ti < t; ti++ {
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						j := (((b*c+ch)*t+ti)*h+y)*w + x
						if len(torchShape) == 4 {
							j = ((b*c+ch)*h+y)*w + x
						}
						v := math.Sin(0.05*float64(j)) * math.Cos(0.0013*float64(j))
						out[(((b*t+ti)*h+y)*w+x)*c+ch] = float32(v)
					}
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(out, n, t, h, w, c)
}

// runImported runs the imported backbone and head in inference mode and
// returns features and logits.
func runImported(t testing.TB, arch string, store *model.Store, classes int, clips *tensors.Tensor) ([]float32, []float32) {
	t.Helper()
	bb, err := New(arch, Options{})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(testBackend(), store, func(scope *model.Scope, x *Node) []*Node {
		f := bb.Features(scope.At(DefaultBackboneScope), x, false)
		return []*Node{f, LinearHead(scope.At(DefaultHeadScope), f, classes)}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Call(clips)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
}

// relMaxDiff is max|got-want| / max|want|.
func relMaxDiff(got []float32, want [][]float64) float64 {
	var diff, scale float64
	k := 0
	for _, row := range want {
		for _, w := range row {
			diff = max(diff, math.Abs(float64(got[k])-w))
			scale = max(scale, math.Abs(w))
			k++
		}
	}
	if k != len(got) {
		return math.Inf(1)
	}
	return diff / scale
}

// TestTorchvisionLogits imports torchvision state dicts (recomputed from
// the committed fixtures' formula, keys and shapes) and compares the
// backbone's features and logits with torchvision's.
func TestTorchvisionLogits(t *testing.T) {
	archs := []string{"r3d_18", "mc3_18", "r2plus1d_18"}
	if testing.Short() {
		archs = archs[:1]
	}
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			fx := readFixture(t, arch)
			file := writeFixtureWeights(t, fx, nil, nil, false)
			store, info, err := ImportTorchvision(testBackend(), arch, Options{}, file, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Every torchvision key but fc and num_batches_tracked is a backbone tensor.
			want := 0
			for _, k := range fx.Keys {
				if !strings.HasSuffix(k.Key, "num_batches_tracked") && !strings.HasPrefix(k.Key, "fc.") {
					want++
				}
			}
			if info.Tensors != want || info.Classes != 400 {
				t.Errorf("imported %d tensors and %d classes, want %d and 400", info.Tensors, info.Classes, want)
			}
			feats, logits := runImported(t, arch, store, info.Classes, fixtureInput(fx.InputShape, 0))
			if d := relMaxDiff(feats, fx.Features); d > 1e-3 {
				t.Errorf("features differ from torchvision's: relative max difference %.2g", d)
			}
			if d := relMaxDiff(logits, fx.Logits); d > 1e-3 {
				t.Errorf("logits differ from torchvision's: relative max difference %.2g", d)
			} else {
				t.Logf("%s logits: relative max difference %.2g", arch, d)
			}
		})
	}
}

// TestImportRefusesWrongStateDicts checks the one-line errors for missing,
// unexpected and mis-shaped keys and for the wrong architecture.
func TestImportRefusesWrongStateDicts(t *testing.T) {
	fx := readFixture(t, "r3d_18")
	cases := []struct {
		name    string
		arch    string
		drop    map[string]bool
		reshape map[string][]int
		want    []string
	}{
		{"missing key", "r3d_18", map[string]bool{"layer1.0.conv1.1.running_mean": true}, nil, []string{"1 missing keys: layer1.0.conv1.1.running_mean"}},
		{"wrong shape", "r3d_18", nil, map[string][]int{"layer2.0.conv1.0.weight": {128, 64, 3, 3, 1}}, []string{"wrong shapes: layer2.0.conv1.0.weight is [128 64 3 3 1], the model wants [128 64 3 3 3]"}},
		{"other architecture", "mc3_18", nil, nil, []string{"not a mc3_18 state dict", "wrong shapes: layer2.0.conv1.0.weight"}},
		{"other family", "r2plus1d_18", nil, nil, []string{"101 missing keys", "16 unexpected keys", "stem.0.weight is [64 3 3 7 7], the model wants [45 3 1 7 7]"}},
		{"fc of another width", "r3d_18", nil, map[string][]int{"fc.weight": {400, 256}}, []string{"fc.weight is [400 256]"}},
		{"fc weight alone", "r3d_18", map[string]bool{"fc.bias": true}, nil, []string{"only one of fc.weight and fc.bias"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := writeFixtureWeights(t, fx, c.drop, c.reshape, true)
			_, _, err := ImportTorchvision(testBackend(), c.arch, Options{}, file, ImportOptions{})
			if err == nil {
				t.Fatal("import accepted a wrong state dict")
			}
			for _, w := range append(c.want, file) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A file that is not safetensors at all.
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, binary.LittleEndian.AppendUint64(nil, 1<<40), 0o644)
	if _, _, err := ImportTorchvision(testBackend(), "r3d_18", Options{}, bad, ImportOptions{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated file: %v", err)
	}
}

// TestExportRoundTrip exports an imported store and compares every tensor
// with the original file: same keys, shapes and values.
func TestExportRoundTrip(t *testing.T) {
	fx := readFixture(t, "r2plus1d_18")
	file := writeFixtureWeights(t, fx, nil, nil, false)
	store, _, err := ImportTorchvision(testBackend(), "r2plus1d_18", Options{}, file, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.safetensors")
	n, err := ExportTorchvision(store, "", "", out)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(fx.Keys) {
		t.Errorf("exported %d tensors, torchvision's state dict has %d", n, len(fx.Keys))
	}
	a, err := safetensors.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if strings.Join(a.Names(), ",") != strings.Join(b.Names(), ",") {
		t.Fatalf("exported keys differ:\n%v\n%v", a.Names(), b.Names())
	}
	for _, name := range a.Names() {
		ia, _ := a.Info(name)
		ib, _ := b.Info(name)
		if ia.String() != ib.String() {
			t.Errorf("%s: exported as %s, was %s", name, ib, ia)
			continue
		}
		ra, _ := a.Bytes(name)
		rb, _ := b.Bytes(name)
		if string(ra) != string(rb) {
			t.Errorf("%s: values changed in the round trip", name)
		}
	}
}

func TestConv3DLayoutInverse(t *testing.T) {
	dims := []int{3, 1, 2, 4, 5} // kT,kH,kW,Cin,Cout
	src := make([]float32, 3*1*2*4*5)
	for i := range src {
		src[i] = float32(i)
	}
	ours := TorchToConv3D(src, dims)
	// torch[o=2,i=3,t=1,h=0,w=1] lands at ours[1,0,1,3,2].
	if got, want := ours[(((1*1+0)*2+1)*4+3)*5+2], src[(((2*4+3)*3+1)*1+0)*2+1]; got != want {
		t.Errorf("transposed element %g, want %g", got, want)
	}
	back := Conv3DToTorch(ours, dims)
	for i := range src {
		if back[i] != src[i] {
			t.Fatalf("round trip changed element %d", i)
		}
	}
}

// TestImportHalfPrecision imports a state dict stored in F16 (kernels) and
// BF16 (everything else) and checks every value arrives as the exact
// float32 of its half, in vidrep's kernel layout.
func TestImportHalfPrecision(t *testing.T) {
	bb, err := New("r3d-small", Options{})
	if err != nil {
		t.Fatal(err)
	}
	traced := model.NewStore()
	if err := TraceVariables(testBackend(), traced, "backbone", bb); err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{} // torch layout
	var list []safetensors.Tensor
	for v := range traced.IterVariables() {
		key, _ := exportKey(v.Path(), "backbone", "head")
		if strings.HasSuffix(key, "num_batches_tracked") {
			continue
		}
		dims := v.Shape().Dimensions
		if len(dims) == 5 {
			dims = []int{dims[4], dims[3], dims[0], dims[1], dims[2]}
		}
		n := v.Shape().Size()
		raw, vals := make([]byte, 2*n), make([]float32, n)
		dtype := safetensors.BF16
		for i := range vals {
			bits := uint16(0x3f80 + i%97) // bfloat16 1 + k/128
			if len(dims) == 5 {
				dtype, bits = safetensors.F16, uint16(0x3c00+i%97) // half 1 + k/1024
				vals[i] = safetensors.HalfToFloat32(bits)
			} else {
				vals[i] = math.Float32frombits(uint32(bits) << 16)
			}
			binary.LittleEndian.PutUint16(raw[2*i:], bits)
		}
		want[v.Path()] = vals
		list = append(list, safetensors.Tensor{Name: key, DType: dtype, Shape: dims, Data: raw})
	}
	file := filepath.Join(t.TempDir(), "half.safetensors")
	if err := safetensors.WriteFile(file, nil, list); err != nil {
		t.Fatal(err)
	}
	store, info, err := ImportTorchvision(testBackend(), "r3d-small", Options{}, file, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Tensors != len(want) || info.Classes != 0 {
		t.Errorf("imported %+v, want %d tensors and no head", info, len(want))
	}
	for path, vals := range want {
		v := store.GetVariable(path)
		if len(v.Shape().Dimensions) == 5 {
			vals = TorchToConv3D(vals, v.Shape().Dimensions)
		}
		got := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range vals {
			if got[i] != vals[i] {
				t.Fatalf("%s[%d] = %g, want %g", path, i, got[i], vals[i])
			}
		}
	}
}
