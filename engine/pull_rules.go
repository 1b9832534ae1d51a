package engine

import (
	"regexp"
	"strings"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
)

// Pull-query properties, as ksqlDB names them. Both default to true.
const (
	propTableScan = "ksql.query.pull.table.scan.enabled"
	propLimit     = "ksql.query.pull.limit.clause.enabled"
)

func enabled(props, server map[string]string, name string) bool {
	for _, m := range []map[string]string{props, server} {
		if v, ok := m[name]; ok {
			return !strings.EqualFold(strings.TrimSpace(v), "false")
		}
	}
	return true
}

var nullWord = regexp.MustCompile(`\bNULL\b`)

// exprText renders an expression the way ksqlDB's messages quote it: parenthesized binaries, the
// NULL literal in lower case.
func exprText(e parser.Expr) string { return nullWord.ReplaceAllString(parser.FormatExpr(e), "null") }

// checkKeyLookup applies ksqlDB's rules for a pull query on a table when table scans are disabled:
// each disjunct of WHERE must pin every key column to literals with = or IN, once. (With scans
// enabled, the default, any WHERE is answered by a scan.)
func checkKeyLookup(q *parser.Query, src *analyzer.Source) error {
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
			return bad("WHERE clause missing key column for disjunct: " + exprText(d))
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
