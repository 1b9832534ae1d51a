package planner

import (
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// FilterNode keeps the rows for which WHERE is true; an evaluation error drops the row and is logged.
type FilterNode struct {
	Predicate *ir.Expr
}

// Describe implements Node.
func (n *FilterNode) Describe() string { return "Filter" }

func (n *FilterNode) lower(e *Env, in flow) (flow, error) {
	pred := func(_ Row, row Row) (bool, error) {
		if row == nil {
			return false, nil
		}
		v, err := n.Predicate.Eval(row)
		if err != nil {
			return false, err
		}
		return types.IsTrue(v), nil
	}
	out := in
	if in.stream != nil {
		out.stream = in.stream.Filter(pred)
	} else {
		out.table = in.table.Filter(pred)
	}
	return out, nil
}
