package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile writes a file of a header (with its length, or lenOverride) and data.
func rawFile(t testing.TB, header string, data []byte, lenOverride uint64) string {
	t.Helper()
	n := uint64(len(header))
	if lenOverride > 0 {
		n = lenOverride
	}
	buf := binary.LittleEndian.AppendUint64(nil, n)
	buf = append(append(buf, header...), data...)
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRejectsBadFiles(t *testing.T) {
	good := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	cases := []struct {
		name, header string
		data         []byte
		lenOverride  uint64
		want         string
	}{
		{"empty header", "", nil, 0, "header length"},
		{"header longer than file", good, make([]byte, 8), 1 << 20, "header length"},
		{"huge header length", good, make([]byte, 8), 1 << 62, "header length"},
		{"not json", "{nope", nil, 0, "not JSON"},
		{"json array", "[1,2]", nil, 0, "not JSON"},
		{"unknown dtype", `{"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "unknown dtype"},
		{"range past the end", good, make([]byte, 4), 0, "outside"},
		{"range lies about shape", `{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 12), 0, "does not match"},
		{"negative dim", `{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "bad shape"},
		{"huge dims", `{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, make([]byte, 8), 0, "bad shape"},
		{"reversed range", `{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8), 0, "outside"},
		{"negative offset", `{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, make([]byte, 8), 0, "outside"},
		{"offset beyond int64", `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}`, make([]byte, 8), 0, "tensor \"w\""},
		{"overlap", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8), 0, "overlap"},
		{"hole", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8), 0, "belong to no tensor"},
		{"trailing bytes", good, make([]byte, 12), 0, "belong to no tensor"},
		{"metadata not strings", `{"__metadata__":{"a":1}}`, nil, 0, "map of strings"},
		{"entry not an object", `{"w":3}`, nil, 0, "tensor \"w\""},
	}
	short := filepath.Join(t.TempDir(), "short.safetensors")
	if err := os.WriteFile(short, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(short); err == nil || !strings.Contains(err.Error(), "shorter than 8 bytes") {
		t.Errorf("3-byte file: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := rawFile(t, c.header, c.data, c.lenOverride)
			f, err := Open(path)
			if err == nil {
				f.Close()
				t.Fatalf("opened a bad file")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err %q, want one naming the file and %q", err, c.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	f32 := []float32{1.5, -2, 3.25, 0}
	list := []Tensor{
		{Name: "b.f32", DType: F32, Shape: []int{2, 2}, Data: Float32Bytes(f32)},
		{Name: "a.scalar", DType: I64, Shape: nil, Data: binary.LittleEndian.AppendUint64(nil, uint64(7))},
		{Name: "c.empty", DType: F32, Shape: []int{0, 3}, Data: nil},
	}
	if err := WriteFile(path, map[string]string{"k": "v"}, list); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.Names(), ","); got != "a.scalar,b.f32,c.empty" {
		t.Errorf("names %s", got)
	}
	if f.Metadata()["k"] != "v" {
		t.Errorf("metadata %v", f.Metadata())
	}
	got, shape, err := f.Float32s("b.f32")
	if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != 2 {
		t.Fatalf("b.f32: shape %v err %v", shape, err)
	}
	for i := range f32 {
		if got[i] != f32[i] {
			t.Errorf("b.f32[%d] = %g, want %g", i, got[i], f32[i])
		}
	}
	if v, _, _ := f.Float32s("a.scalar"); len(v) != 1 || v[0] != 7 {
		t.Errorf("a.scalar read as %v", v)
	}
	tt, err := f.Tensor("b.f32")
	if err != nil || tt.Shape().Size() != 4 {
		t.Fatalf("GoMLX tensor: %v %v", tt, err)
	}
	if err := f.CheckShape("b.f32", []int{4}); err == nil || !strings.Contains(err.Error(), "want [4]") {
		t.Errorf("CheckShape with the wrong shape: %v", err)
	}
	if _, err := f.Bytes("nope"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("missing tensor: %v", err)
	}
	// The header is 8-byte aligned.
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw); n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
}

func TestWriteRefusesBadTensors(t *testing.T) {
	cases := []struct {
		name string
		list []Tensor
		want string
	}{
		{"short data", []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, "4 data bytes"},
		{"unknown dtype", []Tensor{{Name: "a", DType: "F8", Shape: []int{1}}}, "unknown dtype"},
		{"duplicate", []Tensor{{Name: "a", DType: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "a", DType: U8, Shape: []int{1}, Data: []byte{1}}}, "twice"},
		{"reserved", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{1}, Data: []byte{1}}}, "reserved"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := Write(&buf, nil, c.list); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func TestToFloat32(t *testing.T) {
	cases := []struct {
		dtype DType
		raw   []byte
		want  []float32
	}{
		{F16, []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b}, []float32{1, -2, 5.9604645e-08, 65504}},
		{BF16, []byte{0x80, 0x3f, 0x40, 0xc0}, []float32{1, -3}},
		{F64, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)), []float32{0.1}},
		{I32, []byte{0xff, 0xff, 0xff, 0xff}, []float32{-1}},
		{I64, binary.LittleEndian.AppendUint64(nil, 1<<40), []float32{1 << 40}},
	}
	for _, c := range cases {
		got, err := ToFloat32(c.dtype, c.raw)
		if err != nil {
			t.Fatalf("%s: %v", c.dtype, err)
		}
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("%s[%d] = %g, want %g", c.dtype, i, got[i], c.want[i])
			}
		}
	}
	if inf := HalfToFloat32(0x7c00); !math.IsInf(float64(inf), 1) {
		t.Errorf("f16 +inf read as %g", inf)
	}
	if nan := HalfToFloat32(0x7e00); !math.IsNaN(float64(nan)) {
		t.Errorf("f16 NaN read as %g", nan)
	}
	if _, err := ToFloat32(F32, make([]byte, 3)); err == nil {
		t.Error("3 bytes accepted as F32")
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), []byte{0, 0, 128, 63, 0, 0, 0, 64})
	f.Add([]byte(`{"__metadata__":{"a":"b"},"x":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]}}`), []byte{1, 2})
	f.Add([]byte(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"I64","shape":[],"data_offsets":[2,10]}}`), make([]byte, 10))
	f.Fuzz(func(t *testing.T, header, data []byte) {
		buf := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		buf = append(append(buf, header...), data...)
		sf, err := Parse("fuzz.safetensors", bytes.NewReader(buf), int64(len(buf)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.safetensors: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, name := range sf.Names() {
			info, _ := sf.Info(name)
			got, shape, err := sf.Float32s(name)
			if err != nil {
				continue // U64/U32/U16/BOOL do not convert
			}
			if len(got) != info.Elements() || len(shape) != len(info.Shape) {
				t.Fatalf("%s: %d values for %v", name, len(got), info)
			}
			if _, err := sf.Tensor(name); err != nil {
				t.Fatalf("%s: validated but unreadable: %v", name, err)
			}
		}
	})
}
