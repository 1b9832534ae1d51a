package ir

import "github.com/seichedb/seiche/sql/types"

// Expr is a resolved, type-checked expression compiled into a closure over the rows of the scope it
// was analyzed in (see Query for the row layouts).
type Expr struct {
	Type *types.Type
	// Eval evaluates the expression for one row. An error is the record's processing error.
	Eval func(row types.Row) (types.Value, error)
	// Const is set when the expression does not depend on the row.
	Const bool
	// Text is the expression as ksqlDB formats it in names and messages.
	Text string
	// Column is the position of the column the expression reads when it is nothing but a column
	// reference, -1 otherwise.
	Column int
	// Columns are the positions in the row of its scope that the expression reads, ascending and
	// distinct (nil when it reads none): what a source must decode for it.
	Columns []int
}

// IsColumn reports whether the expression only reads a column, and which.
func (e *Expr) IsColumn() (int, bool) { return e.Column, e.Column >= 0 }
