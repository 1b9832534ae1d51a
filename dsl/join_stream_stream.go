package dsl

import (
	"bytes"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// StreamStreamJoin joins records of left and right with the same key whose timestamps are within
// w of each other (KStream#join with JoinWindows): a left record at t joins every right record in
// [t-w.Before, t+w.After] and the other way round, whichever arrives second triggering the
// result, stamped with the larger of the two timestamps. Both sides are buffered in window stores
// ("<name>-this-store", "<name>-other-store", or JoinStores) that keep records for
// Before+After+Grace. Both streams are repartitioned first if their key changed, and must be
// co-partitioned. Records with a nil key or value are dropped. The value serde of the result comes
// from WithValueSerde.
func StreamStreamJoin[K, V, VO, VR any](left *Stream[K, V], right *Stream[K, VO], joiner func(key K, left V, right VO) (VR, error), w JoinWindows, opts ...WindowJoinOpt) *Stream[K, VR] {
	return streamStreamJoin(left, right, func(k K, l V, hasL bool, r VO, hasR bool) (VR, error) { return joiner(k, l, r) }, w, false, false, opts)
}

// StreamStreamLeftJoin is StreamStreamJoin where a left record that joined no right record is also
// emitted, with hasRight false, once its window has closed: when stream time passes t+After+Grace
// (KIP-633: no spurious left-join results for records that later find a partner). A left record
// that arrives after its window already closed is emitted at once. With w.Eager, a left record
// that finds no partner on arrival is emitted at once, and again joined with each later partner.
func StreamStreamLeftJoin[K, V, VO, VR any](left *Stream[K, V], right *Stream[K, VO], joiner func(key K, left V, right VO, hasRight bool) (VR, error), w JoinWindows, opts ...WindowJoinOpt) *Stream[K, VR] {
	return streamStreamJoin(left, right, func(k K, l V, hasL bool, r VO, hasR bool) (VR, error) { return joiner(k, l, r, hasR) }, w, true, false, opts)
}

// StreamStreamOuterJoin is StreamStreamLeftJoin for both sides: unmatched records of either side
// are emitted when their window closes, with the other side absent.
func StreamStreamOuterJoin[K, V, VO, VR any](left *Stream[K, V], right *Stream[K, VO], joiner func(key K, left V, hasLeft bool, right VO, hasRight bool) (VR, error), w JoinWindows, opts ...WindowJoinOpt) *Stream[K, VR] {
	return streamStreamJoin(left, right, joiner, w, true, true, opts)
}

func streamStreamJoin[K, V, VO, VR any](left *Stream[K, V], right *Stream[K, VO], joiner func(K, V, bool, VO, bool) (VR, error), w JoinWindows, leftOuter, rightOuter bool, opts []WindowJoinOpt) *Stream[K, VR] {
	b := left.b
	c := newOpConfig(opts)
	if w.Before < 0 || w.After < 0 || w.Grace < 0 || w.Before+w.After < 0 {
		b.fail("join windows need before (%v), after (%v) and grace (%v) >= 0", w.Before, w.After, w.Grace)
		return &Stream[K, VR]{b: b, node: left.node}
	}
	base := b.nameOr(c, "KSTREAM-JOIN-")
	var ok bool
	if left, ok = repartitionForJoin(left, base+"-left", c.partitions); !ok {
		return &Stream[K, VR]{b: b, node: left.node}
	}
	if right, ok = repartitionForJoin(right, base+"-right", c.partitions); !ok {
		return &Stream[K, VR]{b: b, node: left.node}
	}
	if !left.hasSerdes("join "+base) || !right.hasSerdes("join "+base) {
		return &Stream[K, VR]{b: b, node: left.node}
	}
	lkeys, lvals, rvals := left.keys, left.values, right.values
	thisStore, otherStore := c.leftStore, c.rightStore
	if thisStore == "" {
		thisStore = base + "-this-store"
	}
	if otherStore == "" {
		otherStore = base + "-other-store"
	}
	outerStore := ""
	if (leftOuter || rightOuter) && !w.Eager {
		outerStore = base + "-outer-shared-store"
	}
	size := max(w.Before+w.After, time.Millisecond)
	retention := max(w.Before+w.After+w.Grace, size)

	thisWin, otherWin := base+"-this-windowed", base+"-other-windowed"
	thisJoin, otherJoin := base+"-this", base+"-other"
	addProcessor(b, thisWin, func() runtime.Processor[K, V, K, V] {
		return &joinWindowProc[K, V]{store: thisStore, keys: lkeys, values: lvals}
	}, left.node)
	addProcessor(b, otherWin, func() runtime.Processor[K, VO, K, VO] {
		return &joinWindowProc[K, VO]{store: otherStore, keys: lkeys, values: rvals}
	}, right.node)
	b.topo.AddStateStore(dslStore{name: thisStore, kind: windowKind, size: size, retention: retention, dups: true, unlogged: c.withoutLog}, thisWin)
	b.topo.AddStateStore(dslStore{name: otherStore, kind: windowKind, size: size, retention: retention, dups: true, unlogged: c.withoutLog}, otherWin)

	trackers := &timeTrackers{m: map[runtime.TaskID]*timeTracker{}}
	bms, ams, gms := w.Before.Milliseconds(), w.After.Milliseconds(), w.Grace.Milliseconds()
	addProcessor(b, thisJoin, func() runtime.Processor[K, V, K, VR] {
		return &streamJoinProc[K, V, VO, VR]{
			isLeft: true, outer: leftOuter, before: bms, after: ams, winBefore: bms, winAfter: ams, grace: gms,
			otherStore: otherStore, outerStore: outerStore, trackers: trackers,
			keys: lkeys, thisVals: lvals, otherVals: rvals,
			join:      func(k K, v V, o VO, hasO bool) (VR, error) { return joiner(k, v, true, o, hasO) },
			joinOuter: func(k K, l V, hasL bool, r VO, hasR bool) (VR, error) { return joiner(k, l, hasL, r, hasR) },
		}
	}, thisWin)
	addProcessor(b, otherJoin, func() runtime.Processor[K, VO, K, VR] {
		return &streamJoinProc[K, VO, V, VR]{
			isLeft: false, outer: rightOuter, before: ams, after: bms, winBefore: bms, winAfter: ams, grace: gms,
			otherStore: thisStore, outerStore: outerStore, trackers: trackers,
			keys: lkeys, thisVals: rvals, otherVals: lvals,
			join:      func(k K, v VO, o V, hasO bool) (VR, error) { return joiner(k, o, hasO, v, true) },
			joinOuter: func(k K, r VO, hasR bool, l V, hasL bool) (VR, error) { return joiner(k, l, hasL, r, hasR) },
		}
	}, otherWin)
	b.topo.ConnectStores(thisJoin, otherStore)
	b.topo.ConnectStores(otherJoin, thisStore)
	if outerStore != "" {
		b.topo.AddStateStore(dslStore{name: outerStore, kind: kvKind, unlogged: c.withoutLog}, thisJoin, otherJoin)
	}
	merge := base + "-merge"
	addProcessor(b, merge, func() runtime.Processor[K, VR, K, VR] { return &passThrough[K, VR]{} }, thisJoin, otherJoin)
	b.copartition(left.node, right.node)
	return &Stream[K, VR]{b: b, node: merge, keys: lkeys}
}

// repartitionForJoin repartitions s through "<base>-repartition" if its key changed.
func repartitionForJoin[K, V any](s *Stream[K, V], base string, partitions int32) (*Stream[K, V], bool) {
	if !s.keyChanged {
		return s, true
	}
	if !s.hasSerdes("join " + base) {
		return s, false
	}
	return repartitionThrough(s, base, s.keys, s.values, partitions, base+"-repartition-filter", base+"-repartition-sink", base+"-repartition-source"), true
}

// joinWindowProc is Kafka Streams' KStreamJoinWindow: it buffers each record of its side in the
// side's window store, at the record's timestamp, and passes it on to the join.
type joinWindowProc[K, V any] struct {
	forwarder[K, V]
	store  string
	keys   serde.Serde[K]
	values serde.Serde[V]
	ws     state.WindowStore
}

func (p *joinWindowProc[K, V]) Init(ctx runtime.ProcessorContext[K, V]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.store)
	if err != nil {
		return err
	}
	p.ws = s.(state.WindowStore)
	return nil
}

