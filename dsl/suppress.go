package dsl

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// SuppressUntilWindowCloses holds back every update of a windowed aggregation's table until its
// window closes (window end + grace <= stream time), then emits only the window's final result:
// Kafka Streams' suppress(Suppressed.untilWindowCloses(unbounded())), ksqlDB's EMIT FINAL. Stream
// time here is the largest timestamp of the updates reaching the suppression, so a window closes
// only when a later update (of any key in the task) arrives. Deletes of merged-away sessions are
// not emitted. The buffer is a key-value store ("<name>-store"), logged like every store, so a
// restart neither loses nor repeats final results that were committed.
//
// t must be the table of a windowed aggregation (or derived from one by Filter or MapTableValues):
// the windows' grace period comes from it. It is a package function because only tables keyed by
// Windowed[K] have windows (and for the reason given at WindowedStream).
func SuppressUntilWindowCloses[K, V any](t *Table[Windowed[K], V], opts ...NodeOpt) *Table[Windowed[K], V] {
	b := t.b
	c := newOpConfig(opts)
	wk, ok := t.keys.(windowedKeys)
	if !ok {
		b.fail("suppress until window closes: table %s is not the result of a windowed aggregation", t.node)
		return t
	}
	if t.values == nil {
		b.fail("suppress: table %s has no value serde: call WithValueSerde upstream", t.node)
		return t
	}
	name := b.nameOr(c, "KTABLE-SUPPRESS-")
	store := name + "-store"
	keys, values, grace := t.keys, t.values, wk.windowGrace().Milliseconds()
	addProcessor(b, name, func() runtime.Processor[Windowed[K], Change[V], Windowed[K], Change[V]] {
		return &suppressProc[K, V]{store: store, keys: keys, changes: changeSerde[V]{values: values}, grace: grace, observed: -1}
	}, t.node)
	b.topo.AddStateStore(dslStore{name: store, kind: kvKind}, name)
	return &Table[Windowed[K], V]{b: b, node: name, keys: keys, values: values}
}

// suppressProc is Kafka Streams' KTableSuppressProcessor with a strict unbounded buffer keyed by
// buffer time (the window end): entry key = window end (sign-flipped big-endian, so byte order is
// time order) + serialized windowed key; value = record timestamp (8 bytes) + the Change.
type suppressProc[K, V any] struct {
	forwarder[Windowed[K], Change[V]]
	store    string
	keys     serde.Serde[Windowed[K]]
	changes  changeSerde[V]
	grace    int64
	kv       state.KeyValueStore
	observed int64
	// minTime is the smallest buffer time (window end) in the buffer, math.MaxInt64 when it is
	// empty: evict scans the buffer only once stream time may have closed a window.
	minTime int64
}

func (p *suppressProc[K, V]) Init(ctx runtime.ProcessorContext[Windowed[K], Change[V]]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.store)
	if err != nil {
		return err
	}
	p.kv = s.(state.KeyValueStore)
	// The buffer's records give a lower bound of the stream time seen before a restart.
	it, err := p.kv.All()
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		if v := it.Value(); len(v) >= 8 {
			p.observed = max(p.observed, int64(binary.BigEndian.Uint64(v)))
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	return p.resetMinTime()
}

// resetMinTime sets minTime from the first entry of the buffer, whose keys sort by buffer time.
func (p *suppressProc[K, V]) resetMinTime() error {
	it, err := p.kv.All()
	if err != nil {
		return err
	}
	defer it.Close()
	p.minTime = math.MaxInt64
	if it.Next() && len(it.Key()) >= 8 {
		p.minTime = int64(binary.BigEndian.Uint64(it.Key()) ^ (1 << 63))
	}
	return it.Err()
}

func bufferKey(end int64, kb []byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(kb)), uint64(end)^(1<<63))
	return append(out, kb...)
}

func (p *suppressProc[K, V]) Process(rec runtime.Record[Windowed[K], Change[V]]) error {
	p.observed = max(p.observed, rec.Timestamp)
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	key := bufferKey(rec.Key.Window.End, kb)
	ch := rec.Value
	// Keep the value from before the first buffered update as the old value.
	if prev, ok, err := p.kv.Get(key); err != nil {
		return err
	} else if ok && len(prev) >= 8 {
		pc, err := p.changes.Deserialize(prev[8:])
		if err != nil {
			return err
		}
		ch.Old, ch.HasOld = pc.Old, pc.HasOld
	}
	cb, err := p.changes.Serialize(ch)
	if err != nil {
		return err
	}
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(cb)), uint64(rec.Timestamp))
	if err := p.kv.Put(key, append(val, cb...)); err != nil {
		return err
	}
	p.minTime = min(p.minTime, rec.Key.Window.End)
	return p.evict()
}

// evict emits, in window-end order, every buffered window whose end is at or before
// streamTime - grace.
func (p *suppressProc[K, V]) evict() error {
	expiry := p.observed - p.grace
	if p.minTime > expiry {
		return nil
	}
	hi := binary.BigEndian.AppendUint64(nil, uint64(expiry+1)^(1<<63))
	it, err := p.kv.Range(nil, hi)
	if err != nil {
		return err
	}
	type entry struct{ k, v []byte }
	var due []entry
	for it.Next() {
		due = append(due, entry{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, e := range due {
		if err := p.kv.Delete(e.k); err != nil {
			return err
		}
		k, err := p.keys.Deserialize(e.k[8:])
		if err != nil {
			return err
		}
		ch, err := p.changes.Deserialize(e.v[8:])
		if err != nil {
			return err
		}
		if !ch.HasNew {
			continue // final results drop tombstones (safeToDropTombstones)
		}
		ts := int64(binary.BigEndian.Uint64(e.v))
		if err := p.ctx.Forward(runtime.Record[Windowed[K], Change[V]]{Key: k, Value: ch, Timestamp: ts}); err != nil {
			return err
		}
	}
	return p.resetMinTime()
}
