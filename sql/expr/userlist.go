package expr

import (
	"strings"

	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// User-supplied expression lists (the operand and items of an IN predicate) are brought to one common type
// the way ksqlDB does it: the common type is folded left to right over the list; a literal may be coerced
// more freely than another expression (a string literal to a number or BOOLEAN when its text parses as one,
// any primitive literal to STRING); ARRAY, MAP and STRUCT constructors are resolved element by element, so
// ARRAY['1', NULL] fits ARRAY<BIGINT> and STRUCT(A := 1) fits STRUCT<A BIGINT, B BIGINT> (a struct's common
// type is the union of the fields). Every item is then converted to the common type: literals at compile
// time, other expressions as by CAST.

// listErr is a failure to find a common type. mismatch distinguishes "operator does not exist" failures,
// which an enclosing constructor reports as its own mismatch, from unparsable string literals, which surface
// as they are.
type listErr struct {
	msg      string
	mismatch bool
}

func (e *listErr) Error() string { return e.msg }

func mismatchErr(e parser.Expr, source, target *types.Type) *listErr {
	text := parser.FormatExpr(e)
	if l, ok := e.(*parser.Literal); ok && l.Kind == parser.LitBoolean {
		text = strings.ToLower(text)
	}
	return &listErr{mismatch: true, msg: "operator does not exist: " + target.String() + " = " + source.String() +
		" (" + text + ")\nHint: You might need to add explicit type casts."}
}

func syntaxErrFor(value string, target *types.Type) *listErr {
	return &listErr{msg: "invalid input syntax for type " + baseTypeName(target) + ": \"" + value + "\"."}
}

// baseTypeName is the type's name without parameters: DECIMAL for DECIMAL(4, 2).
func baseTypeName(t *types.Type) string {
	s := t.String()
	if i := strings.IndexAny(s, "(<"); i >= 0 {
		s = s[:i]
	}
	return s
}

// typed is an expression of a user list with its static type (types.Null for the NULL literal).
type typed struct {
	e parser.Expr
	c *Compiled
}

// commonListType folds the common type over items. It returns nil when every item is the NULL literal.
// On failure it returns the *listErr and the top-level item at fault.
func (c *Compiler) commonListType(items []typed) (*types.Type, parser.Expr, error) {
	var common *types.Type
	for _, it := range items {
		var err error
		if common, err = c.resolveListItem(it.e, it.c.Type, common); err != nil {
			return nil, it.e, err
		}
	}
	return common, nil, nil
}

func (c *Compiler) resolveListItem(e parser.Expr, t, common *types.Type) (*types.Type, error) {
	if common == nil {
		if t.Kind == types.KindNull {
			return nil, nil
		}
		return t, nil
	}
	if t.Kind == types.KindNull {
		return common, nil
	}
	switch x := e.(type) {
	case *parser.ArrayConstructor:
		if common.Kind != types.KindArray {
			return nil, mismatchErr(e, t, common)
		}
		et, err := c.resolveNested(common.Elem, x.Elems)
		if err != nil {
			return nil, wrapMismatch(err, e, t, common)
		}
		return types.ArrayOf(et), nil
	case *parser.MapConstructor:
		if common.Kind != types.KindMap {
			return nil, mismatchErr(e, t, common)
		}
		kt, err := c.resolveNested(common.Key, x.Keys)
		if err != nil {
			return nil, wrapMismatch(err, e, t, common)
		}
		vt, err := c.resolveNested(common.Elem, x.Vals)
		if err != nil {
			return nil, wrapMismatch(err, e, t, common)
		}
		return types.MapOf(kt, vt), nil
	case *parser.StructConstructor:
		if common.Kind != types.KindStruct {
			return nil, mismatchErr(e, t, common)
		}
		st, err := c.resolveStruct(x, common)
		if err != nil {
			return nil, wrapMismatch(err, e, t, common)
		}
		return st, nil
	case *parser.Literal:
		if x.Kind == parser.LitString {
			if common.IsNumeric() {
				nt := stringNumericType(x.Value)
				if nt == nil {
					return nil, syntaxErrFor(x.Value, common)
				}
				return types.CommonType(nt, common), nil
			}
			if common.Kind == types.KindBoolean {
				if _, err := types.ParseBoolean(x.Value); err != nil {
					return nil, syntaxErrFor(x.Value, common)
				}
				return common, nil
			}
		}
	}
	_, lax := e.(*parser.Literal)
	if r := canCoerce(t, common, lax); r != nil {
		return r, nil
	}
	if r := canCoerce(common, t, lax); r != nil {
		return r, nil
	}
	return nil, mismatchErr(e, t, common)
}

func wrapMismatch(err error, e parser.Expr, t, common *types.Type) error {
	if le, ok := err.(*listErr); ok && le.mismatch {
		return mismatchErr(e, t, common)
	}
	return err
}

// resolveNested folds the common type of a constructor's elements, starting from target.
func (c *Compiler) resolveNested(target *types.Type, elems []parser.Expr) (*types.Type, error) {
	common := target
	for _, el := range elems {
		ce, err := c.Compile(el)
		if err != nil {
			return nil, err
		}
		if common, err = c.resolveListItem(el, ce.Type, common); err != nil {
			return nil, err
		}
	}
	return common, nil
}

// resolveStruct merges a STRUCT constructor into a struct type: the constructor's fields, then the target's
// others; a field present in both takes their common type.
func (c *Compiler) resolveStruct(x *parser.StructConstructor, target *types.Type) (*types.Type, error) {
	var fields []types.Field
	seen := map[string]bool{}
	for i, n := range x.Names {
		if seen[n.Name] {
			continue
		}
		seen[n.Name] = true
		ce, err := c.Compile(x.Values[i])
		if err != nil {
			return nil, err
		}
		ft := ce.Type
		if j := target.FieldIndex(n.Name); j >= 0 {
			tt := target.Fields[j].Type
			if ft.Kind == types.KindNull {
				ft = tt
			} else if ft, err = c.resolveListItem(x.Values[i], ce.Type, tt); err != nil {
				return nil, err
			}
		}
		fields = append(fields, types.Field{Name: n.Name, Type: ft})
	}
	for _, f := range target.Fields {
		if !seen[f.Name] {
			fields = append(fields, f)
		}
	}
	return types.StructOf(fields...), nil
}

// stringNumericType is the type of a number written in a string literal: INTEGER or BIGINT for integers
// without a decimal point or exponent that fit, DECIMAL otherwise; nil when the text is not a number.
func stringNumericType(s string) *types.Type {
	s = strings.TrimSpace(s)
	d, err := types.ParseDecimal(s)
	if err != nil || d.Form != 0 {
		return nil
	}
	if !strings.ContainsAny(s, ".eE") && d.Exponent == 0 {
		if i, err := d.Int64(); err == nil {
			switch {
			case i > -1<<31 && i < 1<<31-1:
				return types.Int
			case i > -1<<63 && i < 1<<63-1:
				return types.Bigint
			}
		}
	}
	return types.DecimalTypeOf(d)
}

// canCoerce returns the type a value of type from becomes where to is expected, or nil. Numbers widen
// (INTEGER → BIGINT → DECIMAL → DOUBLE; DECIMALs to a DECIMAL holding both); STRING compares with DATE,
// TIME and TIMESTAMP, and DATE with TIMESTAMP; containers coerce element-wise; a STRUCT coerces to one
// that has all its fields. A literal (lax) of a primitive type also coerces to STRING.
func canCoerce(from, to *types.Type, lax bool) *types.Type {
	if from.Equal(to) {
		return to
	}
	switch {
	case from.IsNumeric() && to.IsNumeric():
		if numberRank(from) > numberRank(to) {
			return nil
		}
		return types.CommonType(from, to)
	case lax && to.Kind == types.KindString && from.IsPrimitive():
		return to
	case from.Kind == types.KindString && (to.Kind == types.KindTimestamp || to.Kind == types.KindDate || to.Kind == types.KindTime):
		return to
	case from.Kind == types.KindDate && to.Kind == types.KindTimestamp:
		return to
	case from.Kind == types.KindArray && to.Kind == types.KindArray:
		if e := canCoerce(from.Elem, to.Elem, false); e != nil {
			return types.ArrayOf(e)
		}
	case from.Kind == types.KindMap && to.Kind == types.KindMap:
		k, v := canCoerce(from.Key, to.Key, false), canCoerce(from.Elem, to.Elem, false)
		if k != nil && v != nil {
			return types.MapOf(k, v)
		}
	case from.Kind == types.KindStruct && to.Kind == types.KindStruct:
		fields := make([]types.Field, len(to.Fields))
		copy(fields, to.Fields)
		for _, f := range from.Fields {
			j := to.FieldIndex(f.Name)
			if j < 0 {
				return nil
			}
			ft := canCoerce(f.Type, to.Fields[j].Type, false)
			if ft == nil {
				return nil
			}
			fields[j].Type = ft
		}
		return types.StructOf(fields...)
	}
	return nil
}

// toListType converts a user-list item to the common type t: a literal once, at compile time; any other
// expression per row, as by CAST.
func toListType(it typed, t *types.Type) (EvalFunc, error) {
	if it.c.Type.Kind == types.KindNull || it.c.Type.Equal(t) {
		return it.c.Eval, nil
	}
	conv, err := types.Caster(it.c.Type, t)
	if err != nil {
		return nil, err
	}
	if l, ok := it.e.(*parser.Literal); ok {
		v, err := it.c.Eval(nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			if v, err = conv(v); err != nil {
				return nil, syntaxErrFor(l.Value, t)
			}
		}
		return func(Row) (Value, error) { return v, nil }, nil
	}
	ev := it.c.Eval
	return func(row Row) (Value, error) {
		v, err := ev(row)
		if v == nil || err != nil {
			return nil, err
		}
		return conv(v)
	}, nil
}

func numberRank(t *types.Type) int {
	switch t.Kind {
	case types.KindInt:
		return 1
	case types.KindBigint:
		return 2
	case types.KindDecimal:
		return 3
	}
	return 4
}

// userList compiles the elements of an ARRAY or MAP constructor and converts them to their common type,
// which is nil when every element is the NULL literal.
func (c *Compiler) userList(elems []parser.Expr) (*types.Type, []EvalFunc, error) {
	list := make([]typed, len(elems))
	for i, el := range elems {
		ce, err := c.Compile(el)
		if err != nil {
			return nil, nil, err
		}
		list[i] = typed{el, ce}
	}
	common, at, err := c.commonListType(list)
	if err != nil {
		return nil, nil, errAt(sqlerr.Type, at, "%s", err)
	}
	if common == nil {
		return nil, nil, nil
	}
	evals := make([]EvalFunc, len(list))
	for i, it := range list {
		if evals[i], err = toListType(it, common); err != nil {
			return nil, nil, errAt(sqlerr.Type, it.e, "%s", err)
		}
	}
	return common, evals, nil
}
