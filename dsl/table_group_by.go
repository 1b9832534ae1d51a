package dsl

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// GroupedTable is a table re-grouped by a new key, ready to aggregate with an adder and a
// subtractor (Kafka Streams' KGroupedTable). Every update of the source table retracts the old
// value from its group (subtractor) and adds the new one to its group (adder); the updates travel
// through a repartition topic, "<name>-repartition".
type GroupedTable[K, V any] struct {
	b       *Builder
	node    string // KTABLE-SELECT, forwarding Change[V] keyed by the new key
	keys    serde.Serde[K]
	values  serde.Serde[V]
	grouped string
	parts   int32
}

// TableGroupBy re-groups t by a key and value computed from each row (KTable.groupBy, node
// KTABLE-SELECT). When an update moves a row from one group to another, the retraction from the
// old group and the addition to the new one are sent as two records, retraction first; when the
// group stays the same they travel as one record and the aggregation applies the subtractor, then
// the adder, and emits once (KIP-904). The grouping has no serdes for the new key and value: give
// them with WithKeySerde and WithValueSerde. Options: Named (of the KTABLE-SELECT node, and of the
// repartition topic, "<name>-repartition"), Partitions.
func TableGroupBy[K, V, KR, VR any](t *Table[K, V], fn func(key K, value V) (KR, VR, error), opts ...RepartitionOpt) *GroupedTable[KR, VR] {
	b := t.b
	c := newOpConfig(opts)
	name := b.nameOr(c, "KTABLE-SELECT-")
	addProcessor(b, name, func() runtime.Processor[K, Change[V], KR, Change[VR]] {
		return &tableRepartitionMap[K, V, KR, VR]{fn: fn}
	}, t.node)
	return &GroupedTable[KR, VR]{b: b, node: name, grouped: c.name, parts: c.partitions}
}

// GroupBy re-groups the table by a key and value of the same types, keeping the serdes: the
// package function TableGroupBy with KR = K and VR = V.
func (t *Table[K, V]) GroupBy(fn func(key K, value V) (K, V, error), opts ...RepartitionOpt) *GroupedTable[K, V] {
	return TableGroupBy(t, fn, opts...).WithKeySerde(t.keys).WithValueSerde(t.values)
}

// WithKeySerde returns the grouping with keys serialized by keys in its repartition topic and
// store (Kafka Streams' Grouped.with).
func (g *GroupedTable[K, V]) WithKeySerde(keys serde.Serde[K]) *GroupedTable[K, V] {
	c := *g
	c.keys = keys
	return &c
}

// WithValueSerde returns the grouping with values serialized by values in its repartition topic,
// like WithKeySerde.
func (g *GroupedTable[K, V]) WithValueSerde(values serde.Serde[V]) *GroupedTable[K, V] {
	c := *g
	c.values = values
	return &c
}

// tableRepartitionMap is Kafka Streams' KTableRepartitionMap.
type tableRepartitionMap[K, V, KR, VR any] struct {
	forwarder[KR, Change[VR]]
	fn func(K, V) (KR, VR, error)
}

func (p *tableRepartitionMap[K, V, KR, VR]) Process(rec runtime.Record[K, Change[V]]) error {
	ch := rec.Value
	var newK, oldK KR
	var newV, oldV VR
	var err error
	if ch.HasNew {
		if newK, newV, err = p.fn(rec.Key, ch.New); err != nil {
			return err
		}
	}
	if ch.HasOld {
		if oldK, oldV, err = p.fn(rec.Key, ch.Old); err != nil {
			return err
		}
	}
	if ch.HasNew && ch.HasOld && !serde.IsNil(newK) && sameKey(oldK, newK) {
		return p.ctx.Forward(runtime.WithKeyValue(rec, newK, Change[VR]{New: newV, HasNew: true, Old: oldV, HasOld: true}))
	}
	if ch.HasOld && !serde.IsNil(oldK) {
		if err := p.ctx.Forward(runtime.WithKeyValue(rec, oldK, Change[VR]{Old: oldV, HasOld: true})); err != nil {
			return err
		}
	}
	if ch.HasNew && !serde.IsNil(newK) {
		return p.ctx.Forward(runtime.WithKeyValue(rec, newK, Change[VR]{New: newV, HasNew: true}))
	}
	return nil
}