func (p *joinWindowProc[K, V]) Process(rec runtime.Record[K, V]) error {
	if !serde.IsNil(rec.Key) && !isNull(rec) {
		kb, err := p.keys.Serialize(rec.Key)
		if err != nil {
			return err
		}
		vb, err := p.values.Serialize(rec.Value)
		if err != nil {
			return err
		}
		if err := p.ws.Put(kb, rec.Timestamp, vb); err != nil {
			return err
		}
	}
	return p.ctx.Forward(rec)
}

// timeTracker is the stream time both sides of a join share in one task (KStreamImplJoin's
// TimeTracker), and the smallest timestamp in the outer-join store.
type timeTracker struct {
	streamTime int64
	minTime    int64
}

type timeTrackers struct {
	mu sync.Mutex
	m  map[runtime.TaskID]*timeTracker
}

func (t *timeTrackers) get(id runtime.TaskID) *timeTracker {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.m[id]
	if !ok {
		tr = &timeTracker{streamTime: -1, minTime: math.MaxInt64}
		t.m[id] = tr
	}
	return tr
}

func (t *timeTrackers) remove(id runtime.TaskID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}

// streamJoinProc is Kafka Streams' KStreamKStreamJoin processor for one side ("this"): it joins
// each record with the other side's buffered records in [t-before, t+after]. For an outer side, a
// record that found no partner goes to the shared outer-join store until its window closes, and
// every record whose timestamp advances stream time first emits the records of the store whose
// windows have closed (KIP-633 spurious-result fix). The emit interval throttle Kafka Streams has
// (a performance knob, 1s of wall-clock time by default) is not applied: results do not depend on
// the wall clock.
type streamJoinProc[K, V, VO, VR any] struct {
	ctx                 runtime.ProcessorContext[K, VR]
	isLeft, outer       bool
	before, after       int64 // this side's join window
	winBefore, winAfter int64 // the JoinWindows' own, for the outer store's entries
	grace               int64
	otherStore          string
	outerStore          string
	trackers            *timeTrackers
	keys                serde.Serde[K]
	thisVals            serde.Serde[V]
	otherVals           serde.Serde[VO]
	join                func(K, V, VO, bool) (VR, error)
	joinOuter           func(K, V, bool, VO, bool) (VR, error) // (this, other) order
	other               state.WindowStore
	outerKV             state.KeyValueStore
	tracker             *timeTracker
	seq                 uint32
}

