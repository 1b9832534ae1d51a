// Package expr type-checks expressions of the SQL front end against a scope of typed columns and compiles
// them, once, into Go closures over rows (func(types.Row) (types.Value, error)). Nothing walks an AST per
// record: every operator, cast and function is resolved to a closure at compile time, with its operand
// types fixed.
//
// Errors at compile time are *sqlerr.Error with a position. Errors at evaluation time (a bad cast, a
// division by zero) are returned per record; ksqlDB's behaviour, which the runtime implements, is to log them
// to the processing log and use NULL for the expression. A scalar function call that fails yields NULL
// in place, as ksqlDB's function invocations do.
package expr

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Value and Row are the types of package types.
type (
	Value = types.Value
	Row   = types.Row
)

// EvalFunc evaluates an expression for one row.
type EvalFunc func(row Row) (Value, error)

// Compiled is a compiled expression.
type Compiled struct {
	Type *types.Type
	Eval EvalFunc
	// Const is set when the expression does not depend on the row (literals and expressions of literals).
	Const bool
	// Columns are the positions in the row that Eval reads, ascending and distinct: the scope's
	// columns it references and the positions Substitute gave it (lambda variables are not row
	// columns). Set by a Compile call that is not nested in another; nil when it reads none.
	Columns []int
}

// Column is a column visible to expressions; its position in Scope.Columns is its position in the row.
type Column struct {
	// Qualifier is the source name or alias the column can be qualified with ("" for none).
	Qualifier string
	Name      string
	Type      *types.Type
}

// Scope is the set of columns an expression may reference.
type Scope struct {
	Columns []Column
}

// Resolve returns the index of the column named name, qualified by qualifier when it is not "".
func (s *Scope) Resolve(qualifier, name string) (int, error) {
	found := -1
	for i, c := range s.Columns {
		if c.Name != name || (qualifier != "" && c.Qualifier != qualifier) {
			continue
		}
		if found >= 0 {
			return -1, fmt.Errorf("Column '%s' is ambiguous. Could be %s.%s or %s.%s.", name,
				s.Columns[found].Qualifier, name, c.Qualifier, name)
		}
		found = i
	}
	if found < 0 {
		return -1, nil
	}
	return found, nil
}

// TypeResolver resolves custom type names declared with CREATE TYPE.
type TypeResolver func(name string) (*types.Type, bool)

// Compiler compiles expressions against a scope.
type Compiler struct {
	Scope *Scope
	Funcs *function.Registry
	Types TypeResolver
	// Substitute, when set, is consulted before compiling each sub-expression: if it returns ok, the
	// expression is compiled to a read of row[idx] of type t. The analyzer uses it to replace GROUP BY
	// expressions and aggregate calls by the columns that hold their values.
	Substitute func(e parser.Expr) (idx int, t *types.Type, ok bool)
	// Clause names the clause being compiled, for error messages ("WHERE column 'X' cannot be resolved.").
	Clause string

	lambdas []lambdaVar
	// reads collects the row positions read by the expression being compiled; depth is the nesting
	// of Compile calls, so that the outermost one sets Compiled.Columns.
	reads []int
	depth int
}

type lambdaVar struct {
	name string
	idx  int
	t    *types.Type
}

func errAt(code sqlerr.Code, n parser.Node, format string, args ...any) *sqlerr.Error {
	return sqlerr.New(code, n.Position(), format, args...)
}

// Compile type-checks and compiles e.
func (c *Compiler) Compile(e parser.Expr) (*Compiled, error) {
	start := len(c.reads)
	c.depth++
	out, err := c.compile(e)
	c.depth--
	if c.depth == 0 {
		if err == nil {
			out.Columns = sortedDistinct(c.reads[start:])
		}
		c.reads = c.reads[:start]
	}
	return out, err
}

// sortedDistinct returns the distinct values of xs in ascending order, nil when there are none.
func sortedDistinct(xs []int) []int {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// read is a compiled read of row position idx, of type t.
func (c *Compiler) read(idx int, t *types.Type) *Compiled {
	c.reads = append(c.reads, idx)
	return &Compiled{Type: t, Eval: func(row Row) (Value, error) { return row[idx], nil }}
}

func (c *Compiler) compile(e parser.Expr) (*Compiled, error) {
	if c.Substitute != nil {
		if idx, t, ok := c.Substitute(e); ok {
			return c.read(idx, t), nil
		}
	}
	switch e := e.(type) {
	case *parser.Literal:
		return compileLiteral(e)
	case *parser.ColumnRef:
		return c.column(e)
	case *parser.Dereference:
		return c.dereference(e)
	case *parser.Subscript:
		return c.subscript(e)
	case *parser.FuncCall:
		return c.call(e)
	case *parser.Cast:
		return c.cast(e)
	case *parser.Case:
		return c.caseExpr(e)
	case *parser.Binary:
		return c.binary(e)
	case *parser.Unary:
		return c.unary(e)
	case *parser.Between:
		return c.between(e)
	case *parser.InList:
		return c.inList(e)
	case *parser.Like:
		return c.like(e)
	case *parser.IsNull:
		x, err := c.Compile(e.X)
		if err != nil {
			return nil, err
		}
		not := e.Not
		return &Compiled{Type: types.Boolean, Const: x.Const, Eval: func(row Row) (Value, error) {
			v, err := x.Eval(row)
			if err != nil {
				return nil, err
			}
			return (v == nil) != not, nil
		}}, nil
	case *parser.ArrayConstructor:
		return c.array(e)
	case *parser.MapConstructor:
		return c.mapCons(e)
	case *parser.StructConstructor:
		return c.structCons(e)
	case *parser.TypedLiteral:
		t, err := c.ResolveType(&parser.TypeExpr{P: e.P, Base: e.Type.Name})
		if err != nil {
			return nil, err
		}
		conv, cerr := types.Caster(types.String, t)
		if cerr != nil {
			return nil, errAt(sqlerr.Type, e, "%v", cerr)
		}
		v, err := conv(e.Value)
		if err != nil {
			return nil, errAt(sqlerr.Type, e, "%v", err)
		}
		return constant(t, v), nil
	case *parser.Lambda:
		return nil, errAt(sqlerr.Semantic, e, "Lambda expressions are only allowed as function arguments")
	case *parser.IntervalUnit:
		return nil, errAt(sqlerr.Semantic, e, "Time unit %s is only allowed as a function argument", e.Unit)
	case *parser.AtTimeZone:
		return nil, errAt(sqlerr.Unsupported, e, "AT TIME ZONE is not supported")
	}
	return nil, sqlerr.New(sqlerr.Unsupported, e.Position(), "unsupported expression %T", e)
}

func constant(t *types.Type, v Value) *Compiled {
	return &Compiled{Type: t, Const: true, Eval: func(Row) (Value, error) { return v, nil }}
}

func compileLiteral(e *parser.Literal) (*Compiled, error) {
	switch e.Kind {
	case parser.LitNull:
		return constant(types.Null, nil), nil
	case parser.LitBoolean:
		return constant(types.Boolean, e.Value == "TRUE"), nil
	case parser.LitString:
		return constant(types.String, e.Value), nil
	case parser.LitInteger:
		// ksqlDB's grammar reads the sign as part of the literal (MINUS? INTEGER_VALUE), so
		// -9223372036854775808 is a BIGINT while 9223372036854775808 is out of range.
		i, err := strconv.ParseInt(e.Value, 10, 64)
		if err != nil {
			return nil, errAt(sqlerr.Syntax, e, "Invalid numeric literal: %s", e.Value)
		}
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			return constant(types.Int, int32(i)), nil
		}
		return constant(types.Bigint, i), nil
	case parser.LitDecimal:
		d, err := types.ParseDecimal(e.Value)
		if err != nil {
			return nil, errAt(sqlerr.Syntax, e, "Invalid numeric literal: %s", e.Value)
		}
		return constant(types.DecimalTypeOf(d), d), nil
	case parser.LitDouble:
		// Like Java's Double.parseDouble: an underflow is 0.0, an overflow is refused.
		f, err := strconv.ParseFloat(e.Value, 64)
		switch {
		case math.IsInf(f, 0):
			return nil, errAt(sqlerr.Syntax, e, "Number overflows DOUBLE: %s", e.Value)
		case err != nil:
			return nil, errAt(sqlerr.Syntax, e, "Invalid numeric literal: %s", e.Value)
		}
		return constant(types.Double, f), nil
	}
	return nil, errAt(sqlerr.Syntax, e, "invalid literal")
}

