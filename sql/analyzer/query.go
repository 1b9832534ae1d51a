package analyzer

import (
	"sort"
	"strings"

	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// QuerySource is one source of a query's FROM clause. Its columns occupy Input row positions
// [Offset, Offset+Width).
type QuerySource struct {
	Source *Source
	Alias  string
	Offset int
	Width  int
}

// JoinStep is one join of the FROM clause (left-deep: step i joins the result of the previous steps with
// Sources[i+1]).
type JoinStep struct {
	Type   parser.JoinType
	Within *parser.Within
	// LeftKey and RightKey are the equi-join expressions over the Input row.
	LeftKey, RightKey *expr.Compiled
	// LeftExpr and RightExpr are the join expressions as written.
	LeftExpr, RightExpr parser.Expr
}

// AggregateCall is one aggregate function call of an aggregating query; Args are evaluated over the Input
// row (after WHERE).
type AggregateCall struct {
	Name     string
	Resolved *function.Resolved
	Args     []*expr.Compiled
	Init     []types.Value
	Expr     parser.Expr
}

// TableFunctionCall is one table function in the projection; its values appear at position Slot of the
// row the projection reads.
type TableFunctionCall struct {
	Name string
	Type *types.Type
	Impl function.TableImpl
	Args []*expr.Compiled
}

// Projected is one output column.
type Projected struct {
	Name string
	Expr *expr.Compiled
	Key  bool
}

// Query is an analyzed SELECT.
//
// Row layouts: the Input row is the concatenation, for each source in order, of its schema columns then
// ROWTIME, ROWPARTITION, ROWOFFSET (and WINDOWSTART, WINDOWEND for windowed sources). WHERE, GROUP BY,
// PARTITION BY, join keys and aggregate arguments read the Input row.
//
// For an aggregating query, HAVING and the projection read the Aggregate row: the GROUP BY values, then the
// aggregate results, then WINDOWSTART and WINDOWEND. Otherwise the projection reads the Input row followed
// by one value per table function (the current exploded element).
type Query struct {
	Sources []QuerySource
	Joins   []JoinStep
	Input   *expr.Scope
	Where   *expr.Compiled
	Window  *parser.Window
	// GroupBy is empty for non-aggregating queries.
	GroupBy     []*expr.Compiled
	GroupByExpr []parser.Expr
	Aggregates  []AggregateCall
	Having      *expr.Compiled
	PartitionBy []*expr.Compiled
	TableFuncs  []TableFunctionCall
	Projection  []Projected
	Output      *types.Schema
	// IsTable is whether the result is a table (aggregation, or a non-aggregating query over a table).
	IsTable bool
	Emit    parser.EmitKind
	Limit   int64
}

// Aggregating reports whether the query aggregates.
func (q *Query) Aggregating() bool { return len(q.GroupByExpr) > 0 || len(q.Aggregates) > 0 }

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
	a     *Analyzer
	q     *Query
	sink  string
	input *expr.Scope
}

func (qa *queryAnalysis) compiler(scope *expr.Scope, clause string) *expr.Compiler {
	return &expr.Compiler{Scope: scope, Funcs: qa.a.Funcs, Types: qa.a.typeLookup, Clause: clause}
}

