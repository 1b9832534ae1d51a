package analyzer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

func pseudoColumns(windowed bool) []types.Column {
	cols := []types.Column{
		{Name: "ROWTIME", Type: types.Bigint, Namespace: types.NamespacePseudo},
		{Name: "ROWPARTITION", Type: types.Int, Namespace: types.NamespacePseudo},
		{Name: "ROWOFFSET", Type: types.Bigint, Namespace: types.NamespacePseudo},
	}
	if windowed {
		cols = append(cols,
			types.Column{Name: "WINDOWSTART", Type: types.Bigint, Namespace: types.NamespacePseudo},
			types.Column{Name: "WINDOWEND", Type: types.Bigint, Namespace: types.NamespacePseudo})
	}
	return cols
}

type queryAnalysis struct {
	a    *Analyzer
	q    *ir.Query
	sink string
	// input is the scope of the Input row (see ir.Query).
	input *expr.Scope
	// groupBy are the GROUP BY expressions as written.
	groupBy []parser.Expr
	// sides are the joins' equi-join expressions, one per q.Joins.
	sides []joinSides
	// items are the select items, * expanded, one per q.Projection.
	items []parser.SelectItem
	// planErr is an error ksqlDB reports when it plans the query rather than when it analyzes it.
	planErr error
}

func (qa *queryAnalysis) compiler(scope *expr.Scope, clause string) *expr.Compiler {
	return &expr.Compiler{Scope: scope, Funcs: qa.a.Funcs, Types: qa.a.typeLookup, Clause: clause}
}

// AnalyzeQuery analyzes a SELECT; sink is the name of the source it writes into ("" for transient queries).
func (a *Analyzer) AnalyzeQuery(pq *parser.Query, sink string) (*ir.Query, error) {
	qa, planErr, err := a.analyzeQuery(pq, sink)
	if err == nil {
		err = planErr
	}
	if err != nil {
		return nil, err
	}
	return qa.q, nil
}

// analyzeQuery is AnalyzeQuery, keeping apart the errors of the checks ksqlDB makes when planning (planErr,
// with q complete), which a statement reports after its own.
func (a *Analyzer) analyzeQuery(pq *parser.Query, sink string) (_ *queryAnalysis, planErr error, err error) {
	qa := &queryAnalysis{a: a, q: &ir.Query{Window: windowOf(pq.Window), Emit: emitOf(pq.Emit), Limit: pq.Limit}, sink: sink}
	if err := checkQualifiers(pq); err != nil {
		return nil, nil, err
	}
	if err := qa.from(pq.From); err != nil {
		return nil, nil, err
	}
	q := qa.q
	if err := qa.checkLambdas(pq); err != nil {
		return nil, nil, err
	}
	if err := qa.sourceChecks(pq); err != nil {
		return nil, nil, err
	}
	if err := qa.reservedNames(pq); err != nil {
		return nil, nil, err
	}
	if err := qa.tableFunctionRules(pq); err != nil {
		return nil, nil, err
	}
	if pq.Where != nil {
		rewritePseudoTimestamps(pq.Where)
		var unknown string
		walk(pq.Where, func(x parser.Expr) {
			if cr, ok := x.(*parser.ColumnRef); ok && unknown == "" && isWindowBound(cr.Name.Name) {
				if idx, err := qa.input.Resolve(qualifierOf(cr), cr.Name.Name); err != nil || idx < 0 {
					unknown = cr.Name.Name
				}
			}
		})
		if unknown != "" {
			return nil, nil, sqlerr.New(sqlerr.UnknownColumn, pq.Where.Position(), "Error in WHERE expression: Unknown column %s.", unknown)
		}
		w, err := qa.compiler(qa.input, "WHERE").Compile(pq.Where)
		if err == nil {
			err = predicateType("WHERE", pq.Where, w)
		}
		if err != nil {
			return nil, nil, inClause("WHERE", err)
		}
		q.Where = irExpr(w, pq.Where, qa.input)
	}
	if pq.Window != nil && len(pq.GroupBy) == 0 {
		// ksqlDB's analyzer refuses an aggregate in the projection of a windowed query without
		// GROUP BY before its planner refuses the WINDOW. (Without a WINDOW, the corpus shows other
		// messages first: the non-aggregate columns, or CREATE TABLE's own.)
		for _, it := range pq.Select {
			if it.Kind == parser.SelectExpr && containsAggregate(a.Funcs, it.Expr) {
				return nil, nil, sqlerr.New(sqlerr.Semantic, it.Expr.Position(), "Use of aggregate function %s requires a GROUP BY clause.", strings.ToUpper(aggregateName(a.Funcs, it.Expr)))
			}
		}
		return nil, nil, sqlerr.New(sqlerr.Semantic, pq.Window.P, "WINDOW clause requires a GROUP BY clause.")
	}
	for _, pb := range pq.PartitionBy {
		if containsAggregate(a.Funcs, pb) {
			return nil, nil, sqlerr.New(sqlerr.Semantic, pb.Position(), "PARTITION BY does not support aggregate functions: %s is an aggregate function.", aggregateName(a.Funcs, pb))
		}
		if isNullLiteral(pb) && len(pq.PartitionBy) > 1 {
			return nil, nil, sqlerr.New(sqlerr.Semantic, pb.Position(), "Cannot PARTITION BY multiple columns including NULL")
		}
		c, err := qa.compiler(qa.input, "PARTITION BY").Compile(pb)
		if err != nil {
			return nil, nil, partitionByHint(err, pb, qa.input)
		}
		q.PartitionBy = append(q.PartitionBy, irExpr(c, pb, qa.input))
	}
	if len(pq.PartitionBy) > 0 && len(pq.GroupBy) > 0 {
		return nil, nil, sqlerr.New(sqlerr.Semantic, pq.P, "Queries with GROUP BY and PARTITION BY are not supported.")
	}
	aggregating := len(pq.GroupBy) > 0
	for _, it := range pq.Select {
		if it.Kind == parser.SelectExpr && containsAggregate(a.Funcs, it.Expr) {
			aggregating = true
		}
	}
	if pq.Having != nil && !aggregating {
		return nil, nil, sqlerr.New(sqlerr.Semantic, pq.Having.Position(), "HAVING clause requires a GROUP BY clause.")
	}
	if aggregating {
		err = qa.aggregate(pq)
	} else {
		err = qa.project(pq)
	}
	if err != nil {
		return nil, nil, err
	}
	// ksqlDB's logical planner refuses EMIT FINAL once the query is otherwise valid: only a windowed
	// aggregation has windows that close, and so final results.
	if pq.Emit == parser.EmitFinal && (len(pq.GroupBy) == 0 || pq.Window == nil) {
		return nil, nil, sqlerr.New(sqlerr.Semantic, pq.P, "EMIT FINAL is only supported for windowed aggregations.")
	}
	recordReads(q)
	return qa, qa.planErr, nil
}