func (c *Compiler) column(e *parser.ColumnRef) (*Compiled, error) {
	if e.Qualifier == nil {
		for i := len(c.lambdas) - 1; i >= 0; i-- {
			if lv := c.lambdas[i]; lv.name == e.Name.Name {
				idx := lv.idx
				return &Compiled{Type: lv.t, Eval: func(row Row) (Value, error) { return row[idx], nil }}, nil
			}
		}
	}
	q := ""
	if e.Qualifier != nil {
		q = e.Qualifier.Name
	}
	idx, err := c.Scope.Resolve(q, e.Name.Name)
	if err != nil {
		return nil, errAt(sqlerr.AmbiguousColumn, e, "%v", err)
	}
	if idx < 0 {
		name := e.Name.Name
		if q != "" {
			name = q + "." + name
		}
		if c.Clause != "" {
			return nil, errAt(sqlerr.UnknownColumn, e, "%s column '%s' cannot be resolved.", c.Clause, name)
		}
		return nil, errAt(sqlerr.UnknownColumn, e, "Column '%s' cannot be resolved.", name)
	}
	return c.read(idx, c.Scope.Columns[idx].Type), nil
}

func (c *Compiler) dereference(e *parser.Dereference) (*Compiled, error) {
	base, err := c.Compile(e.Base)
	if err != nil {
		return nil, err
	}
	if base.Type.Kind != types.KindStruct {
		return nil, errAt(sqlerr.Type, e, "Expected STRUCT type, got: %s", base.Type)
	}
	fi := base.Type.FieldIndex(e.Field.Name)
	if fi < 0 {
		return nil, errAt(sqlerr.UnknownColumn, e, "Could not find field '%s' in '%s'.", e.Field.Name, parser.FormatExpr(e.Base))
	}
	return &Compiled{Type: base.Type.Fields[fi].Type, Const: base.Const, Eval: func(row Row) (Value, error) {
		v, err := base.Eval(row)
		if v == nil || err != nil {
			return nil, err
		}
		return v.(*types.Struct).Vals[fi], nil
	}}, nil
}

// subscript: arrays are 1-based, negative indexes count from the end, out of range is NULL; maps look up
// the key.
func (c *Compiler) subscript(e *parser.Subscript) (*Compiled, error) {
	base, err := c.Compile(e.Base)
	if err != nil {
		return nil, err
	}
	idx, err := c.Compile(e.Index)
	if err != nil {
		return nil, err
	}
	switch base.Type.Kind {
	case types.KindArray:
		if idx.Type.Kind != types.KindInt && idx.Type.Kind != types.KindBigint {
			return nil, errAt(sqlerr.Type, e.Index, "array index must be INTEGER, got %s", idx.Type)
		}
		return &Compiled{Type: base.Type.Elem, Eval: func(row Row) (Value, error) {
			a, err := base.Eval(row)
			if a == nil || err != nil {
				return nil, err
			}
			iv, err := idx.Eval(row)
			if iv == nil || err != nil {
				return nil, err
			}
			arr := a.([]Value)
			var i int64
			switch x := iv.(type) {
			case int32:
				i = int64(x)
			case int64:
				i = x
			}
			switch {
			case i > 0 && i <= int64(len(arr)):
				return arr[i-1], nil
			case i < 0 && -i <= int64(len(arr)):
				return arr[int64(len(arr))+i], nil
			}
			return nil, nil
		}}, nil
	case types.KindMap:
		conv := types.Widener(idx.Type, base.Type.Key)
		if idx.Type.Kind != types.KindNull && !types.CanWiden(idx.Type, base.Type.Key) {
			return nil, errAt(sqlerr.Type, e.Index, "map key must be %s, got %s", base.Type.Key, idx.Type)
		}
		return &Compiled{Type: base.Type.Elem, Eval: func(row Row) (Value, error) {
			m, err := base.Eval(row)
			if m == nil || err != nil {
				return nil, err
			}
			k, err := idx.Eval(row)
			if k == nil || err != nil {
				return nil, err
			}
			if conv != nil {
				if k, err = conv(k); err != nil {
					return nil, err
				}
			}
			v, _ := m.(*types.Map).Get(k)
			return v, nil
		}}, nil
	}
	hint := ""
	if base.Type.Kind == types.KindStruct {
		hint = " Use the dereference operator for STRUCTS: " + parser.FormatExpr(e.Base) + "->" + parser.FormatExpr(e.Index)
	}
	return nil, errAt(sqlerr.Type, e, "Subscript expression (%s) do not apply to %s.%s", parser.FormatExpr(e), base.Type, hint)
}