// AnalyzeQuery analyzes a SELECT; sink is the name of the source it writes into ("" for transient queries).
func (a *Analyzer) AnalyzeQuery(pq *parser.Query, sink string) (*Query, error) {
	qa := &queryAnalysis{a: a, q: &Query{Window: pq.Window, Emit: pq.Emit, Limit: pq.Limit}, sink: sink}
	if err := qa.from(pq.From); err != nil {
		return nil, err
	}
	q := qa.q
	if err := qa.sourceChecks(pq); err != nil {
		return nil, err
	}
	if pq.Where != nil {
		w, err := qa.compiler(qa.input, "WHERE").Compile(pq.Where)
		if err != nil {
			return nil, err
		}
		if w.Type.Kind != types.KindBoolean && w.Type.Kind != types.KindNull {
			return nil, sqlerr.New(sqlerr.Type, pq.Where.Position(), "Type error in WHERE expression: Should evaluate to boolean but is %s (%s) instead.", parser.FormatExpr(pq.Where), w.Type)
		}
		q.Where = w
	}
	if pq.Window != nil && len(pq.GroupBy) == 0 {
		return nil, sqlerr.New(sqlerr.Semantic, pq.Window.P, "WINDOW clause requires a GROUP BY clause.")
	}
	for _, pb := range pq.PartitionBy {
		if containsAggregate(a.Funcs, pb) {
			return nil, sqlerr.New(sqlerr.Semantic, pb.Position(), "PARTITION BY does not support aggregate functions: %s is an aggregate function.", aggregateName(a.Funcs, pb))
		}
		c, err := qa.compiler(qa.input, "PARTITION BY").Compile(pb)
		if err != nil {
			return nil, err
		}
		q.PartitionBy = append(q.PartitionBy, c)
	}
	if len(pq.PartitionBy) > 0 && len(pq.GroupBy) > 0 {
		return nil, sqlerr.New(sqlerr.Semantic, pq.P, "Queries with GROUP BY and PARTITION BY are not supported.")
	}
	aggregating := len(pq.GroupBy) > 0
	for _, it := range pq.Select {
		if it.Kind == parser.SelectExpr && containsAggregate(a.Funcs, it.Expr) {
			aggregating = true
		}
	}
	if pq.Having != nil && !aggregating {
		return nil, sqlerr.New(sqlerr.Semantic, pq.Having.Position(), "HAVING clause requires a GROUP BY clause.")
	}
	var err error
	if aggregating {
		err = qa.aggregate(pq)
	} else {
		err = qa.project(pq)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
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
		if seen[alias] {
			return sqlerr.New(sqlerr.Semantic, as.Name.P, "Can not join '%s' to '%s': self joins are not yet supported.", src.Name, src.Name)
		}
		seen[alias] = true
		qs := QuerySource{Source: src, Alias: alias, Offset: len(scope.Columns)}
		cols := append(append([]types.Column{}, src.Schema.Columns...), pseudoColumns(src.Window != "")...)
		for _, c := range cols {
			scope.Columns = append(scope.Columns, expr.Column{Qualifier: alias, Name: c.Name, Type: c.Type})
		}
		qs.Width = len(cols)
		qa.q.Sources = append(qa.q.Sources, qs)
	}
	qa.input = scope
	qa.q.Input = scope
	qa.q.IsTable = qa.q.Sources[0].Source.Kind == parser.Table
	for i, j := range f.Joins {
		step, err := qa.join(i, j)
		if err != nil {
			return err
		}
		qa.q.Joins = append(qa.q.Joins, step)
	}
	if joined {
		// A join's result is a table only when every source is a table.
		qa.q.IsTable = true
		for _, s := range qa.q.Sources {
			if s.Source.Kind == parser.Stream {
				qa.q.IsTable = false
			}
		}
	}
	return nil
}

// sourcesOf returns the indexes of the sources an expression references.
func (qa *queryAnalysis) sourcesOf(e parser.Expr) map[int]bool {
	out := map[int]bool{}
	walk(e, func(x parser.Expr) {
		cr, ok := x.(*parser.ColumnRef)
		if !ok {
			return
		}
		q := ""
		if cr.Qualifier != nil {
			q = cr.Qualifier.Name
		}
		if idx, err := qa.input.Resolve(q, cr.Name.Name); err == nil && idx >= 0 {
			for si, s := range qa.q.Sources {
				if idx >= s.Offset && idx < s.Offset+s.Width {
					out[si] = true
				}
			}
		}
	})
	return out
}

