package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatIdent renders a name so that it parses back to itself: bare when it is an upper-case,
// non-reserved identifier, back-quoted otherwise.
func FormatIdent(name string) string {
	plain := name != "" && !reserved[name]
	for i, r := range name {
		if !(r >= 'A' && r <= 'Z' || r == '_' || (i > 0 && (r >= '0' && r <= '9' || r == '@'))) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// FormatExpr renders an expression as canonical SQL, fully parenthesizing operators.
func FormatExpr(e Expr) string {
	var b strings.Builder
	formatExpr(&b, e)
	return b.String()
}

func formatExpr(b *strings.Builder, e Expr) {
	w := b.WriteString
	switch e := e.(type) {
	case *Literal:
		switch e.Kind {
		case LitString:
			w(quoteString(e.Value))
		default:
			w(e.Value)
		}
	case *ColumnRef:
		if e.Qualifier != nil {
			w(FormatIdent(e.Qualifier.Name))
			w(".")
		}
		w(FormatIdent(e.Name.Name))
	case *Dereference:
		formatExpr(b, e.Base)
		w("->")
		w(FormatIdent(e.Field.Name))
	case *Subscript:
		formatExpr(b, e.Base)
		w("[")
		formatExpr(b, e.Index)
		w("]")
	case *FuncCall:
		w(e.Name.Name)
		w("(")
		if e.Star {
			w("*")
		}
		for i, a := range e.Args {
			if i > 0 {
				w(", ")
			}
			formatExpr(b, a)
		}
		w(")")
	case *Lambda:
		if len(e.Params) == 1 {
			w(FormatIdent(e.Params[0].Name))
		} else {
			w("(")
			for i, p := range e.Params {
				if i > 0 {
					w(", ")
				}
				w(FormatIdent(p.Name))
			}
			w(")")
		}
		w(" => ")
		formatExpr(b, e.Body)
	case *IntervalUnit:
		w(e.Unit)
	case *Cast:
		w("CAST(")
		formatExpr(b, e.Expr)
		w(" AS ")
		w(FormatType(e.Type))
		w(")")
	case *Case:
		w("CASE")
		if e.Operand != nil {
			w(" ")
			formatExpr(b, e.Operand)
		}
		for _, wh := range e.Whens {
			w(" WHEN ")
			formatExpr(b, wh.Cond)
			w(" THEN ")
			formatExpr(b, wh.Result)
		}
		if e.Else != nil {
			w(" ELSE ")
			formatExpr(b, e.Else)
		}
		w(" END")
	case *Binary:
		w("(")
		formatExpr(b, e.L)
		w(" ")
		w(e.Op.String())
		w(" ")
		formatExpr(b, e.R)
		w(")")
	case *Unary:
		switch e.Op {
		case OpNot:
			w("(NOT ")
		case OpNeg:
			w("(-")
		case OpPlus:
			w("(+")
		}
		formatExpr(b, e.X)
		w(")")
	case *Between:
		w("(")
		formatExpr(b, e.X)
		if e.Not {
			w(" NOT")
		}
		w(" BETWEEN ")
		formatExpr(b, e.Lo)
		w(" AND ")
		formatExpr(b, e.Hi)
		w(")")
	case *InList:
		w("(")
		formatExpr(b, e.X)
		if e.Not {
			w(" NOT")
		}
		w(" IN (")
		for i, x := range e.List {
			if i > 0 {
				w(", ")
			}
			formatExpr(b, x)
		}
		w("))")
	case *Like:
		w("(")
		formatExpr(b, e.X)
		if e.Not {
			w(" NOT")
		}
		w(" LIKE ")
		formatExpr(b, e.Pattern)
		if e.Escape != "" {
			w(" ESCAPE ")
			w(quoteString(e.Escape))
		}
		w(")")
	case *IsNull:
		w("(")
		formatExpr(b, e.X)
		if e.Not {
			w(" IS NOT NULL)")
		} else {
			w(" IS NULL)")
		}
	case *ArrayConstructor:
		w("ARRAY[")
		for i, x := range e.Elems {
			if i > 0 {
				w(", ")
			}
			formatExpr(b, x)
		}
		w("]")
	case *MapConstructor:
		w("MAP(")
		for i := range e.Keys {
			if i > 0 {
				w(", ")
			}
			formatExpr(b, e.Keys[i])
			w(":=")
			formatExpr(b, e.Vals[i])
		}
		w(")")
	case *StructConstructor:
		w("STRUCT(")
		for i := range e.Names {
			if i > 0 {
				w(", ")
			}
			w(FormatIdent(e.Names[i].Name))
			w(":=")
			formatExpr(b, e.Values[i])
		}
		w(")")
	case *TypedLiteral:
		w(e.Type.Name)
		w(" ")
		w(quoteString(e.Value))
	case *AtTimeZone:
		w("(")
		formatExpr(b, e.X)
		w(" AT TIME ZONE ")
		w(quoteString(e.Zone))
		w(")")
	case *structStar:
		formatExpr(b, e.base)
		w("->*")
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

// FormatType renders a type expression.
func FormatType(t *TypeExpr) string {
	switch t.Base {
	case "ARRAY":
		return "ARRAY<" + FormatType(t.Elem) + ">"
	case "MAP":
		return "MAP<" + FormatType(t.Key) + ", " + FormatType(t.Elem) + ">"
	case "STRUCT":
		var parts []string
		for _, f := range t.Fields {
			parts = append(parts, FormatIdent(f.Name.Name)+" "+FormatType(f.Type))
		}
		return "STRUCT<" + strings.Join(parts, ", ") + ">"
	}
	if len(t.Params) > 0 {
		var ps []string
		for _, p := range t.Params {
			ps = append(ps, strconv.Itoa(p))
		}
		return t.Base + "(" + strings.Join(ps, ", ") + ")"
	}
	return t.Base
}

func formatProps(b *strings.Builder, props Properties) {
	if len(props) == 0 {
		return
	}
	b.WriteString(" WITH (")
	for i, p := range props {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteString("=")
		formatExpr(b, p.Value)
	}
	b.WriteString(")")
}

func formatDuration(d Duration) string { return fmt.Sprintf("%d %s", d.N, d.Unit) }

// FormatQuery renders a query as canonical SQL.
func FormatQuery(q *Query) string {
	var b strings.Builder
	w := b.WriteString
	w("SELECT ")
	for i, it := range q.Select {
		if i > 0 {
			w(", ")
		}
		switch it.Kind {
		case SelectStar:
			w("*")
		case SelectSourceStar:
			w(FormatIdent(it.Source.Name) + ".*")
		case SelectStructStar:
			formatExpr(&b, it.Expr)
			w("->*")
		default:
			formatExpr(&b, it.Expr)
			if it.Alias != nil {
				w(" AS " + FormatIdent(it.Alias.Name))
			}
		}
	}
	w(" FROM ")
	src := func(a AliasedSource) {
		w(FormatIdent(a.Name.Name))
		if a.Alias != nil {
			w(" " + FormatIdent(a.Alias.Name))
		}
	}
	src(q.From.Source)
	for _, j := range q.From.Joins {
		w(" " + j.Type.String() + " JOIN ")
		src(j.Right)
		if j.Within != nil {
			if j.Within.Before == j.Within.After {
				w(" WITHIN " + formatDuration(j.Within.Before))
			} else {
				w(" WITHIN (" + formatDuration(j.Within.Before) + ", " + formatDuration(j.Within.After) + ")")
			}
			if j.Within.Grace != nil {
				w(" GRACE PERIOD " + formatDuration(*j.Within.Grace))
			}
		}
		w(" ON ")
		formatExpr(&b, j.On)
	}
	if q.Window != nil {
		win := q.Window
		w(" WINDOW " + win.Kind.String() + " (")
		if win.Kind != Session {
			w("SIZE ")
		}
		w(formatDuration(win.Size))
		if win.Kind == Hopping {
			w(", ADVANCE BY " + formatDuration(win.Advance))
		}
		if win.Retention != nil {
			w(", RETENTION " + formatDuration(*win.Retention))
		}
		if win.Grace != nil {
			w(", GRACE PERIOD " + formatDuration(*win.Grace))
		}
		w(")")
	}
	if q.Where != nil {
		w(" WHERE ")
		formatExpr(&b, q.Where)
	}
	list := func(kw string, es []Expr) {
		if len(es) == 0 {
			return
		}
		w(kw)
		for i, e := range es {
			if i > 0 {
				w(", ")
			}
			formatExpr(&b, e)
		}
	}
	list(" GROUP BY ", q.GroupBy)
	list(" PARTITION BY ", q.PartitionBy)
	if q.Having != nil {
		w(" HAVING ")
		formatExpr(&b, q.Having)
	}
	switch q.Emit {
	case EmitChanges:
		w(" EMIT CHANGES")
	case EmitFinal:
		w(" EMIT FINAL")
	}
	if q.Limit != NoLimit {
		w(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	return b.String()
}

func formatElements(b *strings.Builder, elems []TableElement) {
	if elems == nil {
		return
	}
	b.WriteString(" (")
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(FormatIdent(e.Name.Name) + " " + FormatType(e.Type))
		switch e.Constraint {
		case ConstraintKey:
			b.WriteString(" KEY")
		case ConstraintPrimaryKey:
			b.WriteString(" PRIMARY KEY")
		case ConstraintHeaders:
			b.WriteString(" HEADERS")
		case ConstraintHeader:
			b.WriteString(" HEADER(" + quoteString(e.HeaderKey) + ")")
		}
	}
	b.WriteString(")")
}

// Format renders a statement as canonical SQL (without the trailing ';').
func Format(s Statement) string {
	var b strings.Builder
	w := b.WriteString
	switch s := s.(type) {
	case *CreateSource:
		w("CREATE ")
		if s.OrReplace {
			w("OR REPLACE ")
		}
		if s.Source {
			w("SOURCE ")
		}
		w(s.Kind.String() + " ")
		if s.IfNotExists {
			w("IF NOT EXISTS ")
		}
		w(FormatIdent(s.Name.Name))
		formatElements(&b, s.Elements)
		formatProps(&b, s.Props)
	case *CreateAsSelect:
		w("CREATE ")
		if s.OrReplace {
			w("OR REPLACE ")
		}
		w(s.Kind.String() + " ")
		if s.IfNotExists {
			w("IF NOT EXISTS ")
		}
		w(FormatIdent(s.Name.Name))
		formatProps(&b, s.Props)
		w(" AS " + FormatQuery(s.Query))
	case *InsertInto:
		w("INSERT INTO " + FormatIdent(s.Target.Name))
		formatProps(&b, s.Props)
		w(" " + FormatQuery(s.Query))
	case *InsertValues:
		w("INSERT INTO " + FormatIdent(s.Target.Name))
		if s.Columns != nil {
			var cs []string
			for _, c := range s.Columns {
				cs = append(cs, FormatIdent(c.Name))
			}
			w(" (" + strings.Join(cs, ", ") + ")")
		}
		w(" VALUES (")
		for i, v := range s.Values {
			if i > 0 {
				w(", ")
			}
			formatExpr(&b, v)
		}
		w(")")
	case *DropSource:
		w("DROP " + s.Kind.String() + " ")
		if s.IfExists {
			w("IF EXISTS ")
		}
		w(FormatIdent(s.Name.Name))
		if s.DeleteTopic {
			w(" DELETE TOPIC")
		}
	case *CreateType:
		w("CREATE TYPE ")
		if s.IfNotExists {
			w("IF NOT EXISTS ")
		}
		w(FormatIdent(s.Name.Name) + " AS " + FormatType(s.Type))
	case *DropType:
		w("DROP TYPE ")
		if s.IfExists {
			w("IF EXISTS ")
		}
		w(FormatIdent(s.Name.Name))
	case *SetProperty:
		w("SET " + quoteString(s.Name) + "=" + quoteString(s.Value))
	case *UnsetProperty:
		w("UNSET " + quoteString(s.Name))
	case *AlterSystem:
		w("ALTER SYSTEM " + quoteString(s.Name) + "=" + quoteString(s.Value))
	case *DefineVariable:
		w("DEFINE " + s.Name + "=" + quoteString(s.Value))
	case *UndefineVariable:
		w("UNDEFINE " + s.Name)
	case *Terminate:
		if s.All {
			w("TERMINATE ALL")
		} else {
			w("TERMINATE " + FormatIdent(s.QueryID))
		}
	case *List:
		w("SHOW ")
		if s.All {
			w("ALL ")
		}
		w(s.What)
		if s.Extended {
			w(" EXTENDED")
		}
	case *Describe:
		w("DESCRIBE ")
		switch s.What {
		case "SOURCE":
			w(FormatIdent(s.Name.Name))
		case "FUNCTION", "CONNECTOR":
			w(s.What + " " + FormatIdent(s.Name.Name))
		default:
			w(s.What)
		}
		if s.Extended {
			w(" EXTENDED")
		}
	case *Explain:
		if s.Statement != nil {
			w("EXPLAIN " + Format(s.Statement))
		} else {
			w("EXPLAIN " + FormatIdent(s.QueryID))
		}
	case *Print:
		w("PRINT " + quoteString(s.Topic))
		if s.FromBeginning {
			w(" FROM BEGINNING")
		}
		if s.Interval > 0 {
			w(fmt.Sprintf(" INTERVAL %d", s.Interval))
		}
		if s.Limit != NoLimit {
			w(fmt.Sprintf(" LIMIT %d", s.Limit))
		}
	case *QueryStatement:
		w(FormatQuery(s.Query))
	case *AlterSource:
		w("ALTER " + s.Kind.String() + " " + FormatIdent(s.Name.Name))
		for i, c := range s.Columns {
			if i > 0 {
				w(",")
			}
			w(" ADD COLUMN " + FormatIdent(c.Name.Name) + " " + FormatType(c.Type))
		}
	case *AssertValues:
		w("ASSERT ")
		if s.Tombstone {
			w("NULL ")
		}
		w("VALUES " + FormatIdent(s.Target.Name))
		if s.Columns != nil {
			var cs []string
			for _, c := range s.Columns {
				cs = append(cs, FormatIdent(c.Name))
			}
			w(" (" + strings.Join(cs, ", ") + ")")
		}
		if s.Tombstone {
			w(" KEY (")
		} else {
			w(" VALUES (")
		}
		for i, v := range s.Values {
			if i > 0 {
				w(", ")
			}
			formatExpr(&b, v)
		}
		w(")")
	case *AssertSource:
		w("ASSERT " + s.Kind.String() + " " + FormatIdent(s.Name.Name))
		formatElements(&b, s.Elements)
		formatProps(&b, s.Props)
	default:
		fmt.Fprintf(&b, "<%T>", s)
	}
	return b.String()
}
