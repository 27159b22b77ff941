// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length N, N bytes of JSON header mapping each tensor
// name to {"dtype", "shape", "data_offsets"} (plus an optional
// "__metadata__" string map), then the raw little-endian tensor bytes.
//
// Files are untrusted input. Open validates the whole header against the
// file size before any tensor is read: every dtype is known, every shape is
// non-negative and its byte size matches its range, ranges lie inside the
// data and do not overlap, and together they cover it. Errors name the file;
// nothing panics and no read goes out of bounds.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

// DType is a safetensors element type name, as spelled in headers.
type DType string

// The element types this package knows.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// dtypeSizes holds the byte size of each known element type.
var dtypeSizes = map[DType]int{
	F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1,
	U64: 8, U32: 4, U16: 2, U8: 1, Bool: 1,
}

// Size returns the byte size of one element, or 0 for an unknown type.
func (d DType) Size() int { return dtypeSizes[d] }

// MaxHeaderBytes bounds the JSON header read from a file.
const MaxHeaderBytes = 100 << 20

// metadataKey is the reserved header entry holding free-form strings.
const metadataKey = "__metadata__"

// Info describes one tensor of a file.
type Info struct {
	DType DType
	Shape []int
	// Begin and End are the tensor's byte range, relative to the start of
	// the data section.
	Begin, End int64
}

// Elements returns the number of elements of the tensor.
func (i Info) Elements() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// headerEntry is one tensor's JSON header entry.
type headerEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// File is an open, validated safetensors file. Its methods are not safe for
// concurrent use with Close.
type File struct {
	path     string
	r        io.ReaderAt
	closer   io.Closer
	dataBase int64
	metadata map[string]string
	infos    map[string]Info
}

// Open opens path and validates its header (see the package comment).
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	sf, err := Parse(path, f, st.Size())
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// Parse validates the safetensors content of r, size bytes long; name is
// used in errors. The returned File reads tensors from r.
func Parse(name string, r io.ReaderAt, size int64) (*File, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a valid safetensors file (%s); re-create it or restore a good copy", name, fmt.Sprintf(format, args...))
	}
	var lenBuf [8]byte
	if size < 8 {
		return nil, bad("shorter than 8 bytes")
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, bad("cannot read the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > MaxHeaderBytes || n > uint64(size-8) {
		return nil, bad("header length %d does not fit a file of %d bytes", n, size)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, bad("truncated header: %v", err)
	}
	sf := &File{path: name, r: r, dataBase: 8 + int64(n), infos: map[string]Info{}}
	if err := sf.parseHeader(header, size-sf.dataBase); err != nil {
		return nil, bad("%v", err)
	}
	return sf, nil
}

// parseHeader fills sf from the JSON header and checks it against dataLen.
func (sf *File) parseHeader(header []byte, dataLen int64) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return fmt.Errorf("header is not JSON: %v", err)
	}
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &sf.metadata); err != nil {
				return fmt.Errorf("%s is not a map of strings", metadataKey)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return fmt.Errorf("tensor %q: %v", name, err)
		}
		info, err := e.check(dataLen)
		if err != nil {
			return fmt.Errorf("tensor %q: %v", name, err)
		}
		sf.infos[name] = info
	}
	return sf.checkCoverage(dataLen)
}

// check validates an entry's dtype, shape and byte range against the data length.
func (e headerEntry) check(dataLen int64) (Info, error) {
	size := e.DType.Size()
	if size == 0 {
		return Info{}, fmt.Errorf("unknown dtype %q", e.DType)
	}
	elems := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && elems > math.MaxInt64/int64(d)/8) {
			return Info{}, fmt.Errorf("bad shape %v", e.Shape)
		}
		elems *= int64(d)
	}
	begin, end := e.Offsets[0], e.Offsets[1]
	if begin < 0 || end < begin || end > dataLen {
		return Info{}, fmt.Errorf("byte range %d..%d outside the %d data bytes", begin, end, dataLen)
	}
	if end-begin != elems*int64(size) {
		return Info{}, fmt.Errorf("byte range of %d bytes does not match shape %v of %s", end-begin, e.Shape, e.DType)
	}
	shape := append([]int{}, e.Shape...)
	return Info{DType: e.DType, Shape: shape, Begin: begin, End: end}, nil
}

