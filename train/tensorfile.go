package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Checkpoints and weight files use the safetensors layout: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian data. Tensor names are the
// GoMLX variable paths ("/backbone/conv1/weights").

// maxHeaderBytes bounds the JSON header read from an untrusted file.
const maxHeaderBytes = 100 << 20

var safetensorsDTypes = map[string]dtypes.DType{
	"F32": dtypes.Float32, "F64": dtypes.Float64, "BF16": dtypes.BFloat16, "F16": dtypes.Float16,
	"I8": dtypes.Int8, "I16": dtypes.Int16, "I32": dtypes.Int32, "I64": dtypes.Int64,
	"U8": dtypes.Uint8, "U16": dtypes.Uint16, "U32": dtypes.Uint32, "U64": dtypes.Uint64, "BOOL": dtypes.Bool,
}

func safetensorsName(dt dtypes.DType) (string, bool) {
	for name, d := range safetensorsDTypes {
		if d == dt {
			return name, true
		}
	}
	return "", false
}

type tensorEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// namedTensor is one tensor to write.
type namedTensor struct {
	name  string
	value *tensors.Tensor
}

// writeTensorFile writes the tensors and metadata to path atomically: into a
// temporary file in the same directory, synced, then renamed over path.
func writeTensorFile(path string, metadata map[string]string, list []namedTensor) error {
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, nt := range list {
		name, ok := safetensorsName(nt.value.DType())
		if !ok {
			return fmt.Errorf("%s: tensor %q has dtype %s, which safetensors cannot hold", path, nt.name, nt.value.DType())
		}
		size := int64(nt.value.Shape().ByteSize())
		dims := nt.value.Shape().Dimensions
		if dims == nil {
			dims = []int{}
		}
		header[nt.name] = tensorEntry{DType: name, Shape: dims, Offsets: [2]int64{offset, offset + size}}
		offset += size
	}
	headerJSON, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for len(headerJSON)%8 != 0 {
		headerJSON = append(headerJSON, ' ')
	}
	return writeAtomically(path, func(w io.Writer) error {
		if err := binary.Write(w, binary.LittleEndian, uint64(len(headerJSON))); err != nil {
			return err
		}
		if _, err := w.Write(headerJSON); err != nil {
			return err
		}
		for _, nt := range list {
			var werr error
			if err := nt.value.ConstBytes(func(data []byte) { _, werr = w.Write(data) }); err != nil {
				return fmt.Errorf("tensor %q: %w", nt.name, err)
			}
			if werr != nil {
				return werr
			}
		}
		return nil
	})
}

// writeAtomically writes path through a temporary file and a rename, so a
// reader sees either the old file or the complete new one.
func writeAtomically(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(buf); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = buf.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// tensorFile is an open, validated safetensors file.
type tensorFile struct {
	path     string
	f        *os.File
	dataBase int64
	metadata map[string]string
	entries  map[string]tensorEntry
}

// openTensorFile opens path and validates its header against the file size,
// so no later read goes out of bounds.
func openTensorFile(path string) (*tensorFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	tf, err := parseTensorFile(path, f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return tf, nil
}

func parseTensorFile(path string, f *os.File) (*tensorFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a valid weights file (%s); re-create it or restore a good copy", path, fmt.Sprintf(format, args...))
	}
	size := st.Size()
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, bad("shorter than 8 bytes")
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n == 0 || n > maxHeaderBytes || n > uint64(size-8) {
		return nil, bad("header length %d does not fit a file of %d bytes", n, size)
	}
	headerBytes := make([]byte, n)
	if _, err := f.ReadAt(headerBytes, 8); err != nil {
		return nil, bad("truncated header")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(headerBytes, &raw); err != nil {
		return nil, bad("header is not JSON: %v", err)
	}
	tf := &tensorFile{path: path, f: f, dataBase: 8 + int64(n), entries: map[string]tensorEntry{}}
	dataLen := size - tf.dataBase
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &tf.metadata); err != nil {
				return nil, bad("metadata is not a string map")
			}
			continue
		}
		var e tensorEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, bad("tensor %q: %v", name, err)
		}
		if err := e.check(dataLen); err != nil {
			return nil, bad("tensor %q: %v", name, err)
		}
		tf.entries[name] = e
	}
	return tf, nil
}

// check validates an entry's dtype, shape and byte range against the data length.
func (e tensorEntry) check(dataLen int64) error {
	dt, ok := safetensorsDTypes[e.DType]
	if !ok {
		return fmt.Errorf("unknown dtype %q", e.DType)
	}
	elems := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && elems > math.MaxInt64/int64(d)/8) {
			return fmt.Errorf("bad shape %v", e.Shape)
		}
		elems *= int64(d)
	}
	begin, end := e.Offsets[0], e.Offsets[1]
	if begin < 0 || end < begin || end > dataLen {
		return fmt.Errorf("byte range %d..%d outside the %d data bytes", begin, end, dataLen)
	}
	if end-begin != elems*int64(dt.Size()) {
		return fmt.Errorf("byte range of %d bytes does not match shape %v of %s", end-begin, e.Shape, e.DType)
	}
	return nil
}

// names lists the file's tensor names, sorted.
func (tf *tensorFile) names() []string {
	out := make([]string, 0, len(tf.entries))
	for name := range tf.entries {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// read loads one tensor into local memory.
func (tf *tensorFile) read(name string) (*tensors.Tensor, error) {
	e, ok := tf.entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", tf.path, name)
	}
	t := tensors.FromShape(shapes.Make(safetensorsDTypes[e.DType], e.Shape...))
	var rerr error
	err := t.MutableBytes(func(data []byte) {
		_, rerr = tf.f.ReadAt(data, tf.dataBase+e.Offsets[0])
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading tensor %q: %w", tf.path, name, err)
	}
	return t, nil
}

func (tf *tensorFile) close() error { return tf.f.Close() }
