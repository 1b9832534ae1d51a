package serde

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// Serializer turns a value into the bytes of a record key or value. Serialize may return a slice it
// shares with nothing else; callers may retain it.
type Serializer[T any] interface {
	Serialize(v T) ([]byte, error)
}

// Deserializer turns the bytes of a record key or value into a value. data may be nil (a null) and is
// valid only during the call: a Deserializer that keeps bytes must copy them.
type Deserializer[T any] interface {
	Deserialize(data []byte) (T, error)
}

// Serde is a Serializer and a Deserializer of the same type. Implementations are stateless and safe
// for concurrent use; the runtime shares one Serde between all tasks.
type Serde[T any] interface {
	Serializer[T]
	Deserializer[T]
}

// Funcs makes a Serde from two functions, for formats the package does not ship.
func Funcs[T any](serialize func(T) ([]byte, error), deserialize func([]byte) (T, error)) Serde[T] {
	return funcs[T]{ser: serialize, de: deserialize}
}

type funcs[T any] struct {
	ser func(T) ([]byte, error)
	de  func([]byte) (T, error)
}

func (f funcs[T]) Serialize(v T) ([]byte, error)   { return f.ser(v) }
func (f funcs[T]) Deserialize(b []byte) (T, error) { return f.de(b) }

// String is UTF-8 text. A null deserializes to "".
func String() Serde[string] { return stringSerde{} }

type stringSerde struct{}

func (stringSerde) Serialize(v string) ([]byte, error)   { return []byte(v), nil }
func (stringSerde) Deserialize(b []byte) (string, error) { return string(b), nil }

// Bytes passes bytes through. Deserialize copies, so the result may be retained; a null stays nil.
func Bytes() Serde[[]byte] { return bytesSerde{} }

type bytesSerde struct{}

func (bytesSerde) Serialize(v []byte) ([]byte, error) { return v, nil }
func (bytesSerde) Deserialize(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return append([]byte{}, b...), nil
}

// Int32 is a 4-byte big-endian integer, like Kafka's IntegerSerde. A null deserializes to 0.
func Int32() Serde[int32] { return int32Serde{} }

type int32Serde struct{}

func (int32Serde) Serialize(v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)), nil
}

func (int32Serde) Deserialize(b []byte) (int32, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 4 {
		return 0, &SizeError{Type: "int32", Want: 4, Got: len(b)}
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// Int64 is an 8-byte big-endian integer, like Kafka's LongSerde. A null deserializes to 0.
func Int64() Serde[int64] { return int64Serde{} }

type int64Serde struct{}

func (int64Serde) Serialize(v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v)), nil
}

func (int64Serde) Deserialize(b []byte) (int64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, &SizeError{Type: "int64", Want: 8, Got: len(b)}
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// Float64 is an 8-byte big-endian IEEE 754 double, like Kafka's DoubleSerde. A null deserializes
// to 0.
func Float64() Serde[float64] { return float64Serde{} }

type float64Serde struct{}

func (float64Serde) Serialize(v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), math.Float64bits(v)), nil
}

func (float64Serde) Deserialize(b []byte) (float64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, &SizeError{Type: "float64", Want: 8, Got: len(b)}
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// JSON encodes T with encoding/json. A null deserializes to the zero T (nil for pointers, slices,
// maps and interfaces), and a nil T of those kinds serializes to a null.
func JSON[T any]() Serde[T] { return jsonSerde[T]{} }

type jsonSerde[T any] struct{}

func (jsonSerde[T]) Serialize(v T) ([]byte, error) {
	if IsNil(v) {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("serde: json: %w", err)
	}
	return b, nil
}

func (jsonSerde[T]) Deserialize(b []byte) (T, error) {
	var v T
	if b == nil {
		return v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("serde: json: %w", err)
	}
	return v, nil
}

// SizeError reports a fixed-width payload of the wrong length.
type SizeError struct {
	Type      string
	Want, Got int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("serde: %s needs %d bytes, got %d", e.Type, e.Want, e.Got)
}

// Nilable reports whether T is a pointer, slice, map, interface, channel or function type: a type
// whose nil stands for a Kafka null. Callers on a hot path compute it once per type.
func Nilable[T any]() bool {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
		return true
	}
	return false
}

// IsNil reports whether v is nil: a nil value of a Nilable type, which stands for a Kafka null. The
// runtime uses it to write tombstones and the dsl to recognise deletes.
func IsNil[T any](v T) bool {
	if !Nilable[T]() {
		return false
	}
	if any(v) == nil {
		return true
	}
	return reflect.ValueOf(v).IsNil()
}
