package dsl

import "github.com/seichedb/seiche/serde"

// GroupedStream is a stream grouped by key, ready to aggregate (Kafka Streams' KGroupedStream).
// When the key was changed upstream (GroupBy, Map, SelectKey, ...), the aggregation first writes
// the stream through a repartition topic, "<name>-repartition", so that all records of a key meet
// in one task; name is the grouping's Named or the aggregation's store name.
type GroupedStream[K, V any] struct {
	s       *Stream[K, V]
	keys    serde.Serde[K]
	values  serde.Serde[V]
	grouped string
	parts   int32
}

// GroupByKey groups the stream by its current key (KStream.groupByKey), with the stream's serdes
// for the repartition topic and the stores. Options: Named (of the repartition topic), Partitions.
func (s *Stream[K, V]) GroupByKey(opts ...RepartitionOpt) *GroupedStream[K, V] {
	c := newOpConfig(opts)
	return &GroupedStream[K, V]{s: s, keys: s.keys, values: s.values, grouped: c.name, parts: c.partitions}
}

// GroupBy groups the stream by a new key of type KR computed from each record (KStream.groupBy): a
// KSTREAM-KEY-SELECT node, then a repartition before the aggregation. The grouping has no key
// serde: give it with WithKeySerde. Options as GroupByKey.
func GroupBy[K, V, KR any](s *Stream[K, V], fn func(key K, value V) (KR, error), opts ...RepartitionOpt) *GroupedStream[KR, V] {
	c := newOpConfig(opts)
	sel := SelectKey(s, fn, Named(s.b.newName("KSTREAM-KEY-SELECT-")))
	return &GroupedStream[KR, V]{s: sel, values: s.values, grouped: c.name, parts: c.partitions}
}

// GroupBy groups the stream by a new key of the same type, keeping the serdes: the package
// function GroupBy with KR = K.
func (s *Stream[K, V]) GroupBy(fn func(key K, value V) (K, error), opts ...RepartitionOpt) *GroupedStream[K, V] {
	return GroupBy(s, fn, opts...).WithKeySerde(s.keys)
}

// WithKeySerde returns the grouping with keys serialized by keys in its repartition topic and
// stores (Kafka Streams' Grouped.with).
func (g *GroupedStream[K, V]) WithKeySerde(keys serde.Serde[K]) *GroupedStream[K, V] {
	c := *g
	c.keys = keys
	return &c
}

// WithValueSerde returns the grouping with values serialized by values in its repartition topic
// and stores, like WithKeySerde.
func (g *GroupedStream[K, V]) WithValueSerde(values serde.Serde[V]) *GroupedStream[K, V] {
	c := *g
	c.values = values
	return &c
}

// WindowedBy cuts the grouped stream into tumbling or hopping windows (KGroupedStream.windowedBy
// with TimeWindows). Aggregate the result with WindowedCount, WindowedReduce or
// WindowedAggregate.
func (g *GroupedStream[K, V]) WindowedBy(w TimeWindows) *TimeWindowedStream[K, V] {
	if err := w.validate(); err != nil {
		g.s.b.fail("windowed by: %v", err)
	}
	return &TimeWindowedStream[K, V]{g: g, w: w}
}

// SessionWindowedBy cuts the grouped stream into sessions of activity (KGroupedStream.windowedBy
// with SessionWindows). Aggregate the result with WindowedCount, WindowedReduce or
// SessionAggregate.
func (g *GroupedStream[K, V]) SessionWindowedBy(w SessionWindows) *SessionWindowedStream[K, V] {
	if w.Gap <= 0 || w.Grace < 0 {
		g.s.b.fail("session windows need a positive gap (%v) and a grace period (%v) >= 0", w.Gap, w.Grace)
	}
	return &SessionWindowedStream[K, V]{g: g, w: w}
}

// SlidingWindowedBy cuts the grouped stream into sliding windows (KGroupedStream.windowedBy with
// SlidingWindows, KIP-450). Aggregate the result with WindowedCount, WindowedReduce or
// WindowedAggregate.
func (g *GroupedStream[K, V]) SlidingWindowedBy(w SlidingWindows) *SlidingWindowedStream[K, V] {
	if w.TimeDifference <= 0 || w.Grace < 0 {
		g.s.b.fail("sliding windows need a positive time difference (%v) and a grace period (%v) >= 0", w.TimeDifference, w.Grace)
	}
	return &SlidingWindowedStream[K, V]{g: g, w: w}
}

// aggregateInput names an aggregation's node prefix (KSTREAM-AGGREGATE- or KSTREAM-REDUCE-) and store
// and connects its input (input). ok is false, after a builder error, when the input cannot be had or
// the aggregate has no serde; what ("", "windowed ", "session ") starts that error's message.
func (g *GroupedStream[K, V]) aggregateInput(c opConfig, op, what string, reduce, hasSerde bool, aggType string) (prefix, store string, in *Stream[K, V], ok bool) {
	prefix = "KSTREAM-AGGREGATE-"
	if reduce {
		prefix = "KSTREAM-REDUCE-"
	}
	store = g.s.b.storeName(c, prefix)
	in, ok = g.input(op, store)
	if ok && !hasSerde {
		g.s.b.fail("%s%s: the aggregate's serde (%s) is nil", what, op, aggType)
		ok = false
	}
	return prefix, store, in, ok
}

// input returns the stream to aggregate: the grouped stream itself, or its repartitioned copy
// when the key changed. store names the repartition topic unless the grouping's Named did.
func (g *GroupedStream[K, V]) input(op, store string) (*Stream[K, V], bool) {
	b := g.s.b
	if g.keys == nil {
		b.fail("%s: no key serde for %s: call WithKeySerde on the grouping or where the key type changed", op, typeName[K]())
		return nil, false
	}
	if g.values == nil {
		b.fail("%s: no value serde for %s: call WithValueSerde on the grouping or where the value type changed", op, typeName[V]())
		return nil, false
	}
	if !g.s.keyChanged {
		return g.s, true
	}
	base := g.grouped
	if base == "" {
		base = store
	}
	return repartitionThrough(g.s, base, g.keys, g.values, g.parts,
		base+"-repartition-filter", base+"-repartition-sink", base+"-repartition-source"), true
}