func (qa *queryAnalysis) join(i int, j parser.Join) (JoinStep, error) {
	step := JoinStep{Type: j.Type, Within: j.Within}
	left := qa.q.Sources[i].Source
	right := qa.q.Sources[i+1].Source
	if left.Kind == parser.Table && right.Kind == parser.Stream && i == 0 {
		return step, sqlerr.New(sqlerr.Semantic, j.P, "Invalid join order: table-stream joins are not supported; only stream-table joins. Got %s [%s] JOIN %s.", qa.q.Sources[i].Alias, j.Type, qa.q.Sources[i+1].Alias)
	}
	if left.Kind == parser.Stream && right.Kind == parser.Stream && j.Within == nil {
		return step, sqlerr.New(sqlerr.Semantic, j.P, "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
	}
	if j.Within != nil && right.Kind == parser.Table {
		return step, sqlerr.New(sqlerr.Semantic, j.P, "A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to execute your Stream-Table join again.")
	}
	if left.Kind == parser.Stream && right.Kind == parser.Table && (j.Type == parser.FullJoin || j.Type == parser.RightJoin) {
		name := "full-outer"
		if j.Type == parser.RightJoin {
			name = "right"
		}
		return step, sqlerr.New(sqlerr.Semantic, j.P, "Invalid join type: %s join not supported for stream-table join. Got %s [%s] %sJOIN %s.", name, qa.q.Sources[i].Alias, j.Type, map[bool]string{true: "OUTER ", false: ""}[j.Type == parser.FullJoin], qa.q.Sources[i+1].Alias)
	}
	b, ok := j.On.(*parser.Binary)
	if ok && b.Op == parser.OpAnd {
		return step, sqlerr.New(sqlerr.Unsupported, j.On.Position(), "Invalid join condition: joins on multiple conditions are not yet supported. Got %s.", parser.FormatExpr(j.On))
	}
	if !ok || b.Op != parser.OpEq {
		return step, sqlerr.New(sqlerr.Unsupported, j.On.Position(), "Unsupported join expression: %s. Only equality joins are supported.", parser.FormatExpr(j.On))
	}
	ls, rs := qa.sourcesOf(b.L), qa.sourcesOf(b.R)
	for _, side := range []struct {
		e parser.Expr
		s map[int]bool
	}{{b.L, ls}, {b.R, rs}} {
		if len(side.s) != 1 {
			return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid comparison expression '%s' in join '%s'. Each side of the join comparision must contain references from exactly one source.", parser.FormatExpr(side.e), parser.FormatExpr(j.On))
		}
	}
	le, re := b.L, b.R
	if rs[i+1] {
		// right side references the joined source: keep as is
	} else if ls[i+1] {
		le, re = b.R, b.L
	} else {
		var names []string
		for k := range rs {
			names = append(names, qa.q.Sources[k].Alias)
		}
		for k := range ls {
			names = append(names, qa.q.Sources[k].Alias)
		}
		return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "A join criteria is expected to reference the source (`%s`) in the FROM clause, instead the right source references `%s` and the left source references `%s`", qa.q.Sources[i+1].Alias, names[0], names[len(names)-1])
	}
	c := qa.compiler(qa.input, "")
	lk, err := c.Compile(le)
	if err != nil {
		return step, err
	}
	rk, err := c.Compile(re)
	if err != nil {
		return step, err
	}
	if types.CommonType(lk.Type, rk.Type) == nil {
		return step, sqlerr.New(sqlerr.Type, j.On.Position(), "Invalid join condition: types don't match. Got %s{%s} = %s{%s}.", parser.FormatExpr(le), lk.Type, parser.FormatExpr(re), rk.Type)
	}
	step.LeftKey, step.RightKey, step.LeftExpr, step.RightExpr = lk, rk, le, re
	if right.Kind == parser.Table && !qa.isKeyOf(re, i+1) {
		got := qa.qualified(le) + " = " + qa.qualified(re)
		if left.Kind == parser.Stream {
			return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: stream-table joins require to join on the table's primary key. Got %s.", got)
		}
		return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got %s.", got)
	}
	allTables := true
	for _, s := range qa.q.Sources[:i+2] {
		allTables = allTables && s.Source.Kind == parser.Table
	}
	if allTables && i > 0 && !qa.isKeyOf(le, -1) {
		return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got %s = %s.", qa.qualified(le), qa.qualified(re))
	}
	return step, nil
}

// isKeyOf reports whether e is a column reference to the (single) key column of source si, or of any
// source when si is -1.
func (qa *queryAnalysis) isKeyOf(e parser.Expr, si int) bool {
	cr, ok := e.(*parser.ColumnRef)
	if !ok {
		return false
	}
	for i, s := range qa.q.Sources {
		if si >= 0 && i != si {
			continue
		}
		if cr.Qualifier != nil && cr.Qualifier.Name != s.Alias {
			continue
		}
		keys := s.Source.Schema.Key()
		if len(keys) == 1 && keys[0].Name == cr.Name.Name {
			return true
		}
	}
	return false
}

// qualified formats a column reference with its source's alias, as ksqlDB's messages do.
func (qa *queryAnalysis) qualified(e parser.Expr) string {
	cr, ok := e.(*parser.ColumnRef)
	if !ok || cr.Qualifier != nil {
		return parser.FormatExpr(e)
	}
	for si := range qa.sourcesOf(e) {
		return qa.q.Sources[si].Alias + "." + cr.Name.Name
	}
	return parser.FormatExpr(e)
}

