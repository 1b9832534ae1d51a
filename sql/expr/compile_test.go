package expr

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// testScope is the schema expressions in testdata/ are compiled against, and testRow its one row.
func testScope() (*Scope, Row) {
	dec, _ := types.ParseDecimal("12.34")
	st := types.StructOf(types.Field{Name: "F", Type: types.String}, types.Field{Name: "G", Type: types.Int})
	cols := []Column{
		{Qualifier: "T", Name: "I", Type: types.Int},
		{Qualifier: "T", Name: "B", Type: types.Bigint},
		{Qualifier: "T", Name: "D", Type: types.Double},
		{Qualifier: "T", Name: "DEC", Type: types.DecimalOf(4, 2)},
		{Qualifier: "T", Name: "S", Type: types.String},
		{Qualifier: "T", Name: "A", Type: types.ArrayOf(types.Int)},
		{Qualifier: "T", Name: "M", Type: types.MapOf(types.String, types.Int)},
		{Qualifier: "T", Name: "ST", Type: st},
		{Qualifier: "T", Name: "N", Type: types.Int},
		{Qualifier: "T", Name: "TS", Type: types.Timestamp},
	}
	row := Row{int32(7), int64(10000000000), 2.5, dec, "Hello World", []Value{int32(1), int32(2), int32(3)},
		types.NewMap([]Value{"a", "b"}, []Value{int32(1), int32(2)}), &types.Struct{Vals: []Value{"x", int32(9)}},
		nil, types.TimestampValue(1_600_000_000_000)}
	return &Scope{Columns: cols}, row
}

// TestEval runs the files in testdata/ (eval, and one per family of functions): each input line is an
// expression, compiled against testScope and evaluated on its row; the output is "TYPE value" or the
// compile or evaluation error.
func TestEval(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) { runEval(t, path) })
}

func runEval(t *testing.T, path string) {
	scope, row := testScope()
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			fmt.Fprintf(&b, "%s => ", line)
			e, err := parser.ParseExpr(line)
			if err != nil {
				fmt.Fprintf(&b, "parse error %s: %v\n", sqlerr.CodeOf(err), strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			c := &Compiler{Scope: scope, Funcs: function.Builtins()}
			ce, err := c.Compile(e)
			if err != nil {
				fmt.Fprintf(&b, "error %s: %v\n", sqlerr.CodeOf(err), strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			v, err := ce.Eval(row)
			if err != nil {
				fmt.Fprintf(&b, "%s eval error: %v\n", ce.Type, err)
				continue
			}
			if st, ok := v.(*types.Struct); ok {
				fmt.Fprintf(&b, "%s %s\n", ce.Type, types.FormatStruct(ce.Type, st))
				continue
			}
			fmt.Fprintf(&b, "%s %s\n", ce.Type, types.Format(v))
		}
		return b.String()
	})
}

func BenchmarkEvalArithmeticPredicate(b *testing.B) {
	scope, row := testScope()
	e, _ := parser.ParseExpr("I * 2 + B > 100 AND S LIKE 'Hello%'")
	ce, err := (&Compiler{Scope: scope, Funcs: function.Builtins()}).Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ce.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecimalIntArithmetic: DECIMAL arithmetic with an INT or BIGINT operand (which makes the integer
// a decimal on the stack) gives what converting the integer to its DECIMAL operand type and then
// computing gives, errors and NULLs included.
func TestDecimalIntArithmetic(t *testing.T) {
	scope, base := testScope()
	ints := []Value{int32(0), int32(7), int32(-3), int32(math.MinInt32), int64(0), int64(10000000000), int64(math.MinInt64), nil}
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		for _, text := range []string{"DEC %s I", "I %s DEC", "DEC %s B", "B %s DEC", "DEC %s N", "N %s DEC", "1.5 %s I"} {
			text = fmt.Sprintf(text, op)
			e, err := parser.ParseExpr(text)
			if err != nil {
				t.Fatal(err)
			}
			ce, err := (&Compiler{Scope: scope, Funcs: function.Builtins()}).Compile(e)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			bin := e.(*parser.Binary)
			for _, iv := range ints {
				row := append(Row{}, base...)
				switch {
				case strings.Contains(text, "I"):
					if _, ok := iv.(int64); ok {
						continue
					}
					row[0] = iv
				case strings.Contains(text, "B"):
					if _, ok := iv.(int32); ok {
						continue
					}
					row[1] = iv
				}
				got, gotErr := ce.Eval(row)
				want, wantErr := referenceArith(scope, bin, ce.Type, row)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || types.Format(got) != types.Format(want) || (got == nil) != (want == nil) {
					t.Errorf("%s with %v: got %v, %v; want %v, %v", text, iv, got, gotErr, want, wantErr)
				}
			}
		}
	}
}

// referenceArith computes e over row as arithmetic does in general: each operand converted to its
// DECIMAL operand type, then ArithFunc.
func referenceArith(scope *Scope, e *parser.Binary, rt *types.Type, row Row) (Value, error) {
	c := &Compiler{Scope: scope, Funcs: function.Builtins()}
	l, err := c.Compile(e.L)
	if err != nil {
		return nil, err
	}
	r, err := c.Compile(e.R)
	if err != nil {
		return nil, err
	}
	a, err := coerce(l, operandType(rt, l.Type))(row)
	if a == nil || err != nil {
		return nil, err
	}
	b, err := coerce(r, operandType(rt, r.Type))(row)
	if b == nil || err != nil {
		return nil, err
	}
	op := map[parser.BinaryOp]types.ArithOp{parser.OpAdd: types.Add, parser.OpSub: types.Sub, parser.OpMul: types.Mul,
		parser.OpDiv: types.Div, parser.OpMod: types.Mod}[e.Op]
	return ArithFunc(op, rt)(a, b)
}
