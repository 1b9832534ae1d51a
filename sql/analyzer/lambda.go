package analyzer

import (
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
)

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
				err = sqlerr.New(sqlerr.Semantic, l.P, "Lambda function argument can't be a column name: %s", p.Name)
				return
			}
		}
		inner := make(map[string]bool, len(active)+len(l.Params))
		for n := range active {
			inner[n] = true
		}
		for _, p := range l.Params {
			if inner[p.Name] {
				err = sqlerr.New(sqlerr.Semantic, l.P, "Reusing lambda arguments in nested lambda is not allowed")
				return
			}
			inner[p.Name] = true
		}
		check(l.Body, inner)
	}
	for _, it := range pq.Select {
		check(it.Expr, nil)
	}
	if pq.From != nil {
		for _, j := range pq.From.Joins {
			check(j.On, nil)
		}
	}
	check(pq.Where, nil)
	for _, g := range pq.GroupBy {
		check(g, nil)
	}
	for _, p := range pq.PartitionBy {
		check(p, nil)
	}
	check(pq.Having, nil)
	return err
}
