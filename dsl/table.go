package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// Table is a changelog stream read as a table: the latest value per key (Kafka Streams' KTable).
// Between table operators flow Change records: a key's new value (absent for a delete) and the old
// one.
//
// A nil value (nil pointer, slice, map or interface: see serde.IsNil) is a delete, as a null is in
// Kafka; tables of other value types have deletes only from Filter.
type Table[K, V any] struct {
	b      *Builder
	node   string
	keys   serde.Serde[K]
	values serde.Serde[V]
	store  string // the store holding the table, "" if not materialized
}

// Change is an update to one key of a table.
type Change[V any] struct {
	New, Old       V
	HasNew, HasOld bool // HasNew false: the key was deleted; HasOld false: the key was new
}

// Node returns the name of the node whose output this table is.
func (t *Table[K, V]) Node() string { return t.node }

// StoreName returns the name of the key-value store holding the table, "" if it has none
// (Filter and MapTableValues results are not materialized).
func (t *Table[K, V]) StoreName() string { return t.store }

// KeySerde returns the serde of the table's keys, nil if none is known.
func (t *Table[K, V]) KeySerde() serde.Serde[K] { return t.keys }

// ValueSerde returns the serde of the table's values, nil if none is known.
func (t *Table[K, V]) ValueSerde() serde.Serde[V] { return t.values }

// WithKeySerde returns the table with keys serialized by keys from here on, where it is written to
// a topic or a store (Kafka Streams' Materialized.withKeySerde). It adds no node. A materialized
// table keeps its store with the serdes it was written with: the result is not materialized
// (StoreName is ""), and a join looking it up materializes it again.
func (t *Table[K, V]) WithKeySerde(keys serde.Serde[K]) *Table[K, V] {
	c := *t
	c.keys, c.store = keys, ""
	return &c
}

// WithValueSerde returns the table with values serialized by values from here on, like
// WithKeySerde.
func (t *Table[K, V]) WithValueSerde(values serde.Serde[V]) *Table[K, V] {
	c := *t
	c.values, c.store = values, ""
	return &c
}

// TableSource reads topic as a table (Kafka Streams' builder.table): a source node
// (KSTREAM-SOURCE) and a table source (KTABLE-SOURCE) materializing it in a timestamped key-value
// store, named by Materialized or "<topic>-STATE-STORE-<n>", logged to its changelog topic.
// Options: Named, Materialized, EventTime, WallClockTime.
func TableSource[K, V any](b *Builder, topic string, keys serde.Serde[K], values serde.Serde[V], opts ...TableSourceOpt) *Table[K, V] {
	c := newOpConfig(opts)
	store := c.store
	if store == "" {
		store = b.newName(topic + "-STATE-STORE-")
	}
	src := b.newName("KSTREAM-SOURCE-")
	addSource(b, src, []string{topic}, nil, keys, values, c)
	name := b.nameOr(opConfig{name: c.name}, "KTABLE-SOURCE-")
	return materialize(b, name, src, store, keys, values)
}

// Materialize keeps the table in a timestamped key-value store of its own (KTABLE-MATERIALIZE),
// named by Materialized or "KTABLE-MATERIALIZE-STATE-STORE-<n>", written with the table's serdes:
// Kafka Streams' Materialized.as given to a join, filter or mapValues, which makes a table that
// has no store of its own queryable (StoreName, interactive queries, dsltest).
func (t *Table[K, V]) Materialize(opts ...TableOpt) *Table[K, V] {
	c := newOpConfig(opts)
	b := t.b
	name := b.nameOr(c, "KTABLE-MATERIALIZE-")
	store := c.store
	if store == "" {
		store = b.newName("KTABLE-MATERIALIZE-STATE-STORE-")
	}
	if !hasSerdes(b, "materialize "+name, t.keys, t.values) {
		return t
	}
	keys, values := t.keys, t.values
	addProcessor(b, name, func() runtime.Processor[K, Change[V], K, Change[V]] {
		return &materializeChangeProc[K, V]{store: store, keys: keys, values: values}
	}, t.node)
	b.topo.AddStateStore(dslStore{name: store, kind: tsKVKind}, name)
	return &Table[K, V]{b: b, node: name, keys: keys, values: values, store: store}
}

// materialize adds a processor that applies records (a nil value deleting) to a timestamped
// key-value store and forwards the changes.
func materialize[K, V any](b *Builder, name, parent, store string, keys serde.Serde[K], values serde.Serde[V]) *Table[K, V] {
	addProcessor(b, name, func() runtime.Processor[K, V, K, Change[V]] {
		return &materializeProc[K, V]{store: store, keys: keys, values: values}
	}, parent)
	b.topo.AddStateStore(runtime.TimestampedKeyValueStore(store), name)
	return &Table[K, V]{b: b, node: name, keys: keys, values: values, store: store}
}

type materializeProc[K, V any] struct {
	forwarder[K, Change[V]]
	store  string
	keys   serde.Serde[K]
	values serde.Serde[V]
	kv     state.TimestampedKV[K, V]
}

func (p *materializeProc[K, V]) Init(ctx runtime.ProcessorContext[K, Change[V]]) error {
	p.ctx = ctx
	kv, err := runtime.GetTimestampedKeyValueStore(ctx, p.store, p.keys, p.values)
	p.kv = kv
	return err
}

func (p *materializeProc[K, V]) Process(rec runtime.Record[K, V]) error {
	if serde.IsNil(rec.Key) {
		p.ctx.Logger().Warn("dsl: skipping table record with a nil key")
		return nil
	}
	old, hadOld, err := p.kv.Get(rec.Key)
	if err != nil {
		return err
	}
	ch := Change[V]{Old: old.Value, HasOld: hadOld}
	if isNull(rec) {
		err = p.kv.Delete(rec.Key)
	} else {
		ch.New, ch.HasNew = rec.Value, true
		err = p.kv.Put(rec.Key, rec.Value, rec.Timestamp)
	}
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithValue(rec, ch))
}
