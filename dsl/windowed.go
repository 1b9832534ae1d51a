package dsl

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// Window is the window of a windowed key: [Start, End) for time and sliding windows, [Start, End]
// (both inclusive) for sessions, in milliseconds, as in Kafka Streams.
type Window = state.Window

// Windowed is the key of a windowed aggregation's result: the grouping key and its window (Kafka
// Streams' Windowed<K>).
type Windowed[K any] struct {
	Key    K
	Window Window
}

func (w Windowed[K]) String() string {
	return fmt.Sprintf("[%v@%d/%d]", w.Key, w.Window.Start, w.Window.End)
}

// TimeWindowedSerde is Kafka Streams' TimeWindowedSerde: the key's bytes followed by the 8-byte
// big-endian window start. The end is not written; Deserialize computes it as start + size.
func TimeWindowedSerde[K any](keys serde.Serde[K], size time.Duration) serde.Serde[Windowed[K]] {
	return timeWindowedSerde[K]{keys: keys, size: size.Milliseconds()}
}

type timeWindowedSerde[K any] struct {
	keys  serde.Serde[K]
	size  int64
	grace time.Duration // of the aggregation whose table the serde keys; for Suppress
}

func (s timeWindowedSerde[K]) windowGrace() time.Duration { return s.grace }

func (s timeWindowedSerde[K]) Serialize(w Windowed[K]) ([]byte, error) {
	kb, err := s.keys.Serialize(w.Key)
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint64(kb, uint64(w.Window.Start)), nil
}

func (s timeWindowedSerde[K]) Deserialize(b []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(b) < 8 {
		return w, &serde.SizeError{Type: "time-windowed key", Want: 8, Got: len(b)}
	}
	n := len(b) - 8
	k, err := s.keys.Deserialize(b[:n:n])
	if err != nil {
		return w, err
	}
	start := int64(binary.BigEndian.Uint64(b[n:]))
	end := start + s.size
	if end < start {
		end = 1<<63 - 1
	}
	return Windowed[K]{Key: k, Window: Window{Start: start, End: end}}, nil
}

// SessionWindowedSerde is Kafka Streams' SessionWindowedSerde: the key's bytes followed by the
// 8-byte session end and the 8-byte session start.
func SessionWindowedSerde[K any](keys serde.Serde[K]) serde.Serde[Windowed[K]] {
	return sessionWindowedSerde[K]{keys: keys}
}

type sessionWindowedSerde[K any] struct {
	keys  serde.Serde[K]
	grace time.Duration
}

func (s sessionWindowedSerde[K]) windowGrace() time.Duration { return s.grace }

// windowedKeys is implemented by the key serdes of windowed aggregations' tables: Suppress learns
// the grace period of the windows from the table's key serde, which Filter and MapTableValues keep.
type windowedKeys interface{ windowGrace() time.Duration }

func (s sessionWindowedSerde[K]) Serialize(w Windowed[K]) ([]byte, error) {
	kb, err := s.keys.Serialize(w.Key)
	if err != nil {
		return nil, err
	}
	kb = binary.BigEndian.AppendUint64(kb, uint64(w.Window.End))
	return binary.BigEndian.AppendUint64(kb, uint64(w.Window.Start)), nil
}

func (s sessionWindowedSerde[K]) Deserialize(b []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(b) < 16 {
		return w, &serde.SizeError{Type: "session-windowed key", Want: 16, Got: len(b)}
	}
	n := len(b) - 16
	k, err := s.keys.Deserialize(b[:n:n])
	if err != nil {
		return w, err
	}
	end := int64(binary.BigEndian.Uint64(b[n:]))
	start := int64(binary.BigEndian.Uint64(b[n+8:]))
	return Windowed[K]{Key: k, Window: Window{Start: start, End: end}}, nil
}

// valueAndTimestamp encodes a value with the timestamp of the record that last changed it, as
// Kafka Streams' ValueAndTimestampSerializer does: 8-byte big-endian timestamp, then the value.
func encodeValueAndTimestamp[V any](values serde.Serde[V], v V, ts int64) ([]byte, error) {
	vb, err := values.Serialize(v)
	if err != nil {
		return nil, err
	}
	if vb == nil {
		return nil, nil
	}
	out := make([]byte, 8, 8+len(vb))
	binary.BigEndian.PutUint64(out, uint64(ts))
	return append(out, vb...), nil
}

func decodeValueAndTimestamp[V any](values serde.Serde[V], b []byte) (V, int64, error) {
	var v V
	if len(b) < 8 {
		return v, 0, &serde.SizeError{Type: "value and timestamp", Want: 8, Got: len(b)}
	}
	v, err := values.Deserialize(b[8:])
	return v, int64(binary.BigEndian.Uint64(b)), err
}
