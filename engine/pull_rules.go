package engine

import (
	"errors"
	"strings"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Pull-query properties, as ksqlDB names them. Both default to true.
const (
	propTableScan = "ksql.query.pull.table.scan.enabled"
	propLimit     = "ksql.query.pull.limit.clause.enabled"
)

func enabled(props, server map[string]string, name string) bool {
	return !strings.EqualFold(strings.TrimSpace(property(props, server, name)), "false")
}

// checkKeyLookup applies ksqlDB's rules for a pull query on a table when table scans are disabled:
// each disjunct of WHERE must pin every key column to literals with = or IN, once. (With scans
// enabled, the default, any WHERE is answered by a scan.)
func checkKeyLookup(q *parser.Query, src *ir.Source) error {
	bad := func(msg string) error { return &StatementError{Code: codeBadStatement, Message: msg} }
	keys := src.Schema.Key()
	isKey := func(name string) bool {
		for _, k := range keys {
			if k.Name == name {
				return true
			}
		}
		return false
	}
	if q.Where == nil {
		return bad("WHERE clause missing key column for disjunct")
	}
	var disjuncts []parser.Expr
	var splitOr func(parser.Expr)
	splitOr = func(e parser.Expr) {
		if b, ok := e.(*parser.Binary); ok && b.Op == parser.OpOr {
			splitOr(b.L)
			splitOr(b.R)
			return
		}
		disjuncts = append(disjuncts, e)
	}
	splitOr(q.Where)
	for _, d := range disjuncts {
		var conjuncts []parser.Expr
		var splitAnd func(parser.Expr)
		splitAnd = func(e parser.Expr) {
			if b, ok := e.(*parser.Binary); ok && b.Op == parser.OpAnd {
				splitAnd(b.L)
				splitAnd(b.R)
				return
			}
			conjuncts = append(conjuncts, e)
		}
		splitAnd(d)
		seen := map[string]bool{}
		nonEq := false
		for _, c := range conjuncts {
			var col string
			var others []parser.Expr
			switch x := c.(type) {
			case *parser.Binary:
				if !x.Op.IsComparison() {
					continue
				}
				l, lok := x.L.(*parser.ColumnRef)
				r, rok := x.R.(*parser.ColumnRef)
				switch {
				case lok && isKey(l.Name.Name):
					col, others = l.Name.Name, []parser.Expr{x.R}
				case rok && isKey(r.Name.Name):
					col, others = r.Name.Name, []parser.Expr{x.L}
				default:
					if mentionsKey(c, isKey) {
						return bad("A comparison must directly reference a key column.")
					}
					continue
				}
				if x.Op != parser.OpEq {
					nonEq = true
				}
			case *parser.InList:
				cr, ok := x.X.(*parser.ColumnRef)
				if !ok || !isKey(cr.Name.Name) {
					continue
				}
				col, others = cr.Name.Name, x.List
			default:
				continue
			}
			for _, o := range others {
				if referencesColumn(o) {
					return bad("A comparison must be between a key column and a resolvable expression.")
				}
			}
			if seen[col] {
				return bad("A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate")
			}
			seen[col] = true
		}
		if nonEq {
			var ks []string
			for _, k := range keys {
				ks = append(ks, "`"+k.Name+"` "+k.Type.String()+" KEY")
			}
			return bad("Bound on key columns '[" + strings.Join(ks, ", ") + "]' must currently be '='. ")
		}
		missing := 0
		for _, k := range keys {
			if !seen[k.Name] {
				missing++
			}
		}
		switch {
		case missing == len(keys):
			return bad("WHERE clause missing key column for disjunct: " + expr.MessageText(d))
		case missing > 0:
			return bad("Multi-column sources must specify every key in the WHERE clause")
		}
	}
	return nil
}

func referencesColumn(e parser.Expr) bool {
	found := false
	analyzer.Walk(e, func(x parser.Expr) {
		if _, ok := x.(*parser.ColumnRef); ok {
			found = true
		}
	})
	return found
}

func mentionsKey(e parser.Expr, isKey func(string) bool) bool {
	found := false
	analyzer.Walk(e, func(x parser.Expr) {
		if cr, ok := x.(*parser.ColumnRef); ok && isKey(cr.Name.Name) {
			found = true
		}
	})
	return found
}

// wherePullError words an analysis error that a pull query's WHERE caused as ksqlDB does: "Error in WHERE
// expression: <why>", then the expression.
func wherePullError(err error, q *parser.Query) error {
	var se *sqlerr.Error
	if q.Where == nil || !errors.As(err, &se) || !se.Pos.IsValid() {
		return err
	}
	start := se.Pos
	analyzer.Walk(q.Where, func(x parser.Expr) {
		p := x.Position()
		if p.IsValid() && (p.Line < start.Line || p.Line == start.Line && p.Col < start.Col) {
			start = p
		}
	})
	if se.Pos.Line < start.Line || se.Pos.Line == start.Line && se.Pos.Col < start.Col {
		return err // the error is before WHERE
	}
	msg := strings.TrimPrefix(se.Msg, "Error in WHERE expression: ")
	return &StatementError{Code: codeBadStatement, Message: se.Pos.String() + ": Error in WHERE expression: " + msg + "\nStatement: " + expr.MessageText(q.Where)}
}

// checkPullSource applies the rules of a pull query that depend on its source: window bounds only on
// windowed sources; an IN on a table's key only with values of the key's type, never NULL.
func checkPullSource(q *parser.Query, src *ir.Source) error {
	bad := func(msg string) error { return &StatementError{Code: codeBadStatement, Message: msg} }
	var err error
	analyzer.Walk(q.Where, func(x parser.Expr) {
		if err != nil {
			return
		}
		switch e := x.(type) {
		case *parser.ColumnRef:
			if src.Window == "" && (e.Name.Name == "WINDOWSTART" || e.Name.Name == "WINDOWEND") {
				err = bad("WHERE column '" + e.Name.Name + "' cannot be resolved")
			}
		case *parser.InList:
			cr, ok := e.X.(*parser.ColumnRef)
			if !ok || src.Kind != ir.Table || e.Not {
				return
			}
			idx := src.Schema.Index(cr.Name.Name)
			if idx < 0 || src.Schema.Columns[idx].Namespace != types.NamespaceKey {
				return
			}
			key := src.Schema.Columns[idx]
			for _, v := range e.List {
				lit, ok := v.(*parser.Literal)
				if !ok {
					continue
				}
				if lit.Kind == parser.LitNull {
					err = bad("Primary key columns can not be NULL: (" + key.Name + " = null)")
					return
				}
				if lit.Kind == parser.LitString && key.Type.Kind != types.KindString {
					err = bad(parser.FormatExpr(lit) + " can not be converted to the type of the key column: " + key.Name + " " + key.Type.String() + " KEY")
					return
				}
			}
		}
	})
	return err
}
