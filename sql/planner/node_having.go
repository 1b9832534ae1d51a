package planner

import (
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// HavingNode filters the aggregation's table: a group whose row fails HAVING is deleted downstream (a
// tombstone), as in ksqlDB.
type HavingNode struct {
	Predicate *ir.Expr
}

// Describe implements Node.
func (n *HavingNode) Describe() string { return "Having" }

func (n *HavingNode) keep(row Row) (bool, error) {
	if row == nil {
		return false, nil
	}
	v, err := n.Predicate.Eval(row)
	if err != nil {
		return false, err
	}
	return types.IsTrue(v), nil
}

func (n *HavingNode) lower(e *Env, in flow) (flow, error) {
	out := in
	if in.wtable != nil {
		out.wtable = in.wtable.Filter(func(_ dsl.Windowed[Row], row Row) (bool, error) { return n.keep(row) })
	} else {
		out.table = in.table.Filter(func(_ Row, row Row) (bool, error) { return n.keep(row) })
	}
	return out, nil
}
