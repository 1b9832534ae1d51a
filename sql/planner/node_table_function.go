package planner

import (
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// TableFunctionNode explodes each row with the projection's table functions: one output row per
// produced value, the Input row followed by the current value of each function. With several
// functions the longest result wins and the others are padded with NULL, as in ksqlDB.
type TableFunctionNode struct {
	Calls []ir.TableFunctionCall
}

// Describe implements Node.
func (n *TableFunctionNode) Describe() string { return "TableFunction" }

func (n *TableFunctionNode) lower(e *Env, in flow) (flow, error) {
	out := in
	out.valCols = append([]types.Column{}, in.valCols...)
	for _, c := range n.Calls {
		out.valCols = append(out.valCols, types.Column{Type: c.Type})
	}
	width := len(in.valCols)
	out.stream = dsl.FlatMapValues(in.stream, func(_ Row, row Row) ([]Row, error) {
		if row == nil {
			return nil, nil
		}
		results := make([][]types.Value, len(n.Calls))
		longest := 0
		for i, c := range n.Calls {
			args := make([]types.Value, len(c.Args))
			for j, a := range c.Args {
				v, err := a.Eval(row)
				if err != nil {
					return nil, err
				}
				args[j] = v
			}
			vals, err := c.Impl(args)
			if err != nil {
				return nil, err
			}
			results[i] = vals
			longest = max(longest, len(vals))
		}
		rows := make([]Row, longest)
		for r := range rows {
			nr := make(Row, width+len(n.Calls))
			copy(nr, row)
			for i := range n.Calls {
				if r < len(results[i]) {
					nr[width+i] = results[i][r]
				}
			}
			rows[r] = nr
		}
		return rows, nil
	}).WithValueSerde(internalSerde(out.valCols))
	return out, nil
}