// recordReads sets each source's Reads from the columns of the expressions over the Input row.
func recordReads(q *ir.Query) {
	width := 0
	for _, s := range q.Sources {
		width = max(width, s.Offset+s.Width)
	}
	read := make([]bool, width)
	mark := func(e *ir.Expr) {
		if e == nil {
			return
		}
		for _, c := range e.Columns {
			if c < width { // a table function's value follows the Input row
				read[c] = true
			}
		}
	}
	mark(q.Where)
	for _, j := range q.Joins {
		mark(j.LeftKey)
		mark(j.RightKey)
	}
	for _, e := range q.GroupBy {
		mark(e)
	}
	for _, e := range q.PartitionBy {
		mark(e)
	}
	for _, a := range q.Aggregates {
		for _, e := range a.Args {
			mark(e)
		}
	}
	for _, tf := range q.TableFuncs {
		for _, e := range tf.Args {
			mark(e)
		}
	}
	if !q.Aggregating() {
		for _, p := range q.Projection {
			mark(p.Expr)
		}
	}
	for i := range q.Sources {
		s := &q.Sources[i]
		s.Reads = read[s.Offset : s.Offset+s.Width : s.Offset+s.Width]
	}
}

func (qa *queryAnalysis) from(f *parser.From) error {
	all := append([]parser.AliasedSource{f.Source}, func() []parser.AliasedSource {
		var out []parser.AliasedSource
		for _, j := range f.Joins {
			out = append(out, j.Right)
		}
		return out
	}()...)
	scope := &expr.Scope{}
	joined := len(f.Joins) > 0
	seen := map[string]bool{}
	for _, as := range all {
		src, ok := qa.a.Meta.Source(as.Name.Name)
		if !ok {
			return sqlerr.New(sqlerr.UnknownSource, as.Name.P, "%s does not exist.", as.Name.Name)
		}
		alias := src.Name
		if as.Alias != nil {
			alias = as.Alias.Name
		}
		if err := repeatedSource(seen, src.Name, as.Name.P); err != nil {
			return err
		}
		qs := ir.QuerySource{Source: src, Alias: alias, Offset: len(scope.Columns)}
		cols := append(append([]types.Column{}, src.Schema.Columns...), pseudoColumns(src.Window != "")...)
		for _, c := range cols {
			scope.Columns = append(scope.Columns, expr.Column{Qualifier: alias, Name: c.Name, Type: c.Type})
		}
		qs.Width = len(cols)
		qa.q.Sources = append(qa.q.Sources, qs)
	}
	qa.input = scope
	qa.q.IsTable = qa.q.Sources[0].Source.Kind == ir.Table
	if err := qa.joins(f.Joins); err != nil {
		return err
	}
	if joined {
		// A join's result is a table only when every source is a table.
		qa.q.IsTable = true
		for _, s := range qa.q.Sources {
			if s.Source.Kind == ir.Stream {
				qa.q.IsTable = false
			}
		}
	}
	return nil
}

// rewritePseudoTimestamps replaces, in a WHERE clause, the string literals compared with ROWTIME,
// WINDOWSTART or WINDOWEND by the epoch milliseconds they name ('2020-01-01T00:00:00', '2018'), as
// ksqlDB rewrites such statements before analyzing them. It rewrites e in place.
func rewritePseudoTimestamps(e parser.Expr) {
	isPseudo := func(x parser.Expr) bool {
		cr, ok := x.(*parser.ColumnRef)
		return ok && (cr.Name.Name == "ROWTIME" || isWindowBound(cr.Name.Name))
	}
	millis := func(x parser.Expr) parser.Expr {
		l, ok := x.(*parser.Literal)
		if !ok || l.Kind != parser.LitString {
			return x
		}
		ms, ok := pseudoTimestampMillis(l.Value)
		if !ok {
			return x
		}
		return &parser.Literal{P: l.P, Kind: parser.LitInteger, Value: strconv.FormatInt(ms, 10)}
	}
	walk(e, func(x parser.Expr) {
		switch y := x.(type) {
		case *parser.Binary:
			switch y.Op {
			case parser.OpEq, parser.OpNeq, parser.OpLt, parser.OpLte, parser.OpGt, parser.OpGte:
				if isPseudo(y.L) {
					y.R = millis(y.R)
				} else if isPseudo(y.R) {
					y.L = millis(y.L)
				}
			}
		case *parser.Between:
			if isPseudo(y.X) {
				y.Lo, y.Hi = millis(y.Lo), millis(y.Hi)
			}
		}
	})
}

