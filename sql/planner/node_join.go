package planner

import (
	"fmt"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// JoinNode joins the rows so far (sources 0..Index) with source Index+1 on the equi-join of a
// JoinStep: stream-stream within a window, stream-table, table-table on the primary key, and
// table-table on a foreign key (the left key is not the left table's key). Joined rows are the
// concatenation of both sides' Input rows, a missing side all NULL; the result is keyed by the join key
// (the left table's key for a foreign-key join).
type JoinNode struct {
	Query *ir.Query
	Index int
	Step  ir.JoinStep
}

// Describe implements Node.
func (n *JoinNode) Describe() string {
	return fmt.Sprintf("Join(%s %s)", n.Step.Type, n.Query.Sources[n.Index+1].Source.Name)
}

func (n *JoinNode) right() ir.QuerySource { return n.Query.Sources[n.Index+1] }

// concat places the left row and the right source's row in the joined row.
func (n *JoinNode) concat(l, r Row) Row {
	rs := n.right()
	out := make(Row, rs.Offset+rs.Width)
	copy(out[:rs.Offset], l)
	if r != nil {
		copy(out[rs.Offset:], r)
	}
	return out
}

func castKey(c *ir.Expr, to *types.Type, row Row) (Row, error) {
	v, err := c.Eval(row)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("planner: join key %s is NULL: row dropped", c.Type)
	}
	if !c.Type.Equal(to) {
		conv, err := types.Caster(c.Type, to)
		if err != nil {
			return nil, err
		}
		if v, err = conv(v); err != nil {
			return nil, err
		}
	}
	return Row{v}, nil
}

func (n *JoinNode) rightKey(row Row, to *types.Type) (Row, error) {
	return castKey(n.Step.RightKey, to, n.concat(nil, row))
}

// rekeyOpts are the options of the SelectKey that keys source i's side of the join by e: that side
// keeps its partitions (no repartition topic, as in ksqlDB's plans) when the left side is still
// source 0 as read and e is the source's only key column, of the join key's type.
func (n *JoinNode) rekeyOpts(e *ir.Expr, i int, t *types.Type) []dsl.MapOpt {
	var opts []dsl.MapOpt
	if n.Index != 0 {
		return opts
	}
	qs := n.Query.Sources[i]
	if c, ok := keyColumn(e, qs); ok && len(qs.Source.Schema.Key()) == 1 && c.Type.Equal(t) {
		opts = append(opts, dsl.PreservesKey())
	}
	return opts
}

// keyColumn returns the key column of qs that e reads, when e reads nothing but one.
func keyColumn(e *ir.Expr, qs ir.QuerySource) (types.Column, bool) {
	i, ok := e.IsColumn()
	if !ok || !qs.Contains(i) || i-qs.Offset >= len(qs.Source.Schema.Columns) {
		return types.Column{}, false
	}
	c := qs.Source.Schema.Columns[i-qs.Offset]
	return c, c.Namespace == types.NamespaceKey
}

// isKeyColumn reports whether e reads a key column of one of the sources in [from, to].
func (n *JoinNode) isKeyColumn(e *ir.Expr, from, to int) bool {
	for _, qs := range n.Query.Sources[from : to+1] {
		if _, ok := keyColumn(e, qs); ok {
			return true
		}
	}
	return false
}