func (p *streamJoinProc[K, V, VO, VR]) Init(ctx runtime.ProcessorContext[K, VR]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.otherStore)
	if err != nil {
		return err
	}
	p.other = s.(state.WindowStore)
	if p.outerStore != "" {
		s, err := ctx.StateStore(p.outerStore)
		if err != nil {
			return err
		}
		p.outerKV = s.(state.KeyValueStore)
	}
	p.tracker = p.trackers.get(ctx.TaskID())
	if p.outerKV != nil {
		// After a restart the store may hold records: let the next emit scan them.
		p.tracker.minTime = math.MinInt64 / 2
	}
	return nil
}

func (p *streamJoinProc[K, V, VO, VR]) Close() error {
	if p.ctx != nil {
		p.trackers.remove(p.ctx.TaskID())
	}
	return nil
}

func (p *streamJoinProc[K, V, VO, VR]) Process(rec runtime.Record[K, V]) error {
	ts := rec.Timestamp
	p.tracker.streamTime = max(p.tracker.streamTime, ts)
	if isNull(rec) || serde.IsNil(rec.Key) {
		if p.outer && serde.IsNil(rec.Key) && !isNull(rec) {
			// KIP-962: a left/outer join joins a record with a nil key with nothing, at once.
			var none VO
			r, err := p.join(rec.Key, rec.Value, none, false)
			if err != nil {
				return err
			}
			return p.ctx.Forward(runtime.WithValue(rec, r))
		}
		runtime.RecordDropped(p.ctx)
		return nil
	}
	if p.outerKV != nil && ts == p.tracker.streamTime {
		if err := p.emitNonJoined(rec); err != nil {
			return err
		}
	}
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	timeFrom, timeTo := max(0, ts-p.before), max(0, ts+p.after)
	it, err := p.other.Fetch(kb, timeFrom, timeTo)
	if err != nil {
		return err
	}
	type match struct {
		ts int64
		v  []byte
	}
	var matches []match
	for it.Next() {
		matches = append(matches, match{it.Window().Start, bytes.Clone(it.Value())})
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, m := range matches {
		if p.outerKV != nil {
			if err := p.deleteOuter(!p.isLeft, kb, m.ts); err != nil {
				return err
			}
		}
		ov, err := p.otherVals.Deserialize(m.v)
		if err != nil {
			return err
		}
		r, err := p.join(rec.Key, rec.Value, ov, true)
		if err != nil {
			return err
		}
		out := runtime.WithValue(rec, r)
		out.Timestamp = max(ts, m.ts)
		if err := p.ctx.Forward(out); err != nil {
			return err
		}
	}
	if !p.outer || len(matches) > 0 {
		return nil
	}
	if p.outerKV == nil || timeTo < p.tracker.streamTime {
		var none VO
		r, err := p.join(rec.Key, rec.Value, none, false)
		if err != nil {
			return err
		}
		return p.ctx.Forward(runtime.WithValue(rec, r))
	}
	p.tracker.minTime = min(p.tracker.minTime, ts)
	vb, err := p.thisVals.Serialize(rec.Value)
	if err != nil {
		return err
	}
	p.seq++
	return p.outerKV.Put(binary.BigEndian.AppendUint32(outerKey(ts, p.isLeft, kb), p.seq), vb)
}

// outerKey is the prefix of the outer-join store's entries of one record's timestamp, side and key:
// timestamp (sign-flipped big-endian, so the store iterates in time order), side (1 left, 0
// right: Kafka Streams' TimestampedKeyAndJoinSide order), key length and key. A sequence number
// follows, so equal records are all kept.
func outerKey(ts int64, left bool, kb []byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+1+binary.MaxVarintLen64+len(kb)+4), uint64(ts)^(1<<63))
	side := byte(0)
	if left {
		side = 1
	}
	out = append(out, side)
	out = binary.AppendUvarint(out, uint64(len(kb)))
	return append(out, kb...)
}

