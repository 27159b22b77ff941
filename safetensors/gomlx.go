package safetensors

import (
	"fmt"
	"io"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// gomlxDTypes maps safetensors dtypes to GoMLX's.
var gomlxDTypes = map[DType]dtypes.DType{
	F64: dtypes.Float64, F32: dtypes.Float32, F16: dtypes.Float16, BF16: dtypes.BFloat16,
	I64: dtypes.Int64, I32: dtypes.Int32, I16: dtypes.Int16, I8: dtypes.Int8,
	U64: dtypes.Uint64, U32: dtypes.Uint32, U16: dtypes.Uint16, U8: dtypes.Uint8, Bool: dtypes.Bool,
}

// DTypeOf returns the safetensors name of a GoMLX dtype.
func DTypeOf(dt dtypes.DType) (DType, bool) {
	for name, d := range gomlxDTypes {
		if d == dt {
			return name, true
		}
	}
	return "", false
}

// Tensor reads tensor name into a new local GoMLX tensor of the same dtype.
func (sf *File) Tensor(name string) (*tensors.Tensor, error) {
	info, ok := sf.infos[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w %q", sf.path, ErrNoTensor, name)
	}
	t := tensors.FromShape(shapes.Make(gomlxDTypes[info.DType], info.Shape...))
	var rerr error
	err := t.MutableBytes(func(data []byte) { rerr = sf.ReadBytes(name, data) })
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// FromTensor describes a GoMLX tensor for Write without copying its data.
func FromTensor(name string, t *tensors.Tensor) (Tensor, error) {
	dt, ok := DTypeOf(t.DType())
	if !ok {
		return Tensor{}, fmt.Errorf("tensor %q has dtype %s, which safetensors cannot hold", name, t.DType())
	}
	write := func(w io.Writer) error {
		var werr error
		if err := t.ConstBytes(func(data []byte) { _, werr = w.Write(data) }); err != nil {
			return err
		}
		return werr
	}
	return Tensor{Name: name, DType: dt, Shape: t.Shape().Dimensions, WriteData: write}, nil
}