// pseudoTimestampMillis parses a timestamp as ksqlDB's comparisons with ROWTIME accept it: ISO-8601,
// possibly truncated after the year or month, with an optional zone offset.
func pseudoTimestampMillis(text string) (int64, bool) {
	if v, err := types.ParseTimestamp(text); err == nil {
		if ts, ok := v.(types.TimestampValue); ok {
			return int64(ts), true
		}
	}
	for _, layout := range []string{"2006", "2006-01"} {
		if t, err := time.Parse(layout, strings.TrimSpace(text)); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func isWindowBound(name string) bool { return name == "WINDOWSTART" || name == "WINDOWEND" }

// predicateType refuses a WHERE or HAVING expression that is not a boolean, with ksqlDB's message.
func predicateType(clause string, e parser.Expr, c *expr.Compiled) error {
	if c.Type.Kind == types.KindBoolean || c.Type.Kind == types.KindNull {
		return nil
	}
	return sqlerr.New(sqlerr.Type, e.Position(), "Type error in %s expression: Should evaluate to boolean but is %s (%s) instead.", clause, parser.FormatExpr(e), c.Type)
}

// inClause gives an error typing a WHERE or HAVING expression ksqlDB's context, "Error in WHERE
// expression: ...". An unknown column is reported as it is: ksqlDB finds those before it types the
// clause, and names the clause in the message already.
func inClause(clause string, err error) error {
	se, ok := err.(*sqlerr.Error)
	if !ok || se.Code == sqlerr.UnknownColumn || se.Code == sqlerr.AmbiguousColumn || strings.HasPrefix(se.Msg, "Error in ") || strings.HasPrefix(se.Msg, "Type error in ") {
		return err
	}
	cp := *se
	cp.Msg = "Error in " + clause + " expression: " + cp.Msg
	return &cp
}

func isNullLiteral(e parser.Expr) bool {
	l, ok := e.(*parser.Literal)
	return ok && l.Kind == parser.LitNull
}

// partitionByHint adds to err, a PARTITION BY expression's unknown column, ksqlDB's hint that PARTITION
// BY reads the query's input (so neither a name the projection gives nor anything else but a source
// column will do).
func partitionByHint(err error, pb parser.Expr, input *expr.Scope) error {
	se, ok := err.(*sqlerr.Error)
	if !ok || se.Code != sqlerr.UnknownColumn {
		return err
	}
	var name string
	walk(pb, func(x parser.Expr) {
		if cr, ok := x.(*parser.ColumnRef); ok && name == "" {
			if idx, rerr := input.Resolve(qualifierOf(cr), cr.Name.Name); rerr == nil && idx < 0 {
				name = parser.FormatExpr(cr)
			}
		}
	})
	if name == "" {
		return err
	}
	cp := *se
	cp.Msg += fmt.Sprintf(" '%s' must be a column in the source schema since PARTITION BY is applied on the input.", name)
	return &cp
}

func qualifierOf(cr *parser.ColumnRef) string {
	if cr.Qualifier == nil {
		return ""
	}
	return cr.Qualifier.Name
}

// walk calls fn on e and every sub-expression (lambda bodies included).
func walk(e parser.Expr, fn func(parser.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	children(e, func(c parser.Expr) { walk(c, fn) })
}

// children calls fn on each direct, non-nil sub-expression of e.
func children(e parser.Expr, fn func(parser.Expr)) {
	visit := func(xs ...parser.Expr) {
		for _, x := range xs {
			if x != nil {
				fn(x)
			}
		}
	}
	switch x := e.(type) {
	case *parser.Dereference:
		visit(x.Base)
	case *parser.Subscript:
		visit(x.Base, x.Index)
	case *parser.FuncCall:
		visit(x.Args...)
	case *parser.Lambda:
		visit(x.Body)
	case *parser.Cast:
		visit(x.Expr)
	case *parser.Case:
		visit(x.Operand)
		for _, w := range x.Whens {
			visit(w.Cond, w.Result)
		}
		visit(x.Else)
	case *parser.Binary:
		visit(x.L, x.R)
	case *parser.Unary:
		visit(x.X)
	case *parser.Between:
		visit(x.X, x.Lo, x.Hi)
	case *parser.InList:
		visit(x.X)
		visit(x.List...)
	case *parser.Like:
		visit(x.X, x.Pattern)
	case *parser.IsNull:
		visit(x.X)
	case *parser.ArrayConstructor:
		visit(x.Elems...)
	case *parser.MapConstructor:
		for i := range x.Keys {
			visit(x.Keys[i], x.Vals[i])
		}
	case *parser.StructConstructor:
		visit(x.Values...)
	case *parser.AtTimeZone:
		visit(x.X)
	}
}

func isAggregateCall(funcs *function.Registry, e parser.Expr) bool {
	f, ok := e.(*parser.FuncCall)
	if !ok {
		return false
	}
	_, isAgg := funcs.Aggregate(f.Name.Name)
	return isAgg
}

func containsAggregate(funcs *function.Registry, e parser.Expr) bool {
	found := false
	walk(e, func(x parser.Expr) {
		if isAggregateCall(funcs, x) {
			found = true
		}
	})
	return found
}

func aggregateName(funcs *function.Registry, e parser.Expr) string {
	name := ""
	walk(e, func(x parser.Expr) {
		if name == "" && isAggregateCall(funcs, x) {
			name = x.(*parser.FuncCall).Name.Name
		}
	})
	return name
}

// colNames names the unnamed expressions of one projection as ksqlDB's ColumnNames does. A generated name
// is KSQL_COL_<n>, n counting from 0 and skipping the numbers of source columns named KSQL_COL_<n> (and the
// names the projection uses itself). A struct field read is named after the field with any _<digits>
// suffix dropped, then suffixed _1, _2, ... past the numbers that source columns of that stem use (COL is
// number 0, COL_3 number 3), and past the names the projection uses itself.
type colNames struct {
	next  int
	taken map[string]bool
	// fields are the names a struct field's name must not take.
	fields map[string]bool
	// used are, per stem, the numbers source columns' names give it.
	used map[string]map[int]bool
	// stems are the generators of struct field names, per stem.
	stems map[string]int
}

func newColNames(items []parser.SelectItem, sources []ir.QuerySource) *colNames {
	g := &colNames{taken: map[string]bool{}, fields: map[string]bool{}, used: map[string]map[int]bool{}, stems: map[string]int{}}
	for _, it := range items {
		if it.Alias != nil {
			g.taken[it.Alias.Name] = true
			g.fields[it.Alias.Name] = true
		} else if cr, ok := it.Expr.(*parser.ColumnRef); ok {
			g.taken[cr.Name.Name] = true
			g.fields[cr.Name.Name] = true
		}
	}
	for _, s := range sources {
		for _, c := range s.Source.Schema.Columns {
			stem, n := numberedName(c.Name)
			if g.used[stem] == nil {
				g.used[stem] = map[int]bool{}
			}
			g.used[stem][n] = true
		}
	}
	return g
}

// numberedName splits a column name into its stem and number as ksqlDB does: NAME_12 is (NAME, 12) and
// NAME is (NAME, 0).
func numberedName(name string) (string, int) {
	i := strings.LastIndexByte(name, '_')
	if i < 0 || i == len(name)-1 {
		return name, 0
	}
	n := 0
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' || n > 1<<20 {
			return name, 0
		}
		n = n*10 + int(r-'0')
	}
	return name[:i], n
}

// field returns the name of a read of struct field name.
func (g *colNames) field(name string) string {
	stem, _ := numberedName(name)
	for {
		i := g.stems[stem]
		g.stems[stem]++
		n := stem
		if i > 0 {
			n = stem + "_" + itoa(i)
		}
		if !g.used[stem][i] && !g.fields[n] {
			g.fields[n] = true
			return n
		}
	}
}

func (g *colNames) generate() string {
	for {
		i := g.next
		n := "KSQL_COL_" + itoa(i)
		g.next++
		if !g.taken[n] && !g.used["KSQL_COL"][i] {
			return n
		}
	}
}

func columnName(it parser.SelectItem, g *colNames, joined func(name string) bool) string {
	if it.Alias != nil {
		return it.Alias.Name
	}
	switch e := it.Expr.(type) {
	case *parser.ColumnRef:
		if joined != nil && e.Qualifier != nil && joined(e.Name.Name) {
			// In a join, a qualified column whose name several sources have is named
			// <source>_<column>, as in ksqlDB.
			return e.Qualifier.Name + "_" + e.Name.Name
		}
		return e.Name.Name
	case *parser.Dereference:
		return g.field(e.Field.Name)
	}
	return g.generate()
}

// reservedNames applies ksqlDB's rule on the names of the projection's expressions (not the columns a *
// stands for) that are system column names (ROWTIME, the window bounds, ...): an alias may not take one,
// unless it is the name of the column it projects, and a persistent query may not project one under its
// own name at all (a transient query may).
func (qa *queryAnalysis) reservedNames(pq *parser.Query) error {
	joined := qa.ambiguous()
	for _, it := range pq.Select {
		if it.Kind != parser.SelectExpr {
			continue
		}
		var name string
		switch e := it.Expr.(type) {
		case *parser.ColumnRef:
			name = e.Name.Name
			if joined != nil && e.Qualifier != nil && joined(e.Name.Name) {
				name = e.Qualifier.Name + "_" + e.Name.Name
			}
		case *parser.Dereference:
			name, _ = numberedName(e.Field.Name)
		}
		if it.Alias != nil {
			name = it.Alias.Name
		}
		if !reservedColumnNames[name] {
			continue
		}
		text := parser.FormatExpr(it.Expr)
		if i := strings.IndexByte(text, '.'); i >= 0 {
			text = text[i+1:]
		}
		if it.Alias != nil && !strings.EqualFold(text, name) {
			return sqlerr.New(sqlerr.Semantic, it.P, "`%s` is a reserved column name. You cannot use it as an alias for a column.", name)
		}
		if qa.sink != "" {
			return sqlerr.New(sqlerr.Semantic, it.P, "Reserved column name in select: `%s`. Please remove or alias the column.", name)
		}
	}
	return nil
}

// tableFunctionRules applies ksqlDB's rules on where a projection may call a table function: not inside
// another one, not in a query that aggregates, and not in (or after, in the same expression) a searched
// CASE.
func (qa *queryAnalysis) tableFunctionRules(pq *parser.Query) error {
	var err error
	for _, it := range pq.Select {
		if it.Kind != parser.SelectExpr || err != nil {
			continue
		}
		var searched *parser.Case
		var visit func(e parser.Expr, outer string)
		visit = func(e parser.Expr, outer string) {
			if e == nil || err != nil {
				return
			}
			if c, ok := e.(*parser.Case); ok && c.Operand == nil {
				searched = c
			}
			if f, ok := e.(*parser.FuncCall); ok {
				if _, isTable := qa.a.Funcs.Table(f.Name.Name); isTable {
					switch {
					case outer != "":
						err = sqlerr.New(sqlerr.Semantic, f.P, "Table functions cannot be nested: %s(%s())", outer, strings.ToUpper(f.Name.Name))
					case len(pq.GroupBy) > 0:
						err = sqlerr.New(sqlerr.Semantic, f.P, "Table functions cannot be used with aggregations.")
					case searched != nil:
						err = sqlerr.New(sqlerr.Semantic, f.P, "Table functions cannot be used in CASE: %s", parser.FormatExpr(searched))
					}
					if err != nil {
						return
					}
					children(e, func(c parser.Expr) { visit(c, strings.ToUpper(f.Name.Name)) })
					return
				}
			}
			children(e, func(c parser.Expr) { visit(c, outer) })
		}
		visit(it.Expr, "")
	}
	return err
}

// sourceChecks rejects queries over sources whose format or windowing ksqlDB cannot process.
func (qa *queryAnalysis) sourceChecks(pq *parser.Query) error {
	q := qa.q
	var kafka []string
	for _, s := range q.Sources {
		if s.Source.ValueFormat == "KAFKA" {
			kafka = append(kafka, s.Source.Name)
		}
	}
	if len(kafka) > 0 && len(q.Joins) > 0 {
		return sqlerr.New(sqlerr.Semantic, pq.P, "Source(s) %s are using the 'KAFKA' value format. This format does not yet support JOIN.", strings.Join(kafka, ", "))
	}
	if len(kafka) > 0 && len(pq.GroupBy) > 0 {
		return sqlerr.New(sqlerr.Semantic, pq.P, "Source(s) %s are using the 'KAFKA' value format. This format does not yet support GROUP BY.", strings.Join(kafka, ", "))
	}
	if qa.sink != "" && len(q.Sources) == 1 && q.Sources[0].Source.Kind == ir.Table && q.Sources[0].Source.Window != "" {
		return sqlerr.New(sqlerr.Semantic, pq.P, "KSQL does not support persistent queries on windowed tables.")
	}
	return nil
}

// expandStar returns the select items a * or src.* stands for.
func (qa *queryAnalysis) expandStar(it parser.SelectItem) ([]parser.SelectItem, error) {
	out := qa.syntheticKeyItem(it)
	joined := len(qa.q.Sources) > 1
	for _, s := range qa.q.Sources {
		if it.Kind == parser.SelectSourceStar && s.Alias != it.Source.Name {
			continue
		}
		// A transient query's * over a windowed source has the window bounds after the key columns, as
		// ksqlDB's: they are part of the key of every row it returns.
		windowBounds := !joined && qa.sink == "" && s.Source.Window != ""
		for i, c := range s.Source.Schema.Columns {
			q := parser.Ident{Name: s.Alias}
			ref := &parser.ColumnRef{P: it.P, Qualifier: &q, Name: parser.Ident{Name: c.Name}}
			item := parser.SelectItem{Kind: parser.SelectExpr, Expr: ref, P: it.P}
			if joined {
				alias := parser.Ident{Name: s.Alias + "_" + c.Name}
				item.Alias = &alias
			}
			out = append(out, item)
			last := i+1 == len(s.Source.Schema.Columns) || s.Source.Schema.Columns[i+1].Namespace != types.NamespaceKey
			if windowBounds && c.Namespace == types.NamespaceKey && last {
				for _, b := range []string{"WINDOWSTART", "WINDOWEND"} {
					out = append(out, parser.SelectItem{Kind: parser.SelectExpr, P: it.P,
						Expr: &parser.ColumnRef{P: it.P, Qualifier: &q, Name: parser.Ident{Name: b}}})
				}
				windowBounds = false
			}
		}
	}
	if it.Kind == parser.SelectSourceStar && out == nil {
		return nil, sqlerr.New(sqlerr.UnknownSource, it.P, "'%s' is not a valid stream/table name or alias.", it.Source.Name)
	}
	return out, nil
}

// repartitionedStar orders the columns * stands for in a query with PARTITION BY as ksqlDB does: the
// partitioning expressions that are not columns of the source first (they become the key, named
// KSQL_COL_<i>), then the source's value columns, then its key columns, which a re-keyed row carries in
// its value.
func (qa *queryAnalysis) repartitionedStar(pq *parser.Query, star parser.SelectItem, items []parser.SelectItem) []parser.SelectItem {
	src := qa.q.Sources[0].Source
	var out []parser.SelectItem
	for _, pb := range pq.PartitionBy {
		if l, ok := pb.(*parser.Literal); ok && l.Kind == parser.LitNull {
			continue
		}
		if cr, ok := pb.(*parser.ColumnRef); ok && src.Schema.Index(cr.Name.Name) >= 0 {
			continue
		}
		out = append(out, parser.SelectItem{Kind: parser.SelectExpr, P: star.P, Expr: pb})
	}
	var keys []parser.SelectItem
	for i, it := range items {
		if src.Schema.Columns[i].Namespace == types.NamespaceKey {
			keys = append(keys, it)
		} else {
			out = append(out, it)
		}
	}
	return append(out, keys...)
}

func (qa *queryAnalysis) selectItems(pq *parser.Query) ([]parser.SelectItem, error) {
	var out []parser.SelectItem
	for _, it := range pq.Select {
		switch it.Kind {
		case parser.SelectStar, parser.SelectSourceStar:
			items, err := qa.expandStar(it)
			if err != nil {
				return nil, err
			}
			if it.Kind == parser.SelectStar && len(pq.PartitionBy) > 0 && len(qa.q.Sources) == 1 {
				items = qa.repartitionedStar(pq, it, items)
			}
			out = append(out, items...)
		case parser.SelectStructStar:
			c, err := qa.compiler(qa.input, "").Compile(it.Expr)
			if err != nil {
				return nil, err
			}
			if c.Type.Kind != types.KindStruct {
				return nil, sqlerr.New(sqlerr.Type, it.P, "Expected STRUCT type for ->*, got %s", c.Type)
			}
			for _, f := range c.Type.Fields {
				out = append(out, parser.SelectItem{Kind: parser.SelectExpr, P: it.P,
					Expr: &parser.Dereference{P: it.P, Base: it.Expr, Field: parser.Ident{Name: f.Name}}})
			}
		default:
			out = append(out, it)
		}
	}
	return out, nil
}

// project analyzes a non-aggregating query.
func (qa *queryAnalysis) project(pq *parser.Query) error {
	q := qa.q
	items, err := qa.selectItems(pq)
	if err != nil {
		return err
	}
	qa.items = items
	// Table functions: each call becomes an extra column after the Input row.
	scope := &expr.Scope{Columns: append([]expr.Column{}, qa.input.Columns...)}
	tfSlots := map[string]int{}
	for _, it := range items {
		var ferr error
		walk(it.Expr, func(x parser.Expr) {
			f, ok := x.(*parser.FuncCall)
			if !ok || ferr != nil {
				return
			}
			tf, ok := qa.a.Funcs.Table(f.Name.Name)
			if !ok {
				return
			}
			if q.Sources[0].Source.Kind == ir.Table {
				// ksqlDB's QueryAnalyzer: a table function explodes stream records, never a table's rows.
				ferr = sqlerr.New(sqlerr.Semantic, f.P, "Table source is not supported with table functions")
				return
			}
			key := parser.FormatExpr(f)
			if _, done := tfSlots[key]; done {
				return
			}
			c := qa.compiler(qa.input, "")
			var args []*ir.Expr
			var argTypes []*types.Type
			for _, a := range f.Args {
				ce, err := c.Compile(a)
				if err != nil {
					ferr = err
					return
				}
				args = append(args, irExpr(ce, a, qa.input))
				argTypes = append(argTypes, ce.Type)
			}
			t, impl, err := tf.Resolve(argTypes)
			if err != nil {
				ferr = sqlerr.New(sqlerr.InvalidArguments, f.P, "%v", err)
				return
			}
			tfSlots[key] = len(scope.Columns)
			scope.Columns = append(scope.Columns, expr.Column{Name: "", Type: t})
			q.TableFuncs = append(q.TableFuncs, ir.TableFunctionCall{Name: f.Name.Name, Type: t, Impl: impl, Args: args})
		})
		if ferr != nil {
			return ferr
		}
	}
	c := qa.compiler(scope, "SELECT")
	if len(tfSlots) > 0 {
		c.Substitute = func(e parser.Expr) (int, *types.Type, bool) {
			if f, ok := e.(*parser.FuncCall); ok {
				if idx, ok := tfSlots[parser.FormatExpr(f)]; ok {
					return idx, scope.Columns[idx].Type, true
				}
			}
			return 0, nil, false
		}
	}
	// Key columns of the result.
	var keyExprs []string
	fk := false
	var jk *joinKey
	switch {
	case len(pq.PartitionBy) > 0:
		// ksqlDB names partitioning expressions qualified by their source in its messages.
		for _, pb := range pq.PartitionBy {
			if !isNullLiteral(pb) {
				keyExprs = append(keyExprs, qa.qualified(pb))
			}
		}
	case qa.foreignKeyJoin():
		// A foreign-key join keeps the left table's key.
		fk = true
		s := q.Sources[0]
		for _, k := range s.Source.Schema.Key() {
			keyExprs = append(keyExprs, parser.FormatExpr(&parser.ColumnRef{Qualifier: &parser.Ident{Name: s.Alias}, Name: parser.Ident{Name: k.Name}}))
		}
	case len(q.Joins) > 0:
		jk = qa.joinKey(items)
	default:
		s := q.Sources[0]
		for _, k := range s.Source.Schema.Key() {
			keyExprs = append(keyExprs, parser.FormatExpr(&parser.ColumnRef{Name: parser.Ident{Name: k.Name}}))
		}
	}
	out := &types.Schema{}
	seen := map[string]bool{}
	keyFound := map[string]bool{}
	keyAlias := map[string]string{}
	var keys, vals []types.Column
	names := newColNames(items, q.Sources)
	for _, it := range items {
		name := columnName(it, names, qa.ambiguous())
		ce, err := jk.compile(qa, c, it.Expr)
		if err != nil {
			if se, ok := err.(*sqlerr.Error); ok && strings.HasPrefix(se.Msg, "Cast of ") {
				cp := *se
				cp.Msg = "Invalid Select: " + cp.Msg
				return &cp
			}
			return err
		}
		if ce.Type.Kind == types.KindNull {
			return sqlerr.New(sqlerr.Type, it.Expr.Position(), "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).")
		}
		if seen[name] {
			return sqlerr.New(sqlerr.Semantic, it.P, "Duplicate value columns found in schema: `%s` %s", name, ce.Type)
		}
		seen[name] = true
		isKey := jk.claims(ce, name)
		for _, ke := range keyExprs {
			if qa.sameExpr(it.Expr, ke) && keyFound[ke] && (len(q.Joins) == 0 || fk && qa.qualified(it.Expr) == ke) && qa.sink != "" {
				kc := qa.unqualified(ke)
				if fk {
					kc = strings.Replace(ke, ".", "_", 1)
				}
				return sqlerr.New(sqlerr.Semantic, it.P, "The projection contains a key column (`%s`) more than once, aliased as: %s and %s.", kc, keyAlias[ke], name)
			}
			if qa.sameExpr(it.Expr, ke) && !keyFound[ke] {
				keyAlias[ke] = name
				isKey = true
				keyFound[ke] = true
				if len(q.Joins) > 0 && !fk {
					// Either side of a join satisfies the key.
					for _, other := range keyExprs {
						keyFound[other] = true
					}
				}
			}
		}
		scope := c.Scope
		if jk != nil && ce == jk.value {
			scope = nil // the join key reads either side of the join, not the column
		}
		q.Projection = append(q.Projection, ir.Projected{Name: name, Expr: irExpr(ce, it.Expr, scope), Key: isKey})
		col := types.Column{Name: name, Type: ce.Type}
		if isKey {
			col.Namespace = types.NamespaceKey
			keys = append(keys, col)
		} else {
			vals = append(vals, col)
		}
	}
	if len(keys) > 1 && len(q.Joins) == 0 && len(pq.PartitionBy) == 0 && len(q.GroupBy) == 0 &&
		qa.a.Props["ksql.new.query.planner.enabled"] == "false" {
		// ksqlDB's old query planner keeps the source's key column order whatever the projection's.
		ordered := make([]types.Column, 0, len(keys))
		used := make([]bool, len(keys))
		for _, ke := range keyExprs {
			for i, k := range keys {
				if !used[i] && keyFound[ke] && k.Name == keyAlias[ke] {
					ordered, used[i] = append(ordered, k), true
				}
			}
		}
		for i, k := range keys {
			if !used[i] {
				ordered = append(ordered, k)
			}
		}
		keys = ordered
	}
	if len(pq.PartitionBy) > 0 {
		keys = inKeyOrder(keys, keyExprs, keyAlias)
	}
	out.Columns = append(keys, vals...)
	q.Output = out
	if qa.sink != "" {
		// ksqlDB checks the key of a persistent query's result when it plans it, after the statement's
		// own checks (e.g. of its WITH clause), so the error is kept for the caller to report last.
		qa.planErr = func() error {
			if err := jk.check(qa.sink, pq.P); err != nil {
				return err
			}
			var missing []string
			for _, ke := range keyExprs {
				if !keyFound[ke] {
					missing = append(missing, ke)
				}
			}
			if len(missing) > 0 {
				what := "key column"
				switch {
				case len(pq.PartitionBy) > 0:
					what = "partitioning expression"
				case len(q.Joins) > 0:
					what = "join expression"
				}
				if fk {
					var cols []string
					for _, m := range missing {
						cols = append(cols, "`"+qa.unqualified(m)+"`")
					}
					if len(cols) == 1 {
						return sqlerr.New(sqlerr.Semantic, pq.P, "Primary key column missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`%s`). Missing column: %s.", q.Sources[0].Alias, cols[0])
					}
					return sqlerr.New(sqlerr.Semantic, pq.P, "Primary key columns missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`%s`). Missing columns: %s.", q.Sources[0].Alias, strings.Join(cols, ", "))
				}
				if len(q.Joins) > 0 {
					return sqlerr.New(sqlerr.Semantic, pq.P, "The query used to build `%s` must include the %ss %s in its projection (eg, SELECT %s...).", qa.sink, what, strings.Join(missing, " or "), missing[0])
				}
				if what == "key column" && !q.IsTable && qa.a.Props["ksql.new.query.planner.enabled"] == "true" {
					// ksqlDB's new query planner lets a stream query drop the key: the result is keyless.
					missing = nil
				} else if what == "key column" || what == "partitioning expression" {
					// ksqlDB names every key column of the source, or every partitioning
					// expression, not only the missing ones.
					missing = keyExprs
				}
				if len(missing) > 1 {
					what += "s"
				}
				if len(missing) > 0 {
					return sqlerr.New(sqlerr.Semantic, pq.P, "The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).", qa.sink, what, joinAnd(missing), strings.Join(missing, ", "))
				}
			}
			if len(vals) == 0 {
				return sqlerr.New(sqlerr.Semantic, pq.P, "The projection contains no value columns.")
			}
			return nil
		}()
	}
	return nil
}

// inKeyOrder orders the key columns of a projection as the key expressions they select (keyExprs,
// named keyAlias in the projection): a re-keyed result's key columns are in PARTITION BY order,
// whatever the order of the projection.
func inKeyOrder(keys []types.Column, keyExprs []string, keyAlias map[string]string) []types.Column {
	ordered := make([]types.Column, 0, len(keys))
	used := make([]bool, len(keys))
	for _, ke := range keyExprs {
		for i, k := range keys {
			if !used[i] && k.Name == keyAlias[ke] {
				ordered, used[i] = append(ordered, k), true
				break
			}
		}
	}
	for i, k := range keys {
		if !used[i] {
			ordered = append(ordered, k)
		}
	}
	return ordered
}

func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// sameExpr reports whether a select expression is the key expression ke (formatted), allowing for
// qualification: "ID" matches "S.ID" when ID resolves to the same column.
func (qa *queryAnalysis) sameExpr(e parser.Expr, ke string) bool {
	f := parser.FormatExpr(e)
	if f == ke {
		return true
	}
	return qa.unqualified(f) == qa.unqualified(ke)
}

// unqualified strips source qualifiers from a formatted expression when the query has one source.
func (qa *queryAnalysis) unqualified(f string) string {
	for _, s := range qa.q.Sources {
		f = strings.ReplaceAll(f, parser.FormatIdent(s.Alias)+".", "")
	}
	return f
}

// aggregate analyzes an aggregating query.
func (qa *queryAnalysis) aggregate(pq *parser.Query) error {
	q := qa.q
	c := qa.compiler(qa.input, "GROUP BY")
	aggScope := &expr.Scope{}
	groupKeys := map[string]int{}
	for _, g := range pq.GroupBy {
		if containsAggregate(qa.a.Funcs, g) {
			return sqlerr.New(sqlerr.Semantic, g.Position(), "GROUP BY does not support aggregate functions: %s is an aggregate function.", aggregateName(qa.a.Funcs, g))
		}
		walkErr := error(nil)
		walk(g, func(x parser.Expr) {
			if cr, ok := x.(*parser.ColumnRef); ok && (cr.Name.Name == "WINDOWSTART" || cr.Name.Name == "WINDOWEND") && q.Window != nil {
				walkErr = sqlerr.New(sqlerr.Semantic, cr.P, "Window bounds column %s can only be used in the SELECT clause of windowed aggregations and can not be passed to aggregate functions.", cr.Name.Name)
			}
		})
		if walkErr != nil {
			return walkErr
		}
		ce, err := c.Compile(g)
		if err != nil {
			return err
		}
		key := qa.unqualified(parser.FormatExpr(g))
		if _, dup := groupKeys[key]; dup {
			return sqlerr.New(sqlerr.Semantic, g.Position(), "Duplicate GROUP BY expression: %s", parser.FormatExpr(g))
		}
		groupKeys[key] = len(aggScope.Columns)
		q.GroupBy = append(q.GroupBy, irExpr(ce, g, qa.input))
		qa.groupBy = append(qa.groupBy, g)
		aggScope.Columns = append(aggScope.Columns, expr.Column{Name: "", Type: ce.Type})
	}
	items, err := qa.selectItems(pq)
	if err != nil {
		return err
	}
	qa.items = items
	aggSlots := map[string]int{}
	var ferr error
	collect := func(e parser.Expr, clause string) {
		c := qa.compiler(qa.input, clause)
		walk(e, func(x parser.Expr) {
			if ferr != nil || !isAggregateCall(qa.a.Funcs, x) {
				return
			}
			f := x.(*parser.FuncCall)
			key := qa.unqualified(parser.FormatExpr(f))
			if _, ok := aggSlots[key]; ok {
				return
			}
			af, _ := qa.a.Funcs.Aggregate(f.Name.Name)
			ncols := af.SplitArgs(len(f.Args))
			if ncols > len(f.Args) {
				ncols = len(f.Args)
			}
			var args []*ir.Expr
			var argTypes []*types.Type
			for _, a := range f.Args[:ncols] {
				if containsAggregate(qa.a.Funcs, a) {
					ferr = sqlerr.New(sqlerr.Semantic, a.Position(), "Aggregate functions can not be nested: %s(%s())", f.Name.Name, aggregateName(qa.a.Funcs, a))
					return
				}
				bad := ""
				walk(a, func(y parser.Expr) {
					if cr, ok := y.(*parser.ColumnRef); ok && (cr.Name.Name == "WINDOWSTART" || cr.Name.Name == "WINDOWEND") && q.Window != nil {
						bad = cr.Name.Name
					}
				})
				if bad != "" {
					ferr = sqlerr.New(sqlerr.Semantic, a.Position(), "Window bounds column %s can only be used in the SELECT clause of windowed aggregations and can not be passed to aggregate functions.", bad)
					return
				}
				ce, err := c.Compile(a)
				if err != nil {
					ferr = err
					return
				}
				args = append(args, irExpr(ce, a, qa.input))
				argTypes = append(argTypes, ce.Type)
			}
			var init []types.Value
			for i, a := range f.Args[ncols:] {
				ce, err := c.Compile(a)
				if err != nil {
					ferr = err
					return
				}
				if !ce.Const {
					ferr = sqlerr.New(sqlerr.InvalidArguments, a.Position(), "Parameter %d passed to function %s must be a literal constant, but was expression: '%s'", ncols+i+1, f.Name.Name, parser.FormatExpr(a))
					return
				}
				v, _ := ce.Eval(nil)
				init = append(init, v)
			}
			res, err := af.ResolveWith(argTypes, init, qa.a.Props)
			if err != nil {
				if se, ok := err.(*sqlerr.Error); ok {
					cp := *se
					cp.Pos = f.P
					ferr = &cp
				} else {
					ferr = sqlerr.New(sqlerr.InvalidArguments, f.P, "%v", err)
				}
				return
			}
			aggSlots[key] = len(aggScope.Columns)
			aggScope.Columns = append(aggScope.Columns, expr.Column{Type: res.Return})
			q.Aggregates = append(q.Aggregates, ir.AggregateCall{Name: f.Name.Name, Resolved: res, Args: args, Init: init, Text: aggregateText(f)})
		})
	}
	if q.Window != nil && pq.Having != nil {
		var bound *parser.ColumnRef
		walk(pq.Having, func(x parser.Expr) {
			if cr, ok := x.(*parser.ColumnRef); ok && bound == nil && isWindowBound(cr.Name.Name) {
				bound = cr
			}
		})
		if bound != nil {
			return sqlerr.New(sqlerr.Semantic, bound.P, "Window bounds column %s can only be used in the SELECT clause of windowed aggregations and can not be passed to aggregate functions.", bound.Name.Name)
		}
	}
	for _, it := range items {
		collect(it.Expr, "SELECT")
	}
	if pq.Having != nil {
		collect(pq.Having, "HAVING")
	}
	if ferr != nil {
		return ferr
	}
	// Aggregation state is stored in the format of the first source's values, so each accumulator's type
	// must be one that format can hold (DELIMITED has no STRUCT for STDDEV_SAMP's running sums).
	if vf := q.Sources[0].Source.ValueFormat; len(q.Aggregates) > 0 {
		for _, a := range q.Aggregates {
			if format.ValidateSchema(vf, []types.Column{{Name: a.Name, Type: a.Resolved.AccType}}, false) != nil {
				return sqlerr.New(sqlerr.Unsupported, pq.P, "One of the functions used in the statement has an intermediate type that the value format can not handle. Please remove the function or change the format.")
			}
		}
	}
	if err := qa.groupByRules(pq, items, groupKeys); err != nil {
		return err
	}
	wsIdx := len(aggScope.Columns)
	if q.Window != nil {
		aggScope.Columns = append(aggScope.Columns,
			expr.Column{Name: "WINDOWSTART", Type: types.Bigint}, expr.Column{Name: "WINDOWEND", Type: types.Bigint})
	}
	ac := qa.compiler(aggScope, "")
	ac.Substitute = func(e parser.Expr) (int, *types.Type, bool) {
		key := qa.unqualified(parser.FormatExpr(e))
		if idx, ok := groupKeys[key]; ok {
			return idx, aggScope.Columns[idx].Type, true
		}
		if idx, ok := aggSlots[key]; ok {
			return idx, aggScope.Columns[idx].Type, true
		}
		if cr, ok := e.(*parser.ColumnRef); ok && q.Window != nil && cr.Qualifier != nil && isWindowBound(cr.Name.Name) {
			// A window bound qualified by the (only) source, e.g. TEST.WINDOWSTART.
			for _, s := range q.Sources {
				if s.Alias == cr.Qualifier.Name {
					if cr.Name.Name == "WINDOWSTART" {
						return wsIdx, types.Bigint, true
					}
					return wsIdx + 1, types.Bigint, true
				}
			}
		}
		return 0, nil, false
	}
	nonAgg := func(e parser.Expr, err error) error {
		if sqlerr.CodeOf(err) == sqlerr.UnknownColumn {
			if _, rerr := qa.compiler(qa.input, "").Compile(e); rerr == nil {
				return sqlerr.New(sqlerr.Semantic, e.Position(), "Non-aggregate SELECT expression(s) not part of GROUP BY: %s\nEither add the column(s) to the GROUP BY or remove them from the SELECT.", parser.FormatExpr(e))
			}
		}
		return err
	}
	if pq.Having != nil {
		h, err := ac.Compile(pq.Having)
		if err != nil {
			if sqlerr.CodeOf(err) == sqlerr.UnknownColumn {
				_, rerr := qa.compiler(qa.input, "HAVING").Compile(pq.Having)
				if rerr == nil {
					return sqlerr.New(sqlerr.Semantic, pq.Having.Position(), "Non-aggregate HAVING expression not part of GROUP BY: %s", parser.FormatExpr(pq.Having))
				}
				if sqlerr.CodeOf(rerr) == sqlerr.UnknownColumn {
					// A column of no source: ksqlDB names the clause ("HAVING column 'X' cannot be resolved.").
					return rerr
				}
			}
			return inClause("HAVING", err)
		}
		if err := predicateType("HAVING", pq.Having, h); err != nil {
			return err
		}
		q.Having = irExpr(h, pq.Having, nil)
	}
	var keys, vals []types.Column
	var keyGroup []int
	seen := map[string]bool{}
	keyFound := map[int]bool{}
	names := newColNames(items, q.Sources)
	for _, it := range items {
		name := columnName(it, names, qa.ambiguous())
		if q.Window != nil && len(q.Joins) > 0 {
			// ksqlDB cannot select the window bounds of an aggregation over a join.
			var bound *parser.ColumnRef
			walk(it.Expr, func(x parser.Expr) {
				if cr, ok := x.(*parser.ColumnRef); ok && bound == nil && isWindowBound(cr.Name.Name) {
					bound = cr
				}
			})
			if bound != nil {
				return sqlerr.New(sqlerr.UnknownColumn, bound.P, "SELECT column '%s' cannot be resolved.", parser.FormatExpr(bound))
			}
		}
		ce, err := ac.Compile(it.Expr)
		if err != nil {
			return nonAgg(it.Expr, err)
		}
		if seen[name] {
			return sqlerr.New(sqlerr.Semantic, it.P, "Duplicate value columns found in schema: `%s` %s", name, ce.Type)
		}
		seen[name] = true
		isKey := false
		if idx, ok := groupKeys[qa.unqualified(parser.FormatExpr(it.Expr))]; ok {
			if keyFound[idx] {
				return sqlerr.New(sqlerr.Semantic, it.P, "The projection contains a key column more than once: `%s` and `%s`.", keys[0].Name, name)
			}
			isKey, keyFound[idx] = true, true
		}
		q.Projection = append(q.Projection, ir.Projected{Name: name, Expr: irExpr(ce, it.Expr, nil), Key: isKey})
		col := types.Column{Name: name, Type: ce.Type}
		if isKey {
			col.Namespace = types.NamespaceKey
			keys = append(keys, col)
			keyGroup = append(keyGroup, groupKeys[qa.unqualified(parser.FormatExpr(it.Expr))])
		} else {
			vals = append(vals, col)
		}
	}
	// Key columns are in GROUP BY order, as in ksqlDB.
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return keyGroup[idx[i]] < keyGroup[idx[j]] })
	sorted := make([]types.Column, len(keys))
	for i, k := range idx {
		sorted[i] = keys[k]
	}
	keys = sorted
	if qa.sink != "" && len(pq.GroupBy) > 0 {
		var missing []string
		for i, g := range pq.GroupBy {
			if !keyFound[i] {
				missing = append(missing, qa.unqualified(parser.FormatExpr(g)))
			}
		}
		if len(missing) > 0 {
			what := "grouping expression"
			if len(missing) > 1 {
				what += "s"
			}
			return sqlerr.New(sqlerr.Semantic, pq.P, "The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).", qa.sink, what, joinAnd(missing), strings.Join(missing, ", "))
		}
		if len(vals) == 0 {
			return sqlerr.New(sqlerr.Semantic, pq.P, "The projection contains no value columns.")
		}
	}
	if q.IsTable {
		// Over a table, each update retracts the row's old value, which only some aggregates can do.
		var names []string
		seenName := map[string]bool{}
		for _, ag := range q.Aggregates {
			if !ag.Resolved.CanUndo && !seenName[ag.Name] {
				seenName[ag.Name] = true
				names = append(names, ag.Name)
			}
		}
		if len(names) > 0 {
			plural := ""
			if len(names) > 1 {
				plural = "s"
			}
			return sqlerr.New(sqlerr.Semantic, pq.P, "The aggregation function%s %s cannot be applied to a table source, only to a stream source.", plural, joinAnd(names))
		}
	}
	q.Output = &types.Schema{Columns: append(keys, vals...)}
	q.IsTable = true
	return nil
}