// ResolveType resolves a type expression, including custom types.
func (c *Compiler) ResolveType(te *parser.TypeExpr) (*types.Type, error) {
	return ResolveType(te, c.Types)
}

// ResolveType resolves a type expression; custom names are looked up with lookup (which may be nil).
func ResolveType(te *parser.TypeExpr, lookup TypeResolver) (*types.Type, error) {
	switch te.Base {
	case "BOOLEAN":
		return types.Boolean, nil
	case "INT", "INTEGER":
		return types.Int, nil
	case "BIGINT":
		return types.Bigint, nil
	case "DOUBLE":
		return types.Double, nil
	case "STRING", "VARCHAR":
		return types.String, nil
	case "BYTES":
		return types.Bytes, nil
	case "DATE":
		return types.Date, nil
	case "TIME":
		return types.Time, nil
	case "TIMESTAMP":
		return types.Timestamp, nil
	case "DECIMAL":
		p, s := te.Params[0], te.Params[1]
		// Like ksqlDB's DecimalUtil, a declared DECIMAL needs a positive precision and a scale within it;
		// MaxDecimalPrecision bounds only the types that arithmetic derives.
		if p < 1 {
			return nil, sqlerr.New(sqlerr.Type, te.P, "DECIMAL precision must be >= 1: DECIMAL(%d, %d)", p, te.Params[1])
		}
		if s < 0 || s > p {
			return nil, sqlerr.New(sqlerr.Type, te.P, "DECIMAL scale must be between 0 and precision (%d): %d", p, s)
		}
		return types.DecimalOf(p, s), nil
	case "ARRAY":
		el, err := ResolveType(te.Elem, lookup)
		if err != nil {
			return nil, err
		}
		return types.ArrayOf(el), nil
	case "MAP":
		k, err := ResolveType(te.Key, lookup)
		if err != nil {
			return nil, err
		}
		v, err := ResolveType(te.Elem, lookup)
		if err != nil {
			return nil, err
		}
		return types.MapOf(k, v), nil
	case "STRUCT":
		var fields []types.Field
		for _, f := range te.Fields {
			ft, err := ResolveType(f.Type, lookup)
			if err != nil {
				return nil, err
			}
			fields = append(fields, types.Field{Name: f.Name.Name, Type: ft})
		}
		return types.StructOf(fields...), nil
	}
	if lookup != nil {
		if t, ok := lookup(te.Base); ok {
			return t, nil
		}
	}
	return nil, sqlerr.New(sqlerr.UnknownType, te.P, "Unknown type: %s", te.Base)
}

func (c *Compiler) cast(e *parser.Cast) (*Compiled, error) {
	x, err := c.Compile(e.Expr)
	if err != nil {
		return nil, err
	}
	t, err := c.ResolveType(e.Type)
	if err != nil {
		return nil, err
	}
	conv, cerr := types.Caster(x.Type, t)
	if cerr != nil {
		return nil, errAt(sqlerr.Type, e, "%v", cerr)
	}
	return &Compiled{Type: t, Const: x.Const, Eval: func(row Row) (Value, error) {
		v, err := x.Eval(row)
		if v == nil || err != nil {
			return nil, err
		}
		return conv(v)
	}}, nil
}

// coerce returns a closure evaluating x converted to type t.
func coerce(x *Compiled, t *types.Type) EvalFunc {
	conv := types.Widener(x.Type, t)
	if conv == nil {
		return x.Eval
	}
	return func(row Row) (Value, error) {
		v, err := x.Eval(row)
		if v == nil || err != nil {
			return nil, err
		}
		return conv(v)
	}
}

func (c *Compiler) caseExpr(e *parser.Case) (*Compiled, error) {
	var operand *Compiled
	if e.Operand != nil {
		var err error
		if operand, err = c.Compile(e.Operand); err != nil {
			return nil, err
		}
	}
	conds := make([]*Compiled, len(e.Whens))
	results := make([]*Compiled, len(e.Whens))
	var rt *types.Type = types.Null
	for i, w := range e.Whens {
		cond, err := c.Compile(w.Cond)
		if err != nil {
			return nil, err
		}
		if operand == nil && cond.Type.Kind != types.KindBoolean && cond.Type.Kind != types.KindNull {
			return nil, errAt(sqlerr.Type, w.Cond, "WHEN operand type should be boolean.\nType for '%s' is %s",
				parser.FormatExpr(w.Cond), cond.Type)
		}
		if operand != nil {
			if _, err := comparable(operand.Type, cond.Type); err != nil {
				return nil, errAt(sqlerr.Type, w.Cond, "%v", err)
			}
		}
		res, err := c.Compile(w.Result)
		if err != nil {
			return nil, err
		}
		nt := types.CommonType(rt, res.Type)
		if nt == nil {
			// ksqlDB quotes the whole WHEN clause, and puts each part of the message on its own line.
			return nil, errAt(sqlerr.Type, w.Result, "Invalid Case expression. Type for all 'THEN' clauses should be the same.\nTHEN expression 'WHEN %s THEN %s' has type: %s.\nPrevious THEN expression(s) type: %s.",
				parser.FormatExpr(w.Cond), parser.FormatExpr(w.Result), res.Type, rt)
		}
		rt = nt
		conds[i], results[i] = cond, res
	}
	var elseC *Compiled
	if e.Else != nil {
		var err error
		if elseC, err = c.Compile(e.Else); err != nil {
			return nil, err
		}
		nt := types.CommonType(rt, elseC.Type)
		if nt == nil {
			return nil, errAt(sqlerr.Type, e.Else, "Invalid Case expression. Type for the default clause should be the same as for 'THEN' clauses.\nTHEN type: %s.\nDEFAULT type: %s.", rt, elseC.Type)
		}
		rt = nt
	}
	if rt.Kind == types.KindNull {
		return nil, errAt(sqlerr.Type, e, "Invalid Case expression. All case branches have NULL type")
	}
	resEvals := make([]EvalFunc, len(results))
	for i, r := range results {
		resEvals[i] = coerce(r, rt)
	}
	var elseEval EvalFunc
	if elseC != nil {
		elseEval = coerce(elseC, rt)
	}
	return &Compiled{Type: rt, Eval: func(row Row) (Value, error) {
		var ov Value
		if operand != nil {
			var err error
			if ov, err = operand.Eval(row); err != nil {
				return nil, err
			}
		}
		for i, cond := range conds {
			cv, err := cond.Eval(row)
			if err != nil {
				return nil, err
			}
			match := false
			if operand != nil {
				match = ov != nil && cv != nil && types.Equal(ov, cv)
			} else {
				match = types.IsTrue(cv)
			}
			if match {
				return resEvals[i](row)
			}
		}
		if elseEval != nil {
			return elseEval(row)
		}
		return nil, nil
	}}, nil
}