func (n *JoinNode) lower(e *Env, in flow) (flow, error) {
	rs := n.right()
	right, err := (&SourceNode{Source: rs.Source}).lower(e, flow{})
	if err != nil {
		return flow{}, err
	}
	st := n.Step
	keyType := types.CommonType(st.LeftKey.Type, st.RightKey.Type)
	if keyType == nil {
		keyType = st.LeftKey.Type
	}
	valCols := append(append([]types.Column{}, in.valCols...), right.valCols...)
	vals := internalSerde(valCols)
	keyTypes := []*types.Type{keyType}
	keys := internalSerde(typeColumns(keyTypes))
	out := flow{keyCols: keyTypes, valCols: valCols}
	leftKey := func(_ Row, row Row) (Row, error) { return castKey(st.LeftKey, keyType, row) }
	rightKey := func(_ Row, row Row) (Row, error) { return n.rightKey(row, keyType) }
	switch {
	case in.stream != nil && right.stream != nil:
		if st.Within == nil {
			return flow{}, fmt.Errorf("planner: stream-stream join without WITHIN")
		}
		// Without a GRACE PERIOD ksqlDB uses the deprecated JoinWindows.of: eager left/outer
		// results and a grace of 24 hours less the window.
		w := dsl.LegacyJoinTimeDifference(st.Within.Before)
		w.After = st.Within.After
		if st.Within.HasGrace {
			w = dsl.JoinWindows{Before: st.Within.Before, After: st.Within.After, Grace: st.Within.Grace}
		}
		if ls := n.Query.Sources[0]; n.Index == 0 && ls.Source.Window != "" && rs.Source.Window != "" {
			// Windowed sources match on their windows too: a row's key is its key and its window, so
			// only rows of the same window join, as ksqlDB compares windowed keys byte for byte.
			lw, rw := ls.Offset+ls.Width-2, rs.Width-2
			keys = internalSerde(typeColumns([]*types.Type{keyType, types.Bigint, types.Bigint}))
			leftKey = func(_ Row, row Row) (Row, error) {
				k, err := castKey(st.LeftKey, keyType, row)
				if err != nil {
					return nil, err
				}
				return append(k, row[lw], row[lw+1]), nil
			}
			rightKey = func(_ Row, row Row) (Row, error) {
				k, err := n.rightKey(row, keyType)
				if err != nil {
					return nil, err
				}
				return append(k, row[rw], row[rw+1]), nil
			}
		}
		l := dsl.SelectKey(in.stream, leftKey, n.rekeyOpts(st.LeftKey, 0, keyType)...).WithKeySerde(keys)
		r := dsl.SelectKey(right.stream, rightKey, n.rekeyOpts(st.RightKey, n.Index+1, keyType)...).WithKeySerde(keys)
		switch st.Type {
		case ir.InnerJoin:
			out.stream = dsl.StreamStreamJoin(l, r, func(_ Row, lv, rv Row) (Row, error) { return n.concat(lv, rv), nil }, w).WithValueSerde(vals)
		case ir.LeftJoin:
			out.stream = dsl.StreamStreamLeftJoin(l, r, func(_ Row, lv, rv Row, has bool) (Row, error) { return n.concat(lv, rv), nil }, w).WithValueSerde(vals)
		case ir.RightJoin:
			out.stream = dsl.StreamStreamLeftJoin(r, l, func(_ Row, rv, lv Row, has bool) (Row, error) { return n.concat(lv, rv), nil }, w).WithValueSerde(vals)
		default:
			out.stream = dsl.StreamStreamOuterJoin(l, r, func(_ Row, lv Row, _ bool, rv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }, w).WithValueSerde(vals)
		}
		return out, nil
	case in.stream != nil && right.table != nil:
		tkey := rs.Source.Schema.Key()
		if len(tkey) != 1 {
			return flow{}, fmt.Errorf("planner: stream-table join on a table with %d key columns", len(tkey))
		}
		kt := tkey[0].Type
		l := dsl.SelectKey(in.stream, func(_ Row, row Row) (Row, error) { return castKey(st.LeftKey, kt, row) },
			n.rekeyOpts(st.LeftKey, 0, kt)...).WithKeySerde(internalSerde(typeColumns([]*types.Type{kt})))
		out.keyCols = []*types.Type{kt}
		switch st.Type {
		case ir.InnerJoin:
			out.stream = dsl.StreamTableJoin(l, right.table, func(_ Row, lv, rv Row) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		case ir.LeftJoin:
			out.stream = dsl.StreamTableLeftJoin(l, right.table, func(_ Row, lv, rv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		default:
			return flow{}, fmt.Errorf("planner: %s stream-table join is not supported", st.Type)
		}
		return out, nil
	case in.table != nil && right.table != nil:
		// A primary-key join joins on the whole left key; on anything else (a value column, or one
		// column of a multi-column key) it is a foreign-key join.
		wholeKey := n.isKeyColumn(st.LeftKey, 0, n.Index) && (n.Index > 0 || len(n.Query.Sources[0].Source.Schema.Key()) == 1)
		if !wholeKey && len(rs.Source.Schema.Key()) == 1 {
			// Foreign-key join: the left table keeps its key.
			kt := rs.Source.Schema.Key()[0].Type
			out.keyCols = in.keyCols
			fk := func(row Row) (Row, error) { return castKey(st.LeftKey, kt, row) }
			switch st.Type {
			case ir.InnerJoin:
				out.table = dsl.ForeignKeyJoin(in.table, right.table, fk, func(lv, rv Row) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
			case ir.LeftJoin:
				out.table = dsl.ForeignKeyLeftJoin(in.table, right.table, fk, func(lv, rv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
			default:
				return flow{}, fmt.Errorf("planner: %s foreign-key join is not supported", st.Type)
			}
			return out, nil
		}
		if left := n.Query.Sources[0].Source; rs.Source.KeyFormat != left.KeyFormat {
			// The right table is looked up with the left's keys: it is materialized again in the
			// left's key format, as ksqlDB repartitions a side whose key format differs.
			ks, err := KeySerde(left)
			if err != nil {
				return flow{}, err
			}
			right.table = right.table.ToStream().WithKeySerde(ks).ToTable(dsl.Named(e.name("KSQL-TABLE-" + rs.Source.Name + "-REKEYED")))
		}
		switch st.Type {
		case ir.InnerJoin:
			out.table = dsl.TableTableJoin(in.table, right.table, func(_ Row, lv, rv Row) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		case ir.LeftJoin:
			out.table = dsl.TableTableLeftJoin(in.table, right.table, func(_ Row, lv, rv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		case ir.RightJoin:
			out.table = dsl.TableTableLeftJoin(right.table, in.table, func(_ Row, rv, lv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		default:
			out.table = dsl.TableTableOuterJoin(in.table, right.table, func(_ Row, lv Row, _ bool, rv Row, _ bool) (Row, error) { return n.concat(lv, rv), nil }).WithValueSerde(vals)
		}
		return out, nil
	}
	return flow{}, fmt.Errorf("planner: unsupported join of a table with a stream")
}
