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
// A Stream carries the serdes of its key and value while they are known (from its source, or
// WithKeySerde and WithValueSerde), so that To, Repartition and the stateful operations need none;
// after a type change, give them with WithKeySerde and WithValueSerde.
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

// WithKeySerde returns the stream with keys serialized by keys from here on, where it is written
// to a topic or a store (Kafka Streams' Produced.with, Grouped.with, Repartitioned.with). It adds
// no node; s itself is unchanged.
func (s *Stream[K, V]) WithKeySerde(keys serde.Serde[K]) *Stream[K, V] {
	c := *s
	c.keys = keys
	return &c
}

// WithValueSerde returns the stream with values serialized by values from here on, like
// WithKeySerde.
func (s *Stream[K, V]) WithValueSerde(values serde.Serde[V]) *Stream[K, V] {
	c := *s
	c.values = values
	return &c
}

// KeySerde returns the serde of the stream's keys, nil if none is known.
func (s *Stream[K, V]) KeySerde() serde.Serde[K] { return s.keys }

// ValueSerde returns the serde of the stream's values, nil if none is known.
func (s *Stream[K, V]) ValueSerde() serde.Serde[V] { return s.values }

// Source reads topic as a stream of K and V (Kafka Streams' builder.stream). Options: Named,
// EventTime, WallClockTime.
func Source[K, V any](b *Builder, topic string, keys serde.Serde[K], values serde.Serde[V], opts ...SourceOpt) *Stream[K, V] {
	return source(b, []string{topic}, nil, keys, values, opts)
}

// SourceTopics reads several topics as one stream.
func SourceTopics[K, V any](b *Builder, topics []string, keys serde.Serde[K], values serde.Serde[V], opts ...SourceOpt) *Stream[K, V] {
	return source(b, topics, nil, keys, values, opts)
}

// SourcePattern reads every topic whose whole name matches re, including topics created later.
func SourcePattern[K, V any](b *Builder, re *regexp.Regexp, keys serde.Serde[K], values serde.Serde[V], opts ...SourceOpt) *Stream[K, V] {
	return source(b, nil, re, keys, values, opts)
}

func source[K, V any](b *Builder, topics []string, re *regexp.Regexp, keys serde.Serde[K], values serde.Serde[V], opts []SourceOpt) *Stream[K, V] {
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

// hasSerdes reports whether the stream's serdes are known, failing the builder if not: op is
// about to write the stream to a topic or a store.
func (s *Stream[K, V]) hasSerdes(op string) bool {
	return hasSerdes(s.b, op, s.keys, s.values)
}

func hasSerdes[K, V any](b *Builder, op string, keys serde.Serde[K], values serde.Serde[V]) bool {
	if keys == nil {
		b.fail("%s: no key serde for %s: call WithKeySerde where the key type changed", op, typeName[K]())
		return false
	}
	if values == nil {
		b.fail("%s: no value serde for %s: call WithValueSerde where the value type changed", op, typeName[V]())
		return false
	}
	return true
}

// isNull reports whether rec's value is a Kafka null: a nil value, or a record marked Null.
func isNull[K, V any](rec runtime.Record[K, V]) bool { return rec.Null || serde.IsNil(rec.Value) }
