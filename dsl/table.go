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

// TableSource reads topic as a table (Kafka Streams' builder.table): a source node
// (KSTREAM-SOURCE) and a table source (KTABLE-SOURCE) materializing it in a timestamped key-value
// store, named by Materialized or "<topic>-STATE-STORE-<n>", logged to its changelog topic.
func TableSource[K, V any](b *Builder, topic string, keys serde.Serde[K], values serde.Serde[V], opts ...Opt) *Table[K, V] {
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
