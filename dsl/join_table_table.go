package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// TableTableJoin joins two tables on their key (KTable#join): the result has a row for each key
// both tables have, updated whenever either side changes, and deleted when either side's row is
// (docs "KTable-KTable Equi-Join"). The result's timestamp is the larger of the two rows'. Both
// tables are materialized (a KTABLE-MATERIALIZE store is added where needed) and must be
// co-partitioned. Options: Named. The result has no value serde (give it with WithValueSerde) and
// no store of its own (Materialize gives it one).
func TableTableJoin[K, V, VO, VR any](left *Table[K, V], right *Table[K, VO], joiner func(key K, left V, right VO) (VR, error), opts ...JoinOpt) *Table[K, VR] {
	return tableTableJoin(left, right, func(k K, l V, _ bool, r VO, _ bool) (VR, error) { return joiner(k, l, r) }, false, false, opts)
}

// TableTableLeftJoin keeps every row of left, joined with right's row when there is one
// (hasRight) (KTable#leftJoin).
func TableTableLeftJoin[K, V, VO, VR any](left *Table[K, V], right *Table[K, VO], joiner func(key K, left V, right VO, hasRight bool) (VR, error), opts ...JoinOpt) *Table[K, VR] {
	return tableTableJoin(left, right, func(k K, l V, _ bool, r VO, hasR bool) (VR, error) { return joiner(k, l, r, hasR) }, true, false, opts)
}

// TableTableOuterJoin has a row for each key either table has (KTable#outerJoin); the joiner is
// never called with both sides absent.
func TableTableOuterJoin[K, V, VO, VR any](left *Table[K, V], right *Table[K, VO], joiner func(key K, left V, hasLeft bool, right VO, hasRight bool) (VR, error), opts ...JoinOpt) *Table[K, VR] {
	return tableTableJoin(left, right, joiner, true, true, opts)
}

func tableTableJoin[K, V, VO, VR any](left *Table[K, V], right *Table[K, VO], joiner func(K, V, bool, VO, bool) (VR, error), leftOuter, rightOuter bool, opts []JoinOpt) *Table[K, VR] {
	b := left.b
	c := newOpConfig(opts)
	name := b.nameOr(c, "KTABLE-JOIN-")
	left, right = left.materialized(), right.materialized()
	if left.store == "" || right.store == "" {
		return &Table[K, VR]{b: b, node: left.node}
	}
	keys := left.keys
	lstore, rstore, lvals, rvals := left.store, right.store, left.values, right.values
	thisName, otherName := name+"-this", name+"-other"
	addProcessor(b, thisName, func() runtime.Processor[K, Change[V], K, Change[VR]] {
		return &tableJoinProc[K, V, VO, VR]{otherStore: rstore, keys: keys, otherVals: rvals,
			thisOptional: rightOuter, otherOptional: leftOuter,
			join: func(k K, v V, hasV bool, o VO, hasO bool) (VR, error) { return joiner(k, v, hasV, o, hasO) }}
	}, left.node)
	addProcessor(b, otherName, func() runtime.Processor[K, Change[VO], K, Change[VR]] {
		return &tableJoinProc[K, VO, V, VR]{otherStore: lstore, keys: keys, otherVals: lvals,
			thisOptional: leftOuter, otherOptional: rightOuter,
			join: func(k K, v VO, hasV bool, o V, hasO bool) (VR, error) { return joiner(k, o, hasO, v, hasV) }}
	}, right.node)
	b.topo.ConnectStores(thisName, rstore)
	b.topo.ConnectStores(otherName, lstore)
	merge := name + "-merge"
	addProcessor(b, merge, func() runtime.Processor[K, Change[VR], K, Change[VR]] { return &passThrough[K, Change[VR]]{} }, thisName, otherName)
	b.copartition(left.node, right.node)
	return &Table[K, VR]{b: b, node: merge, keys: keys}
}

// tableJoinProc joins the changes of one table ("this") with the other table's current row: Kafka
// Streams' KTableKTableInnerJoin, LeftJoin, RightJoin and OuterJoin processors, with old values
// sent. otherOptional: this side's rows are kept without a partner (this is the preserved side of
// a left join, or either side of an outer join); thisOptional: the other side is preserved, so this
// side's rows need not exist.
type tableJoinProc[K, V, VO, VR any] struct {
	forwarder[K, Change[VR]]
	otherStore    string
	keys          serde.Serde[K]
	otherVals     serde.Serde[VO]
	thisOptional  bool
	otherOptional bool
	join          func(K, V, bool, VO, bool) (VR, error)
	other         state.TimestampedKV[K, VO]
}

func (p *tableJoinProc[K, V, VO, VR]) Init(ctx runtime.ProcessorContext[K, Change[VR]]) error {
	p.ctx = ctx
	kv, err := runtime.GetTimestampedKeyValueStore(ctx, p.otherStore, p.keys, p.otherVals)
	p.other = kv
	return err
}

func (p *tableJoinProc[K, V, VO, VR]) Process(rec runtime.Record[K, Change[V]]) error {
	if serde.IsNil(rec.Key) {
		runtime.RecordDropped(p.ctx)
		return nil
	}
	other, hasOther, err := p.other.Get(rec.Key)
	if err != nil {
		return err
	}
	ov, ots := other.Value, other.Timestamp
	if !hasOther && !p.otherOptional {
		return nil // the other side is required and absent: no row before, none now
	}
	ch := rec.Value
	var out Change[VR]
	// A result row exists when this side has a row (or is optional) and the other side has one
	// (or is optional), but never with both absent.
	exists := func(hasThis bool) bool {
		return (hasThis || p.thisOptional) && (hasOther || p.otherOptional) && (hasThis || hasOther)
	}
	if exists(ch.HasNew) {
		if out.New, err = p.join(rec.Key, ch.New, ch.HasNew, ov, hasOther); err != nil {
			return err
		}
		out.HasNew = true
	}
	if exists(ch.HasOld) {
		if out.Old, err = p.join(rec.Key, ch.Old, ch.HasOld, ov, hasOther); err != nil {
			return err
		}
		out.HasOld = true
	}
	if !out.HasNew && !out.HasOld && !hasOther {
		// With the other row present, Kafka Streams forwards even a change without old value (a
		// foreign-key join's delete) as a delete; without it there was no result row.
		return nil
	}
	ts := rec.Timestamp
	if hasOther {
		ts = max(ts, ots)
	}
	return p.ctx.Forward(runtime.Record[K, Change[VR]]{Key: rec.Key, Value: out, Timestamp: ts, Headers: rec.Headers})
}
