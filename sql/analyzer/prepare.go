package analyzer

import (
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
)

// queryExprs calls fn on each expression of a query in the order ksqlDB's AstBuilder builds them: the
// join criteria, then the projection, WHERE, GROUP BY, PARTITION BY and HAVING. star, when set, is called
// in place of fn for each select item that has no expression (*, src.*).
func queryExprs(pq *parser.Query, fn func(parser.Expr), star func(parser.SelectItem)) {
	if pq.From != nil {
		for _, j := range pq.From.Joins {
			fn(j.On)
		}
	}
	for _, it := range pq.Select {
		switch {
		case it.Expr != nil:
			fn(it.Expr)
		case star != nil:
			star(it)
		}
	}
	fn(pq.Where)
	for _, g := range pq.GroupBy {
		fn(g)
	}
	for _, p := range pq.PartitionBy {
		fn(p)
	}
	fn(pq.Having)
}

// checkQualifiers refuses a column qualified by a name that is neither a source nor an alias in the
// query's FROM clause, as ksqlDB does while it builds the statement (before it looks sources up).
func checkQualifiers(pq *parser.Query) error {
	if pq.From == nil {
		return nil
	}
	names := map[string]bool{}
	add := func(s parser.AliasedSource) {
		names[s.Name.Name] = true
		if s.Alias != nil {
			names[s.Alias.Name] = true
		}
	}
	add(pq.From.Source)
	for _, j := range pq.From.Joins {
		add(j.Right)
	}
	var err error
	check := func(name parser.Ident) {
		if err == nil && !names[name.Name] {
			err = sqlerr.New(sqlerr.UnknownSource, name.P, "Failed to prepare statement: '%s' is not a valid stream/table name or alias.", name.Name)
		}
	}
	queryExprs(pq, func(e parser.Expr) {
		walk(e, func(x parser.Expr) {
			if cr, ok := x.(*parser.ColumnRef); ok && cr.Qualifier != nil {
				check(*cr.Qualifier)
			}
		})
	}, func(it parser.SelectItem) {
		if it.Kind == parser.SelectSourceStar {
			check(it.Source)
		}
	})
	return err
}

// checkLambdas applies ksqlDB's rules on lambda parameter names to every expression of a query, before
// anything else is resolved (ksqlDB's AstSanitizer): a parameter may not have the name of a column of
// one of the query's sources, and a nested lambda may not reuse a parameter of a lambda around it (nor
// may one lambda name two parameters alike).
func (qa *queryAnalysis) checkLambdas(pq *parser.Query) error {
	columns := map[string]bool{}
	for _, s := range qa.q.Sources {
		for _, c := range s.Source.Schema.Columns {
			columns[c.Name] = true
		}
	}
	var err error
	var check func(e parser.Expr, active map[string]bool)
	check = func(e parser.Expr, active map[string]bool) {
		if e == nil || err != nil {
			return
		}
		l, ok := e.(*parser.Lambda)
		if !ok {
			children(e, func(c parser.Expr) { check(c, active) })
			return
		}
		for _, p := range l.Params {
			if columns[p.Name] {
				err = sqlerr.New(sqlerr.Semantic, l.P, "Exception while preparing statement: Lambda function argument can't be a column name: %s", p.Name)
				return
			}
		}
		inner := make(map[string]bool, len(active)+len(l.Params))
		for n := range active {
			inner[n] = true
		}
		for _, p := range l.Params {
			if inner[p.Name] {
				err = sqlerr.New(sqlerr.Semantic, l.P, "Exception while preparing statement: Reusing lambda arguments in nested lambda is not allowed")
				return
			}
			inner[p.Name] = true
		}
		check(l.Body, inner)
	}
	queryExprs(pq, func(e parser.Expr) { check(e, nil) }, nil)
	return err
}
