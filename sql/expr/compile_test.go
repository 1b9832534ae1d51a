package expr

import (
	"fmt"
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
