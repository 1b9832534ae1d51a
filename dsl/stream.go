package dsl

import (
	"regexp"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Stream is a record stream: Kafka Streams' KStream. Operations that keep the key and value types
// are methods; those that change them are package functions (Map, MapValues, ...), because Go
// methods cannot have type parameters.
//
// A Stream carries the serdes of its key and value while they are known (from its source, or an
// option), so that To and Repartition need none; after a type change, give them with
// WithKeySerde and WithValueSerde.
type Stream[K, V any] struct {
	b          *Builder
	node       string
	keys       serde.Serde[K]
	values     serde.Serde[V]
	keyChanged bool // the key may no longer match the partition: a stateful operation must repartition
}

// KeyValue is one output record of FlatMap.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// Node returns the name of the node whose output this stream is.
func (s *Stream[K, V]) Node() string { return s.node }

// Builder returns the builder the stream belongs to.
func (s *Stream[K, V]) Builder() *Builder { return s.b }

// Source reads topic as a stream of K and V (Kafka Streams' builder.stream). Options: Named,
// EventTime, WallClockTime.
func Source[K, V any](b *Builder, topic string, keys serde.Serde[K], values serde.Serde[V], opts ...Opt) *Stream[K, V] {
	return source(b, []string{topic}, nil, keys, values, opts)
}

// SourceTopics reads several topics as one stream.
func SourceTopics[K, V any](b *Builder, topics []string, keys serde.Serde[K], values serde.Serde[V], opts ...Opt) *Stream[K, V] {
	return source(b, topics, nil, keys, values, opts)
}

// SourcePattern reads every topic whose whole name matches re, including topics created later.
func SourcePattern[K, V any](b *Builder, re *regexp.Regexp, keys serde.Serde[K], values serde.Serde[V], opts ...Opt) *Stream[K, V] {
	return source(b, nil, re, keys, values, opts)
}

func source[K, V any](b *Builder, topics []string, re *regexp.Regexp, keys serde.Serde[K], values serde.Serde[V], opts []Opt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := b.nameOr(c, "KSTREAM-SOURCE-")
	addSource(b, name, topics, re, keys, values, c)
	return &Stream[K, V]{b: b, node: name, keys: keys, values: values}
}

func addSource[K, V any](b *Builder, name string, topics []string, re *regexp.Regexp, keys serde.Serde[K], values serde.Serde[V], c opConfig) {
	if keys == nil || values == nil {
		b.fail("source %s needs a key and a value serde", name)
		return
	}
	spec := runtime.SourceSpec[K, V]{Topics: topics, Pattern: re, Keys: keys, Values: values, WallClockTime: c.wallClock}
	if c.eventTime != nil {
		fn, ok := c.eventTime.(func(K, V) (int64, error))
		if !ok {
			b.fail("source %s: EventTime takes func(%s, %s) (int64, error), got %T", name, typeName[K](), typeName[V](), c.eventTime)
			return
		}
		spec.Timestamp = func(rec runtime.Record[K, V], _ int64) (int64, error) { return fn(rec.Key, rec.Value) }
	}
	runtime.AddSource(b.topo, name, spec)
}

// sinkSerdes returns the serdes to write the stream with, failing the builder if unknown.
func (s *Stream[K, V]) sinkSerdes(op string, c opConfig) (serde.Serde[K], serde.Serde[V], bool) {
	keys := serdeOr(s.b, op, c.keySerde, s.keys)
	values := serdeOr(s.b, op, c.valueSerde, s.values)
	if keys == nil {
		s.b.fail("%s: no key serde for %s: pass dsl.WithKeySerde", op, typeName[K]())
		return nil, nil, false
	}
	if values == nil {
		s.b.fail("%s: no value serde for %s: pass dsl.WithValueSerde", op, typeName[V]())
		return nil, nil, false
	}
	return keys, values, true
}

// isNull reports whether rec's value is a Kafka null: a nil value, or a record marked Null.
func isNull[K, V any](rec runtime.Record[K, V]) bool { return rec.Null || serde.IsNil(rec.Value) }