// checkCoverage refuses overlapping ranges and data bytes no tensor owns.
func (sf *File) checkCoverage(dataLen int64) error {
	names := sf.Names()
	sort.SliceStable(names, func(i, j int) bool { return sf.infos[names[i]].Begin < sf.infos[names[j]].Begin })
	var pos int64
	prev := ""
	for _, name := range names {
		info := sf.infos[name]
		if info.Begin == info.End {
			continue
		}
		if info.Begin < pos {
			return fmt.Errorf("tensors %q and %q overlap at byte %d", prev, name, info.Begin)
		}
		if info.Begin > pos {
			return fmt.Errorf("data bytes %d..%d belong to no tensor", pos, info.Begin)
		}
		pos, prev = info.End, name
	}
	if pos != dataLen {
		return fmt.Errorf("data bytes %d..%d belong to no tensor", pos, dataLen)
	}
	return nil
}

// Path returns the name the file was opened with.
func (sf *File) Path() string { return sf.path }

// Metadata returns the header's "__metadata__" map (nil if absent).
func (sf *File) Metadata() map[string]string { return sf.metadata }

// Names lists the tensor names, sorted.
func (sf *File) Names() []string {
	out := make([]string, 0, len(sf.infos))
	for name := range sf.infos {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Len returns the number of tensors.
func (sf *File) Len() int { return len(sf.infos) }

// Info returns the description of tensor name.
func (sf *File) Info(name string) (Info, bool) {
	info, ok := sf.infos[name]
	return info, ok
}

// ErrNoTensor is wrapped by errors about a name the file does not hold.
var ErrNoTensor = errors.New("no such tensor")

// ReadBytes reads tensor name's raw little-endian bytes into dst, which must
// be exactly End-Begin long.
func (sf *File) ReadBytes(name string, dst []byte) error {
	info, ok := sf.infos[name]
	if !ok {
		return fmt.Errorf("%s: %w %q", sf.path, ErrNoTensor, name)
	}
	if int64(len(dst)) != info.End-info.Begin {
		return fmt.Errorf("%s: tensor %q has %d bytes, buffer has %d", sf.path, name, info.End-info.Begin, len(dst))
	}
	if len(dst) == 0 {
		return nil
	}
	if _, err := sf.r.ReadAt(dst, sf.dataBase+info.Begin); err != nil {
		return fmt.Errorf("%s: reading tensor %q: %w (the file changed or is truncated)", sf.path, name, err)
	}
	return nil
}

// Bytes returns tensor name's raw little-endian bytes.
func (sf *File) Bytes(name string) ([]byte, error) {
	info, ok := sf.infos[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w %q", sf.path, ErrNoTensor, name)
	}
	buf := make([]byte, info.End-info.Begin)
	return buf, sf.ReadBytes(name, buf)
}

// Float32s returns tensor name converted to float32 (F32, F16, BF16, F64,
// I64, I32, I16, I8, U8 are accepted) and its shape.
func (sf *File) Float32s(name string) ([]float32, []int, error) {
	info, ok := sf.infos[name]
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w %q", sf.path, ErrNoTensor, name)
	}
	raw, err := sf.Bytes(name)
	if err != nil {
		return nil, nil, err
	}
	out, err := ToFloat32(info.DType, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: tensor %q: %w", sf.path, name, err)
	}
	return out, info.Shape, nil
}

// Close closes the underlying file (if Open opened it).
func (sf *File) Close() error {
	if sf.closer == nil {
		return nil
	}
	return sf.closer.Close()
}

// CheckShape returns an error naming the file unless tensor name exists
// with exactly the given shape.
func (sf *File) CheckShape(name string, want []int) error {
	info, ok := sf.infos[name]
	if !ok {
		return fmt.Errorf("%s: %w %q", sf.path, ErrNoTensor, name)
	}
	if !slices.Equal(info.Shape, want) {
		return fmt.Errorf("%s: tensor %q has shape %v, want %v", sf.path, name, info.Shape, want)
	}
	return nil
}

// String is a short "dtype[shape]" for messages.
func (i Info) String() string {
	dims := make([]string, len(i.Shape))
	for k, d := range i.Shape {
		dims[k] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s[%s]", i.DType, strings.Join(dims, ","))
}