// sameKey compares keys of any type: with == when comparable, otherwise not equal (the two
// records are then sent separately, which gives the same final result).
func sameKey[K any](a, b K) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return any(a) == any(b)
}

// input writes the grouped updates through the repartition topic named after store (or
// the grouping's Named) and returns the source reading them back.
func (g *GroupedTable[K, V]) input(op, store string) (string, bool) {
	b := g.b
	if g.keys == nil || g.values == nil {
		b.fail("%s: table group by needs serdes for its new key and value: call WithKeySerde and WithValueSerde on the grouping", op)
		return "", false
	}
	base := g.grouped
	if base == "" {
		base = store
	}
	topic := base + "-repartition"
	b.topo.AddRepartitionTopic(topic, g.parts)
	cs := changeSerde[V]{values: g.values}
	runtime.AddSink(b.topo, base+"-repartition-sink", runtime.SinkSpec[K, Change[V]]{Topic: topic, Keys: g.keys, Values: cs}, g.node)
	src := base + "-repartition-source"
	runtime.AddSource(b.topo, src, runtime.SourceSpec[K, Change[V]]{Topics: []string{topic}, Keys: g.keys, Values: cs})
	return src, true
}

// Count counts the rows per group: the adder adds one, the subtractor removes one. A group whose
// count drops to 0 keeps the count 0 (Kafka Streams does not delete it).
func (g *GroupedTable[K, V]) Count(opts ...AggregateOpt) *Table[K, int64] {
	return addTableAggregate(g, "count", &tableAggregate[K, V, int64]{
		init: func() (int64, error) { return 0, nil },
		add:  func(_ K, _ V, n int64) (int64, error) { return n + 1, nil },
		sub:  func(_ K, _ V, n int64) (int64, error) { return n - 1, nil },
	}, serde.Int64(), opts)
}

// Reduce combines the values of each group with adder, retracting replaced or deleted rows with
// subtractor (KGroupedTable.reduce). The first value of a group is its result as is. The result is
// stored with the grouping's value serde.
func (g *GroupedTable[K, V]) Reduce(adder, subtractor func(agg, value V) (V, error), opts ...AggregateOpt) *Table[K, V] {
	return addTableAggregate(g, "reduce", &tableAggregate[K, V, V]{reduceAdd: adder, reduceSub: subtractor}, g.values, opts)
}

// TableAggregate folds each group's rows into a VA with adder and retracts replaced or deleted
// rows with subtractor (KGroupedTable.aggregate). A nil aggregate (of a pointer, slice or map
// type) deletes the group's row. aggs stores the aggregate.
func TableAggregate[K, V, VA any](g *GroupedTable[K, V], init func() (VA, error), adder, subtractor func(key K, value V, agg VA) (VA, error), aggs serde.Serde[VA], opts ...AggregateOpt) *Table[K, VA] {
	return addTableAggregate(g, "aggregate", &tableAggregate[K, V, VA]{init: init, add: adder, sub: subtractor}, aggs, opts)
}

func addTableAggregate[K, V, VA any](g *GroupedTable[K, V], op string, proto *tableAggregate[K, V, VA], aggs serde.Serde[VA], opts []AggregateOpt) *Table[K, VA] {
	b := g.b
	c := newOpConfig(opts)
	prefix := "KTABLE-AGGREGATE-"
	if proto.reduceAdd != nil {
		prefix = "KTABLE-REDUCE-"
	}
	store := b.storeName(c, prefix)
	src, ok := g.input(op, store)
	if !ok || aggs == nil {
		if aggs == nil {
			b.fail("table %s: the aggregate's serde (%s) is nil", op, typeName[VA]())
		}
		return &Table[K, VA]{b: b, node: g.node}
	}
	name := b.nameOr(c, prefix)
	keys := g.keys
	addProcessor(b, name, func() runtime.Processor[K, Change[V], K, Change[VA]] {
		p := *proto
		p.store, p.keys, p.aggs = store, keys, aggs
		return &p
	}, src)
	b.topo.AddStateStore(dslStore{name: store, kind: tsKVKind, listen: true, cache: c.cacheBytes, unlogged: c.withoutLog}, name)
	return &Table[K, VA]{b: b, node: name, keys: keys, values: aggs, store: store}
}

