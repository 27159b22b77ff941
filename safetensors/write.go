package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Tensor is one tensor to write: its name, dtype, shape and either Data
// (its raw little-endian bytes) or, for large tensors held elsewhere,
// WriteData, which must write exactly the tensor's byte size.
type Tensor struct {
	Name      string
	DType     DType
	Shape     []int
	Data      []byte
	WriteData func(w io.Writer) error
}

// byteSize is the size the header promises for t.
func (t Tensor) byteSize() int64 {
	n := int64(t.DType.Size())
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// Write writes tensors (sorted by name) and metadata in the safetensors
// format to w. The header is padded with spaces to a multiple of 8 bytes.
func Write(w io.Writer, metadata map[string]string, list []Tensor) error {
	list = append([]Tensor{}, list...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header[metadataKey] = metadata
	}
	var offset int64
	for _, t := range list {
		if err := t.check(header); err != nil {
			return err
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		size := t.byteSize()
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, Offsets: [2]int64{offset, offset + size}}
		offset += size
	}
	headerJSON, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(headerJSON)%8 != 0 {
		headerJSON = append(headerJSON, ' ')
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(headerJSON))); err != nil {
		return err
	}
	if _, err := w.Write(headerJSON); err != nil {
		return err
	}
	for _, t := range list {
		if err := t.write(w); err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// check validates a tensor before anything is written.
func (t Tensor) check(header map[string]any) error {
	if t.Name == "" || t.Name == metadataKey {
		return fmt.Errorf("tensor name %q is reserved", t.Name)
	}
	if _, dup := header[t.Name]; dup {
		return fmt.Errorf("tensor %q given twice", t.Name)
	}
	if t.DType.Size() == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
		}
	}
	if t.WriteData == nil && int64(len(t.Data)) != t.byteSize() {
		return fmt.Errorf("tensor %q: %d data bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
	}
	return nil
}

// write writes the tensor's bytes, checking WriteData's count.
func (t Tensor) write(w io.Writer) error {
	if t.WriteData == nil {
		_, err := w.Write(t.Data)
		return err
	}
	cw := &countingWriter{w: w}
	if err := t.WriteData(cw); err != nil {
		return err
	}
	if cw.n != t.byteSize() {
		return fmt.Errorf("wrote %d bytes, want %d", cw.n, t.byteSize())
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

// Write passes p on and counts the bytes written.
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteFile writes tensors and metadata to path atomically (a temporary
// file in the same directory, synced, then renamed over path), so a reader
// sees the old file or the whole new one.
func WriteFile(path string, metadata map[string]string, list []Tensor) error {
	return WriteAtomically(path, func(w io.Writer) error { return Write(w, metadata, list) })
}

// WriteAtomically writes path through write into a temporary file, then
// syncs and renames it over path; on error path is left as it was.
func WriteAtomically(path string, write func(w io.Writer) error) (err error) {
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
