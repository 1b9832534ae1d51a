package analyzer

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// joinSides is one join of the FROM clause as analyzed: its equi-join expressions as written and
// compiled over the Input row, oriented so that the right side references the joined source.
type joinSides struct {
	join                parser.Join
	LeftExpr, RightExpr parser.Expr
	LeftKey, RightKey   *expr.Compiled
}

// step is the IR of the join.
func (js joinSides) step(input *expr.Scope) ir.JoinStep {
	return ir.JoinStep{Type: joinTypeOf(js.join.Type), Within: withinOf(js.join.Within),
		LeftKey: irExpr(js.LeftKey, js.LeftExpr, input), RightKey: irExpr(js.RightKey, js.RightExpr, input)}
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

// foreignKeyJoin reports whether the query's first join is a table-table join on a foreign key: its left
// expression is not the key of the left table.
func (qa *queryAnalysis) foreignKeyJoin() bool {
	q := qa.q
	if len(qa.sides) != 1 || q.Sources[0].Source.Kind != ir.Table || q.Sources[1].Source.Kind != ir.Table {
		return false
	}
	cr, ok := qa.sides[0].LeftExpr.(*parser.ColumnRef)
	if !ok {
		return true
	}
	// One column of a multi-column key is a foreign key too.
	i := q.Sources[0].Source.Schema.Index(cr.Name.Name)
	return i < 0 || q.Sources[0].Source.Schema.Columns[i].Namespace != types.NamespaceKey || len(q.Sources[0].Source.Schema.Key()) != 1
}

// ambiguous returns, for a join, whether a column name clashes: more than one source has it (ksqlDB's
// clashing column names, which a join's projection prefixes with their source); nil otherwise.
func (qa *queryAnalysis) ambiguous() func(string) bool {
	if len(qa.q.Sources) < 2 {
		return nil
	}
	return func(name string) bool {
		switch name {
		case "ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND":
			return true
		}
		n := 0
		for _, s := range qa.q.Sources {
			if s.Source.Schema.Index(name) >= 0 {
				n++
			}
		}
		return n > 1
	}
}

// repeatedSource rejects a source that appears twice in the FROM clause; seen holds the names of the
// sources so far.
func repeatedSource(seen map[string]bool, name string, pos sqlerr.Pos) error {
	if !seen[name] {
		seen[name] = true
		return nil
	}
	if len(seen) > 1 {
		return sqlerr.New(sqlerr.Semantic, pos, "N-way joins do not support multiple occurrences of the same source. Source: '%s'.", name)
	}
	return sqlerr.New(sqlerr.Semantic, pos, "Can not join '%s' to '%s': self joins are not yet supported.", name, name)
}

// joins analyzes the joins of the FROM clause in two passes, as ksqlDB does: first each join criteria
// on its own (columns resolved, one source per side, compatible windowing), then the joins as a plan
// (join order, WITHIN, key columns, foreign keys).
func (qa *queryAnalysis) joins(js []parser.Join) error {
	sides := make([]joinSides, len(js))
	for i, j := range js {
		step, err := qa.joinCriteria(i, j)
		if err != nil {
			return err
		}
		sides[i] = step
	}
	for i, j := range js {
		if err := qa.joinPlan(i, j, &sides[i]); err != nil {
			return err
		}
	}
	qa.sides = sides
	for _, js := range sides {
		qa.q.Joins = append(qa.q.Joins, js.step(qa.input))
	}
	return nil
}

// joinCriteria resolves the ON clause of join i: its two sides, oriented so that the right one
// references the joined source.
func (qa *queryAnalysis) joinCriteria(i int, j parser.Join) (joinSides, error) {
	step := joinSides{join: j}
	b, ok := j.On.(*parser.Binary)
	if ok && b.Op == parser.OpAnd {
		return step, sqlerr.New(sqlerr.Unsupported, j.On.Position(), "Invalid join condition: joins on multiple conditions are not yet supported. Got %s.", parser.FormatExpr(j.On))
	}
	if !ok || b.Op != parser.OpEq {
		return step, sqlerr.New(sqlerr.Unsupported, j.On.Position(), "Unsupported join expression: %s. Only equality joins are supported.", parser.FormatExpr(j.On))
	}
	known := map[string]bool{}
	for _, s := range qa.q.Sources[:i+2] {
		known[s.Alias] = true
	}
	c := qa.compiler(qa.input, "JOIN ON")
	var keys [2]*expr.Compiled
	// Qualifiers are checked on both sides before either is compiled: ksqlDB rejects an unknown source
	// while preparing the statement, before it resolves columns.
	var err error
	walk(j.On, func(x parser.Expr) {
		if cr, ok := x.(*parser.ColumnRef); ok && err == nil && cr.Qualifier != nil && !known[cr.Qualifier.Name] {
			err = sqlerr.New(sqlerr.UnknownSource, cr.Qualifier.P, "Failed to prepare statement: '%s' is not a valid stream/table name or alias.", cr.Qualifier.Name)
		}
	})
	if err != nil {
		return step, err
	}
	for k, side := range []parser.Expr{b.L, b.R} {
		if keys[k], err = c.Compile(side); err != nil {
			if se, ok := err.(*sqlerr.Error); ok && se.Code == sqlerr.AmbiguousColumn {
				cp := *se
				cp.Prefix = "Exception while preparing statement: "
				err = &cp
			}
			return step, err
		}
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
	l, r := only(ls), only(rs)
	if l == r {
		return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "Each side of the join must reference exactly one source and not the same source. Left side references `%s` and right references `%s`", qa.q.Sources[l].Alias, qa.q.Sources[r].Alias)
	}
	if err := qa.joinWindowing(l, r, j.On.Position()); err != nil {
		return step, err
	}
	le, re, lk, rk := b.L, b.R, keys[0], keys[1]
	switch i + 1 {
	case r:
	case l:
		le, re, lk, rk = b.R, b.L, keys[1], keys[0]
	default:
		return step, sqlerr.New(sqlerr.Semantic, j.On.Position(), "A join criteria is expected to reference the source (`%s`) in the FROM clause, instead the right source references `%s` and the left source references `%s`", qa.q.Sources[i+1].Alias, qa.q.Sources[r].Alias, qa.q.Sources[l].Alias)
	}
	step.LeftKey, step.RightKey, step.LeftExpr, step.RightExpr = lk, rk, le, re
	return step, nil
}

func only(m map[int]bool) int {
	for k := range m {
		return k
	}
	return -1
}

// joinWindowing rejects joins of a windowed source with a non-windowed one, and of session windows
// with time windows.
func (qa *queryAnalysis) joinWindowing(l, r int, pos sqlerr.Pos) error {
	ls, rs := qa.q.Sources[l], qa.q.Sources[r]
	lw, rw := ls.Source.Window, rs.Source.Window
	if (lw == "") != (rw == "") {
		windowed := func(w string) string {
			if w == "" {
				return "not"
			}
			return w
		}
		return sqlerr.New(sqlerr.Semantic, pos, "Can not join windowed source to non-windowed source.\n`%s` is %s windowed\n`%s` is %s windowed", ls.Alias, windowed(lw), rs.Alias, windowed(rw))
	}
	if lw != "" && (lw == "SESSION") != (rw == "SESSION") {
		return sqlerr.New(sqlerr.Semantic, pos, "Incompatible windowed sources.\nLeft source: %s\nRight source: %s\n"+
			"Session windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\n"+
			"Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources", lw, rw)
	}
	return nil
}

// joinTypeName is a join type as ksqlDB's messages spell it.
func joinTypeName(t parser.JoinType) string {
	switch t {
	case parser.LeftJoin:
		return "LEFT [OUTER] JOIN"
	case parser.RightJoin:
		return "RIGHT [OUTER] JOIN"
	case parser.FullJoin:
		return "[FULL] OUTER JOIN"
	}
	return "[INNER] JOIN"
}

// joinPlan checks join i as the planner would build it: the kinds of both sides, WITHIN, and which
// columns the join is on.
func (qa *queryAnalysis) joinPlan(i int, j parser.Join, step *joinSides) error {
	leftKind := ir.Table
	for _, s := range qa.q.Sources[:i+1] {
		if s.Source.Kind == ir.Stream {
			leftKind = ir.Stream
		}
	}
	rs := qa.q.Sources[i+1]
	right := rs.Source
	ls := qa.q.Sources[only(qa.sourcesOf(step.LeftExpr))]
	if leftKind == ir.Table && right.Kind == ir.Stream {
		return sqlerr.New(sqlerr.Semantic, j.P, "Invalid join order: table-stream joins are not supported; only stream-table joins. Got %s %s %s.", ls.Source.Name, joinTypeName(j.Type), right.Name)
	}
	if leftKind == ir.Stream && right.Kind == ir.Stream && j.Within == nil {
		return sqlerr.New(sqlerr.Semantic, j.P, "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
	}
	if j.Within != nil && right.Kind == ir.Table {
		return sqlerr.New(sqlerr.Semantic, j.P, "A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to execute your Stream-Table join again.")
	}
	if leftKind == ir.Stream && right.Kind == ir.Table && (j.Type == parser.FullJoin || j.Type == parser.RightJoin) {
		name := "full-outer"
		if j.Type == parser.RightJoin {
			name = "right"
		}
		return sqlerr.New(sqlerr.Semantic, j.P, "Invalid join type: %s join not supported for stream-table join. Got %s %s %s.", name, ls.Source.Name, joinTypeName(j.Type), right.Name)
	}
	// The condition as written, for messages.
	wl, wr := step.LeftExpr, step.RightExpr
	lt, rt := step.LeftKey.Type, step.RightKey.Type
	if b, ok := j.On.(*parser.Binary); ok && b.L == step.RightExpr {
		wl, wr, lt, rt = wr, wl, rt, lt
	}
	got := qa.qualified(wl) + " = " + qa.qualified(wr)
	if types.CommonType(lt, rt) == nil {
		return sqlerr.New(sqlerr.Type, j.On.Position(), "Invalid join condition: types don't match. Got %s{%s} = %s{%s}.", qa.qualified(wl), lt, qa.qualified(wr), rt)
	}
	if right.Kind == ir.Table && !qa.isKeyOf(step.RightExpr, i+1) {
		if leftKind == ir.Stream {
			return sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: stream-table joins require to join on the table's primary key. Got %s.", got)
		}
		return sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got %s.", got)
	}
	if leftKind == ir.Table && right.Kind == ir.Table && !qa.isKeyOf(step.LeftExpr, -1) {
		if i > 0 {
			return sqlerr.New(sqlerr.Semantic, j.On.Position(), "Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got %s.", got)
		}
		switch j.Type {
		case parser.RightJoin:
			return sqlerr.New(sqlerr.Semantic, j.P, "RIGHT OUTER JOIN on a foreign key is not supported")
		case parser.FullJoin:
			return sqlerr.New(sqlerr.Semantic, j.P, "Invalid join type: full-outer join not supported for foreign-key table-table join. Got %s %s %s.", ls.Source.Name, joinTypeName(j.Type), right.Name)
		}
		if right.Window != "" {
			return sqlerr.New(sqlerr.Semantic, j.P, "Foreign-key table-table joins are not supported on windowed tables.")
		}
		return nil
	}
	if cr, ok := step.LeftExpr.(*parser.ColumnRef); ok && hasMap(step.LeftKey.Type) {
		return sqlerr.New(sqlerr.Semantic, j.P, "Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s_%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more.", ls.Alias, cr.Name.Name, step.LeftKey.Type)
	}
	// A windowed source cannot be repartitioned: it must join on its key, and both sides' windows
	// must agree for their keys to.
	for _, side := range []struct {
		e  parser.Expr
		qs ir.QuerySource
	}{{step.LeftExpr, ls}, {step.RightExpr, rs}} {
		if side.qs.Source.Window != "" && !qa.isKeyOf(side.e, qa.sourceIndex(side.qs.Alias)) {
			return sqlerr.New(sqlerr.Semantic, j.P, "Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
		}
	}
	if lw, rw := ls.Source, right; lw.Window != "" && lw.Window != "SESSION" && !schemaRegistryFormat(lw.KeyFormat) &&
		(lw.Window != rw.Window || lw.Props["WINDOW_SIZE"] != rw.Props["WINDOW_SIZE"]) {
		return sqlerr.New(sqlerr.Semantic, j.P, "Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
	}
	// Sides joined on their keys are read partition by partition, so their topics must have as many
	// partitions (as far as the statements that declared them say).
	if qa.isKeyOf(step.LeftExpr, qa.sourceIndex(ls.Alias)) && qa.isKeyOf(step.RightExpr, qa.sourceIndex(rs.Alias)) {
		lp, lok := ls.Source.Props["PARTITIONS"]
		rp, rok := right.Props["PARTITIONS"]
		if lok && rok && strings.TrimSpace(lp) != strings.TrimSpace(rp) {
			return sqlerr.New(sqlerr.Semantic, j.P, "Can't join `%s` with `%s` since the number of partitions don't match. `%s` partitions = %s; `%s` partitions = %s. Please repartition either one so that the number of partitions match.",
				ls.Source.Name, right.Name, ls.Source.Name, lp, right.Name, rp)
		}
	}
	return nil
}

func schemaRegistryFormat(f string) bool {
	return f == "AVRO" || f == "PROTOBUF" || f == "JSON_SR" || f == "PROTOBUF_NOSR"
}

func (qa *queryAnalysis) sourceIndex(alias string) int {
	for i, s := range qa.q.Sources {
		if s.Alias == alias {
			return i
		}
	}
	return -1
}

// qualified formats an expression with every column reference qualified by its source's alias, as
// ksqlDB's messages do.
func (qa *queryAnalysis) qualified(e parser.Expr) string {
	var fixed []*parser.ColumnRef
	walk(e, func(x parser.Expr) {
		cr, ok := x.(*parser.ColumnRef)
		if !ok || cr.Qualifier != nil {
			return
		}
		if si := only(qa.sourcesOf(cr)); si >= 0 {
			cr.Qualifier = &parser.Ident{Name: qa.q.Sources[si].Alias}
			fixed = append(fixed, cr)
		}
	})
	s := parser.FormatExpr(e)
	for _, cr := range fixed {
		cr.Qualifier = nil
	}
	return s
}

// joinKey is the key of a join's result (ksqlDB's JoinKey): the equi-join value of the last join.
// In the projection it is either the first viable key column the projection selects – a source
// column that always equals the key – or, when no source column does (a FULL OUTER join, a join on
// expressions), a synthetic column named ROWKEY (ROWKEY_N when a source has a ROWKEY column).
type joinKey struct {
	// viable are the qualified viable key columns, in join order.
	viable []string
	// column is the viable key column the projection uses (qualified), or the synthetic key's name.
	column    string
	synthetic bool
	// value evaluates the key over the Input row: the left join expression, or the right one when
	// the left side is absent.
	value *expr.Compiled
	// aliases are the names the projection gives the key column.
	aliases []string
}

// joinKey returns the key of the query's result, for a join that is not a single foreign-key join.
func (qa *queryAnalysis) joinKey(items []parser.SelectItem) *joinKey {
	var equiv map[string]bool
	var viable []string
	for i, st := range qa.sides {
		if st.join.Type == parser.FullJoin {
			equiv, viable = map[string]bool{}, nil
			continue
		}
		l, r := qa.qualified(st.LeftExpr), qa.qualified(st.RightExpr)
		next := map[string]bool{l: true, r: true}
		if i > 0 && (equiv[l] || equiv[r]) {
			for e := range equiv {
				next[e] = true
			}
		}
		cands := append(append([]string{}, viable...), "")
		if _, ok := st.LeftExpr.(*parser.ColumnRef); ok {
			cands = append(cands, l)
		}
		if _, ok := st.RightExpr.(*parser.ColumnRef); ok {
			cands = append(cands, r)
		}
		viable = nil
		seen := map[string]bool{}
		for _, c := range cands {
			if c != "" && next[c] && !seen[c] {
				seen[c] = true
				viable = append(viable, c)
			}
		}
		equiv = next
	}
	last := qa.sides[len(qa.sides)-1]
	jk := &joinKey{viable: viable, value: coalesceKeys(last.LeftKey, last.RightKey)}
	if len(viable) == 0 {
		jk.synthetic = true
		jk.column = qa.syntheticKeyName()
		return jk
	}
	// The first viable column the projection selects, in join order.
	selected := map[string]bool{}
	for _, it := range items {
		if it.Expr != nil {
			selected[qa.qualified(it.Expr)] = true
		}
	}
	jk.column = viable[0]
	for _, v := range viable {
		if selected[v] {
			jk.column = v
			break
		}
	}
	return jk
}

// coalesceKeys evaluates l, or r when l is NULL, as their common type.
func coalesceKeys(l, r *expr.Compiled) *expr.Compiled {
	t := types.CommonType(l.Type, r.Type)
	if t == nil {
		t = l.Type
	}
	cast := func(c *expr.Compiled) func(types.Value) (types.Value, error) {
		if c.Type.Equal(t) {
			return nil
		}
		conv, err := types.Caster(c.Type, t)
		if err != nil {
			return nil
		}
		return conv
	}
	lc, rc := cast(l), cast(r)
	cols := slices.Compact(slices.Sorted(slices.Values(append(slices.Clip(l.Columns), r.Columns...))))
	return &expr.Compiled{Type: t, Columns: cols, Eval: func(row expr.Row) (types.Value, error) {
		conv := lc
		v, err := l.Eval(row)
		if err == nil && v == nil {
			conv = rc
			v, err = r.Eval(row)
		}
		if err != nil || v == nil || conv == nil {
			return v, err
		}
		return conv(v)
	}}
}

// syntheticKeyName is ROWKEY, or ROWKEY_N past every ROWKEY_N a source has when a source has a
// ROWKEY column (ksqlDB's ColumnNames.generateSyntheticJoinKey).
func (qa *queryAnalysis) syntheticKeyName() string {
	used, max := false, 0
	for _, s := range qa.q.Sources {
		for _, c := range s.Source.Schema.Columns {
			if c.Name == "ROWKEY" {
				used = true
			}
			if n, ok := strings.CutPrefix(c.Name, "ROWKEY_"); ok {
				if v, err := strconv.Atoi(n); err == nil && v > max {
					max = v
				}
			}
		}
	}
	if !used {
		return "ROWKEY"
	}
	return "ROWKEY_" + strconv.Itoa(max+1)
}

// compile compiles a select expression: the join key itself when e is the key column (or the
// synthetic key's name), e otherwise. jk may be nil.
func (jk *joinKey) compile(qa *queryAnalysis, c *expr.Compiler, e parser.Expr) (*expr.Compiled, error) {
	if jk != nil {
		if cr, ok := e.(*parser.ColumnRef); ok {
			if jk.synthetic && cr.Qualifier == nil && cr.Name.Name == jk.column {
				return jk.value, nil
			}
			if !jk.synthetic && qa.qualified(cr) == jk.column {
				return jk.value, nil
			}
		}
	}
	return c.Compile(e)
}

// claims reports whether the compiled select expression ce, named name, is the key column.
func (jk *joinKey) claims(ce *expr.Compiled, name string) bool {
	if jk == nil || ce != jk.value {
		return false
	}
	jk.aliases = append(jk.aliases, name)
	return true
}

// check rejects a projection of a persistent query that has the key column more than once, or
// not at all.
func (jk *joinKey) check(sink string, pos sqlerr.Pos) error {
	if jk == nil {
		return nil
	}
	if len(jk.aliases) > 1 {
		name := jk.column
		if !jk.synthetic {
			name = strings.Replace(name, ".", "_", 1)
		}
		aliases := append([]string{}, jk.aliases...)
		sort.Strings(aliases)
		return sqlerr.New(sqlerr.Semantic, pos, "The projection contains a key column (`%s`) more than once, aliased as: %s.", name, joinAnd(aliases))
	}
	if len(jk.aliases) > 0 {
		return nil
	}
	viable := jk.viable
	if jk.synthetic {
		viable = []string{jk.column}
	}
	what := "expression"
	if len(viable) > 1 {
		what = "expressions"
	}
	list := strings.Join(viable, " or ")
	if len(viable) > 2 {
		list = strings.Join(viable[:len(viable)-1], ", ") + " or " + viable[len(viable)-1]
	}
	msg := fmt.Sprintf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the join %s %s in its projection (eg, SELECT %s...).", sink, what, list, viable[0])
	if jk.synthetic {
		msg += fmt.Sprintf("\n%s was added as a synthetic key column because the join criteria did not match any source column. This expression must be included in the projection and may be aliased.", jk.column)
	}
	return sqlerr.New(sqlerr.Semantic, pos, "%s", msg)
}

// syntheticKeyItem returns, for a SELECT * over a join with a synthetic key, the select item of that
// key, which the star stands for first.
func (qa *queryAnalysis) syntheticKeyItem(it parser.SelectItem) []parser.SelectItem {
	if it.Kind != parser.SelectStar || len(qa.sides) == 0 || qa.foreignKeyJoin() {
		return nil
	}
	jk := qa.joinKey(nil)
	if !jk.synthetic {
		return nil
	}
	ref := &parser.ColumnRef{P: it.P, Name: parser.Ident{Name: jk.column}}
	return []parser.SelectItem{{Kind: parser.SelectExpr, Expr: ref, P: it.P}}
}

// hasMap reports whether t is or contains a MAP, which a join key cannot be.
func hasMap(t *types.Type) bool {
	switch t.Kind {
	case types.KindMap:
		return true
	case types.KindArray:
		return hasMap(t.Elem)
	case types.KindStruct:
		for _, f := range t.Fields {
			if hasMap(f.Type) {
				return true
			}
		}
	}
	return false
}
