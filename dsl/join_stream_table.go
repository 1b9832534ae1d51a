package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// StreamTableJoin joins each record of s with the table's current value for its key (KStream#join
// with a KTable): a record whose key is not in the table produces nothing, and table updates
// produce nothing (only the stream side triggers; docs "KStream-KTable Join"). The result keeps the
// stream record's timestamp. s and t must be co-partitioned: s is repartitioned first if its key
// changed, and the runtime checks at start that the topics have equal partition counts. Records
// with a nil key or value are dropped. Options: Named, Partitions (of the repartition topic). The
// result has no value serde: give it with WithValueSerde.
func StreamTableJoin[K, V, VT, VR any](s *Stream[K, V], t *Table[K, VT], joiner func(key K, value V, tableValue VT) (VR, error), opts ...JoinOpt) *Stream[K, VR] {
	return streamTableJoin(s, t, func(k K, v V, vt VT, ok bool) (VR, bool, error) {
		if !ok {
			var zero VR
			return zero, false, nil
		}
		r, err := joiner(k, v, vt)
		return r, true, err
	}, false, opts)
}

// StreamTableLeftJoin is StreamTableJoin where a stream record whose key is not in the table is
// still joined, with found false (KStream#leftJoin with a KTable). Since KIP-962 a stream record
// with a nil key is joined with found false too, rather than dropped.
func StreamTableLeftJoin[K, V, VT, VR any](s *Stream[K, V], t *Table[K, VT], joiner func(key K, value V, tableValue VT, found bool) (VR, error), opts ...JoinOpt) *Stream[K, VR] {
	return streamTableJoin(s, t, func(k K, v V, vt VT, ok bool) (VR, bool, error) {
		r, err := joiner(k, v, vt, ok)
		return r, true, err
	}, true, opts)
}

func streamTableJoin[K, V, VT, VR any](s *Stream[K, V], t *Table[K, VT], join func(K, V, VT, bool) (VR, bool, error), left bool, opts []JoinOpt) *Stream[K, VR] {
	b := s.b
	c := newOpConfig(opts)
	name := b.nameOr(c, "KSTREAM-JOIN-")
	if s.keyChanged {
		if !s.hasSerdes("join " + name) {
			return &Stream[K, VR]{b: b, node: s.node}
		}
		base := name + "-left"
		s = repartitionThrough(s, base, s.keys, s.values, c.partitions, base+"-repartition-filter", base+"-repartition-sink", base+"-repartition-source")
	}
	t = t.materialized()
	if t.store == "" {
		return &Stream[K, VR]{b: b, node: s.node}
	}
	store, keys, tvalues := t.store, t.keys, t.values
	addProcessor(b, name, func() runtime.Processor[K, V, K, VR] {
		return &streamTableJoinProc[K, V, VT, VR]{store: store, keys: keys, values: tvalues, join: join, left: left}
	}, s.node)
	b.topo.ConnectStores(name, store)
	b.copartition(s.node, t.node)
	return &Stream[K, VR]{b: b, node: name, keys: s.keys}
}

// streamTableJoinProc is Kafka Streams' KStreamKTableJoinProcessor.
type streamTableJoinProc[K, V, VT, VR any] struct {
	forwarder[K, VR]
	store  string
	keys   serde.Serde[K]
	values serde.Serde[VT]
	join   func(K, V, VT, bool) (VR, bool, error)
	left   bool
	kv     state.TimestampedKV[K, VT]
}

func (p *streamTableJoinProc[K, V, VT, VR]) Init(ctx runtime.ProcessorContext[K, VR]) error {
	p.ctx = ctx
	kv, err := runtime.GetTimestampedKeyValueStore(ctx, p.store, p.keys, p.values)
	p.kv = kv
	return err
}

func (p *streamTableJoinProc[K, V, VT, VR]) Process(rec runtime.Record[K, V]) error {
	if isNull(rec) || (serde.IsNil(rec.Key) && !p.left) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	var cur state.ValueAndTimestamp[VT]
	var ok bool
	if !serde.IsNil(rec.Key) {
		var err error
		if cur, ok, err = p.kv.Get(rec.Key); err != nil {
			return err
		}
	}
	r, emit, err := p.join(rec.Key, rec.Value, cur.Value, ok)
	if err != nil || !emit {
		return err
	}
	return p.ctx.Forward(runtime.WithValue(rec, r))
}

// materialized returns t itself if it has a store, or t materialized in a new timestamped
// key-value store (KTABLE-MATERIALIZE) for a join to look keys up in.
func (t *Table[K, V]) materialized() *Table[K, V] {
	if t.store != "" {
		return t
	}
	return t.Materialize()
}

type materializeChangeProc[K, V any] struct {
	forwarder[K, Change[V]]
	store  string
	keys   serde.Serde[K]
	values serde.Serde[V]
	kv     state.TimestampedKV[K, V]
}

func (p *materializeChangeProc[K, V]) Init(ctx runtime.ProcessorContext[K, Change[V]]) error {
	p.ctx = ctx
	kv, err := runtime.GetTimestampedKeyValueStore(ctx, p.store, p.keys, p.values)
	p.kv = kv
	return err
}

func (p *materializeChangeProc[K, V]) Process(rec runtime.Record[K, Change[V]]) error {
	var err error
	if rec.Value.HasNew {
		err = p.kv.Put(rec.Key, rec.Value.New, rec.Timestamp)
	} else {
		err = p.kv.Delete(rec.Key)
	}
	if err != nil {
		return err
	}
	return p.ctx.Forward(rec)
}
