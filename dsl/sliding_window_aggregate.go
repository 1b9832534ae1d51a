package dsl

import (
	"bytes"
	"math"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// SlidingWindowedStream is a grouped stream cut into sliding windows (Kafka Streams'
// TimeWindowedKStream over SlidingWindows).
type SlidingWindowedStream[K, V any] struct {
	g *GroupedStream[K, V]
	w SlidingWindows
}

func (w *SlidingWindowedStream[K, V]) windowing() windowing[K, V] { return windowing[K, V]{sliding: w} }

// SlidingAggregate folds the values of each sliding window into a VA, stored with aggs
// (TimeWindowedKStream.aggregate over SlidingWindows). Windows are [start,
// start+TimeDifference], both ends inclusive; the result's key serde is TimeWindowedSerde of
// TimeDifference.
func SlidingAggregate[K, V, VA any](w *SlidingWindowedStream[K, V], init func() (VA, error), agg func(key K, value V, agg VA) (VA, error), aggs serde.Serde[VA], opts ...WindowedAggregateOpt) *Table[Windowed[K], VA] {
	return addSlidingAggregate(w, "aggregate", &slidingAggregate[K, V, VA]{init: init, agg: agg}, aggs, opts)
}

func addSlidingAggregate[K, V, VA any](w *SlidingWindowedStream[K, V], op string, proto *slidingAggregate[K, V, VA], aggs serde.Serde[VA], opts []WindowedAggregateOpt) *Table[Windowed[K], VA] {
	g := w.g
	b := g.s.b
	c := newOpConfig(opts)
	prefix, store, in, ok := g.aggregateInput(c, op, "sliding ", proto.reduce != nil, aggs != nil, typeName[VA]())
	if !ok {
		return &Table[Windowed[K], VA]{b: b, node: g.s.node}
	}
	d := w.w.TimeDifference
	// Windows are looked up back to 2*TimeDifference before a record; keep them that long past
	// grace (Kafka Streams: retention = 2*timeDifference + grace).
	retention := max(c.retention, 2*d+w.w.Grace)
	name := b.nameOr(c, prefix)
	keys, win := g.keys, w.w
	addProcessor(b, name, func() runtime.Processor[K, V, Windowed[K], Change[VA]] {
		p := *proto
		p.store, p.keys, p.aggs, p.diff, p.grace = store, keys, aggs, win.TimeDifference.Milliseconds(), win.Grace.Milliseconds()
		return &p
	}, in.node)
	b.topo.AddStateStore(dslStore{name: store, kind: windowKind, listen: true, cache: c.cacheBytes,
		size: d, retention: retention, unlogged: c.withoutLog}, name)
	return &Table[Windowed[K], VA]{b: b, node: name,
		keys: timeWindowedSerde[K]{keys: keys, size: d.Milliseconds(), grace: win.Grace}, values: aggs}
}

// slidingAggregate is Kafka Streams' KStreamSlidingWindowAggregate (processInOrder and
// processEarly): a window exists where a record starts one (its right window [t+1, t+1+d], when a
// later record falls in it) or ends one (its left window [t-d, t]); a record updates every existing
// window containing it, creates its left window from the aggregate of the records before it, its
// right window from those after it, and the previous record's right window.
type slidingAggregate[K, V, VA any] struct {
	ctx      runtime.ProcessorContext[Windowed[K], Change[VA]]
	store    string
	keys     serde.Serde[K]
	aggs     serde.Serde[VA]
	diff     int64
	grace    int64
	init     func() (VA, error)
	agg      func(K, V, VA) (VA, error)
	reduce   func(VA, V) (VA, error) // set for WindowedReduce, where VA is V
	ws       state.WindowStore
	observed int64
}

type slidingWin struct {
	start int64
	agg   []byte // the ValueAndTimestamp bytes
	ts    int64
}

func (p *slidingAggregate[K, V, VA]) Init(ctx runtime.ProcessorContext[Windowed[K], Change[VA]]) error {
	p.ctx = ctx
	s, err := listenTo(ctx, p.store, forwardWindowChange(ctx, p.keys, p.aggs))
	if err != nil {
		return err
	}
	p.ws = s.(state.WindowStore)
	p.observed = -1
	if st := p.ws.StreamTime(); st != math.MinInt64 {
		p.observed = st
	}
	return nil
}

func (p *slidingAggregate[K, V, VA]) Close() error { return nil }

func (p *slidingAggregate[K, V, VA]) Process(rec runtime.Record[K, V]) error {
	if serde.IsNil(rec.Key) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	ts := rec.Timestamp
	p.observed = max(p.observed, ts)
	closeTime := p.observed - p.grace
	if ts+p.diff <= closeTime {
		// Every window containing the record has closed.
		runtime.RecordDropped(p.ctx)
		return nil
	}
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	from := max(0, ts-2*p.diff)
	if ts < p.diff {
		from = 0
	}
	it, err := p.ws.Fetch(kb, from, ts+1)
	if err != nil {
		return err
	}
	var wins []slidingWin
	for it.Next() {
		_, wts, err := decodeValueAndTimestamp(p.aggs, it.Value())
		if err != nil {
			it.Close()
			return err
		}
		wins = append(wins, slidingWin{start: it.Window().Start, agg: bytes.Clone(it.Value()), ts: wts})
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if ts < p.diff {
		return p.processEarly(rec, kb, wins, closeTime)
	}
	starts := map[int64]bool{}
	var leftAgg, rightAgg *slidingWin
	leftCreated, rightCreated := false, false
	prev := int64(math.MinInt64)
	for i := range wins {
		w := &wins[i]
		starts[w.start] = true
		end := w.start + p.diff
		switch {
		case end < ts:
			leftAgg, prev = w, w.ts
		case end == ts:
			leftCreated = true
			if w.ts < ts {
				prev = w.ts
			}
			if err := p.update(rec, kb, w.start, w.agg, true, closeTime); err != nil {
				return err
			}
		case w.start <= ts:
			rightAgg = w
			if err := p.update(rec, kb, w.start, w.agg, true, closeTime); err != nil {
				return err
			}
		case w.start == ts+1:
			rightCreated = true
		}
	}
	// The previous record's right window, if it contains this record and does not exist.
	if prev != math.MinInt64 {
		if s := prev + 1; !starts[s] && s+p.diff >= ts {
			if err := p.update(rec, kb, s, nil, false, closeTime); err != nil {
				return err
			}
		}
	}
	if !leftCreated {
		var agg []byte
		has := false
		if leftAgg != nil && prev != math.MinInt64 && ts-p.diff <= prev {
			agg, has = leftAgg.agg, true
		}
		if err := p.update(rec, kb, ts-p.diff, agg, has, closeTime); err != nil {
			return err
		}
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		return p.createRight(kb, ts, rightAgg)
	}
	return nil
}

// processEarly handles a record before TimeDifference, whose windows would start before 0: all
// of them are one combined window [0, d].
func (p *slidingAggregate[K, V, VA]) processEarly(rec runtime.Record[K, V], kb []byte, wins []slidingWin, closeTime int64) error {
	ts := rec.Timestamp
	starts := map[int64]bool{}
	var combined, rightAgg *slidingWin
	rightCreated := false
	prev := int64(math.MinInt64)
	for i := range wins {
		w := &wins[i]
		starts[w.start] = true
		switch {
		case w.start == 0:
			combined = w
			if w.ts < ts {
				prev = w.ts
			}
		case w.start <= ts:
			rightAgg = w
			if err := p.update(rec, kb, w.start, w.agg, true, closeTime); err != nil {
				return err
			}
		case w.start == ts+1:
			rightCreated = true
		}
	}
	if rightAgg == nil && combined != nil && combined.ts > ts {
		rightAgg = combined
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		if err := p.createRight(kb, ts, rightAgg); err != nil {
			return err
		}
	}
	if prev != math.MinInt64 && !starts[prev+1] {
		if err := p.update(rec, kb, prev+1, nil, false, closeTime); err != nil {
			return err
		}
	}
	if combined == nil {
		return p.update(rec, kb, 0, nil, false, closeTime)
	}
	return p.update(rec, kb, 0, combined.agg, true, closeTime)
}

// update folds the record into the window starting at start whose current aggregate is agg (has
// false: a new window from the initializer) and stores it, unless the window closed.
func (p *slidingAggregate[K, V, VA]) update(rec runtime.Record[K, V], kb []byte, start int64, agg []byte, has bool, closeTime int64) error {
	if start+p.diff <= closeTime {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	var old VA
	ts := rec.Timestamp
	var err error
	if has {
		var oldTS int64
		if old, oldTS, err = decodeValueAndTimestamp(p.aggs, agg); err != nil {
			return err
		}
		ts = max(ts, oldTS)
	}
	var next VA
	switch {
	case p.reduce != nil && !has:
		next = any(rec.Value).(VA)
	case p.reduce != nil:
		next, err = p.reduce(old, rec.Value)
	default:
		if !has {
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
	return p.ws.Put(kb, start, vb)
}

// createRight stores the record's right window [t+1, t+1+d] with the aggregate of the records
// after it, which rightAgg holds.
func (p *slidingAggregate[K, V, VA]) createRight(kb []byte, ts int64, rightAgg *slidingWin) error {
	return p.ws.Put(kb, ts+1, rightAgg.agg)
}
