package tidbdiff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/parser"
)

// FromSeiche parses text with Seiche's expression parser and converts the tree to the neutral form.
func FromSeiche(text string) (*Node, error) {
	e, err := parser.ParseExpr(text)
	if err != nil {
		return nil, err
	}
	n, err := fromSeiche(e)
	if err != nil {
		return nil, err
	}
	return Normalize(n), nil
}

var seicheBinary = map[parser.BinaryOp]string{
	parser.OpAdd: "+", parser.OpSub: "-", parser.OpMul: "*", parser.OpDiv: "/", parser.OpMod: "%",
	parser.OpConcat: "||", parser.OpEq: "=", parser.OpNeq: "<>", parser.OpLt: "<", parser.OpLte: "<=",
	parser.OpGt: ">", parser.OpGte: ">=", parser.OpAnd: "AND", parser.OpOr: "OR",
}

func fromSeiche(e parser.Expr) (*Node, error) {
	kids := func(es ...parser.Expr) ([]*Node, error) { return convertAll(fromSeiche, es...) }
	switch e := e.(type) {
	case *parser.Literal:
		switch e.Kind {
		case parser.LitNull:
			return atom("NULL", ""), nil
		case parser.LitBoolean:
			return atom("BOOL", strings.ToUpper(e.Value)), nil
		case parser.LitInteger:
			return atom("INT", canonicalNumber("INT", e.Value)), nil
		case parser.LitDecimal:
			return atom("DEC", canonicalNumber("DEC", e.Value)), nil
		case parser.LitDouble:
			return atom("DBL", canonicalNumber("DBL", e.Value)), nil
		case parser.LitString:
			return atom("STR", strconv.Quote(e.Value)), nil
		}
	case *parser.ColumnRef:
		name := e.Name.Name
		if e.Qualifier != nil {
			name = e.Qualifier.Name + "." + name
		}
		return atom("COL", name), nil
	case *parser.Binary:
		if o, ok := seicheBinary[e.Op]; ok {
			ks, err := kids(e.L, e.R)
			if err != nil {
				return nil, err
			}
			return op(o, ks...), nil
		}
	case *parser.Unary:
		x, err := fromSeiche(e.X)
		if err != nil {
			return nil, err
		}
		return op(map[parser.UnaryOp]string{parser.OpNot: "NOT", parser.OpNeg: "NEG", parser.OpPlus: "POS"}[e.Op], x), nil
	case *parser.IsNull:
		x, err := fromSeiche(e.X)
		if err != nil {
			return nil, err
		}
		return isNull(e.Not, x), nil
	case *parser.Between:
		ks, err := kids(e.X, e.Lo, e.Hi)
		if err != nil {
			return nil, err
		}
		return predicate("BETWEEN", e.Not, ks...), nil
	case *parser.InList:
		ks, err := kids(append([]parser.Expr{e.X}, e.List...)...)
		if err != nil {
			return nil, err
		}
		return predicate("IN", e.Not, ks...), nil
	case *parser.Like:
		ks, err := kids(e.X, e.Pattern)
		if err != nil {
			return nil, err
		}
		if e.Escape != "" {
			ks = append(ks, atom("ESCAPE", strconv.Quote(e.Escape)))
		}
		return predicate("LIKE", e.Not, ks...), nil
	case *parser.Case:
		whens := make([][2]parser.Expr, len(e.Whens))
		for i, w := range e.Whens {
			whens[i] = [2]parser.Expr{w.Cond, w.Result}
		}
		return caseOf(fromSeiche, e.Operand, whens, e.Else)
	case *parser.Cast:
		t := e.Type
		if t.Elem != nil || t.Key != nil || t.Fields != nil {
			return nil, fmt.Errorf("CAST to %s: not in the subset both grammars share", t.Base)
		}
		x, err := fromSeiche(e.Expr)
		if err != nil {
			return nil, err
		}
		name := t.Base
		if len(t.Params) == 2 {
			name = fmt.Sprintf("%s(%d,%d)", name, t.Params[0], t.Params[1])
		}
		return op("CAST", x, atom("TYPE", name)), nil
	case *parser.FuncCall:
		if !e.Star {
			ks, err := kids(e.Args...)
			if err != nil {
				return nil, err
			}
			return op("CALL", append([]*Node{atom("NAME", strings.ToUpper(e.Name.Name))}, ks...)...), nil
		}
	}
	return nil, fmt.Errorf("%T (%s): not in the subset both grammars share", e, parser.FormatExpr(e))
}
