package planner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/types"
)

// rowCodec is the binary encoding of the rows Seiche writes for itself only: repartition topics,
// state stores and their changelogs (see "Internal formats" in doc.go). It is driven by the column
// types, like the JSON it replaces, and decodes to the same Go values a JSON round trip gives:
// each value is written natively when its Go type is the canonical one of its column's kind (an
// INT in a BIGINT column is widened), and as the JSON text of the value otherwise, decoded with
// the JSON format's conversions.
//
// A rowCodec is immutable and safe for concurrent use.
type rowCodec struct {
	types []*types.Type
	// legacy reads rows written as wrapped JSON, before the binary encoding.
	legacy format.Serde
}

const (
	// rowVersion is the first byte of every encoded row.
	rowVersion = 0x01

	tagNull   = 0x00
	tagNative = 0x01
	tagJSON   = 0x02
)

var errShortRow = errors.New("planner: internal row: truncated")

func newRowCodec(ts []*types.Type, legacy format.Serde) *rowCodec {
	return &rowCodec{types: ts, legacy: legacy}
}

// Serialize encodes r; a nil row is a Kafka null.
func (c *rowCodec) Serialize(r Row) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b := make([]byte, 0, 16+8*len(c.types))
	b = append(b, rowVersion)
	b = binary.AppendUvarint(b, uint64(len(c.types)))
	var err error
	for i, t := range c.types {
		var v types.Value
		if i < len(r) {
			v = r[i]
		}
		if b, err = appendValue(b, t, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Deserialize decodes a row Serialize wrote (or a legacy JSON row); nil bytes are a nil row.
func (c *rowCodec) Deserialize(data []byte) (Row, error) {
	if data == nil {
		return nil, nil
	}
	if len(data) == 0 || data[0] != rowVersion {
		if c.legacy != nil && len(data) > 0 && data[0] == '{' {
			return c.legacy.Deserialize(data)
		}
		return nil, fmt.Errorf("planner: internal row: unknown encoding")
	}
	d := decoder{b: data[1:]}
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n != uint64(len(c.types)) {
		return nil, fmt.Errorf("planner: internal row: %d values, expected %d", n, len(c.types))
	}
	r := make(Row, len(c.types))
	for i, t := range c.types {
		if r[i], err = d.value(t); err != nil {
			return nil, err
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("planner: internal row: %d trailing bytes", len(d.b))
	}
	return r, nil
}

func appendVarint(b []byte, n int64) []byte { return binary.AppendVarint(b, n) }
func appendBytes(b []byte, p []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(p))), p...)
}
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendValue appends v, a value of a column of type t.
func appendValue(b []byte, t *types.Type, v types.Value) ([]byte, error) {
	if v == nil {
		return append(b, tagNull), nil
	}
	native := append(b, tagNative)
	switch t.Kind {
	case types.KindBoolean:
		if x, ok := v.(bool); ok {
			if x {
				return append(native, 1), nil
			}
			return append(native, 0), nil
		}
	case types.KindInt:
		if x, ok := v.(int32); ok {
			return appendVarint(native, int64(x)), nil
		}
	case types.KindBigint:
		switch x := v.(type) {
		case int64:
			return appendVarint(native, x), nil
		case int32:
			return appendVarint(native, int64(x)), nil
		}
	case types.KindDouble:
		if x, ok := v.(float64); ok {
			return binary.LittleEndian.AppendUint64(native, math.Float64bits(x)), nil
		}
	case types.KindDecimal:
		if x, ok := v.(*apd.Decimal); ok {
			return appendString(native, types.DecimalString(x)), nil
		}
	case types.KindString:
		if x, ok := v.(string); ok {
			return appendString(native, x), nil
		}
	case types.KindBytes:
		if x, ok := v.([]byte); ok {
			return appendBytes(native, x), nil
		}
	case types.KindDate:
		if x, ok := v.(types.DateValue); ok {
			return appendVarint(native, int64(x)), nil
		}
	case types.KindTime:
		if x, ok := v.(types.TimeValue); ok {
			return appendVarint(native, int64(x)), nil
		}
	case types.KindTimestamp:
		if x, ok := v.(types.TimestampValue); ok {
			return appendVarint(native, int64(x)), nil
		}
	case types.KindArray:
		if x, ok := v.([]types.Value); ok {
			b = binary.AppendUvarint(native, uint64(len(x)))
			var err error
			for _, e := range x {
				if b, err = appendValue(b, t.Elem, e); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case types.KindMap:
		if x, ok := v.(*types.Map); ok && len(x.Keys) == len(x.Vals) {
			b = binary.AppendUvarint(native, uint64(len(x.Keys)))
			var err error
			for i := range x.Keys {
				if b, err = appendValue(b, t.Key, x.Keys[i]); err != nil {
					return nil, err
				}
				if b, err = appendValue(b, t.Elem, x.Vals[i]); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case types.KindStruct:
		if x, ok := v.(*types.Struct); ok && len(x.Vals) == len(t.Fields) {
			b = native
			var err error
			for i, f := range t.Fields {
				if b, err = appendValue(b, f.Type, x.Vals[i]); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	}
	// A value whose Go type is not its column's: written as JSON, read back converted to the column's
	// type exactly as the JSON format converts it.
	f, err := jsonValueSerde(t)
	if err != nil {
		return nil, err
	}
	enc, err := f.Serialize([]types.Value{v})
	if err != nil {
		return nil, err
	}
	return appendBytes(append(b, tagJSON), enc), nil
}

// jsonValueSerde is the unwrapped JSON serde of one value of type t.
func jsonValueSerde(t *types.Type) (format.Serde, error) {
	wrap := false
	return format.New("JSON", []types.Column{{Name: "V", Type: t}}, format.Options{Wrap: &wrap})
}

type decoder struct{ b []byte }

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, errShortRow
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) uvarint() (uint64, error) {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		return 0, errShortRow
	}
	d.b = d.b[k:]
	return n, nil
}

func (d *decoder) varint() (int64, error) {
	n, k := binary.Varint(d.b)
	if k <= 0 {
		return 0, errShortRow
	}
	d.b = d.b[k:]
	return n, nil
}

func (d *decoder) int32() (int32, error) {
	n, err := d.varint()
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("planner: internal row: %d out of a 32-bit value's range", n)
	}
	return int32(n), nil
}

// bytes returns the next length-prefixed bytes, aliasing the input.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)) {
		return nil, errShortRow
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p, nil
}

// length reads a count of elements, each of which takes at least one byte.
func (d *decoder) length() (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)) {
		return 0, errShortRow
	}
	return int(n), nil
}