// comparable checks that two types can be compared and returns the type both sides are converted to.
func comparable(a, b *types.Type) (*types.Type, error) {
	if ct := types.CommonType(a, b); ct != nil {
		return ct, nil
	}
	switch {
	case a.Kind == types.KindString && (b.Kind == types.KindTimestamp || b.Kind == types.KindDate || b.Kind == types.KindTime):
		return b, nil
	case b.Kind == types.KindString && (a.Kind == types.KindTimestamp || a.Kind == types.KindDate || a.Kind == types.KindTime):
		return a, nil
	case (a.Kind == types.KindTimestamp && b.Kind == types.KindDate) || (a.Kind == types.KindDate && b.Kind == types.KindTimestamp):
		return types.Timestamp, nil
	}
	return nil, fmt.Errorf("Cannot compare %s to %s", a, b)
}

func (c *Compiler) binary(e *parser.Binary) (*Compiled, error) {
	if e.Op == parser.OpConcat {
		// ksqlDB's parser turns a || b into CONCAT(a, b): the function's overloads (STRING or BYTES), its
		// errors, and its NULL handling (a NULL operand is skipped).
		return c.Compile(&parser.FuncCall{P: e.P, Name: parser.Ident{P: e.P, Name: "CONCAT"}, Args: []parser.Expr{e.L, e.R}})
	}
	l, err := c.Compile(e.L)
	if err != nil {
		return nil, err
	}
	r, err := c.Compile(e.R)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case parser.OpAnd, parser.OpOr:
		for _, x := range []struct {
			c *Compiled
			e parser.Expr
		}{{l, e.L}, {r, e.R}} {
			if x.c.Type.Kind != types.KindBoolean && x.c.Type.Kind != types.KindNull {
				return nil, errAt(sqlerr.Type, x.e, "Logical binary expects two boolean values.  Actual %s (%s) and %s (%s)",
					parser.FormatExpr(e.L), l.Type, parser.FormatExpr(e.R), r.Type)
			}
		}
		return logical(e.Op == parser.OpAnd, l, r), nil
	case parser.OpIsDistinct, parser.OpIsNotDistinct, parser.OpEq, parser.OpNeq, parser.OpLt, parser.OpLte, parser.OpGt, parser.OpGte:
		return compare(e, l, r)
	}
	return arithmetic(e, l, r)
}

// logical is AND or OR as ksqlDB evaluates them, Java's && and || on boxed Booleans rather than SQL's
// three-valued logic: the left operand alone decides when it is false (AND) or true (OR), and the right
// one is not evaluated; otherwise the result is the right operand. A NULL operand that has to be read
// is an error (ksqlDB fails to unbox it): the expression's value is NULL, and the record's error goes
// to the processing log. So NULL AND FALSE is NULL, where SQL has FALSE, and FALSE AND NULL is FALSE.
func logical(and bool, l, r *Compiled) *Compiled {
	op := "OR"
	if and {
		op = "AND"
	}
	operand := func(x *Compiled, row Row) (bool, error) {
		v, err := x.Eval(row)
		if err != nil {
			return false, err
		}
		if v == nil {
			return false, fmt.Errorf("%s of a NULL value", op)
		}
		return v.(bool), nil
	}
	return &Compiled{Type: types.Boolean, Const: l.Const && r.Const, Eval: func(row Row) (Value, error) {
		a, err := operand(l, row)
		if err != nil {
			return nil, err
		}
		if a != and {
			return a, nil
		}
		b, err := operand(r, row)
		if err != nil {
			return nil, err
		}
		return b, nil
	}}
}

var opNames = map[parser.BinaryOp]string{parser.OpEq: "EQUAL", parser.OpNeq: "NOT_EQUAL", parser.OpLt: "LESS_THAN",
	parser.OpLte: "LESS_THAN_OR_EQUAL", parser.OpGt: "GREATER_THAN", parser.OpGte: "GREATER_THAN_OR_EQUAL",
	parser.OpIsDistinct: "IS_DISTINCT_FROM", parser.OpIsNotDistinct: "IS_NOT_DISTINCT_FROM"}

func compare(e *parser.Binary, l, r *Compiled) (*Compiled, error) {
	if (l.Type.Kind == types.KindNull || r.Type.Kind == types.KindNull) && e.Op != parser.OpIsDistinct && e.Op != parser.OpIsNotDistinct {
		// As ksqlDB: the operands' types, then the way out.
		typeName := func(t *types.Type) string {
			if t.Kind == types.KindNull {
				return "NULL"
			}
			return t.String()
		}
		return nil, errAt(sqlerr.Type, e, "Comparison with NULL not supported: %s %s %s\nUse 'IS NULL' or 'IS NOT NULL' instead.",
			typeName(l.Type), e.Op, typeName(r.Type))
	}
	ct, err := comparable(l.Type, r.Type)
	if err != nil {
		return nil, errAt(sqlerr.Type, e, "Cannot compare %s (%s) to %s (%s) with %s.", parser.FormatExpr(e.L), l.Type,
			parser.FormatExpr(e.R), r.Type, opNames[e.Op])
	}
	if !ct.IsPrimitive() && e.Op != parser.OpEq && e.Op != parser.OpNeq && e.Op != parser.OpIsDistinct && e.Op != parser.OpIsNotDistinct {
		return nil, errAt(sqlerr.Type, e, "Cannot compare %s (%s) to %s (%s) with %s.", parser.FormatExpr(e.L), l.Type,
			parser.FormatExpr(e.R), r.Type, opNames[e.Op])
	}
	le, re := coerceCmp(l, ct), coerceCmp(r, ct)
	op := e.Op
	return &Compiled{Type: types.Boolean, Const: l.Const && r.Const, Eval: func(row Row) (Value, error) {
		a, err := le(row)
		if err != nil {
			return nil, err
		}
		b, err := re(row)
		if err != nil {
			return nil, err
		}
		switch op {
		case parser.OpIsDistinct:
			return !types.Equal(a, b), nil
		case parser.OpIsNotDistinct:
			return types.Equal(a, b), nil
		}
		if a == nil || b == nil {
			// ksqlDB's comparisons are two-valued: any comparison with NULL is false, so NOT (x = NULL)
			// holds.
			return false, nil
		}
		c, ok := types.Compare(a, b)
		if !ok {
			return nil, fmt.Errorf("cannot compare %v and %v", a, b)
		}
		switch op {
		case parser.OpEq:
			return c == 0, nil
		case parser.OpNeq:
			return c != 0, nil
		case parser.OpLt:
			return c < 0, nil
		case parser.OpLte:
			return c <= 0, nil
		case parser.OpGt:
			return c > 0, nil
		}
		return c >= 0, nil
	}}, nil
}

