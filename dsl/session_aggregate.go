package dsl

import (
	"fmt"
	"math"
	"time"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// SessionWindowedStream is a grouped stream cut into sessions (Kafka Streams'
// SessionWindowedKStream).
type SessionWindowedStream[K, V any] struct {
	g *GroupedStream[K, V]
	w SessionWindows
}

func (w *SessionWindowedStream[K, V]) windowing() windowing[K, V] { return windowing[K, V]{session: w} }

// SessionAggregate folds the values of each session into a VA, stored with aggs; merge combines
// the aggregates of two sessions a record bridges (SessionWindowedKStream.aggregate with a
// Merger). When a record merges sessions, the merged-away sessions are deleted downstream (a
// Change without a new value, a tombstone once written to a topic) before the merged session's
// aggregate is forwarded. The key serde of the result is SessionWindowedSerde; records carry the
// session's end as timestamp.
func SessionAggregate[K, V, VA any](w *SessionWindowedStream[K, V], init func() (VA, error), agg func(key K, value V, agg VA) (VA, error), merge func(key K, a, b VA) (VA, error), aggs serde.Serde[VA], opts ...WindowedAggregateOpt) *Table[Windowed[K], VA] {
	return addSessionAggregate(w, "aggregate", &sessionAggregate[K, V, VA]{init: init, agg: agg, merge: merge}, aggs, opts)
}

func addSessionAggregate[K, V, VA any](w *SessionWindowedStream[K, V], op string, proto *sessionAggregate[K, V, VA], aggs serde.Serde[VA], opts []WindowedAggregateOpt) *Table[Windowed[K], VA] {
	g := w.g
	b := g.s.b
	c := newOpConfig(opts)
	prefix, store, in, ok := g.aggregateInput(c, op, "session ", proto.reduce != nil, aggs != nil, typeName[VA]())
	if !ok {
		return &Table[Windowed[K], VA]{b: b, node: g.s.node}
	}
	name := b.nameOr(c, prefix)
	keys, win := g.keys, w.w
	retention := max(c.retention, sessionRetention(win))
	addProcessor(b, name, func() runtime.Processor[K, V, Windowed[K], Change[VA]] {
		p := *proto
		p.store, p.keys, p.aggs, p.windows, p.retention = store, keys, aggs, win, retention.Milliseconds()
		return &p
	}, in.node)
	// The state store expires a session ending at or before stream time - retention, but the
	// aggregation accepts one ending exactly there (Kafka Streams' store keeps it too): the extra
	// millisecond keeps it.
	b.topo.AddStateStore(dslStore{name: store, kind: sessionKind, listen: true, cache: c.cacheBytes,
		retention: retention + time.Millisecond, unlogged: c.withoutLog}, name)
	return &Table[Windowed[K], VA]{b: b, node: name, keys: sessionWindowedSerde[K]{keys: keys, grace: win.Gap + win.Grace}, values: aggs}
}

// sessionAggregate is Kafka Streams' KStreamSessionWindowAggregate: a record at t finds the key's
// sessions overlapping [t-gap, t+gap], merges them with [t, t] into one session, removes the merged
// ones and stores the new aggregate, unless the merged session ends before
// streamTime - gap - grace, in which case the record is dropped.
type sessionAggregate[K, V, VA any] struct {
	ctx      runtime.ProcessorContext[Windowed[K], Change[VA]]
	store    string
	keys     serde.Serde[K]
	aggs     serde.Serde[VA]
	windows  SessionWindows
	init     func() (VA, error)
	agg      func(K, V, VA) (VA, error)
	merge    func(K, VA, VA) (VA, error)
	reduce   func(VA, V) (VA, error)
	ss       state.SessionStore
	observed int64
	// retention is how long, in ms, sessions stay visible to the records that could merge them.
	retention int64
}

func (p *sessionAggregate[K, V, VA]) Init(ctx runtime.ProcessorContext[Windowed[K], Change[VA]]) error {
	p.ctx = ctx
	s, err := listenTo(ctx, p.store, forwardSessionChange(ctx, p.keys, p.aggs))
	if err != nil {
		return err
	}
	p.ss = s.(state.SessionStore)
	p.observed = -1
	if st := p.ss.StreamTime(); st != math.MinInt64 {
		p.observed = st
	}
	return nil
}

func (p *sessionAggregate[K, V, VA]) Close() error { return nil }

type foundSession struct {
	w     Window
	value []byte
}

func (p *sessionAggregate[K, V, VA]) Process(rec runtime.Record[K, V]) error {
	if serde.IsNil(rec.Key) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	ts := rec.Timestamp
	p.observed = max(p.observed, ts)
	gap := p.windows.Gap.Milliseconds()
	// A session closes when stream time passes its end plus the gap plus grace: until then a record
	// can still extend it (KStreamSessionWindowAggregate's windowCloseTime).
	closeTime := p.observed - p.windows.Grace.Milliseconds() - gap

	it, err := p.ss.FindSessions(kb, ts-gap, ts+gap)
	if err != nil {
		return err
	}
	// Kafka Streams' session store reads skip the sessions ending at or before its stream time (the
	// latest session end put, before this record's) - retention.
	expired := int64(math.MinInt64)
	if st := p.ss.StreamTime(); st != math.MinInt64 {
		expired = st - p.retention
	}
	var merged []foundSession
	for it.Next() {
		if it.Window().End <= expired {
			continue
		}
		merged = append(merged, foundSession{w: it.Window(), value: append([]byte(nil), it.Value()...)})
	}
	if err := it.Err(); err != nil {
		it.Close()
		return err
	}
	if err := it.Close(); err != nil {
		return err
	}

	newWindow := Window{Start: ts, End: ts}
	mergedWindow := newWindow
	var agg VA
	has := false
	if p.reduce == nil {
		if agg, err = p.init(); err != nil {
			return err
		}
		has = true
	}
	for _, s := range merged {
		v, err := p.aggs.Deserialize(s.value)
		if err != nil {
			return err
		}
		switch {
		case p.reduce != nil && !has:
			agg, has = v, true
		case p.reduce != nil:
			agg, err = p.reduce(agg, any(v).(V))
		default:
			agg, err = p.merge(rec.Key, agg, v)
		}
		if err != nil {
			return err
		}
		mergedWindow = Window{Start: min(mergedWindow.Start, s.w.Start), End: max(mergedWindow.End, s.w.End)}
	}
	switch {
	case p.reduce != nil && !has:
		agg = any(rec.Value).(VA)
	case p.reduce != nil:
		agg, err = p.reduce(agg, rec.Value)
	default:
		agg, err = p.agg(rec.Key, rec.Value, agg)
	}
	if err != nil {
		return err
	}
	if mergedWindow.End < closeTime {
		p.ctx.Logger().Debug("dsl: dropping record for a closed session", "session_start", mergedWindow.Start, "session_end", mergedWindow.End, "stream_time", p.observed)
		runtime.RecordDropped(p.ctx)
		return nil
	}
	if mergedWindow != newWindow {
		for _, s := range merged {
			if err := p.ss.Remove(kb, s.w); err != nil {
				return err
			}
		}
	}
	vb, err := p.aggs.Serialize(agg)
	if err != nil {
		return err
	}
	if vb == nil {
		return fmt.Errorf("dsl: session aggregate of %v serialized to null", rec.Key)
	}
	return p.ss.Put(kb, mergedWindow, vb)
}

// forwardSessionChange is the flush listener of a session store: updates carry the session end as
// timestamp, as KStreamSessionWindowAggregate forwards them.
func forwardSessionChange[K, VA any](ctx runtime.ProcessorContext[Windowed[K], Change[VA]], keys serde.Serde[K], aggs serde.Serde[VA]) state.FlushListener {
	return func(c state.Change) error {
		k, err := keys.Deserialize(c.Key)
		if err != nil {
			return err
		}
		var ch Change[VA]
		if c.Value != nil {
			if ch.New, err = aggs.Deserialize(c.Value); err != nil {
				return err
			}
			ch.HasNew = true
		}
		if c.OldValue != nil {
			if ch.Old, err = aggs.Deserialize(c.OldValue); err != nil {
				return err
			}
			ch.HasOld = true
		}
		return ctx.Forward(runtime.Record[Windowed[K], Change[VA]]{Key: Windowed[K]{Key: k, Window: c.Window}, Value: ch, Timestamp: c.Window.End})
	}
}

// sessionRetention is how long a session store keeps sessions without a retention of its own:
// gap + grace, as Kafka Streams' session stores do. Their reads skip every session ending at or
// before stream time - retention (not only whole expired segments), so a record does not merge
// into a session that ended longer ago.
func sessionRetention(w SessionWindows) time.Duration {
	return w.Gap + w.Grace
}
