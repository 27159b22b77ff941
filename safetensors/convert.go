package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ToFloat32 converts little-endian raw data of dtype to float32. Half and
// bfloat16 convert exactly; F64 and 64-bit integers round to nearest.
func ToFloat32(dtype DType, raw []byte) ([]float32, error) {
	size := dtype.Size()
	if size == 0 {
		return nil, fmt.Errorf("unknown dtype %q", dtype)
	}
	if len(raw)%size != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s elements", len(raw), dtype)
	}
	n := len(raw) / size
	out := make([]float32, n)
	le := binary.LittleEndian
	for i := range out {
		b := raw[i*size:]
		switch dtype {
		case F32:
			out[i] = math.Float32frombits(le.Uint32(b))
		case F64:
			out[i] = float32(math.Float64frombits(le.Uint64(b)))
		case F16:
			out[i] = HalfToFloat32(le.Uint16(b))
		case BF16:
			out[i] = math.Float32frombits(uint32(le.Uint16(b)) << 16)
		case I64:
			out[i] = float32(int64(le.Uint64(b)))
		case I32:
			out[i] = float32(int32(le.Uint32(b)))
		case I16:
			out[i] = float32(int16(le.Uint16(b)))
		case I8:
			out[i] = float32(int8(b[0]))
		case U8:
			out[i] = float32(b[0])
		default:
			return nil, fmt.Errorf("cannot convert %s to float32", dtype)
		}
	}
	return out, nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32 exactly
// (subnormals, infinities and NaN included).
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) * float32(1.0/(1<<24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Float32Bytes returns the little-endian F32 bytes of data.
func Float32Bytes(data []float32) []byte {
	out := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}