// coerceCmp converts strings compared with temporal values; numbers compare across kinds natively.
func coerceCmp(x *Compiled, ct *types.Type) EvalFunc {
	if x.Type.Kind == types.KindString && ct.Kind != types.KindString {
		conv, err := types.Caster(types.String, ct)
		if err == nil {
			return func(row Row) (Value, error) {
				v, err := x.Eval(row)
				if v == nil || err != nil {
					return nil, err
				}
				return conv(v)
			}
		}
	}
	if x.Type.Kind == types.KindDate && ct.Kind == types.KindTimestamp {
		return coerce(x, ct)
	}
	return x.Eval
}

var nullLiteral = regexp.MustCompile(`\bNULL\b`)

// MessageText renders an expression the way ksqlDB's error messages quote it: parenthesized binaries,
// the NULL literal in lower case.
func MessageText(e parser.Expr) string {
	return nullLiteral.ReplaceAllString(parser.FormatExpr(e), "null")
}

func arithmetic(e *parser.Binary, l, r *Compiled) (*Compiled, error) {
	var op types.ArithOp
	switch e.Op {
	case parser.OpAdd:
		op = types.Add
	case parser.OpSub:
		op = types.Sub
	case parser.OpMul:
		op = types.Mul
	case parser.OpDiv:
		op = types.Div
	case parser.OpMod:
		op = types.Mod
	}
	lt, rt := l.Type, r.Type
	if lt.Kind == types.KindNull || rt.Kind == types.KindNull {
		// As ksqlDB: an untyped NULL has no arithmetic (CAST(NULL AS INT) has).
		ln, rn := lt.String(), rt.String()
		if lt.Kind == types.KindNull {
			ln = "null"
		}
		if rt.Kind == types.KindNull {
			rn = "null"
		}
		return nil, sqlerr.New(sqlerr.Type, e.P, "Error processing expression: %s. Arithmetic on types %s and %s are not supported.", MessageText(e), ln, rn)
	}
	if lt.Kind == types.KindNull {
		lt = rt
	}
	if rt.Kind == types.KindNull {
		rt = lt
	}
	if lt.Kind == types.KindNull {
		lt, rt = types.Int, types.Int
	}
	// STRING + STRING is concatenation in ksqlDB.
	if op == types.Add && lt.Kind == types.KindString && rt.Kind == types.KindString {
		return &Compiled{Type: types.String, Const: l.Const && r.Const, Eval: func(row Row) (Value, error) {
			a, err := l.Eval(row)
			if a == nil || err != nil {
				return nil, err
			}
			b, err := r.Eval(row)
			if b == nil || err != nil {
				return nil, err
			}
			return a.(string) + b.(string), nil
		}}, nil
	}
	t := types.ArithResult(op, lt, rt)
	if t == nil {
		return nil, errAt(sqlerr.Type, e, "Error processing expression: %s. Unsupported arithmetic types. %s %s",
			parser.FormatExpr(e), l.Type, r.Type)
	}
	le, re := coerce(l, operandType(t, lt)), coerce(r, operandType(t, rt))
	isInt := func(t *types.Type) bool { return t.Kind == types.KindInt || t.Kind == types.KindBigint }
	if t.Kind == types.KindDecimal && isInt(lt) != isInt(rt) && (lt.Kind == types.KindDecimal || rt.Kind == types.KindDecimal) {
		dec := re
		if isInt(rt) {
			dec = le
		}
		return &Compiled{Type: t, Const: l.Const && r.Const, Eval: decimalIntArith(op, t, l, r, dec, isInt(lt))}, nil
	}
	fn := ArithFunc(op, t)
	return &Compiled{Type: t, Const: l.Const && r.Const, Eval: func(row Row) (Value, error) {
		a, err := le(row)
		if a == nil || err != nil {
			return nil, err
		}
		b, err := re(row)
		if b == nil || err != nil {
			return nil, err
		}
		return fn(a, b)
	}}, nil
}

// operandType is the type an operand is converted to before an operation with result type t.
func operandType(t, operand *types.Type) *types.Type {
	if t.Kind == types.KindDecimal && operand.Kind == types.KindDecimal {
		return operand
	}
	if t.Kind == types.KindDecimal {
		if operand.Kind == types.KindInt {
			return types.DecimalOf(10, 0)
		}
		return types.DecimalOf(19, 0)
	}
	return t
}

// intArith is ArithFunc for INT and BIGINT: Java's wrapping arithmetic, with the operator chosen once
// rather than per record. minValue / -1 overflows back to minValue, and x % -1 is 0, as in Java.
func intArith[T int32 | int64](op types.ArithOp, minValue T) func(a, b Value) (Value, error) {
	switch op {
	case types.Add:
		return func(a, b Value) (Value, error) { return a.(T) + b.(T), nil }
	case types.Sub:
		return func(a, b Value) (Value, error) { return a.(T) - b.(T), nil }
	case types.Mul:
		return func(a, b Value) (Value, error) { return a.(T) * b.(T), nil }
	case types.Div:
		return func(a, b Value) (Value, error) {
			x, y := a.(T), b.(T)
			if y == 0 {
				return nil, fmt.Errorf("/ by zero")
			}
			if x == minValue && y == -1 {
				return x, nil
			}
			return x / y, nil
		}
	}
	return func(a, b Value) (Value, error) {
		x, y := a.(T), b.(T)
		if y == 0 {
			return nil, fmt.Errorf("/ by zero")
		}
		if y == -1 {
			return T(0), nil
		}
		return x % y, nil
	}
}

