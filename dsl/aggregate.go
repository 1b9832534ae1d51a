package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// Count counts the records per key into a table (KGroupedStream.count). Records with a nil key or
// value are dropped (counted in the dropped-records metric). Options: Named, Materialized,
// CacheBytes, WithoutChangelog.
func (g *GroupedStream[K, V]) Count(opts ...AggregateOpt) *Table[K, int64] {
	return aggregate(g, "count", func() (int64, error) { return 0, nil },
		func(_ K, _ V, n int64) (int64, error) { return n + 1, nil }, serde.Int64(), opts)
}

// Reduce combines the values of each key into a table (KGroupedStream.reduce): the first value of a
// key is its result as is, each later one is reduce(result, value). The result is stored with the
// grouping's value serde.
func (g *GroupedStream[K, V]) Reduce(reduce func(agg, value V) (V, error), opts ...AggregateOpt) *Table[K, V] {
	return addStreamAggregate(g, "reduce", &streamAggregate[K, V, V]{reduce: reduce}, g.values, opts)
}

// Aggregate folds the values of each key into a table of VA (KGroupedStream.aggregate): init gives
// a new key's starting aggregate, agg the next one; aggs stores it (Kafka Streams'
// Materialized.withValueSerde).
func Aggregate[K, V, VA any](g *GroupedStream[K, V], init func() (VA, error), agg func(key K, value V, agg VA) (VA, error), aggs serde.Serde[VA], opts ...AggregateOpt) *Table[K, VA] {
	return aggregate(g, "aggregate", init, agg, aggs, opts)
}

func aggregate[K, V, VA any](g *GroupedStream[K, V], op string, init func() (VA, error), agg func(K, V, VA) (VA, error), aggs serde.Serde[VA], opts []AggregateOpt) *Table[K, VA] {
	return addStreamAggregate(g, op, &streamAggregate[K, V, VA]{init: init, agg: agg}, aggs, opts)
}

// addStreamAggregate adds the KSTREAM-AGGREGATE (or KSTREAM-REDUCE) node and its timestamped
// key-value store, after a repartition if the key changed.
func addStreamAggregate[K, V, VA any](g *GroupedStream[K, V], op string, proto *streamAggregate[K, V, VA], aggs serde.Serde[VA], opts []AggregateOpt) *Table[K, VA] {
	b := g.s.b
	c := newOpConfig(opts)
	prefix, store, in, ok := g.aggregateInput(c, op, "", proto.reduce != nil, aggs != nil, typeName[VA]())
	if !ok {
		return &Table[K, VA]{b: b, node: g.s.node}
	}
	name := b.nameOr(c, prefix)
	keys := g.keys
	addProcessor(b, name, func() runtime.Processor[K, V, K, Change[VA]] {
		p := *proto
		p.store, p.keys, p.aggs = store, keys, aggs
		return &p
	}, in.node)
	b.topo.AddStateStore(dslStore{name: store, kind: tsKVKind, listen: true, cache: c.cacheBytes, unlogged: c.withoutLog}, name)
	return &Table[K, VA]{b: b, node: name, keys: keys, values: aggs, store: store}
}

// streamAggregate is Kafka Streams' KStreamAggregate and KStreamReduce: the aggregate of a key is
// in a timestamped store with the largest timestamp of the records folded into it, which is also
// the timestamp of the update forwarded.
type streamAggregate[K, V, VA any] struct {
	forwarder[K, Change[VA]]
	store  string
	keys   serde.Serde[K]
	aggs   serde.Serde[VA]
	init   func() (VA, error)
	agg    func(K, V, VA) (VA, error)
	reduce func(VA, V) (VA, error) // set for Reduce, where VA is V
	kv     state.TimestampedKV[K, VA]
}

func (p *streamAggregate[K, V, VA]) Init(ctx runtime.ProcessorContext[K, Change[VA]]) error {
	p.ctx = ctx
	s, err := listenTo(ctx, p.store, forwardTableChange(ctx, p.keys, p.aggs))
	if err != nil {
		return err
	}
	p.kv = state.NewTimestampedKV(s.(state.TimestampedKeyValueStore), p.keys, p.aggs)
	return nil
}

func (p *streamAggregate[K, V, VA]) Process(rec runtime.Record[K, V]) error {
	if serde.IsNil(rec.Key) || isNull(rec) {
		// KStreamAggregate: "Skipping record due to null key or value" and dropped-records.
		runtime.RecordDropped(p.ctx)
		return nil
	}
	cur, ok, err := p.kv.Get(rec.Key)
	if err != nil {
		return err
	}
	old, oldTS := cur.Value, cur.Timestamp
	var next VA
	ts := rec.Timestamp
	switch {
	case p.reduce != nil && !ok:
		next = any(rec.Value).(VA)
	case p.reduce != nil:
		next, err = p.reduce(old, rec.Value)
	default:
		if !ok {
			if old, err = p.init(); err != nil {
				return err
			}
		}
		next, err = p.agg(rec.Key, rec.Value, old)
	}
	if err != nil {
		return err
	}
	if ok {
		ts = max(ts, oldTS)
	}
	return p.kv.Put(rec.Key, next, ts)
}

// forwardTableChange returns the flush listener of a timestamped key-value store holding a table:
// it forwards each change leaving the store (or its cache) as a Change with the value's timestamp.
func forwardTableChange[K, V any](ctx runtime.ProcessorContext[K, Change[V]], keys serde.Serde[K], values serde.Serde[V]) state.FlushListener {
	return func(c state.Change) error {
		k, err := keys.Deserialize(c.Key)
		if err != nil {
			return err
		}
		var ch Change[V]
		if c.Value != nil {
			if ch.New, err = values.Deserialize(c.Value); err != nil {
				return err
			}
			ch.HasNew = true
		}
		if c.OldValue != nil {
			if ch.Old, err = values.Deserialize(c.OldValue); err != nil {
				return err
			}
			ch.HasOld = true
		}
		ts := c.Timestamp
		if c.Value == nil {
			ts = c.OldTimestamp
		}
		return ctx.Forward(runtime.Record[K, Change[V]]{Key: k, Value: ch, Timestamp: ts})
	}
}
