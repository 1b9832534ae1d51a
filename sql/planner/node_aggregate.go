package planner

import (
	"fmt"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// defaultGrace is ksqlDB's grace period of a window of the given size (a session's gap) without
// GRACE PERIOD: Kafka Streams' deprecated TimeWindows.of and SessionWindows.with, which ksqlDB uses
// then, keep windows for 24 hours from their start, so the grace is 24 hours less the size, and 0
// for windows of a day or more.
func defaultGrace(size time.Duration) time.Duration {
	return max(24*time.Hour-size, 0)
}

// AggregateNode groups rows by the GROUP BY expressions and folds them with the aggregate functions
// (ir.AggregateCall), over a stream or, with adder and subtractor (Undo), over a table;
// optionally in TUMBLING, HOPPING or SESSION windows. Its output rows are the Aggregate rows: the
// GROUP BY values, the aggregate results, then WINDOWSTART and WINDOWEND.
type AggregateNode struct {
	Query *ir.Query
	// offsets[i] is where call i's arguments start in a prepared row, offsets[len] its width.
	offsets []int
	width   int
}

// Describe implements Node.
func (n *AggregateNode) Describe() string {
	if w := n.Query.Window; w != nil {
		return "Aggregate(" + w.Kind.String() + ")"
	}
	return "Aggregate"
}

func (n *AggregateNode) groupKey(row Row) (Row, error) {
	q := n.Query
	if row == nil {
		return nil, fmt.Errorf("planner: null value: row dropped from the aggregation")
	}
	if len(q.GroupBy) == 0 {
		// An aggregation without GROUP BY has one group; ksqlDB keys it by a constant.
		return Row{}, nil
	}
	k := make(Row, len(q.GroupBy))
	for i, g := range q.GroupBy {
		v, err := g.Eval(row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, fmt.Errorf("planner: GROUP BY expression %s is NULL: row dropped", g.Text)
		}
		k[i] = v
	}
	return k, nil
}

// groupsByKey reports whether the GROUP BY expressions are the single source's key columns, in
// order, so that each group key equals its record's key.
func (n *AggregateNode) groupsByKey() bool {
	q := n.Query
	if len(q.Sources) != 1 {
		return false
	}
	src := q.Sources[0].Source
	keys := src.Schema.Key()
	if len(keys) == 0 || len(keys) != len(q.GroupBy) {
		return false
	}
	for i, g := range q.GroupBy {
		col, ok := g.IsColumn()
		if !ok || col >= len(src.Schema.Columns) || src.Schema.Columns[col].Name != keys[i].Name {
			return false
		}
	}
	return true
}

func (n *AggregateNode) init() (Row, error) {
	acc := make(Row, len(n.Query.Aggregates))
	for i, a := range n.Query.Aggregates {
		acc[i] = a.Resolved.Agg.Init()
	}
	return acc, nil
}

// prepare evaluates, before the rows are grouped, all the aggregation needs of an input row: its group
// key and the arguments of every aggregate call, concatenated in call order. Only these go through
// the repartition topic, not the whole input row: ksqlDB's pre-aggregation selection.
func (n *AggregateNode) prepare(row Row) (Row, Row, error) {
	k, err := n.groupKey(row)
	if err != nil {
		return nil, nil, err
	}
	args := make(Row, 0, n.width)
	for i := range n.Query.Aggregates {
		for _, ae := range n.Query.Aggregates[i].Args {
			v, err := ae.Eval(row)
			if err != nil {
				return nil, nil, err
			}
			args = append(args, v)
		}
	}
	return k, args, nil
}

// argTypes are the columns of the rows prepare returns.
func (n *AggregateNode) argTypes() []*types.Type {
	var ts []*types.Type
	for _, a := range n.Query.Aggregates {
		for _, ae := range a.Args {
			ts = append(ts, ae.Type)
		}
	}
	return ts
}

// args returns call i's arguments in a row prepare made.
func (n *AggregateNode) args(i int, args Row) []types.Value {
	lo, hi := n.offsets[i], n.offsets[i+1]
	if hi > len(args) {
		return make([]types.Value, hi-lo)
	}
	return args[lo:hi:hi]
}

func (n *AggregateNode) add(_ Row, args Row, acc Row) (Row, error) {
	out := make(Row, len(acc))
	for i := range n.Query.Aggregates {
		var err error
		if out[i], err = n.Query.Aggregates[i].Resolved.Agg.Add(acc[i], n.args(i, args)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (n *AggregateNode) undo(_ Row, args Row, acc Row) (Row, error) {
	out := make(Row, len(acc))
	for i := range n.Query.Aggregates {
		a := &n.Query.Aggregates[i]
		if !a.Resolved.CanUndo {
			out[i] = acc[i]
			continue
		}
		var err error
		if out[i], err = a.Resolved.Agg.Undo(acc[i], n.args(i, args)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (n *AggregateNode) merge(_ Row, x, y Row) (Row, error) {
	out := make(Row, len(x))
	for i, a := range n.Query.Aggregates {
		var err error
		if out[i], err = a.Resolved.Agg.Merge(x[i], y[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// result maps a group's key and accumulators to the Aggregate row.
func (n *AggregateNode) result(k Row, acc Row, w *dsl.Window) (Row, error) {
	q := n.Query
	width := len(q.GroupBy) + len(q.Aggregates)
	if q.Window != nil {
		width += 2
	}
	row := make(Row, width)
	copy(row, k)
	for i, a := range q.Aggregates {
		if acc == nil {
			break
		}
		v, err := a.Resolved.Agg.Result(acc[i])
		if err != nil {
			return nil, err
		}
		row[len(q.GroupBy)+i] = v
	}
	if w != nil {
		row[width-2], row[width-1] = w.Start, w.End
	}
	return row, nil
}

func (n *AggregateNode) lower(e *Env, in flow) (flow, error) {
	q := n.Query
	var keyTypes []*types.Type
	for _, g := range q.GroupBy {
		keyTypes = append(keyTypes, g.Type)
	}
	var accTypes []*types.Type
	for _, a := range q.Aggregates {
		accTypes = append(accTypes, a.Resolved.AccType)
	}
	n.offsets = []int{0}
	for _, a := range q.Aggregates {
		n.offsets = append(n.offsets, n.offsets[len(n.offsets)-1]+len(a.Args))
	}
	n.width = n.offsets[len(n.offsets)-1]
	keys := internalSerde(typeColumns(keyTypes))
	vals := internalSerde(typeColumns(n.argTypes()))
	accs := internalSerde(typeColumns(accTypes))
	rowTypes := append([]*types.Type{}, keyTypes...)
	for _, a := range q.Aggregates {
		rowTypes = append(rowTypes, a.Resolved.Return)
	}
	if q.Window != nil {
		rowTypes = append(rowTypes, types.Bigint, types.Bigint)
	}
	rowSerde := internalSerde(typeColumns(rowTypes))
	out := flow{keyCols: keyTypes, window: q.Window, valCols: typeColumns(rowTypes)}
	if in.table != nil {
		if q.Window != nil {
			return flow{}, fmt.Errorf("planner: windowed aggregation of a table is not supported")
		}
		// Groups are keyed by the encoded GROUP BY values, a comparable string: the DSL then sends an
		// update that stays in its group as one record, and the group emits once (KIP-904).
		g := dsl.TableGroupBy(in.table, func(_ Row, row Row) (string, Row, error) {
			k, args, err := n.prepare(row)
			if err != nil {
				return "", nil, err
			}
			b, err := keys.Serialize(k)
			return string(b), args, err
		}).WithKeySerde(serde.String()).WithValueSerde(vals)
		t := dsl.TableAggregate(g, n.init, func(_ string, row, acc Row) (Row, error) { return n.add(nil, row, acc) },
			func(_ string, row, acc Row) (Row, error) { return n.undo(nil, row, acc) }, accs, stateful()...)
		rows := dsl.Map(t.ToStream(), func(k string, acc Row) (Row, Row, error) {
			key, err := keys.Deserialize([]byte(k))
			if err != nil || acc == nil {
				return key, nil, err
			}
			row, err := n.result(key, acc, nil)
			return key, row, err
		}).WithKeySerde(keys).WithValueSerde(rowSerde)
		out.table = rows.ToTable()
		return out, nil
	}
	prepareOpts := []dsl.MapOpt{dsl.Named(e.name("KSQL-AGGREGATE-PREPARE"))}
	if n.groupsByKey() {
		// The group key is the record's key: no repartition, as ksqlDB's groupByKey.
		prepareOpts = append(prepareOpts, dsl.PreservesKey())
	}
	prepared := dsl.Map(in.stream, func(_ Row, row Row) (Row, Row, error) { return n.prepare(row) }, prepareOpts...)
	g := prepared.GroupByKey().WithKeySerde(keys).WithValueSerde(vals)
	w := q.Window
	if w == nil {
		t := dsl.Aggregate(g, n.init, n.add, accs, stateful()...)
		out.table = dsl.MapTableValues(t, func(k Row, acc Row) (Row, error) { return n.result(k, acc, nil) }).WithValueSerde(rowSerde)
		return out, nil
	}
	grace := defaultGrace(w.Size)
	if w.HasGrace {
		grace = w.Grace
	}
	var opts []dsl.WindowedAggregateOpt
	for _, o := range stateful() {
		opts = append(opts, o)
	}
	if w.HasRetention {
		opts = append(opts, dsl.Retention(w.Retention))
	}
	var t *dsl.Table[dsl.Windowed[Row], Row]
	switch w.Kind {
	case ir.Session:
		t = dsl.SessionAggregate(g.SessionWindowedBy(dsl.SessionWindows{Gap: w.Size, Grace: grace}), n.init, n.add, n.merge, accs, opts...)
	case ir.Hopping:
		t = dsl.WindowedAggregate(g.WindowedBy(dsl.HoppingWindows(w.Size, w.Advance, grace)), n.init, n.add, accs, opts...)
	default:
		t = dsl.WindowedAggregate(g.WindowedBy(dsl.TumblingWindows(w.Size, grace)), n.init, n.add, accs, opts...)
	}
	out.wtable = dsl.MapTableValues(t, func(k dsl.Windowed[Row], acc Row) (Row, error) {
		win := k.Window
		return n.result(k.Key, acc, &win)
	}).WithValueSerde(rowSerde)
	return out, nil
}