// ArithFunc returns the function computing op for operands already converted to the operand kind of result
// type t. Integer arithmetic wraps around like Java's; integer division by zero is an error; DOUBLE
// follows IEEE 754.
func ArithFunc(op types.ArithOp, t *types.Type) func(a, b Value) (Value, error) {
	switch t.Kind {
	case types.KindInt:
		return intArith[int32](op, math.MinInt32)
	case types.KindBigint:
		return intArith[int64](op, math.MinInt64)
	case types.KindDouble:
		return func(a, b Value) (Value, error) {
			x, y := a.(float64), b.(float64)
			switch op {
			case types.Add:
				return x + y, nil
			case types.Sub:
				return x - y, nil
			case types.Mul:
				return x * y, nil
			case types.Div:
				return x / y, nil
			}
			return math.Mod(x, y), nil
		}
	}
	return func(a, b Value) (Value, error) {
		return decimalArith(op, t, a.(*apd.Decimal), b.(*apd.Decimal))
	}
}

// decimalArith computes x op y for a result of DECIMAL type t. It keeps neither operand, so an
// operand may live on the caller's stack.
func decimalArith(op types.ArithOp, t *types.Type, x, y *apd.Decimal) (Value, error) {
	var r *apd.Decimal
	var err error
	switch op {
	case types.Add:
		r, err = types.DecimalAdd(x, y)
	case types.Sub:
		r, err = types.DecimalSub(x, y)
	case types.Mul:
		r, err = types.DecimalMul(x, y)
	case types.Div:
		r, err = types.DecimalDiv(x, y, t.Scale)
	default:
		r, err = types.DecimalRem(x, y)
	}
	if err != nil {
		return nil, err
	}
	return types.RoundDecimal(r, t.Precision, t.Scale)
}

// decimalIntArith is the DECIMAL arithmetic of a decimal and an INT or BIGINT operand (the left
// one when intLeft): the integer is made a decimal on the stack, where converting it to its DECIMAL
// operand type (DECIMAL(10, 0) or DECIMAL(19, 0), which hold any INT or BIGINT) would allocate it.
// dec is the decimal operand's conversion to its operand type.
func decimalIntArith(op types.ArithOp, t *types.Type, l, r *Compiled, dec EvalFunc, intLeft bool) EvalFunc {
	return func(row Row) (Value, error) {
		var a, b Value
		var err error
		if intLeft {
			a, err = l.Eval(row)
		} else {
			a, err = dec(row)
		}
		if a == nil || err != nil {
			return nil, err
		}
		if intLeft {
			b, err = dec(row)
		} else {
			b, err = r.Eval(row)
		}
		if b == nil || err != nil {
			return nil, err
		}
		var n apd.Decimal
		if intLeft {
			n.SetInt64(integer(a))
			return decimalArith(op, t, &n, b.(*apd.Decimal))
		}
		n.SetInt64(integer(b))
		return decimalArith(op, t, a.(*apd.Decimal), &n)
	}
}

// integer is the value of an INT or BIGINT.
func integer(v Value) int64 {
	if i, ok := v.(int32); ok {
		return int64(i)
	}
	return v.(int64)
}

func (c *Compiler) unary(e *parser.Unary) (*Compiled, error) {
	x, err := c.Compile(e.X)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case parser.OpNot:
		if x.Type.Kind != types.KindBoolean && x.Type.Kind != types.KindNull {
			return nil, errAt(sqlerr.Type, e, "NOT expects a boolean value, got %s", x.Type)
		}
		// As ksqlDB, which unboxes the operand: NOT NULL is an error, so NULL with a processing-log entry.
		return &Compiled{Type: types.Boolean, Const: x.Const, Eval: func(row Row) (Value, error) {
			v, err := x.Eval(row)
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, errors.New("NOT of a NULL value")
			}
			return !v.(bool), nil
		}}, nil
	case parser.OpPlus:
		if !x.Type.IsNumeric() {
			return nil, errAt(sqlerr.Type, e, "Unary + expects a numeric value, got %s", x.Type)
		}
		return x, nil
	}
	if !x.Type.IsNumeric() {
		return nil, errAt(sqlerr.Type, e, "Unary - expects a numeric value, got %s", x.Type)
	}
	return &Compiled{Type: x.Type, Const: x.Const, Eval: func(row Row) (Value, error) {
		v, err := x.Eval(row)
		if v == nil || err != nil {
			return nil, err
		}
		switch n := v.(type) {
		case int32:
			return -n, nil
		case int64:
			return -n, nil
		case float64:
			return -n, nil
		case *apd.Decimal:
			return types.DecimalNeg(n), nil
		}
		return nil, fmt.Errorf("cannot negate %T", v)
	}}, nil
}

func (c *Compiler) between(e *parser.Between) (*Compiled, error) {
	x, err := c.Compile(e.X)
	if err != nil {
		return nil, err
	}
	lo, err := c.Compile(e.Lo)
	if err != nil {
		return nil, err
	}
	hi, err := c.Compile(e.Hi)
	if err != nil {
		return nil, err
	}
	for _, b := range []*Compiled{lo, hi} {
		if _, err := comparable(x.Type, b.Type); err != nil {
			return nil, errAt(sqlerr.Type, e, "Cannot compare %s (%s) with BETWEEN bound of type %s", parser.FormatExpr(e.X), x.Type, b.Type)
		}
	}
	ct, _ := comparable(x.Type, lo.Type)
	xe, le, he := coerceCmp(x, ct), coerceCmp(lo, ct), coerceCmp(hi, ct)
	not := e.Not
	// ksqlDB compiles x BETWEEN lo AND hi to (x >= lo AND x <= hi) with its two-valued comparisons: a NULL
	// operand makes it false (and NOT BETWEEN, the negation of that, true).
	return &Compiled{Type: types.Boolean, Eval: func(row Row) (Value, error) {
		v, err := xe(row)
		if err != nil {
			return nil, err
		}
		l, err := le(row)
		if err != nil {
			return nil, err
		}
		h, err := he(row)
		if err != nil {
			return nil, err
		}
		if v == nil || l == nil || h == nil {
			return not, nil
		}
		c1, _ := types.Compare(v, l)
		c2, _ := types.Compare(v, h)
		return (c1 >= 0 && c2 <= 0) != not, nil
	}}, nil
}

