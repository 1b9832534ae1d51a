package dsl

import (
	"github.com/seichedb/seiche/serde"
)

// GroupedStream is a stream grouped by key, ready to aggregate (Kafka Streams' KGroupedStream).
// When the key was changed upstream (GroupBy, Map, SelectKey, ...), the aggregation first writes
// the stream through a repartition topic, "<name>-repartition", so that all records of a key meet
// in one task; name is GroupedAs or the aggregation's store name.
type GroupedStream[K, V any] struct {
	s       *Stream[K, V]
	keys    serde.Serde[K]
	values  serde.Serde[V]
	grouped string
	parts   int32
}

// GroupByKey groups the stream by its current key (KStream.groupByKey). Options: WithKeySerde,
// WithValueSerde (for the repartition topic and the stores), GroupedAs, Partitions.
func (s *Stream[K, V]) GroupByKey(opts ...Opt) *GroupedStream[K, V] {
	c := newOpConfig(opts)
	sc := newStatefulConfig(opts)
	return &GroupedStream[K, V]{
		s:       s,
		keys:    serdeOr(s.b, "group by key", c.keySerde, s.keys),
		values:  serdeOr(s.b, "group by key", c.valueSerde, s.values),
		grouped: sc.grouped,
		parts:   c.partitions,
	}
}

// GroupBy groups the stream by a new key computed from each record (KStream.groupBy): a
// KSTREAM-KEY-SELECT node, then a repartition before the aggregation. The new key's serde comes
// from WithKeySerde.
func GroupBy[K, V, KR any](s *Stream[K, V], fn func(key K, value V) (KR, error), opts ...Opt) *GroupedStream[KR, V] {
	c := newOpConfig(opts)
	sc := newStatefulConfig(opts)
	sel := SelectKey(s, fn, Named(s.b.newName("KSTREAM-KEY-SELECT-")))
	return &GroupedStream[KR, V]{
		s:       sel,
		keys:    serdeOr(s.b, "group by", c.keySerde, nilSerde[KR]()),
		values:  serdeOr(s.b, "group by", c.valueSerde, s.values),
		grouped: sc.grouped,
		parts:   c.partitions,
	}
}

// input returns the stream to aggregate: the grouped stream itself, or its repartitioned copy
// when the key changed. store names the repartition topic unless GroupedAs did.
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
		g.s.b.fail("%s%s: no serde for the aggregate %s: pass dsl.WithValueSerde", what, op, aggType)
		ok = false
	}
	return prefix, store, in, ok
}

func (g *GroupedStream[K, V]) input(op, store string) (*Stream[K, V], bool) {
	b := g.s.b
	if g.keys == nil {
		b.fail("%s: no key serde for %s: pass dsl.WithKeySerde", op, typeName[K]())
		return nil, false
	}
	if g.values == nil {
		b.fail("%s: no value serde for %s: pass dsl.WithValueSerde", op, typeName[V]())
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
