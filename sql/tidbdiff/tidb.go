package tidbdiff

import (
	"fmt"
	"strconv"
	"strings"

	tidb "github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Tidb parses expressions with tidb's MySQL parser in the SQL mode closest to ksqlDB's lexical rules:
// || concatenates (PIPES_AS_CONCAT) and a backslash in a string is an ordinary character
// (NO_BACKSLASH_ESCAPES). A Tidb is not safe for concurrent use.
type Tidb struct {
	p *tidb.Parser
}

// NewTidb returns a tidb parser set up as Tidb describes.
func NewTidb() *Tidb {
	p := tidb.New()
	p.SetSQLMode(mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
	return &Tidb{p: p}
}

// Parse parses text as the one item of a SELECT list and converts it to the neutral form.
func (t *Tidb) Parse(text string) (*Node, error) {
	st, err := t.p.ParseOneStmt("SELECT "+text, "", "")
	if err != nil {
		return nil, err
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.From != nil || sel.Fields.Fields[0].AsName.O != "" {
		return nil, fmt.Errorf("not one expression: %q", text)
	}
	n, err := fromTidb(sel.Fields.Fields[0].Expr)
	if err != nil {
		return nil, err
	}
	return Normalize(n), nil
}

var tidbBinary = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
	opcode.LogicAnd: "AND", opcode.LogicOr: "OR",
}

var tidbUnary = map[opcode.Op]string{opcode.Not: "NOT", opcode.Minus: "NEG", opcode.Plus: "POS"}

func fromTidb(e ast.ExprNode) (*Node, error) {
	kids := func(es ...ast.ExprNode) ([]*Node, error) { return convertAll(fromTidb, es...) }
	switch e := e.(type) {
	case *ast.ParenthesesExpr:
		return fromTidb(e.Expr)
	case *driver.ValueExpr:
		switch e.Kind() {
		case driver.KindNull:
			return atom("NULL", ""), nil
		case driver.KindInt64:
			if !mysql.HasIsBooleanFlag(e.Type.GetFlag()) {
				return atom("INT", strconv.FormatInt(e.GetInt64(), 10)), nil
			}
			if e.GetInt64() != 0 {
				return atom("BOOL", "TRUE"), nil
			}
			return atom("BOOL", "FALSE"), nil
		case driver.KindUint64:
			return atom("INT", strconv.FormatUint(e.GetUint64(), 10)), nil
		case driver.KindMysqlDecimal:
			return atom("DEC", canonicalNumber("DEC", e.GetMysqlDecimal().String())), nil
		case driver.KindFloat64:
			return atom("DBL", strconv.FormatFloat(e.GetFloat64(), 'g', -1, 64)), nil
		case driver.KindString:
			return atom("STR", strconv.Quote(e.GetString())), nil
		}
	case *ast.ColumnNameExpr:
		if e.Name.Schema.O == "" {
			name := strings.ToUpper(e.Name.Name.O)
			if e.Name.Table.O != "" {
				name = strings.ToUpper(e.Name.Table.O) + "." + name
			}
			return atom("COL", name), nil
		}
	case *ast.BinaryOperationExpr:
		if o, ok := tidbBinary[e.Op]; ok {
			ks, err := kids(e.L, e.R)
			if err != nil {
				return nil, err
			}
			return op(o, ks...), nil
		}
	case *ast.UnaryOperationExpr:
		if o, ok := tidbUnary[e.Op]; ok {
			x, err := fromTidb(e.V)
			if err != nil {
				return nil, err
			}
			return op(o, x), nil
		}
	case *ast.IsNullExpr:
		x, err := fromTidb(e.Expr)
		if err != nil {
			return nil, err
		}
		return isNull(e.Not, x), nil
	case *ast.BetweenExpr:
		ks, err := kids(e.Expr, e.Left, e.Right)
		if err != nil {
			return nil, err
		}
		return predicate("BETWEEN", e.Not, ks...), nil
	case *ast.PatternInExpr:
		if e.Sel == nil {
			ks, err := kids(append([]ast.ExprNode{e.Expr}, e.List...)...)
			if err != nil {
				return nil, err
			}
			return predicate("IN", e.Not, ks...), nil
		}
	case *ast.PatternLikeOrIlikeExpr:
		if e.IsLike {
			ks, err := kids(e.Expr, e.Pattern)
			if err != nil {
				return nil, err
			}
			if e.EscapeExplicit {
				ks = append(ks, atom("ESCAPE", strconv.Quote(string(e.Escape))))
			}
			return predicate("LIKE", e.Not, ks...), nil
		}
	case *ast.CaseExpr:
		whens := make([][2]ast.ExprNode, len(e.WhenClauses))
		for i, w := range e.WhenClauses {
			whens[i] = [2]ast.ExprNode{w.Expr, w.Result}
		}
		return caseOf(fromTidb, e.Value, whens, e.ElseClause)
	case *ast.FuncCastExpr:
		if e.FunctionType == ast.CastFunction {
			return castFromTidb(e)
		}
	case *ast.FuncCallExpr:
		ks, err := kids(e.Args...)
		if err != nil {
			return nil, err
		}
		// With PIPES_AS_CONCAT, tidb turns a || b into concat(a, b), which its tree cannot tell from
		// a call of CONCAT: the expressions compared here never call CONCAT.
		if e.FnName.L == ast.Concat && len(ks) == 2 {
			return op("||", ks...), nil
		}
		return op("CALL", append([]*Node{atom("NAME", strings.ToUpper(e.FnName.O))}, ks...)...), nil
	}
	return nil, fmt.Errorf("%T: not in the subset both grammars share", e)
}

// castFromTidb converts a CAST to one of the types both grammars name alike.
func castFromTidb(e *ast.FuncCastExpr) (*Node, error) {
	var name string
	switch e.Tp.GetType() {
	case mysql.TypeNewDecimal:
		name = fmt.Sprintf("DECIMAL(%d,%d)", e.Tp.GetFlen(), e.Tp.GetDecimal())
	case mysql.TypeDouble:
		name = "DOUBLE"
	case mysql.TypeDate:
		name = "DATE"
	case mysql.TypeDuration:
		name = "TIME"
	default:
		return nil, fmt.Errorf("CAST to %s: not in the subset both grammars share", e.Tp)
	}
	x, err := fromTidb(e.Expr)
	if err != nil {
		return nil, err
	}
	return op("CAST", x, atom("TYPE", name)), nil
}