func (c *Compiler) inList(e *parser.InList) (*Compiled, error) {
	x, err := c.Compile(e.X)
	if err != nil {
		return nil, err
	}
	list := []typed{{e.X, x}}
	for _, it := range e.List {
		ic, err := c.Compile(it)
		if err != nil {
			return nil, err
		}
		list = append(list, typed{it, ic})
	}
	common, at, err := c.commonListType(list)
	if err != nil {
		return nil, errAt(sqlerr.Type, at, "Invalid Predicate: %s", err)
	}
	if common == nil {
		common = types.Null
	}
	evals := make([]EvalFunc, len(list))
	for i, it := range list {
		if evals[i], err = toListType(it, common); err != nil {
			return nil, errAt(sqlerr.Type, it.e, "Invalid Predicate: %s", err)
		}
	}
	xe, items := evals[0], evals[1:]
	not := e.Not
	// ksqlDB's IN is two-valued (InListEvaluator): a NULL never matches anything, so a NULL value or a
	// list of NULLs gives false, never NULL (and NOT IN true).
	return &Compiled{Type: types.Boolean, Eval: func(row Row) (Value, error) {
		v, err := xe(row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return not, nil
		}
		for _, it := range items {
			iv, err := it(row)
			if err != nil {
				return nil, err
			}
			if iv != nil && types.Equal(v, iv) {
				return !not, nil
			}
		}
		return not, nil
	}}, nil
}

func (c *Compiler) like(e *parser.Like) (*Compiled, error) {
	x, err := c.Compile(e.X)
	if err != nil {
		return nil, err
	}
	pat, err := c.Compile(e.Pattern)
	if err != nil {
		return nil, err
	}
	if (x.Type.Kind != types.KindString && x.Type.Kind != types.KindNull) || (pat.Type.Kind != types.KindString && pat.Type.Kind != types.KindNull) {
		return nil, errAt(sqlerr.Type, e, "LIKE operands must be STRING, got %s and %s", x.Type, pat.Type)
	}
	var esc rune
	if e.Escape != "" {
		esc = []rune(e.Escape)[0]
	}
	not := e.Not
	// ksqlDB matches through a Java regular expression made from the pattern, so the same things fail:
	// a NULL value or pattern (not unboxed) and a pattern ending in its escape character are errors,
	// NULL with a processing-log entry; and, as Java's '.', neither % nor _ matches a line terminator.
	var fixed func(string) bool
	var fixedErr error
	if pat.Const {
		pv, _ := pat.Eval(nil)
		if pv != nil {
			fixed, fixedErr = likeMatcher(pv.(string), esc)
		}
	}
	return &Compiled{Type: types.Boolean, Eval: func(row Row) (Value, error) {
		v, err := x.Eval(row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, errors.New("LIKE of a NULL value")
		}
		m := fixed
		if m == nil {
			if fixedErr != nil {
				return nil, fixedErr
			}
			pv, err := pat.Eval(row)
			if err != nil {
				return nil, err
			}
			if pv == nil {
				return nil, errors.New("LIKE with a NULL pattern")
			}
			if m, err = likeMatcher(pv.(string), esc); err != nil {
				return nil, err
			}
		}
		return m(v.(string)) != not, nil
	}}, nil
}

// likeMatcher compiles a LIKE pattern: % matches any sequence, _ any single character, neither of them
// a line terminator (as Java's '.': \n, \r, U+0085, U+2028, U+2029); esc (if not 0) makes the next
// character a literal, and may not end the pattern.
func likeMatcher(pattern string, esc rune) (func(string) bool, error) {
	var toks []likeTok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case esc != 0 && r == esc:
			if i+1 == len(rs) {
				return nil, errors.New("LIKE pattern must not end with escape character")
			}
			i++
			toks = append(toks, likeTok{'l', rs[i]})
		case r == '%':
			toks = append(toks, likeTok{'%', 0})
		case r == '_':
			toks = append(toks, likeTok{'_', 0})
		default:
			toks = append(toks, likeTok{'l', r})
		}
	}
	return func(s string) bool {
		in := []rune(s)
		if slices.ContainsFunc(in, lineTerminator) {
			return likeLines(toks, in)
		}
		// Iterative wildcard matching with backtracking to the last %.
		ti, si, star, mark := 0, 0, -1, 0
		for si < len(in) {
			switch {
			case ti < len(toks) && (toks[ti].kind == '_' || (toks[ti].kind == 'l' && toks[ti].r == in[si])):
				ti++
				si++
			case ti < len(toks) && toks[ti].kind == '%':
				star, mark = ti, si
				ti++
			case star >= 0:
				ti = star + 1
				mark++
				si = mark
			default:
				return false
			}
		}
		for ti < len(toks) && toks[ti].kind == '%' {
			ti++
		}
		return ti == len(toks)
	}, nil
}

// likeTok is one element of a compiled LIKE pattern.
type likeTok struct {
	kind byte // 'l' literal, '%', '_'
	r    rune
}

// likeLines matches a string holding line terminators, which % and _ do not match (only a literal
// does), by dynamic programming over the pattern and the string: backtracking to the last % alone, as
// the general matcher does, is not enough once a % cannot reach every position.
func likeLines(toks []likeTok, in []rune) bool {
	// ok[si] says whether the tokens so far match in[:si].
	ok := make([]bool, len(in)+1)
	next := make([]bool, len(in)+1)
	ok[0] = true
	for _, t := range toks {
		clear(next)
		for si := 0; si <= len(in); si++ {
			switch t.kind {
			case '%':
				next[si] = ok[si] || si > 0 && next[si-1] && !lineTerminator(in[si-1])
			case '_':
				next[si] = si > 0 && ok[si-1] && !lineTerminator(in[si-1])
			default:
				next[si] = si > 0 && ok[si-1] && in[si-1] == t.r
			}
		}
		ok, next = next, ok
	}
	return ok[len(in)]
}

// lineTerminator says whether Java's regular expressions (without DOTALL or UNIX_LINES) take r for the
// end of a line, which '.' does not match.
func lineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