// deleteOuter removes the outer-join store's entries of a record that has now joined.
func (p *streamJoinProc[K, V, VO, VR]) deleteOuter(left bool, kb []byte, ts int64) error {
	prefix := outerKey(ts, left, kb)
	it, err := p.outerKV.PrefixScan(prefix)
	if err != nil {
		return err
	}
	var keys [][]byte
	for it.Next() {
		if len(it.Key()) == len(prefix)+4 {
			keys = append(keys, bytes.Clone(it.Key()))
		}
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := p.outerKV.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// emitNonJoined emits, in timestamp order, the outer-join store's records whose join window has
// closed (timestamp + look-back + grace < stream time) and deletes them.
func (p *streamJoinProc[K, V, VO, VR]) emitNonJoined(rec runtime.Record[K, V]) error {
	tr := p.tracker
	if tr.minTime+p.after+p.grace >= tr.streamTime {
		return nil
	}
	tr.minTime = math.MaxInt64
	it, err := p.outerKV.All()
	if err != nil {
		return err
	}
	type entry struct {
		k, v []byte
	}
	var due []entry
	leftOpen, rightOpen := false, false
	for it.Next() {
		if leftOpen && rightOpen {
			break
		}
		k := it.Key()
		ts := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
		isLeft := k[8] == 1
		lookBack := p.winBefore
		if isLeft {
			lookBack = p.winAfter
		}
		if ts+lookBack+p.grace >= tr.streamTime {
			tr.minTime = min(tr.minTime, ts)
			if isLeft {
				leftOpen = true
			} else {
				rightOpen = true
			}
			continue
		}
		due = append(due, entry{bytes.Clone(k), bytes.Clone(it.Value())})
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, e := range due {
		ts := int64(binary.BigEndian.Uint64(e.k) ^ (1 << 63))
		isLeft := e.k[8] == 1
		n, w := binary.Uvarint(e.k[9:])
		kb := e.k[9+w : 9+w+int(n)]
		key, err := p.keys.Deserialize(kb)
		if err != nil {
			return err
		}
		var r VR
		if isLeft == p.isLeft {
			v, err := p.thisVals.Deserialize(e.v)
			if err != nil {
				return err
			}
			var none VO
			r, err = p.joinOuter(key, v, true, none, false)
			if err != nil {
				return err
			}
		} else {
			ov, err := p.otherVals.Deserialize(e.v)
			if err != nil {
				return err
			}
			var none V
			r, err = p.joinOuter(key, none, false, ov, true)
			if err != nil {
				return err
			}
		}
		if err := p.outerKV.Delete(e.k); err != nil {
			return err
		}
		if err := p.ctx.Forward(runtime.Record[K, VR]{Key: key, Value: r, Timestamp: ts, Headers: rec.Headers}); err != nil {
			return err
		}
	}
	return nil
}
