package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// GlobalKTable is a table holding every partition of its topic on every application instance
// (Kafka Streams' GlobalKTable). It is only looked up, by StreamGlobalTableJoin and
// StreamGlobalTableLeftJoin: it has no operators and forwards nothing. (The type is not named
// GlobalTable because that is the function creating it, as Kafka Streams' builder.globalTable.)
type GlobalKTable[K, V any] struct {
	b      *Builder
	store  string
	keys   serde.Serde[K]
	values serde.Serde[V]
}

// StoreName returns the name of the global store holding the table.
func (g *GlobalKTable[K, V]) StoreName() string { return g.store }

// GlobalTable reads topic as a global table (builder.globalTable): the runtime materializes all
// of its partitions in a global store, named by Materialized or "<topic>-STATE-STORE-<n>", reads
// the topic to its end before any stream task processes a record, and keeps applying its new
// records while the application runs. The store and a checkpoint of the offsets it covers survive
// restarts, so a restart reads only what was written since; it is rebuilt from the beginning of
// the topic when it has no usable checkpoint (see runtime.AddGlobalStore). A nil value deletes the
// key; a record with a nil key is skipped. The topic is not co-partitioned with anything, has no
// changelog (it is its own) and may not also be read as a stream or a table. Describe shows it
// as Kafka Streams does: a source node KSTREAM-SOURCE-<n> and a processor node KTABLE-SOURCE-<n>
// writing the store. Options: Materialized.
func GlobalTable[K, V any](b *Builder, topic string, keys serde.Serde[K], values serde.Serde[V], opts ...TableOpt) *GlobalKTable[K, V] {
	c := newOpConfig(opts)
	store := c.store
	if store == "" {
		store = b.newName(topic + "-STATE-STORE-")
	}
	source, processor := b.newName("KSTREAM-SOURCE-"), b.newName("KTABLE-SOURCE-")
	if keys == nil || values == nil {
		b.fail("global table %s needs a key and a value serde", topic)
	}
	runtime.AddGlobalStore(b.topo, store, runtime.GlobalStoreSpec[K, V]{Topic: topic, Keys: keys, Values: values,
		SourceName: source, ProcessorName: processor})
	return &GlobalKTable[K, V]{b: b, store: store, keys: keys, values: values}
}

// StreamGlobalTableJoin joins each record of s with the global table's current value for the key
// keySelector maps the record to (KStream#join with a GlobalKTable, KeyValueMapper and
// ValueJoiner). Only the stream side triggers; a record whose mapped key is nil or not in the
// table produces nothing, and so does a record with a nil value. The result keeps the stream
// record's key and timestamp. Nothing is repartitioned: every instance holds the whole table.
// Options: Named. The result has no value serde: give it with WithValueSerde.
func StreamGlobalTableJoin[K, V, GK, GV, VR any](s *Stream[K, V], gt *GlobalKTable[GK, GV], keySelector func(key K, value V) (GK, error), joiner func(value V, tableValue GV) (VR, error), opts ...NodeOpt) *Stream[K, VR] {
	return streamGlobalTableJoin(s, gt, keySelector, joiner, false, opts)
}

// StreamGlobalTableLeftJoin is StreamGlobalTableJoin where a stream record whose mapped key is nil
// or not in the table is still joined, with the zero GV (nil for pointer types): KStream#leftJoin
// with a GlobalKTable.
func StreamGlobalTableLeftJoin[K, V, GK, GV, VR any](s *Stream[K, V], gt *GlobalKTable[GK, GV], keySelector func(key K, value V) (GK, error), joiner func(value V, tableValue GV) (VR, error), opts ...NodeOpt) *Stream[K, VR] {
	return streamGlobalTableJoin(s, gt, keySelector, joiner, true, opts)
}

func streamGlobalTableJoin[K, V, GK, GV, VR any](s *Stream[K, V], gt *GlobalKTable[GK, GV], keySelector func(K, V) (GK, error), joiner func(V, GV) (VR, error), left bool, opts []NodeOpt) *Stream[K, VR] {
	b := s.b
	c := newOpConfig(opts)
	name := b.nameOr(c, "KSTREAM-JOIN-")
	if gt.b != b {
		b.fail("join %s: the global table belongs to another builder", name)
		return &Stream[K, VR]{b: b, node: s.node}
	}
	store, keys, values := gt.store, gt.keys, gt.values
	addProcessor(b, name, func() runtime.Processor[K, V, K, VR] {
		return &streamGlobalTableJoinProc[K, V, GK, GV, VR]{store: store, keys: keys, values: values, keySelector: keySelector, joiner: joiner, left: left}
	}, s.node)
	// The stream keeps its key and partitioning: a changed key stays marked for a later operation.
	return &Stream[K, VR]{b: b, node: name, keys: s.keys, keyChanged: s.keyChanged}
}

// streamGlobalTableJoinProc is Kafka Streams' KStreamKTableJoinProcessor over a global store
// (KStreamGlobalKTableJoin).
type streamGlobalTableJoinProc[K, V, GK, GV, VR any] struct {
	forwarder[K, VR]
	store       string
	keys        serde.Serde[GK]
	values      serde.Serde[GV]
	keySelector func(K, V) (GK, error)
	joiner      func(V, GV) (VR, error)
	left        bool
	gs          runtime.GlobalStore[GK, GV]
}

func (p *streamGlobalTableJoinProc[K, V, GK, GV, VR]) Init(ctx runtime.ProcessorContext[K, VR]) error {
	p.ctx = ctx
	gs, err := runtime.GetGlobalStore(ctx, p.store, p.keys, p.values)
	p.gs = gs
	return err
}

func (p *streamGlobalTableJoinProc[K, V, GK, GV, VR]) Process(rec runtime.Record[K, V]) error {
	if isNull(rec) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	gk, err := p.keySelector(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	var gv GV
	ok := false
	if serde.IsNil(gk) {
		if !p.left {
			runtime.RecordDropped(p.ctx) // no join key: Kafka Streams' "skipping record due to null join key"
			return nil
		}
	} else if gv, _, ok, err = p.gs.Get(gk); err != nil {
		return err
	}
	if !ok && !p.left {
		return nil
	}
	r, err := p.joiner(rec.Value, gv)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithValue(rec, r))
}