func (c *Compiler) array(e *parser.ArrayConstructor) (*Compiled, error) {
	if len(e.Elems) == 0 {
		return nil, errAt(sqlerr.Type, e, "Array constructor cannot be empty. Please supply at least one element (see https://github.com/confluentinc/ksql/issues/4239).")
	}
	et, evals, err := c.userList(e.Elems)
	if err != nil {
		return nil, err
	}
	if et == nil {
		return nil, errAt(sqlerr.Type, e, "Cannot construct an array with all NULL elements (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.")
	}
	return &Compiled{Type: types.ArrayOf(et), Eval: func(row Row) (Value, error) {
		out := make([]Value, len(evals))
		for i, ev := range evals {
			v, err := ev(row)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}}, nil
}

func (c *Compiler) mapCons(e *parser.MapConstructor) (*Compiled, error) {
	if len(e.Keys) == 0 {
		return nil, errAt(sqlerr.Type, e, "Map constructor cannot be empty. Please supply at least one key value pair (see https://github.com/confluentinc/ksql/issues/4239).")
	}
	kt, kevals, err := c.userList(e.Keys)
	if err != nil {
		return nil, err
	}
	vt, vevals, err := c.userList(e.Vals)
	if err != nil {
		return nil, err
	}
	if kt == nil {
		return nil, errAt(sqlerr.Type, e, "Cannot construct a map with all NULL keys (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL key to the desired type.")
	}
	if vt == nil {
		return nil, errAt(sqlerr.Type, e, "Cannot construct a map with all NULL values (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.")
	}
	return &Compiled{Type: types.MapOf(kt, vt), Eval: func(row Row) (Value, error) {
		ks, vs := make([]Value, 0, len(kevals)), make([]Value, 0, len(vevals))
		for i := range kevals {
			k, err := kevals[i](row)
			if err != nil {
				return nil, err
			}
			v, err := vevals[i](row)
			if err != nil {
				return nil, err
			}
			ks, vs = append(ks, k), append(vs, v)
		}
		return types.NewMap(ks, vs), nil
	}}, nil
}

func (c *Compiler) structCons(e *parser.StructConstructor) (*Compiled, error) {
	fields := make([]types.Field, len(e.Names))
	evals := make([]EvalFunc, len(e.Names))
	seen := map[string]bool{}
	for i, n := range e.Names {
		if seen[n.Name] {
			return nil, errAt(sqlerr.Semantic, e, "Duplicate field names found in STRUCT: '%s'", n.Name)
		}
		seen[n.Name] = true
		v, err := c.Compile(e.Values[i])
		if err != nil {
			return nil, err
		}
		t := v.Type
		if t.Kind == types.KindNull {
			t = types.String
		}
		fields[i] = types.Field{Name: n.Name, Type: t}
		evals[i] = v.Eval
	}
	return &Compiled{Type: types.StructOf(fields...), Eval: func(row Row) (Value, error) {
		out := &types.Struct{Vals: make([]Value, len(evals))}
		for i, ev := range evals {
			v, err := ev(row)
			if err != nil {
				return nil, err
			}
			out.Vals[i] = v
		}
		return out, nil
	}}, nil
}

// withPos returns a function's resolution error positioned at the call.
func withPos(err error, pos sqlerr.Pos) error {
	se, ok := err.(*sqlerr.Error)
	if !ok {
		se = sqlerr.New(sqlerr.InvalidArguments, pos, "%v", err)
	}
	cp := *se
	cp.Pos = pos
	return &cp
}

// call compiles a scalar function call. Aggregate and table function calls must have been replaced (via
// Substitute) by the analyzer; reaching one here is an error in the clause it appears in.
func (c *Compiler) call(e *parser.FuncCall) (*Compiled, error) {
	name := e.Name.Name
	fn, ok := c.Funcs.Scalar(name)
	if !ok {
		if _, isAgg := c.Funcs.Aggregate(name); isAgg {
			return nil, errAt(sqlerr.Semantic, e, "Aggregate functions can not be used here: %s", name)
		}
		if _, isTable := c.Funcs.Table(name); isTable {
			return nil, errAt(sqlerr.Semantic, e, "Table functions can not be used here: %s", name)
		}
		return nil, errAt(sqlerr.UnknownFunction, e, "Can't find any functions with the name '%s'", name)
	}
	// A scalar function called with * is a call without arguments, as in ksqlDB: e.Args is empty.
	argTypes := make([]*types.Type, len(e.Args))
	evals := make([]EvalFunc, len(e.Args))
	isConst := true
	for i, a := range e.Args {
		switch a := a.(type) {
		case *parser.Lambda:
			cands, err := fn.LambdaInputs(argTypes[:i], i, len(e.Args))
			if err != nil {
				return nil, withPos(err, e.P)
			}
			var pts []*types.Type
			for _, in := range cands {
				if len(in) == len(a.Params) {
					pts = in
					break
				}
			}
			if pts == nil {
				return nil, errAt(sqlerr.InvalidArguments, a, "Was expecting %d arguments to lambda function, got %d", len(cands[0]), len(a.Params))
			}
			body, ev, err := c.lambda(a, pts)
			if err != nil {
				return nil, err
			}
			argTypes[i] = function.LambdaOf(body, pts...)
			evals[i] = ev
			isConst = false
		case *parser.IntervalUnit:
			unit := a.Unit
			argTypes[i] = types.Interval
			evals[i] = func(Row) (Value, error) { return unit, nil }
		default:
			ce, err := c.Compile(a)
			if err != nil {
				return nil, err
			}
			argTypes[i], evals[i] = ce.Type, ce.Eval
			isConst = isConst && ce.Const
		}
	}
	rt, impl, err := fn.Resolve(argTypes)
	if err != nil {
		return nil, withPos(err, e.P)
	}
	_ = isConst // functions such as RANDOM and UUID are not constant even for constant arguments
	return &Compiled{Type: rt, Eval: func(row Row) (Value, error) {
		args := make([]Value, len(evals))
		for i, ev := range evals {
			v, err := ev(row)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		v, err := impl(args)
		if err != nil {
			// As in ksqlDB, a function that fails on a record yields NULL for the call, and the rest of
			// the expression (an enclosing IFNULL, the other elements of an ARRAY) goes on.
			return nil, nil
		}
		return v, nil
	}}, nil
}

// lambda compiles a lambda body with its parameters bound past the end of the row, and returns an
// EvalFunc producing a function.Lambda bound to the row it is evaluated on.
func (c *Compiler) lambda(l *parser.Lambda, paramTypes []*types.Type) (*types.Type, EvalFunc, error) {
	base := len(c.Scope.Columns) + len(c.lambdas)
	saved := c.lambdas
	for i, p := range l.Params {
		c.lambdas = append(c.lambdas, lambdaVar{name: p.Name, idx: base + i, t: paramTypes[i]})
	}
	body, err := c.Compile(l.Body)
	c.lambdas = saved
	if err != nil {
		return nil, nil, err
	}
	n := len(l.Params)
	return body.Type, func(row Row) (Value, error) {
		return function.Lambda(func(args ...Value) (Value, error) {
			ext := make(Row, base+n)
			copy(ext, row)
			copy(ext[base:], args)
			return body.Eval(ext)
		}), nil
	}, nil
}
