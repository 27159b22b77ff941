package train

import (
	"fmt"
	"io"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vidrep/vidrep/safetensors"
)

// Checkpoints and weight files use the safetensors format (package
// safetensors reads, validates and writes it). Tensor names are the GoMLX
// variable paths ("/backbone/conv1/weights").

// namedTensor is one tensor to write.
type namedTensor struct {
	name  string
	value *tensors.Tensor
}

// writeTensorFile writes the tensors and metadata to path atomically: into a
// temporary file in the same directory, synced, then renamed over path.
func writeTensorFile(path string, metadata map[string]string, list []namedTensor) error {
	out := make([]safetensors.Tensor, 0, len(list))
	for _, nt := range list {
		t, err := safetensors.FromTensor(nt.name, nt.value)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
	return safetensors.WriteFile(path, metadata, out)
}

// writeAtomically writes path through a temporary file and a rename, so a
// reader sees either the old file or the complete new one.
func writeAtomically(path string, write func(w io.Writer) error) error {
	return safetensors.WriteAtomically(path, write)
}

// tensorFile is an open, validated safetensors file.
type tensorFile struct {
	*safetensors.File
	path     string
	metadata map[string]string
	entries  map[string]safetensors.Info
}

// openTensorFile opens path and validates its header against the file size,
// so no later read goes out of bounds.
func openTensorFile(path string) (*tensorFile, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	tf := &tensorFile{File: f, path: path, metadata: f.Metadata(), entries: map[string]safetensors.Info{}}
	for _, name := range f.Names() {
		tf.entries[name], _ = f.Info(name)
	}
	return tf, nil
}

// names lists the file's tensor names, sorted.
func (tf *tensorFile) names() []string { return tf.Names() }

// read loads one tensor into local memory.
func (tf *tensorFile) read(name string) (*tensors.Tensor, error) { return tf.Tensor(name) }

func (tf *tensorFile) close() error { return tf.Close() }