func (d *decoder) value(t *types.Type) (types.Value, error) {
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNull:
		return nil, nil
	case tagJSON:
		enc, err := d.bytes()
		if err != nil {
			return nil, err
		}
		f, err := jsonValueSerde(t)
		if err != nil {
			return nil, err
		}
		vals, err := f.Deserialize(enc)
		if err != nil || len(vals) == 0 {
			return nil, err
		}
		return vals[0], nil
	case tagNative:
	default:
		return nil, fmt.Errorf("planner: internal row: unknown value tag %#x", tag)
	}
	switch t.Kind {
	case types.KindBoolean:
		c, err := d.byte()
		return c != 0, err
	case types.KindInt:
		return d.int32()
	case types.KindBigint:
		return d.varint()
	case types.KindDouble:
		if len(d.b) < 8 {
			return nil, errShortRow
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return f, nil
	case types.KindDecimal:
		p, err := d.bytes()
		if err != nil {
			return nil, err
		}
		x, _, err := apd.NewFromString(string(p))
		if err != nil {
			return nil, fmt.Errorf("planner: internal row: decimal %q: %w", p, err)
		}
		return types.RoundDecimal(x, t.Precision, t.Scale)
	case types.KindString:
		p, err := d.bytes()
		return string(p), err
	case types.KindBytes:
		p, err := d.bytes()
		return append([]byte{}, p...), err
	case types.KindDate:
		n, err := d.int32()
		return types.DateValue(n), err
	case types.KindTime:
		n, err := d.int32()
		return types.TimeValue(n), err
	case types.KindTimestamp:
		n, err := d.varint()
		return types.TimestampValue(n), err
	case types.KindArray:
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		out := make([]types.Value, n)
		for i := range out {
			if out[i], err = d.value(t.Elem); err != nil {
				return nil, err
			}
		}
		return out, nil
	case types.KindMap:
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		keys, vals := make([]types.Value, n), make([]types.Value, n)
		for i := range keys {
			if keys[i], err = d.value(t.Key); err != nil {
				return nil, err
			}
			if vals[i], err = d.value(t.Elem); err != nil {
				return nil, err
			}
		}
		return types.NewMap(keys, vals), nil
	case types.KindStruct:
		out := &types.Struct{Vals: make([]types.Value, len(t.Fields))}
		for i, f := range t.Fields {
			if out.Vals[i], err = d.value(f.Type); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("planner: internal row: no binary encoding for %s", t)
}
