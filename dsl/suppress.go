package dsl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

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
	// The buffer's record cache coalesces a key's updates until the next commit, as Kafka
	// Streams' InMemoryTimeOrderedKeyValueBuffer logs only the keys that changed at each flush.
	b.topo.AddStateStore(dslStore{name: store, kind: kvKind, cache: DefaultCacheBytes}, name)
	return &Table[Windowed[K], V]{b: b, node: name, keys: keys, values: values}
}

// suppressProc is Kafka Streams' KTableSuppressProcessor with a strict unbounded buffer keyed by
// buffer time (the window end): entry key = window end (sign-flipped big-endian, so byte order is
// time order) + serialized windowed key; value = record timestamp (8 bytes) + the Change.
//
// The buffer is the store, logged as every store is, and an index of it in memory, as Kafka
// Streams' InMemoryTimeOrderedKeyValueBuffer keeps its entries in memory over its changelog: each
// update writes the store, through a record cache that coalesces a key's updates until the next
// commit (so a restart restores the buffer from the changelog as of that commit), but finding a
// key's first old value and the windows that closed reads only the index, never the store (a
// store lookup per update was a quarter of an EMIT FINAL query's time through a broker). Init
// builds the index from the store; a task that aborts is closed and opened again (the runtime
// revives it), so the index never outlives a rollback of the store.
type suppressProc[K, V any] struct {
	forwarder[Windowed[K], Change[V]]
	store    string
	keys     serde.Serde[Windowed[K]]
	changes  changeSerde[V]
	grace    int64
	kv       state.KeyValueStore
	observed int64
	// index holds every buffered entry by its buffer key; byEnd the same entries by window end.
	index map[string]*bufferEntry
	byEnd map[int64][]*bufferEntry
	// minTime is the smallest buffer time (window end) in the buffer, math.MaxInt64 when it is
	// empty: evict looks for due windows only once stream time may have closed one.
	minTime int64
}

// bufferEntry is one buffered key: its buffer key and value (as in the store), and the old value
// of its first buffered update, serialized, which every later update of the key keeps.
type bufferEntry struct {
	key    string
	value  []byte // record timestamp(8) + the Change
	old    []byte
	hasOld bool
}

func (p *suppressProc[K, V]) Init(ctx runtime.ProcessorContext[Windowed[K], Change[V]]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.store)
	if err != nil {
		return err
	}
	p.kv = s.(state.KeyValueStore)
	p.index, p.byEnd, p.minTime = map[string]*bufferEntry{}, map[int64][]*bufferEntry{}, math.MaxInt64
	it, err := p.kv.All()
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		k, v := bytes.Clone(it.Key()), bytes.Clone(it.Value())
		if len(k) < 8 || len(v) < 8 {
			return fmt.Errorf("dsl: suppression buffer %s: malformed entry", p.store)
		}
		// The buffer's records give a lower bound of the stream time seen before a restart.
		p.observed = max(p.observed, int64(binary.BigEndian.Uint64(v)))
		flags, _, ob, err := splitChange(v[8:])
		if err != nil {
			return err
		}
		p.add(&bufferEntry{key: string(k), value: v, old: ob, hasOld: flags&2 != 0}, bufferEnd(k))
	}
	return it.Err()
}

// add indexes a key not yet buffered.
func (p *suppressProc[K, V]) add(e *bufferEntry, end int64) {
	p.index[e.key] = e
	p.byEnd[end] = append(p.byEnd[end], e)
	p.minTime = min(p.minTime, end)
}

func bufferKey(end int64, kb []byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(kb)), uint64(end)^(1<<63))
	return append(out, kb...)
}

func bufferEnd(key []byte) int64 { return int64(binary.BigEndian.Uint64(key) ^ (1 << 63)) }

func (p *suppressProc[K, V]) Process(rec runtime.Record[Windowed[K], Change[V]]) error {
	p.observed = max(p.observed, rec.Timestamp)
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	key := bufferKey(rec.Key.Window.End, kb)
	ch := rec.Value
	e, buffered := p.index[string(key)]
	if !buffered {
		e = &bufferEntry{key: string(key), hasOld: ch.HasOld}
		if ch.HasOld {
			if e.old, err = p.changes.values.Serialize(ch.Old); err != nil {
				return err
			}
		}
	}
	// The old value is the one from before the key's first buffered update.
	var flags byte
	var nb []byte
	if ch.HasNew {
		flags |= 1
		if nb, err = p.changes.values.Serialize(ch.New); err != nil {
			return err
		}
	}
	if e.hasOld {
		flags |= 2
	}
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+1+binary.MaxVarintLen64+len(nb)+len(e.old)), uint64(rec.Timestamp))
	val = appendChange(val, flags, nb, e.old)
	if err := p.kv.Put(key, val); err != nil {
		return err
	}
	e.value = val // the store copied it: the entry may keep it
	if !buffered {
		p.add(e, rec.Key.Window.End)
	}
	return p.evict()
}

// evict emits, in buffer key order (window end, then key), every buffered window whose end is at
// or before streamTime - grace, and deletes it from the buffer.
func (p *suppressProc[K, V]) evict() error {
	expiry := p.observed - p.grace
	if p.minTime > expiry {
		return nil
	}
	var ends []int64
	for end := range p.byEnd {
		if end <= expiry {
			ends = append(ends, end)
		}
	}
	slices.Sort(ends)
	var err error
	for _, end := range ends {
		due := p.byEnd[end]
		delete(p.byEnd, end)
		slices.SortFunc(due, func(a, b *bufferEntry) int { return strings.Compare(a.key, b.key) })
		for i, e := range due {
			if err = p.emit(e); err != nil {
				if rest := due[i+1:]; len(rest) > 0 {
					p.byEnd[end] = rest // still buffered, for the next eviction
				}
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.minTime = math.MaxInt64
	for end := range p.byEnd {
		p.minTime = min(p.minTime, end)
	}
	return err
}

// emit deletes a closed window's entry from the buffer and forwards its final result.
func (p *suppressProc[K, V]) emit(e *bufferEntry) error {
	delete(p.index, e.key)
	key, v := []byte(e.key), e.value
	if err := p.kv.Delete(key); err != nil {
		return err
	}
	k, err := p.keys.Deserialize(key[8:])
	if err != nil {
		return err
	}
	ch, err := p.changes.Deserialize(v[8:])
	if err != nil {
		return err
	}
	if !ch.HasNew {
		return nil // final results drop tombstones (safeToDropTombstones)
	}
	ts := int64(binary.BigEndian.Uint64(v))
	return p.ctx.Forward(runtime.Record[Windowed[K], Change[V]]{Key: k, Value: ch, Timestamp: ts})
}