// tableAggregate is Kafka Streams' KTableAggregate and KTableReduce: subtract the old value (if
// the group has an aggregate), then add the new one, store and forward, with the larger of the
// record's and the aggregate's timestamps.
type tableAggregate[K, V, VA any] struct {
	forwarder[K, Change[VA]]
	store     string
	keys      serde.Serde[K]
	aggs      serde.Serde[VA]
	init      func() (VA, error)
	add, sub  func(K, V, VA) (VA, error)
	reduceAdd func(VA, V) (VA, error)
	reduceSub func(VA, V) (VA, error)
	kv        state.TimestampedKV[K, VA]
}

func (p *tableAggregate[K, V, VA]) Init(ctx runtime.ProcessorContext[K, Change[VA]]) error {
	p.ctx = ctx
	s, err := listenTo(ctx, p.store, forwardTableChange(ctx, p.keys, p.aggs))
	if err != nil {
		return err
	}
	p.kv = state.NewTimestampedKV(s.(state.TimestampedKeyValueStore), p.keys, p.aggs)
	return nil
}

func (p *tableAggregate[K, V, VA]) Process(rec runtime.Record[K, Change[V]]) error {
	if serde.IsNil(rec.Key) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	ch := rec.Value
	cur, hadOld, err := p.kv.Get(rec.Key)
	if err != nil {
		return err
	}
	oldAgg, oldTS := cur.Value, cur.Timestamp
	agg, has := oldAgg, hadOld
	ts := rec.Timestamp
	if ch.HasOld && hadOld {
		if p.reduceSub != nil {
			agg, err = p.reduceSub(agg, ch.Old)
		} else {
			agg, err = p.sub(rec.Key, ch.Old, agg)
		}
		if err != nil {
			return err
		}
		ts = max(ts, oldTS)
	}
	if ch.HasNew {
		switch {
		case p.reduceAdd != nil && !has:
			agg, has = any(ch.New).(VA), true
		case p.reduceAdd != nil:
			agg, err = p.reduceAdd(agg, ch.New)
		default:
			if !has {
				if agg, err = p.init(); err != nil {
					return err
				}
				has = true
			}
			agg, err = p.add(rec.Key, ch.New, agg)
		}
		if err != nil {
			return err
		}
		if hadOld {
			ts = max(ts, oldTS)
		}
	}
	if !has || serde.IsNil(agg) {
		return p.kv.Delete(rec.Key)
	}
	return p.kv.Put(rec.Key, agg, ts)
}

// changeSerde writes a Change through a repartition topic: a flag byte (1: has new, 2: has old),
// the new value's length as a uvarint and its bytes, then the old value's bytes.
type changeSerde[V any] struct{ values serde.Serde[V] }

func (s changeSerde[V]) Serialize(ch Change[V]) ([]byte, error) {
	var flags byte
	var nb, ob []byte
	var err error
	if ch.HasNew {
		flags |= 1
		if nb, err = s.values.Serialize(ch.New); err != nil {
			return nil, err
		}
	}
	if ch.HasOld {
		flags |= 2
		if ob, err = s.values.Serialize(ch.Old); err != nil {
			return nil, err
		}
	}
	return appendChange(nil, flags, nb, ob), nil
}

// A serialized Change is flags (1: has a new value, 2: has an old one) | uvarint len(new) | new |
// old. appendChange appends one to dst; splitChange splits one, its slices aliasing b.
func appendChange(dst []byte, flags byte, nb, ob []byte) []byte {
	dst = slices.Grow(dst, 1+binary.MaxVarintLen64+len(nb)+len(ob))
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(nb)))
	dst = append(dst, nb...)
	return append(dst, ob...)
}

func splitChange(b []byte) (flags byte, nb, ob []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errBadChange
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || uint64(len(b)-1-w) < n {
		return 0, nil, nil, errBadChange
	}
	return b[0], b[1+w : 1+w+int(n)], b[1+w+int(n):], nil
}

var errBadChange = errors.New("dsl: malformed change record in a repartition topic")

func (s changeSerde[V]) Deserialize(b []byte) (Change[V], error) {
	var ch Change[V]
	flags, nb, ob, err := splitChange(b)
	if err != nil {
		return ch, err
	}
	if flags&1 != 0 {
		if ch.New, err = s.values.Deserialize(nb); err != nil {
			return ch, err
		}
		ch.HasNew = true
	}
	if flags&2 != 0 {
		if ch.Old, err = s.values.Deserialize(ob); err != nil {
			return ch, err
		}
		ch.HasOld = true
	}
	return ch, nil
}