// groupByRules enforces ksqlDB's rules on what an aggregating query may select: GROUP BY needs an
// aggregate function, and every column read outside an aggregate function, in SELECT and in HAVING, must
// be a GROUP BY expression (or be read only through one). groupKeys holds the unqualified GROUP BY
// expressions.
func (qa *queryAnalysis) groupByRules(pq *parser.Query, items []parser.SelectItem, groupKeys map[string]int) error {
	funcs := qa.a.Funcs
	var ferr error
	check := func(e parser.Expr) {
		walk(e, func(x parser.Expr) {
			f, ok := x.(*parser.FuncCall)
			if !ok || ferr != nil {
				return
			}
			name := f.Name.Name
			if _, isTable := funcs.Table(name); isTable {
				ferr = sqlerr.New(sqlerr.Semantic, f.P, "Table functions cannot be used with aggregations.")
				return
			}
			_, isScalar := funcs.Scalar(name)
			_, isAgg := funcs.Aggregate(name)
			if !isScalar && !isAgg {
				ferr = sqlerr.New(sqlerr.UnknownFunction, f.P, "Can't find any functions with the name '%s'", name)
			}
		})
	}
	for _, it := range items {
		check(it.Expr)
	}
	check(pq.Having)
	if ferr != nil {
		return ferr
	}
	if len(pq.GroupBy) > 0 && len(qa.q.Aggregates) == 0 {
		return sqlerr.New(sqlerr.Semantic, pq.GroupBy[0].Position(), "GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
	}
	grouped := func(e parser.Expr) bool {
		_, ok := groupKeys[qa.unqualified(parser.FormatExpr(e))]
		return ok
	}
	var unmatched []string
	var at parser.Pos
	for _, it := range items {
		if it.Kind != parser.SelectExpr || grouped(it.Expr) {
			continue
		}
		cols, ok := qa.freeColumns(it.Expr, grouped)
		if !ok || len(cols) == 0 {
			continue
		}
		if len(unmatched) == 0 {
			at = it.Expr.Position()
		}
		unmatched = append(unmatched, qa.unqualified(parser.FormatExpr(it.Expr)))
	}
	if len(unmatched) > 0 {
		return sqlerr.New(sqlerr.Semantic, at, "Non-aggregate SELECT expression(s) not part of GROUP BY: %s\nEither add the column(s) to the GROUP BY or remove them from the SELECT.", strings.Join(unmatched, ", "))
	}
	if pq.Having != nil {
		cols, ok := qa.freeColumns(pq.Having, grouped)
		if ok && len(cols) > 0 {
			return sqlerr.New(sqlerr.Semantic, pq.Having.Position(), "Non-aggregate HAVING expression not part of GROUP BY: %s", strings.Join(cols, ", "))
		}
	}
	return nil
}

// freeColumns returns the columns e reads outside aggregate calls and outside sub-expressions for which
// skip is true, unqualified and without repeats, in order of appearance. ok is false when a column does not
// resolve in the query's input, which is reported when the expression is compiled.
func (qa *queryAnalysis) freeColumns(e parser.Expr, skip func(parser.Expr) bool) (cols []string, ok bool) {
	ok = true
	seen := map[string]bool{}
	bound := map[string]bool{}
	var visit func(x parser.Expr)
	visit = func(x parser.Expr) {
		if x == nil || skip(x) || isAggregateCall(qa.a.Funcs, x) {
			return
		}
		switch y := x.(type) {
		case *parser.ColumnRef:
			name := y.Name.Name
			if y.Qualifier == nil && bound[name] {
				return
			}
			if name == "WINDOWSTART" || name == "WINDOWEND" {
				return
			}
			q := ""
			if y.Qualifier != nil {
				q = y.Qualifier.Name
			}
			if idx, err := qa.input.Resolve(q, name); err != nil || idx < 0 {
				ok = false
				return
			}
			f := qa.unqualified(parser.FormatExpr(y))
			if !seen[f] {
				seen[f] = true
				cols = append(cols, f)
			}
			return
		case *parser.Lambda:
			for _, p := range y.Params {
				bound[p.Name] = true
			}
			visit(y.Body)
			return
		}
		children(x, visit)
	}
	visit(e)
	return cols, ok
}

// Walk calls fn for e and every expression below it, parents first.
func Walk(e parser.Expr, fn func(parser.Expr)) { walk(e, fn) }
