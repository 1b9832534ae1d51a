package analyzer

import (
	"time"

	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
)

// This file turns the clauses of the AST into their IR (package ir): what the planner reads.

// irExpr is the IR of expression e compiled as c: with ksqlDB's text of e and, when e is nothing but a
// column reference, the column's position in scope (nil when c does not read e's column).
func irExpr(c *expr.Compiled, e parser.Expr, scope *expr.Scope) *ir.Expr {
	out := &ir.Expr{Type: c.Type, Eval: c.Eval, Const: c.Const, Text: parser.FormatExpr(e), Column: -1, Columns: c.Columns}
	if cr, ok := e.(*parser.ColumnRef); ok && scope != nil {
		if idx, err := scope.Resolve(qualifierOf(cr), cr.Name.Name); err == nil && idx >= 0 {
			out.Column = idx
		}
	}
	return out
}

// duration is the time.Duration of a duration as written.
func duration(d parser.Duration) time.Duration { return time.Duration(d.Millis()) * time.Millisecond }

// windowOf is the IR of a WINDOW clause; nil without one.
func windowOf(w *parser.Window) *ir.Window {
	if w == nil {
		return nil
	}
	out := &ir.Window{Size: duration(w.Size), Advance: duration(w.Advance)}
	switch w.Kind {
	case parser.Hopping:
		out.Kind = ir.Hopping
	case parser.Session:
		out.Kind = ir.Session
	default:
		out.Kind = ir.Tumbling
	}
	if w.Grace != nil {
		out.Grace, out.HasGrace = duration(*w.Grace), true
	}
	if w.Retention != nil {
		out.Retention, out.HasRetention = duration(*w.Retention), true
	}
	return out
}

// withinOf is the IR of a join's WITHIN clause; nil without one.
func withinOf(w *parser.Within) *ir.Within {
	if w == nil {
		return nil
	}
	out := &ir.Within{Before: duration(w.Before), After: duration(w.After)}
	if w.Grace != nil {
		out.Grace, out.HasGrace = duration(*w.Grace), true
	}
	return out
}

// emitOf is the IR of an EMIT clause.
func emitOf(k parser.EmitKind) ir.EmitKind {
	switch k {
	case parser.EmitChanges:
		return ir.EmitChanges
	case parser.EmitFinal:
		return ir.EmitFinal
	}
	return ir.EmitNone
}

// joinTypeOf is the IR of a join type.
func joinTypeOf(t parser.JoinType) ir.JoinType {
	switch t {
	case parser.LeftJoin:
		return ir.LeftJoin
	case parser.RightJoin:
		return ir.RightJoin
	case parser.FullJoin:
		return ir.FullJoin
	}
	return ir.InnerJoin
}

// kindOf is the IR's kind of a statement's STREAM or TABLE.
func kindOf(k parser.SourceKind) ir.SourceKind {
	if k == parser.Table {
		return ir.Table
	}
	return ir.Stream
}

// aggregateText renders an aggregate call as ksqlDB's messages do: COUNT(*) reads ROWTIME.
func aggregateText(e parser.Expr) string {
	if f, ok := e.(*parser.FuncCall); ok && (f.Star || len(f.Args) == 0) {
		return f.Name.Name + "(ROWTIME)"
	}
	return parser.FormatExpr(e)
}