// walk calls fn on e and every sub-expression (lambda bodies included).
func walk(e parser.Expr, fn func(parser.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch x := e.(type) {
	case *parser.Dereference:
		walk(x.Base, fn)
	case *parser.Subscript:
		walk(x.Base, fn)
		walk(x.Index, fn)
	case *parser.FuncCall:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *parser.Lambda:
		walk(x.Body, fn)
	case *parser.Cast:
		walk(x.Expr, fn)
	case *parser.Case:
		walk(x.Operand, fn)
		for _, w := range x.Whens {
			walk(w.Cond, fn)
			walk(w.Result, fn)
		}
		walk(x.Else, fn)
	case *parser.Binary:
		walk(x.L, fn)
		walk(x.R, fn)
	case *parser.Unary:
		walk(x.X, fn)
	case *parser.Between:
		walk(x.X, fn)
		walk(x.Lo, fn)
		walk(x.Hi, fn)
	case *parser.InList:
		walk(x.X, fn)
		for _, y := range x.List {
			walk(y, fn)
		}
	case *parser.Like:
		walk(x.X, fn)
		walk(x.Pattern, fn)
	case *parser.IsNull:
		walk(x.X, fn)
	case *parser.ArrayConstructor:
		for _, y := range x.Elems {
			walk(y, fn)
		}
	case *parser.MapConstructor:
		for i := range x.Keys {
			walk(x.Keys[i], fn)
			walk(x.Vals[i], fn)
		}
	case *parser.StructConstructor:
		for _, y := range x.Values {
			walk(y, fn)
		}
	case *parser.AtTimeZone:
		walk(x.X, fn)
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

// columnName is the output name of a projection: its alias, the column or struct field it reads, or
// KSQL_COL_<i>.
// gen numbers the generated names of one projection as ksqlDB does: KSQL_COL_0, KSQL_COL_1, ... in
// the order of the unnamed expressions, skipping names the projection uses itself.
type colNames struct {
	next  int
	taken map[string]bool
}

func newColNames(items []parser.SelectItem) *colNames {
	g := &colNames{taken: map[string]bool{}}
	for _, it := range items {
		if it.Alias != nil {
			g.taken[it.Alias.Name] = true
		} else if cr, ok := it.Expr.(*parser.ColumnRef); ok {
			g.taken[cr.Name.Name] = true
		}
	}
	return g
}

func (g *colNames) generate() string {
	for {
		n := "KSQL_COL_" + itoa(g.next)
		g.next++
		if !g.taken[n] {
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
		return e.Field.Name
	}
	return g.generate()
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
	if qa.sink != "" && len(q.Sources) == 1 && q.Sources[0].Source.Kind == parser.Table && q.Sources[0].Source.Window != "" {
		return sqlerr.New(sqlerr.Semantic, pq.P, "KSQL does not support persistent queries on windowed tables.")
	}
	return nil
}

// foreignKeyJoin reports whether the query's first join is a table-table join on a foreign key: its left
// expression is not a key column of the left table.
func (qa *queryAnalysis) foreignKeyJoin() bool {
	q := qa.q
	if len(q.Joins) == 0 || len(q.Sources) < 2 || q.Sources[0].Source.Kind != parser.Table || q.Sources[1].Source.Kind != parser.Table {
		return false
	}
	cr, ok := q.Joins[0].LeftExpr.(*parser.ColumnRef)
	if !ok {
		return true
	}
	i := q.Sources[0].Source.Schema.Index(cr.Name.Name)
	return i < 0 || q.Sources[0].Source.Schema.Columns[i].Namespace != types.NamespaceKey
}

// ambiguous returns, for a join, whether a column name exists in more than one source; nil otherwise.
func (qa *queryAnalysis) ambiguous() func(string) bool {
	if len(qa.q.Sources) < 2 {
		return nil
	}
	joinCols := map[string]bool{}
	for _, j := range qa.q.Joins {
		for _, e := range []parser.Expr{j.LeftExpr, j.RightExpr} {
			if cr, ok := e.(*parser.ColumnRef); ok {
				joinCols[cr.Name.Name] = true
			}
		}
	}
	return func(name string) bool {
		if joinCols[name] {
			return true
		}
		switch name {
		case "ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND":
			return true
		}
		n := 0
		for _, s := range qa.q.Sources {
			if i := s.Source.Schema.Index(name); i >= 0 {
				if s.Source.Schema.Columns[i].Namespace == types.NamespaceKey {
					return true
				}
				n++
			}
		}
		return n > 1
	}
}

// expandStar returns the select items a * or src.* stands for.
func (qa *queryAnalysis) expandStar(it parser.SelectItem) ([]parser.SelectItem, error) {
	var out []parser.SelectItem
	joined := len(qa.q.Sources) > 1
	for _, s := range qa.q.Sources {
		if it.Kind == parser.SelectSourceStar && s.Alias != it.Source.Name {
			continue
		}
		for _, c := range s.Source.Schema.Columns {
			q := parser.Ident{Name: s.Alias}
			ref := &parser.ColumnRef{P: it.P, Qualifier: &q, Name: parser.Ident{Name: c.Name}}
			item := parser.SelectItem{Kind: parser.SelectExpr, Expr: ref, P: it.P}
			if joined {
				alias := parser.Ident{Name: s.Alias + "_" + c.Name}
				item.Alias = &alias
			}
			out = append(out, item)
		}
	}
	if it.Kind == parser.SelectSourceStar && out == nil {
		return nil, sqlerr.New(sqlerr.UnknownSource, it.P, "'%s' is not a valid stream/table name or alias.", it.Source.Name)
	}
	return out, nil
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
			key := parser.FormatExpr(f)
			if _, done := tfSlots[key]; done {
				return
			}
			c := qa.compiler(qa.input, "")
			var args []*expr.Compiled
			var argTypes []*types.Type
			for _, a := range f.Args {
				ce, err := c.Compile(a)
				if err != nil {
					ferr = err
					return
				}
				args = append(args, ce)
				argTypes = append(argTypes, ce.Type)
			}
			t, impl, err := tf.Resolve(argTypes)
			if err != nil {
				ferr = sqlerr.New(sqlerr.InvalidArguments, f.P, "%v", err)
				return
			}
			tfSlots[key] = len(scope.Columns)
			scope.Columns = append(scope.Columns, expr.Column{Name: "", Type: t})
			q.TableFuncs = append(q.TableFuncs, TableFunctionCall{Name: f.Name.Name, Type: t, Impl: impl, Args: args})
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
	switch {
	case len(pq.PartitionBy) > 0:
		for _, pb := range pq.PartitionBy {
			if l, ok := pb.(*parser.Literal); ok && l.Kind == parser.LitNull {
				continue
			}
			keyExprs = append(keyExprs, parser.FormatExpr(pb))
		}
	case qa.foreignKeyJoin():
		// A foreign-key join keeps the left table's key.
		fk = true
		s := q.Sources[0]
		for _, k := range s.Source.Schema.Key() {
			keyExprs = append(keyExprs, parser.FormatExpr(&parser.ColumnRef{Qualifier: &parser.Ident{Name: s.Alias}, Name: parser.Ident{Name: k.Name}}))
		}
	case len(q.Joins) > 0:
		// The key of a join is its join expression (either side).
		for _, j := range q.Joins[:1] {
			keyExprs = append(keyExprs, parser.FormatExpr(j.LeftExpr), parser.FormatExpr(j.RightExpr))
		}
	default:
		s := q.Sources[0]
		for _, k := range s.Source.Schema.Key() {
			keyExprs = append(keyExprs, parser.FormatExpr(&parser.ColumnRef{Name: parser.Ident{Name: k.Name}}))
		}
	}
	out := &types.Schema{}
	seen := map[string]bool{}
	keyFound := map[string]bool{}
	var keys, vals []types.Column
	names := newColNames(items)
	for _, it := range items {
		name := columnName(it, names, qa.ambiguous())
		if reservedColumnNames[name] && it.Alias != nil {
			return sqlerr.New(sqlerr.Semantic, it.P, "`%s` is a reserved column name. You cannot use it as an alias for a column.", name)
		}
		ce, err := c.Compile(it.Expr)
		if err != nil {
			if se, ok := err.(*sqlerr.Error); ok && strings.HasPrefix(se.Msg, "Cast of ") {
				cp := *se
				cp.Msg = "Invalid Select: " + cp.Msg
				return &cp
			}
			return err
		}
		if seen[name] {
			return sqlerr.New(sqlerr.Semantic, it.P, "Duplicate value columns found in schema: `%s` %s", name, ce.Type)
		}
		seen[name] = true
		isKey := false
		for _, ke := range keyExprs {
			if qa.sameExpr(it.Expr, ke) && !keyFound[ke] {
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
		q.Projection = append(q.Projection, Projected{Name: name, Expr: ce, Key: isKey})
		col := types.Column{Name: name, Type: ce.Type}
		if isKey {
			col.Namespace = types.NamespaceKey
			keys = append(keys, col)
		} else {
			vals = append(vals, col)
		}
	}
	if qa.sink != "" {
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
			if len(missing) > 1 {
				what += "s"
			}
			return sqlerr.New(sqlerr.Semantic, pq.P, "The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).", qa.sink, what, joinAnd(missing), strings.Join(missing, ", "))
		}
		if len(vals) == 0 {
			return sqlerr.New(sqlerr.Semantic, pq.P, "The projection contains no value columns.")
		}
	}
	out.Columns = append(keys, vals...)
	q.Output = out
	return nil
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
	c := qa.compiler(qa.input, "")
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
		groupKeys[key] = len(aggScope.Columns)
		q.GroupBy = append(q.GroupBy, ce)
		q.GroupByExpr = append(q.GroupByExpr, g)
		aggScope.Columns = append(aggScope.Columns, expr.Column{Name: "", Type: ce.Type})
	}
	items, err := qa.selectItems(pq)
	if err != nil {
		return err
	}
	aggSlots := map[string]int{}
	var ferr error
	collect := func(e parser.Expr) {
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
			var args []*expr.Compiled
			var argTypes []*types.Type
			for _, a := range f.Args[:ncols] {
				if containsAggregate(qa.a.Funcs, a) {
					ferr = sqlerr.New(sqlerr.Semantic, a.Position(), "Aggregate functions can not be nested: %s(%s(...))", f.Name.Name, aggregateName(qa.a.Funcs, a))
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
				args = append(args, ce)
				argTypes = append(argTypes, ce.Type)
			}
			var init []types.Value
			for _, a := range f.Args[ncols:] {
				ce, err := c.Compile(a)
				if err != nil {
					ferr = err
					return
				}
				if !ce.Const {
					ferr = sqlerr.New(sqlerr.InvalidArguments, a.Position(), "Parameter %s passed to function %s must be a literal constant.", parser.FormatExpr(a), f.Name.Name)
					return
				}
				v, _ := ce.Eval(nil)
				init = append(init, v)
			}
			res, err := af.Resolve(argTypes, init)
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
			q.Aggregates = append(q.Aggregates, AggregateCall{Name: f.Name.Name, Resolved: res, Args: args, Init: init, Expr: f})
		})
	}
	for _, it := range items {
		collect(it.Expr)
	}
	if pq.Having != nil {
		collect(pq.Having)
	}
	if ferr != nil {
		return ferr
	}
	wsIdx := len(aggScope.Columns)
	if q.Window != nil {
		aggScope.Columns = append(aggScope.Columns,
			expr.Column{Name: "WINDOWSTART", Type: types.Bigint}, expr.Column{Name: "WINDOWEND", Type: types.Bigint})
	}
	_ = wsIdx
	ac := qa.compiler(aggScope, "")
	ac.Substitute = func(e parser.Expr) (int, *types.Type, bool) {
		key := qa.unqualified(parser.FormatExpr(e))
		if idx, ok := groupKeys[key]; ok {
			return idx, aggScope.Columns[idx].Type, true
		}
		if idx, ok := aggSlots[key]; ok {
			return idx, aggScope.Columns[idx].Type, true
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
				if _, rerr := qa.compiler(qa.input, "").Compile(pq.Having); rerr == nil {
					return sqlerr.New(sqlerr.Semantic, pq.Having.Position(), "Non-aggregate HAVING expression not part of GROUP BY: %s", parser.FormatExpr(pq.Having))
				}
			}
			return err
		}
		q.Having = h
	}
	var keys, vals []types.Column
	var keyGroup []int
	seen := map[string]bool{}
	keyFound := map[int]bool{}
	names := newColNames(items)
	for _, it := range items {
		name := columnName(it, names, qa.ambiguous())
		if reservedColumnNames[name] && it.Alias != nil {
			return sqlerr.New(sqlerr.Semantic, it.P, "`%s` is a reserved column name. You cannot use it as an alias for a column.", name)
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
		q.Projection = append(q.Projection, Projected{Name: name, Expr: ce, Key: isKey})
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
	q.Output = &types.Schema{Columns: append(keys, vals...)}
	q.IsTable = true
	return nil
}
