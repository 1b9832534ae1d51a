package serde_test

import (
	"errors"
	"math"
	"testing"

	"github.com/seichedb/seiche/serde"
)

func roundTrip[T comparable](t *testing.T, s serde.Serde[T], v T) {
	t.Helper()
	b, err := s.Serialize(v)
	if err != nil {
		t.Fatalf("serialize %v: %v", v, err)
	}
	got, err := s.Deserialize(b)
	if err != nil || got != v {
		t.Fatalf("round trip of %v: got %v, %v", v, got, err)
	}
}

func TestRoundTrips(t *testing.T) {
	roundTrip(t, serde.String(), "héllo")
	roundTrip(t, serde.Int32(), int32(math.MinInt32))
	roundTrip(t, serde.Int64(), int64(-42))
	roundTrip(t, serde.Float64(), 3.25)
	type point struct{ X, Y int }
	roundTrip(t, serde.JSON[point](), point{1, 2})
	b, _ := serde.Bytes().Serialize([]byte("raw"))
	if got, _ := serde.Bytes().Deserialize(b); string(got) != "raw" {
		t.Errorf("bytes = %q", got)
	}
}

func TestKafkaFormats(t *testing.T) {
	b, _ := serde.Int32().Serialize(1)
	if string(b) != "\x00\x00\x00\x01" {
		t.Errorf("int32 1 = %x, want big-endian like Kafka's IntegerSerializer", b)
	}
	b, _ = serde.Int64().Serialize(-1)
	if string(b) != "\xff\xff\xff\xff\xff\xff\xff\xff" {
		t.Errorf("int64 -1 = %x", b)
	}
	var se *serde.SizeError
	if _, err := serde.Int64().Deserialize([]byte{1, 2}); !errors.As(err, &se) {
		t.Errorf("short int64: %v", err)
	}
}

func TestNulls(t *testing.T) {
	type v struct{ A int }
	b, err := serde.JSON[*v]().Serialize(nil)
	if err != nil || b != nil {
		t.Errorf("nil pointer serializes to %q, %v; want a null", b, err)
	}
	p, err := serde.JSON[*v]().Deserialize(nil)
	if err != nil || p != nil {
		t.Errorf("null deserializes to %v, %v", p, err)
	}
	if n, _ := serde.Int64().Deserialize(nil); n != 0 {
		t.Errorf("null int64 = %d", n)
	}
	if !serde.IsNil[*v](nil) || serde.IsNil(&v{}) || serde.IsNil("") || !serde.IsNil[[]byte](nil) || !serde.IsNil[any](nil) {
		t.Errorf("IsNil wrong")
	}
	if serde.Nilable[string]() || !serde.Nilable[map[string]int]() {
		t.Errorf("Nilable wrong")
	}
}

func TestMalformedIsAnError(t *testing.T) {
	if _, err := serde.JSON[map[string]int]().Deserialize([]byte("{nope")); err == nil {
		t.Errorf("malformed JSON deserialized")
	}
}
