package dsl

import (
	"math"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// TimeWindowedStream is a grouped stream cut into time windows (Kafka Streams'
// TimeWindowedKStream).
type TimeWindowedStream[K, V any] struct {
	g *GroupedStream[K, V]
	w TimeWindows
}

func (w *TimeWindowedStream[K, V]) windowing() windowing[K, V] { return windowing[K, V]{time: w} }

// WindowedStream is a grouped stream cut into windows: a *TimeWindowedStream (WindowedBy), a
// *SessionWindowedStream (SessionWindowedBy) or a *SlidingWindowedStream (SlidingWindowedBy).
//
// The aggregations of windows are package functions, not methods, because their result is keyed
// by Windowed[K]: Go rejects a generic type whose methods lead back to itself with a larger type
// argument (a windowed count's table could be turned into a stream, grouped and windowed again,
// keyed by Windowed[Windowed[K]], and so on), an "instantiation cycle".
type WindowedStream[K, V any] interface {
	windowing() windowing[K, V]
}

// windowing is the one window kind a WindowedStream holds.
type windowing[K, V any] struct {
	time    *TimeWindowedStream[K, V]
	session *SessionWindowedStream[K, V]
	sliding *SlidingWindowedStream[K, V]
}

// WindowedCount counts the records per key and window (TimeWindowedKStream.count,
// SessionWindowedKStream.count). The result is a table keyed by Windowed[K], whose key serde is
// TimeWindowedSerde (SessionWindowedSerde for sessions); every update of a window is forwarded
// (subject to CacheBytes) with the largest timestamp of the window's records (a session's end for
// sessions). When a record merges sessions, the merged-away sessions are deleted downstream.
func WindowedCount[K, V any](w WindowedStream[K, V], opts ...WindowedAggregateOpt) *Table[Windowed[K], int64] {
	init := func() (int64, error) { return 0, nil }
	count := func(_ K, _ V, n int64) (int64, error) { return n + 1, nil }
	switch win := w.windowing(); {
	case win.time != nil:
		return addWindowAggregate(win.time, "count", &windowAggregate[K, V, int64]{init: init, agg: count}, serde.Int64(), opts)
	case win.session != nil:
		return addSessionAggregate(win.session, "count", &sessionAggregate[K, V, int64]{init: init, agg: count,
			merge: func(_ K, a, b int64) (int64, error) { return a + b, nil }}, serde.Int64(), opts)
	default:
		return addSlidingAggregate(win.sliding, "count", &slidingAggregate[K, V, int64]{init: init, agg: count}, serde.Int64(), opts)
	}
}

// WindowedReduce combines the values of each key and window (the windowed streams' reduce): the
// first value of a window is its result as is, each later one is reduce(result, value); merging
// sessions reduces their results. The result is stored with the grouping's value serde.
func WindowedReduce[K, V any](w WindowedStream[K, V], reduce func(agg, value V) (V, error), opts ...WindowedAggregateOpt) *Table[Windowed[K], V] {
	switch win := w.windowing(); {
	case win.time != nil:
		return addWindowAggregate(win.time, "reduce", &windowAggregate[K, V, V]{reduce: reduce}, win.time.g.values, opts)
	case win.session != nil:
		return addSessionAggregate(win.session, "reduce", &sessionAggregate[K, V, V]{reduce: reduce}, win.session.g.values, opts)
	default:
		return addSlidingAggregate(win.sliding, "reduce", &slidingAggregate[K, V, V]{reduce: reduce}, win.sliding.g.values, opts)
	}
}

// WindowedAggregate folds the values of each key and tumbling or hopping window into a VA, stored
// with aggs (TimeWindowedKStream.aggregate).
func WindowedAggregate[K, V, VA any](w *TimeWindowedStream[K, V], init func() (VA, error), agg func(key K, value V, agg VA) (VA, error), aggs serde.Serde[VA], opts ...WindowedAggregateOpt) *Table[Windowed[K], VA] {
	return addWindowAggregate(w, "aggregate", &windowAggregate[K, V, VA]{init: init, agg: agg}, aggs, opts)
}

func addWindowAggregate[K, V, VA any](w *TimeWindowedStream[K, V], op string, proto *windowAggregate[K, V, VA], aggs serde.Serde[VA], opts []WindowedAggregateOpt) *Table[Windowed[K], VA] {
	g := w.g
	b := g.s.b
	c := newOpConfig(opts)
	prefix, store, in, ok := g.aggregateInput(c, op, "windowed ", proto.reduce != nil, aggs != nil, typeName[VA]())
	if !ok {
		return &Table[Windowed[K], VA]{b: b, node: g.s.node}
	}
	retention := max(c.retention, w.w.Size+w.w.Grace)
	name := b.nameOr(c, prefix)
	keys := g.keys
	win := w.w
	addProcessor(b, name, func() runtime.Processor[K, V, Windowed[K], Change[VA]] {
		p := *proto
		p.store, p.keys, p.aggs, p.windows = store, keys, aggs, win
		return &p
	}, in.node)
	b.topo.AddStateStore(dslStore{name: store, kind: windowKind, listen: true, cache: c.cacheBytes,
		size: win.Size, retention: retention, unlogged: c.withoutLog}, name)
	return &Table[Windowed[K], VA]{b: b, node: name, keys: timeWindowedSerde[K]{keys: keys, size: win.Size.Milliseconds(), grace: win.Grace}, values: aggs}
}

// windowAggregate is Kafka Streams' KStreamWindowAggregate (emit on every update): a record
// updates every window that contains it and is still open, windowEnd > streamTime - grace; for the
// others it is dropped. The store holds each window's aggregate with its timestamp.
type windowAggregate[K, V, VA any] struct {
	ctx      runtime.ProcessorContext[Windowed[K], Change[VA]]
	store    string
	keys     serde.Serde[K]
	aggs     serde.Serde[VA]
	windows  TimeWindows
	init     func() (VA, error)
	agg      func(K, V, VA) (VA, error)
	reduce   func(VA, V) (VA, error)
	ws       state.WindowStore
	observed int64
	// restoredUpTo is the latest window start the store held when the processor started: every
	// window starting later was created by this processor and is in created (until it closes), so
	// a window missing from created need not be looked up in the store. Most records of a
	// windowed count open a window (a key's first record in it), and looking up an absent key is
	// the most expensive read a store has.
	restoredUpTo int64
	created      map[int64]map[string]struct{}
}

func (p *windowAggregate[K, V, VA]) Init(ctx runtime.ProcessorContext[Windowed[K], Change[VA]]) error {
	p.ctx = ctx
	s, err := listenTo(ctx, p.store, forwardWindowChange(ctx, p.keys, p.aggs))
	if err != nil {
		return err
	}
	p.ws = s.(state.WindowStore)
	// After a restart the store's stream time (its latest window start) is a lower bound of the
	// stream time the processor had seen.
	p.observed = -1
	p.restoredUpTo = p.ws.StreamTime()
	if p.restoredUpTo != math.MinInt64 {
		p.observed = p.restoredUpTo
	}
	p.created = map[int64]map[string]struct{}{}
	return nil
}

// known reports whether the window of kb starting at start may exist in the store, and records
// that it will.
func (p *windowAggregate[K, V, VA]) known(kb []byte, start int64) bool {
	if start <= p.restoredUpTo {
		return true
	}
	keys, ok := p.created[start]
	if !ok {
		keys = map[string]struct{}{}
		p.created[start] = keys
	}
	if _, ok := keys[string(kb)]; ok {
		return true
	}
	keys[string(kb)] = struct{}{}
	return false
}

// forgetClosed drops the created sets of windows that closed: no record can reach them again.
func (p *windowAggregate[K, V, VA]) forgetClosed(closeTime int64) {
	size := p.windows.Size.Milliseconds()
	for start := range p.created {
		if start+size <= closeTime {
			delete(p.created, start)
		}
	}
}

func (p *windowAggregate[K, V, VA]) Close() error { return nil }

func (p *windowAggregate[K, V, VA]) Process(rec runtime.Record[K, V]) error {
	if serde.IsNil(rec.Key) {
		// "Skipping record due to null key"; null values reach the aggregator, as in
		// KStreamWindowAggregate.
		runtime.RecordDropped(p.ctx)
		return nil
	}
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	if rec.Timestamp > p.observed {
		p.observed = rec.Timestamp
		p.forgetClosed(p.observed - p.windows.Grace.Milliseconds())
	}
	closeTime := p.observed - p.windows.Grace.Milliseconds()
	for _, w := range p.windows.windowsFor(rec.Timestamp) {
		if w.End <= closeTime {
			// "Skipping record for expired window": KStreamWindowAggregate drops and counts it.
			p.ctx.Logger().Debug("dsl: dropping record for a closed window", "window_start", w.Start, "window_end", w.End, "timestamp", rec.Timestamp, "stream_time", p.observed)
			runtime.RecordDropped(p.ctx)
			continue
		}
		var oldB []byte
		var ok bool
		known := p.known(kb, w.Start)
		if known {
			if oldB, ok, err = p.ws.Get(kb, w.Start); err != nil {
				return err
			}
		}
		var old, next VA
		ts := rec.Timestamp
		if ok {
			var oldTS int64
			if old, oldTS, err = decodeValueAndTimestamp(p.aggs, oldB); err != nil {
				return err
			}
			ts = max(ts, oldTS)
		}
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
		vb, err := encodeValueAndTimestamp(p.aggs, next, ts)
		if err != nil {
			return err
		}
		if known {
			err = p.ws.Put(kb, w.Start, vb)
		} else {
			err = p.ws.PutNew(kb, w.Start, vb) // nor need the store look the window up for its listener
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// forwardWindowChange is the flush listener of a window store of ValueAndTimestamp aggregates.
func forwardWindowChange[K, VA any](ctx runtime.ProcessorContext[Windowed[K], Change[VA]], keys serde.Serde[K], aggs serde.Serde[VA]) state.FlushListener {
	return func(c state.Change) error {
		k, err := keys.Deserialize(c.Key)
		if err != nil {
			return err
		}
		var ch Change[VA]
		var ts int64
		if c.Value != nil {
			if ch.New, ts, err = decodeValueAndTimestamp(aggs, c.Value); err != nil {
				return err
			}
			ch.HasNew = true
		}
		if c.OldValue != nil {
			var oldTS int64
			if ch.Old, oldTS, err = decodeValueAndTimestamp(aggs, c.OldValue); err != nil {
				return err
			}
			ch.HasOld = true
			if c.Value == nil {
				ts = oldTS
			}
		}
		return ctx.Forward(runtime.Record[Windowed[K], Change[VA]]{Key: Windowed[K]{Key: k, Window: c.Window}, Value: ch, Timestamp: ts})
	}
}
